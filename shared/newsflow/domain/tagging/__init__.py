"""Tag an item with offices, topics, countries and a content type, and say why.

Declared metadata (the publisher's "Where we are" / "What we do" / "Content type")
is normalised to canonical taxonomy ids (the taxonomy resolves labels); a label
nobody knows is kept as an unresolved tag rather than dropped. Inference reads the
title, summary and body: office names and abbreviations, country names and
demonyms, and weighted topic signals; a statistical model trained on published
labels can then settle the inferred topics (off by default, see ADR 0007).

The package, in the order an item goes through it:

- ``matching``: the matching form of text (folded, gaps as spaces, offsets kept);
- ``scanning``: one Aho-Corasick pass over that form, sorted into mentions;
- ``tagger``: the :class:`Tagger`, with the rules that need several mentions;
- ``statistical``: the topic model, its features and its evidence sentences;
- ``building``: the output :class:`~newsflow.domain.tags.Tags`, with evidence.

Pure: no I/O happens here beyond reading the taxonomy and model files named.
"""

from pathlib import Path

from newsflow.domain.tagging.building import count_unresolved
from newsflow.domain.tagging.statistical import TopicModel, TopicModelError
from newsflow.domain.tagging.tagger import Tagger
from newsflow.domain.taxonomy import load_taxonomy
from newsflow.domain.text import fold, fold_with_offsets


def load_tagger(
    taxonomy_path: Path | None = None,
    model_path: Path | None = None,
    *,
    model: bool = False,
) -> Tagger:
    """The tagger every entry point uses: the taxonomy, plus the topic model when asked.

    ``None`` paths mean the packaged files. One factory, so the services, the CLI
    and the benchmarks cannot tag with different pieces.
    """
    taxonomy = load_taxonomy(taxonomy_path)
    return Tagger(taxonomy, TopicModel.load(model_path) if model else None)


__all__ = [
    "Tagger",
    "TopicModel",
    "TopicModelError",
    "count_unresolved",
    "fold",
    "fold_with_offsets",
    "load_tagger",
]
