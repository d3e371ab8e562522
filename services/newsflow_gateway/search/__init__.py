"""The gateway's search: query parameters, the query model, and paging over the store."""
