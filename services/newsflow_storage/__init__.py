"""Storage service: upserts enriched items into MongoDB, one document per story.

Reads ``news:enriched`` (group ``storage``), merges each copy into its story
(:mod:`newsflow_storage.merge`), and publishes ``ItemStored`` on ``news:stored``,
with a snapshot of the story, for the gateway's search index and live feed.
Entry point: ``python -m newsflow_storage``.
"""
