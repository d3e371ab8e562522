"""The enrichment handler: one ingested item in, one enriched item out."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from pydantic import ValidationError

from newsflow.domain.items import NewsItem
from newsflow.domain.language import guess_language
from newsflow.domain.tagging import Tagger
from newsflow.domain.tags import Tags
from newsflow.events import ItemEnriched, ItemIngested, parse_event
from newsflow.runtime.worker import Done, Entry, Failed, Outcome

log = logging.getLogger("newsflow.enrichment")


def with_language(item: NewsItem) -> NewsItem:
    """The item with its language: as declared, else guessed from its text (inferred).

    Storage and the search index then see one language for the item, and a reader
    can tell a publisher's word from our guess, as with tags.
    """
    if item.language:
        return item
    guessed = guess_language(item.title, item.summary, item.body)
    if guessed is None:
        return item
    return item.model_copy(update={"language": guessed, "language_source": "inferred"})


def enrich_one(entry: Entry, tagger: Tagger) -> tuple[Outcome, Tags | None]:
    try:
        event = parse_event(ItemIngested, entry.body)
    except ValidationError as exc:
        return Failed(f"not an ItemIngested event: {exc}"), None
    item = with_language(event.item)
    tags = tagger.tag(item)
    enriched = ItemEnriched(
        event_id=entry.event_id("enriched"),
        correlation_id=event.correlation_id,
        item=item,
        tags=tags,
    )
    return Done(outputs=[enriched]), tags


def enrich_batch(entries: Sequence[Entry], tagger: Tagger) -> list[tuple[Outcome, Tags | None]]:
    """One outcome per entry: a bug triggered by one item fails that item only."""
    results: list[tuple[Outcome, Tags | None]] = []
    for entry in entries:
        try:
            results.append(enrich_one(entry, tagger))
        except Exception as exc:
            with entry.log_context():
                log.exception("enrichment failed for entry %s", entry.id)
            results.append((Failed(f"{type(exc).__name__}: {exc}"), None))
    return results
