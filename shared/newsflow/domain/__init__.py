"""The pure domain: the publisher contract, normalisation, the taxonomy and tagger,
and the document formats. (Search is the gateway's: its index analyses text itself.)

Nothing here does I/O: no Redis, no MongoDB, no network, no environment.
``tests/unit/test_layers.py`` enforces it.

``__all__`` re-exports the names the services use; the modules stay importable by
their own paths (``newsflow.domain.tagging`` and so on).
"""

from newsflow.domain import formats
from newsflow.domain.contract import PublisherItem
from newsflow.domain.items import NewsItem
from newsflow.domain.normalise import Rejection, normalise
from newsflow.domain.tagging import Tagger
from newsflow.domain.tags import Tag, Tags
from newsflow.domain.taxonomy import Taxonomy, load_taxonomy
from newsflow.domain.text import identity_key

__all__ = [
    "NewsItem",
    "PublisherItem",
    "Rejection",
    "Tag",
    "Tagger",
    "Tags",
    "Taxonomy",
    "formats",
    "identity_key",
    "load_taxonomy",
    "normalise",
]
