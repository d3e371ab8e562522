"""Tag an item with offices, topics, countries and a content type, and say why.

Declared metadata (the publisher's "Where we are" / "What we do" / "Content type")
is normalised to canonical taxonomy ids (the taxonomy resolves labels); a label
nobody knows is kept as an unresolved tag rather than dropped. Inference reads the
title, summary and body: office names and abbreviations, country names and
demonyms, and weighted topic signals.

The package, in the order an item goes through it:

- ``matching``: the matching form of text (folded, gaps as spaces, offsets kept);
- ``scanning``: one Aho-Corasick pass over that form, sorted into mentions;
- ``tagger``: the :class:`Tagger`, with the rules that need several mentions;
- ``building``: the output :class:`~newsflow.domain.tags.Tags`, with evidence.

Pure: no I/O happens here beyond reading the taxonomy passed in.
"""

from newsflow.domain.tagging.building import count_unresolved
from newsflow.domain.tagging.tagger import Tagger
from newsflow.domain.text import fold, fold_with_offsets

__all__ = ["Tagger", "count_unresolved", "fold", "fold_with_offsets"]
