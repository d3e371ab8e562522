"""Newsflow: an event-driven news pipeline.

This package is what the four services share: the publisher contract, the
versioned event models, stream names, settings, the taxonomy and tagger, and the
factories that build Redis, broker and MongoDB clients. It holds no service code;
services live in ``services/`` and import from here, never from each other.
"""

__version__ = "0.1.0"
