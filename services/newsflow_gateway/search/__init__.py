"""The gateway's search, one way: ``params`` (HTTP query parameters → a pure query
model), ``query`` (the model → a MongoDB filter and sort), ``listing`` (runs it:
pages, counts, cursors). Routes call params, then listing."""
