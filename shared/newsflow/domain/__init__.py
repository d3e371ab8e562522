"""The pure domain: the publisher contract, normalisation, the taxonomy and tagger,
the document formats and the portable search terms.

Nothing here does I/O: no Redis, no MongoDB, no network, no environment.
``tests/unit/test_layers.py`` enforces it.
"""
