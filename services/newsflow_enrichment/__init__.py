"""Enrichment service: tags topics, offices, countries and content type.

Reads ``news:ingested`` (group ``enrichment``) in batches, tags each item against
the OSCE taxonomy (:mod:`newsflow.domain.tagging`) and publishes ``ItemEnriched`` on
``news:enriched``. Entry point: ``python -m newsflow_enrichment``.
"""
