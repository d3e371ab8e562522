"""Query gateway: the FastAPI service client apps use to search and follow items.

Entry point: ``python -m newsflow_gateway`` (see ``__main__.py``); the app is
built by :func:`newsflow_gateway.app.create_app`.
"""
