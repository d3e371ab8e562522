"""Ingest service: validates, normalises and identifies publisher items.

Reads ``news:ingest`` (group ``ingest``), publishes ``ItemIngested`` on
``news:ingested``, and sends invalid items to ``news:rejected`` with a reason.
Entry point: ``python -m newsflow_ingest`` (see ``__main__.py``).
"""
