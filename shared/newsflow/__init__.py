"""Newsflow: an event-driven news pipeline.

This package is what the four services share, on two floors below them:

- ``newsflow.domain``: pure code (the publisher contract, normalisation, the taxonomy
  and tagger, the document formats, the portable search terms);
- ``newsflow.runtime``: the stream worker and its delivery guarantees, client
  factories, health, metrics, lag, dead letters and API keys;

and, at the top, the versioned event models, the stream names and the settings.
Services live in ``services/`` and import from here, never from each other; the
tools (``tools/newsflow_tools``) sit above the services. Nothing here imports a
service or the tools (``tests/unit/test_layers.py``; ``docs/adr/0004-three-floors.md``).

The public names are those in ``__all__`` (``tests/unit/test_public_api.py``).
"""

__version__ = "0.1.0"

# After __version__, so a module that reads it while the package is still loading finds it.
from newsflow import events, settings, streams

__all__ = ["__version__", "events", "settings", "streams"]
