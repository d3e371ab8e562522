"""The tagger: declared metadata resolved, the text scanned, and the rules between them.

The rules that need more than one match: a generic phrase such as "OSCE Programme
Office" counts only when the rest of the item points at exactly one plausible
office; a department implies its parent office and a field operation its host
country; an office's mandate suggests a topic; weak topics are dropped and a
sub-topic implies its field of work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Final

from newsflow.domain.items import NewsItem
from newsflow.domain.language import guess_language
from newsflow.domain.tagging.building import (
    MAX_INFERRED,
    MEMO_LIMIT,
    TagBuilder,
    combine,
    new_evidence,
    new_tag,
    new_tags,
)
from newsflow.domain.tagging.matching import matching_form
from newsflow.domain.tagging.scanning import (
    DECLARED,
    MENTION_CONFIDENCE,
    Found,
    Scanner,
    Span,
    Spans,
    Weights,
)
from newsflow.domain.tagging.statistical import (
    Lead,
    TopicModel,
    TopicModelError,
    all_features,
    structured_features,
)
from newsflow.domain.tagging.titles import REFERENCES, counts
from newsflow.domain.tags import Evidence, Tag, Tags
from newsflow.domain.taxonomy import Office, Taxonomy

#: Offices whose mention implies their host country, and how surely.
HOSTED_CATEGORIES: Final = frozenset({"field_operation", "secretariat_programme"})
HOST_CONFIDENCE: Final = 0.8
#: Confidence of an office implied by a child office (TNTD -> OSCE Secretariat).
PARENT_CONFIDENCE: Final = 0.6
#: Share of a sub-topic's confidence given to its parent topic.
PARENT_TOPIC_FACTOR: Final = 0.9
#: A topic is tagged when its combined signal confidence reaches this.
TOPIC_THRESHOLD: Final = 0.5


def _add(weights: Weights, spans: Spans, key: str, weight: float, span: Span | None) -> None:
    found = weights.get(key)
    if found is None:
        weights[key] = [weight]
        spans[key] = [span] if span is not None else []
    else:
        found.append(weight)
        if span is not None:
            spans[key].append(span)


class Tagger:
    """Built once from a taxonomy; ``tag`` is then cheap and free of side effects.

    (The memo tables below only cache pure functions of declared labels.)
    """

    def __init__(self, taxonomy: Taxonomy, model: TopicModel | None = None) -> None:
        self.taxonomy = taxonomy
        self.model = model
        # The version stored with every item's tags: re-enrichment picks out items
        # tagged by another taxonomy *or* another topic model.
        self.version = taxonomy.version if model is None else f"{taxonomy.version}+{model.version}"
        if model is not None:
            unknown = sorted(set(model.topics) - set(taxonomy.topics))
            if unknown:
                raise TopicModelError(f"topic model names topics the taxonomy lacks: {unknown}")
        self._generic: dict[str, list[Office]] = {}
        for o in taxonomy.offices.values():
            for label in o.context_aliases:
                self._generic.setdefault(label, []).append(o)
        # Only entries that have parents, so membership tests are the fast path.
        self._office_ancestors = {
            o: tuple(up) for o in taxonomy.offices if (up := taxonomy.office_ancestors(o))
        }
        self._topic_ancestors = {
            t: tuple(up) for t in taxonomy.topics if (up := taxonomy.topic_ancestors(t))
        }
        self._hints = {o.id: o.topic_hints for o in taxonomy.offices.values() if o.topic_hints}
        self._places = {
            o.id: tuple(matching_form(place) + " " for place in o.context_terms)
            for o in taxonomy.offices.values()
            if o.context_terms
        }
        self._hosts = {
            o.id: o.country
            for o in taxonomy.offices.values()
            if o.country is not None and o.category in HOSTED_CATEGORIES
        }
        self._names = (
            {t.id: t.name for t in taxonomy.topics.values()},
            {o.id: o.name for o in taxonomy.offices.values()},
            {c.id: c.name for c in taxonomy.countries.values()},
        )
        self._builder = TagBuilder()
        self._content_tags: dict[str, Tag] = {}
        self._scanner = Scanner(taxonomy)
        self._bare = {r.text: r.bare for r in REFERENCES}

    # ------------------------------------------------------------------ resolving labels

    def resolve_office(self, label: str) -> str | None:
        """Canonical office id for a label as published (see :meth:`Taxonomy.resolve_office`)."""
        return self.taxonomy.resolve_office(label)

    def resolve_topic(self, label: str) -> str | None:
        """Canonical topic id for a 'What we do' label, or None."""
        return self.taxonomy.resolve_topic(label)

    def resolve_content_type(self, label: str) -> str | None:
        """Canonical content-type id for a 'Content type' label, or None."""
        return self.taxonomy.resolve_content_type(label)

    def resolve_country(self, label: str) -> str | None:
        """Canonical country id for a declared place (see :meth:`Taxonomy.resolve_country`)."""
        return self.taxonomy.resolve_country(label)

    # ------------------------------------------------------------------ tagging

    def tag(self, item: NewsItem) -> Tags:
        """Tag a normalised item: declared metadata plus inference from its text."""
        return self.tag_fields(
            title=item.title,
            summary=item.summary,
            body=item.body,
            offices=item.offices,
            topics=item.topics,
            countries=item.countries,
            content_type=item.content_type,
            published_at=item.published_at,
            language=item.language,
        )

    def tag_fields(
        self,
        *,
        title: str,
        summary: str | None = None,
        body: str | None = None,
        offices: Sequence[str] = (),
        topics: Sequence[str] = (),
        countries: Sequence[str] = (),
        content_type: str | None = None,
        published_at: datetime | None = None,
        language: str | None = None,
    ) -> Tags:
        """Tag from loose fields; evidence offsets refer to these exact strings.

        ``language`` (declared or detected) decides whether the topic model applies;
        when None it is guessed here, only if a model is loaded.
        """
        texts = (title, summary or "", body or "")
        found = self._scanner.scan(texts)
        day = published_at.date() if published_at is not None else None
        declared_offices, unknown_offices = self._offices(found, offices, day, texts)
        topic_weights, topic_spans, declared_topics, unknown_topics = self._topics(found, topics)
        model = self.model
        if model is not None:
            if language is None:
                language = guess_language(title, summary, body)
            if model.applies_to(language):
                year = published_at.year if published_at is not None else None
                self._model_topics(model, found, texts, year, topic_weights, declared_topics)
        self._add_parent_topics(topic_weights, topic_spans, declared_topics)
        declared_countries, unknown_countries = self._declare(
            self.taxonomy.resolve_country, countries, found.country_weights, found.country_spans
        )

        made: dict[Span, Evidence] = {}  # one Evidence per span, shared by tags
        topic_names, office_names, country_names = self._names
        finish = self._builder.finish
        return new_tags(
            self.version,
            topics=finish(
                topic_weights,
                topic_spans,
                {},
                declared_topics,
                unknown_topics,
                topic_names,
                made,
            ),
            offices=finish(
                found.office_weights,
                found.office_spans,
                found.office_labels,
                declared_offices,
                unknown_offices,
                office_names,
                made,
            ),
            countries=finish(
                found.country_weights,
                found.country_spans,
                found.country_labels,
                declared_countries,
                unknown_countries,
                country_names,
                made,
            ),
            content_type=self._content_type(content_type, found.content),
        )

    @staticmethod
    def _declare(
        resolve: Callable[[str], str | None], labels: Sequence[str], weights: Weights, spans: Spans
    ) -> tuple[dict[str, str], list[str]]:
        """Resolve declared labels: {id: label as published}, and the unknown labels.

        A declared entry the text never names gets its label as its only span, so
        what it implies (a parent, a host country, a mandate's topic) can cite it.
        """
        declared: dict[str, str] = {}
        unknown: list[str] = []
        for label in labels:
            entry_id = resolve(label)
            if entry_id is None:
                unknown.append(label)
            elif entry_id not in declared:
                declared[entry_id] = label
                if entry_id not in weights:
                    weights[entry_id] = [1.0]
                    spans[entry_id] = [(DECLARED, None, None, label)]
        return declared, unknown

    # ------------------------------------------------------------------ offices

    def _offices(
        self,
        found: Found,
        declared_labels: Sequence[str],
        day: date | None,
        texts: tuple[str, str, str],
    ) -> tuple[dict[str, str], list[str]]:
        """Declared offices, generic phrases, holders' titles, parents and host countries."""
        weights, spans = found.office_weights, found.office_spans
        resolve = self.taxonomy.resolve_office
        declared, unknown = self._declare(resolve, declared_labels, weights, spans)
        # One answer per phrase and item: the answer depends on the phrase and the
        # whole item only, and asking again per occurrence made a long body that
        # repeats "OSCE Office" cost time in the square of its length.
        answers: dict[str, str | None] = {}
        for label, span in found.generic:
            if label in answers:
                office_id = answers[label]
            else:
                office_id = answers[label] = self._resolve_generic(label, found, day)
            if office_id is not None:
                _add(weights, spans, office_id, MENTION_CONFIDENCE["context_alias"], span)
        if found.references:
            self._add_references(found, texts)
        for office_id in list(weights):
            # A department implies its parent (TNTD -> OSCE Secretariat), less surely.
            for parent in self._office_ancestors.get(office_id, ()):
                if parent not in weights:
                    weights[parent] = [PARENT_CONFIDENCE]
                    spans[parent] = spans[office_id]
            # A field operation concerns its host country: 'Serbia' inside 'OSCE Mission
            # to Serbia' is not seen again, and 'Programme Office in Nur-Sultan' names none.
            country = self._hosts.get(office_id)
            if country is not None and spans[office_id]:
                first = spans[office_id][0]
                _add(found.country_weights, found.country_spans, country, HOST_CONFIDENCE, first)
        return declared, unknown

    def _add_references(self, found: Found, texts: tuple[str, str, str]) -> None:
        """'the Secretary General', 'CiO Borg': offices named by their holders (see titles)."""
        folded = found.folded
        osce_named = " osce " in folded or " обсе " in folded
        weight = MENTION_CONFIDENCE["title"]
        for office_id, label, span in found.references:
            field, start, end, text = span
            if start is None or end is None:
                continue
            if counts(self._bare[label], texts[field], start, end, osce_named):
                _add(found.office_weights, found.office_spans, office_id, weight, span)
                found.office_labels.setdefault(office_id, text)

    def _resolve_generic(self, label: str, found: Found, day: date | None) -> str | None:
        """'the OSCE Programme Office' -> the one office the rest of the item points at.

        Candidates share the phrase, existed on the publishing day (when known), and
        have their country or one of their places named in the item. A candidate
        already named explicitly wins; otherwise exactly one must remain.
        """
        ids: list[str] = []
        for o in self._generic.get(label, ()):
            if day is not None and not o.active_on(day):
                continue
            if self._places_named(o.id, found.folded) or (
                o.country is not None and o.country in found.country_weights
            ):
                ids.append(o.id)
        already = [i for i in ids if i in found.office_weights]
        if len(already) == 1:
            return already[0]
        return ids[0] if len(ids) == 1 else None

    def _places_named(self, office_id: str, folded: str) -> bool:
        """Whether the item names the office's seat or another of its places.

        Only asked when a generic phrase needs context, so a plain substring test on
        the matching form (gaps are spaces, so ' astana ' is the whole word) beats
        matching every place name in every item.
        """
        return any(place in folded for place in self._places.get(office_id, ()))

    # ------------------------------------------------------------------ topics

    def _topics(
        self, found: Found, declared_labels: Sequence[str]
    ) -> tuple[Weights, Spans, dict[str, str], list[str]]:
        """Signals, office mandates and declared labels; weak topics dropped.

        A topic's confidence combines its distinct signals; an office whose mandate
        is one field of work suggests it (RFoM: media freedom).
        """
        weights: Weights = {}
        for topic_id, signals in found.topic_signals.items():
            weights[topic_id] = list(signals.values())
        spans = found.topic_spans
        hints = self._hints
        for office_id, office_spans in found.office_spans.items():
            if office_id in hints:
                first = office_spans[0] if office_spans else None
                for hint in hints[office_id]:
                    _add(weights, spans, hint.topic, hint.weight, first)
        resolve = self.taxonomy.resolve_topic
        declared, unknown = self._declare(resolve, declared_labels, weights, spans)
        weak: list[str] = []
        for topic_id, found_weights in weights.items():
            if topic_id in declared:
                strength = 1.0
            elif len(found_weights) == 1:
                strength = found_weights[0]
            else:
                strength = combine(found_weights)
            if strength < TOPIC_THRESHOLD:
                weak.append(topic_id)
        for topic_id in weak:
            del weights[topic_id]
        return weights, spans, declared, unknown

    def _model_topics(
        self,
        model: TopicModel,
        found: Found,
        texts: tuple[str, str, str],
        year: int | None,
        weights: Weights,
        declared: dict[str, str],
    ) -> None:
        """Let the statistical model keep, drop and add inferred topics (see statistical).

        Its features are what the text and the lexicon found; its verdict replaces the
        lexicon's for every inferred topic, with the calibrated probability as the
        confidence. A topic it adds cites the sentence that carried it.
        """
        spans = found.topic_spans
        lead, structured, anchors, lexicon = self._model_inputs(
            found, texts, year, weights, declared
        )
        for topic_id in lexicon:
            del weights[topic_id]
        for prediction in model.decide(lead, structured, anchors, lexicon):
            topic_id = prediction.topic
            if topic_id in declared:
                continue
            weights[topic_id] = [prediction.probability]
            if topic_id not in lexicon or not spans.get(topic_id):
                sentence = prediction.sentence
                spans[topic_id] = (
                    [(sentence.field, sentence.start, sentence.end, sentence.text)]
                    if sentence is not None
                    else []
                )

    @staticmethod
    def _model_inputs(
        found: Found,
        texts: tuple[str, str, str],
        year: int | None,
        weights: Weights,
        declared: dict[str, str],
    ) -> tuple[Lead, dict[str, float], dict[str, Span], dict[str, float]]:
        """What the topic model reads: the lead, structured features, their spans."""
        spans = found.topic_spans
        lexicon = {t: combine(w) for t, w in weights.items() if t not in declared}
        structured = structured_features(found.office_weights, lexicon, year)
        anchors: dict[str, Span] = {}
        for office_id, office_spans in found.office_spans.items():
            if office_spans:
                anchors["o:" + office_id] = office_spans[0]
        for topic_id in lexicon:
            if spans.get(topic_id):
                anchors["l:" + topic_id] = spans[topic_id][0]
        return Lead(texts, found.folded), structured, anchors, lexicon

    def model_features(
        self,
        *,
        title: str,
        summary: str | None = None,
        body: str | None = None,
        published_at: datetime | None = None,
    ) -> dict[str, float]:
        """The topic model's features for an item's text (training reads them here).

        Exactly what :meth:`tag_fields` gives the model for an item with nothing
        declared, so a model is trained on the features it will be scored on.
        """
        texts = (title, summary or "", body or "")
        found = self._scanner.scan(texts)
        day = published_at.date() if published_at is not None else None
        self._offices(found, (), day, texts)
        weights, _, declared, _ = self._topics(found, ())
        year = published_at.year if published_at is not None else None
        lead, structured, _, _ = self._model_inputs(found, texts, year, weights, declared)
        return all_features(lead, structured)

    def _add_parent_topics(self, weights: Weights, spans: Spans, declared: dict[str, str]) -> None:
        """A sub-topic implies its field of work, a little less surely."""
        parents = [t for t in weights if t in self._topic_ancestors]
        for topic_id in parents:
            for parent in self._topic_ancestors[topic_id]:
                if parent not in weights:
                    if topic_id in declared:
                        strength = MAX_INFERRED
                    else:
                        strength = min(combine(weights[topic_id]), MAX_INFERRED)
                    weights[parent] = [strength * PARENT_TOPIC_FACTOR]
                    spans[parent] = spans.get(topic_id, [])

    # ------------------------------------------------------------------ content type

    def _content_type(
        self, declared: str | None, found: tuple[str, float, Span] | None
    ) -> Tag | None:
        """The declared content type if any (resolved or not), else a title signal's."""
        if declared:
            tag = self._content_tags.get(declared)
            if tag is None:
                if len(self._content_tags) > MEMO_LIMIT:
                    self._content_tags.clear()
                tag = self._content_tags[declared] = self._declared_content_type(declared)
            return tag
        if found is None:
            return None
        ct_id, weight, (_, start, end, text) = found
        evidence = [new_evidence("title", text, start, end)]
        name = self.taxonomy.content_types[ct_id].name
        return new_tag(ct_id, name, "inferred", weight, None, evidence)

    def _declared_content_type(self, label: str) -> Tag:
        evidence = [self._builder.declared(label)]
        ct_id = self.taxonomy.resolve_content_type(label)
        if ct_id is None:
            return new_tag(None, label, "declared", 0.0, label, evidence, False)
        name = self.taxonomy.content_types[ct_id].name
        return new_tag(ct_id, name, "declared", 1.0, label, evidence)
