"""The gateway's web pages: HTML rendered on the server from Jinja2 templates.

Pages work with JavaScript off; ``static/*.js`` only adds to a working page (live
updates, filter toggles). Every file a page needs is served from ``/static`` by the
gateway itself, so no request leaves the host, and the Content-Security-Policy in
:mod:`newsflow_gateway.web.security` says so to the browser.
"""
