"""The gateway's search index (Tantivy): schema, analysis, our query syntax, the index.

The read model of issue 13: MongoDB stays the record, this index follows
``news:stored`` and answers every list, facet and feed query.
"""
