"""The tagger, rule by rule, on real OSCE wording (the sample newsroom and osce.org labels)."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from newsflow.domain import text
from newsflow.domain.formats.newsroom import parse_newsroom
from newsflow.domain.items import NewsItem
from newsflow.domain.normalise import normalise
from newsflow.domain.tagging import Tagger, count_unresolved, fold, fold_with_offsets
from newsflow.domain.tags import Tag, Tags
from newsflow.domain.taxonomy import load_taxonomy
from newsflow.domain.text import identity_key
from tests.conftest import SAMPLE

EVALUATION = Path(__file__).resolve().parents[1] / "data" / "evaluation.jsonl"
NOW = datetime(2026, 11, 26, tzinfo=UTC)


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger(load_taxonomy())


@pytest.fixture(scope="module")
def seeds() -> list[NewsItem]:
    result = parse_newsroom(SAMPLE.read_text(encoding="utf-8"))
    return [normalise(p.item, now=NOW) for p in result.items]


def ids(tags: list[Tag]) -> list[str | None]:
    return [t.id for t in tags]


def by_id(tags: list[Tag], tag_id: str) -> Tag:
    return next(t for t in tags if t.id == tag_id)


def text_only(tagger: Tagger, title: str, summary: str | None = None, **kw: Any) -> Tags:
    return tagger.tag_fields(title=title, summary=summary, **kw)


# --------------------------------------------------------------------------- the seed items


def test_seed_items_get_canonical_tags(tagger: Tagger, seeds: list[NewsItem]) -> None:
    expected = [
        (["oceea", "secretariat"], ["economic-activities", "policing"], ["al"], "news"),
        (["tntd", "secretariat", "oceea"], ["economic-activities", "policing"], ["al"], "news"),
        (["po-astana"], ["environmental-activities"], ["kz"], "news"),
        (["odihr"], ["elections"], ["us"], "press-release"),
        (["smm-ukraine"], ["conflict-prevention"], ["ua"], "daily-report"),
        (["mission-serbia"], [], ["rs", "no"], "press-release"),
        (["chairpersonship", "secretary-general"], [], ["se"], "press-statement"),
    ]
    for item, (offices, topics, countries, content_type) in zip(seeds, expected, strict=True):
        tags = tagger.tag(item)
        assert tags.taxonomy_version == tagger.version  # pinned in test_taxonomy
        assert ids(tags.offices) == offices, item.title
        assert ids(tags.topics) == topics, item.title
        assert ids(tags.countries) == countries, item.title
        assert tags.content_type is not None
        assert tags.content_type.id == content_type
        assert count_unresolved(tags) == 0


def test_cross_posted_story_carries_both_offices(tagger: Tagger, seeds: list[NewsItem]) -> None:
    tags = tagger.tag(seeds[1])  # the TNTD copy, whose text also names the OCEEA
    tntd, secretariat, oceea = tags.offices
    assert (tntd.id, tntd.source) == ("tntd", "declared")
    assert [e.field for e in tntd.evidence] == ["declared", "summary"]
    assert (secretariat.id, secretariat.source) == ("secretariat", "declared")
    assert (oceea.id, oceea.source) == ("oceea", "inferred")
    assert oceea.label == "Office of the Coordinator of Economic and Environmental Activities"
    assert [e.text for e in oceea.evidence] == [oceea.label, "OCEEA"]
    # The two copies share the OCEEA tag; the topics of the first copy are inferred here.
    assert ids(tagger.tag(seeds[0]).offices)[0] == "oceea"
    assert ids(tags.topics) == ["economic-activities", "policing"]
    assert {t.source for t in tags.topics} == {"inferred"}


def test_declared_former_name_keeps_the_name_used_at_the_time(
    tagger: Tagger, seeds: list[NewsItem]
) -> None:
    office = tagger.tag(seeds[2]).offices[0]
    assert office.id == "po-astana"
    assert office.name == "OSCE Programme Office in Astana"
    assert office.label == "OSCE Programme Office in Nur-Sultan"
    assert office.source == "declared"
    assert office.confidence == 1.0
    # one tag carrying the declared label and the text evidence
    assert office.evidence[0].field == "declared"
    assert office.evidence[0].text == "OSCE Programme Office in Nur-Sultan"
    title = seeds[2].title
    span = office.evidence[1]
    assert (span.field, span.start) == ("title", 0)
    assert title[span.start : span.end] == "OSCE Programme Office in Nur-Sultan"


def test_declared_topic_merges_text_evidence(tagger: Tagger, seeds: list[NewsItem]) -> None:
    (elections,) = tagger.tag(seeds[3]).topics
    assert (elections.id, elections.source, elections.confidence) == ("elections", "declared", 1.0)
    assert [e.text for e in elections.evidence] == ["Elections", "election", "elections"]


# --------------------------------------------------------------------------- declared labels


@pytest.mark.parametrize(
    ("label", "office_id"),
    [
        ("OSCE Programme Office in Nur-Sultan", "po-astana"),
        ("OSCE Centre in Almaty", "po-astana"),
        ("OSCE Special Monitoring Mission to Ukraine (closed)", "smm-ukraine"),
        (
            "OSCE Observer Mission at the Russian Checkpoints Gukovo and Donetsk (discontinued)",
            "observer-mission-gukovo-donetsk",
        ),
        ("OSCE Spillover Monitor Mission to Skopje", "mission-skopje"),
        ("Office of the Coordinator of OSCE Economic and Environmental Activities", "oceea"),
        ("OSCE Program Office in Bishkek", "po-bishkek"),
        ("osce secretariat", "secretariat"),
        ("PC", "permanent-council"),
        ("CiO", "chairpersonship"),
        ("Swedish OSCE Chairpersonship", "chairpersonship"),
        ("Office for Free Elections", "odihr"),
    ],
)
def test_declared_office_labels_resolve(tagger: Tagger, label: str, office_id: str) -> None:
    assert tagger.resolve_office(label) == office_id
    (tag,) = tagger.tag_fields(title="Untitled", offices=[label]).offices[:1]
    assert (tag.id, tag.label, tag.source) == (office_id, label, "declared")


def test_unknown_declared_labels_are_kept_unresolved_and_counted(tagger: Tagger) -> None:
    tags = tagger.tag_fields(
        title="OSCE supports regional conference on women in policing",
        offices=["OSCE Mission to BiH", "Women Police Officers Network"],
        topics=["Policing", "Space exploration"],
        content_type="Podcast",
    )
    assert ids(tags.offices) == ["mission-bih", None]
    unknown = tags.offices[1]
    assert unknown.resolved is False
    assert (unknown.name, unknown.label, unknown.source) == (
        "Women Police Officers Network",
        "Women Police Officers Network",
        "declared",
    )
    assert unknown.confidence == 0.0
    assert [e.field for e in unknown.evidence] == ["declared"]
    assert ids(tags.topics) == ["policing", None]
    assert tags.content_type is not None
    assert (tags.content_type.id, tags.content_type.resolved) == (None, False)
    assert count_unresolved(tags) == 3


def test_content_type_is_normalised(tagger: Tagger) -> None:
    for label, expected in [
        ("Press Release", "press-release"),
        ("press releases", "press-release"),
        ("Daily report", "daily-report"),
    ]:
        tag = tagger.tag_fields(title="x", content_type=label).content_type
        assert tag is not None
        assert (tag.id, tag.label, tag.source) == (expected, label, "declared")


def test_empty_metadata_is_inferred_from_text(tagger: Tagger) -> None:
    title = "OSCE Special Monitoring Mission to Ukraine (SMM) Daily Report 57/2021"
    tags = tagger.tag_fields(title=title)
    assert [(t.id, t.source) for t in tags.offices] == [("smm-ukraine", "inferred")]
    assert tags.content_type is not None
    assert (tags.content_type.id, tags.content_type.source) == ("daily-report", "inferred")
    assert tags.countries[0].id == "ua"
    assert tagger.tag_fields(title="A title with nothing to find").model_dump()["offices"] == []


# --------------------------------------------------------------------------- names in text


def test_aliases_abbreviations_and_spelling_variants(tagger: Tagger) -> None:
    cases = {
        "ODIHR calls for restraint": "odihr",
        "OSCE/ODIHR opens election observation mission": "odihr",
        "Statement by the Office for Democratic Institutions and Human Rights": "odihr",
        "TNTD hosts expert meeting": "tntd",
        "RFoM concerned about media law": "rfom",
        "The Office of the Coordinator of OSCE Economic and Environmental Activities": "oceea",
        "OSCE Program Office in Dushanbe donates equipment": "po-dushanbe",
        "OSCE Center in Ashgabat hosts round table": "centre-ashgabat",
        "The SMM recorded ceasefire violations": "smm-ukraine",
    }
    for title, office_id in cases.items():
        assert ids(text_only(tagger, title).offices)[0] == office_id, title


def test_abbreviations_are_case_sensitive(tagger: Tagger) -> None:
    assert text_only(tagger, "Odihr and the smm").offices == []
    assert ids(text_only(tagger, "ODIHR and the SMM").offices) == ["odihr", "smm-ukraine"]


def test_former_names_in_text_resolve_with_the_name_used(tagger: Tagger) -> None:
    cases = [
        ("OSCE Centre in Almaty supports training for Kazakh police", "po-astana"),
        ("OSCE Mission to Croatia reports progress in refugee return", "office-zagreb"),
        ("OSCE Office in Baku trains journalists", "pc-baku"),
        ("OSCE Spillover Monitor Mission to Skopje opens workshops", "mission-skopje"),
        ("In 1991 the Office for Free Elections began its work in Warsaw", "odihr"),
    ]
    for title, office_id in cases:
        tag = text_only(tagger, title).offices[0]
        assert tag.id == office_id, title
        assert tag.label is not None
        assert tag.label in title
        assert tag.name == load_taxonomy().offices[office_id].name


# 'CiO' counts only in an item that names the OSCE (test_tagging_references.py).
@pytest.mark.parametrize("text", ["US", "PA", "PC", "MC", "SG", "OM", "CiO"])
def test_dangerous_short_labels_are_never_inferred_from_text(tagger: Tagger, text: str) -> None:
    tags = text_only(tagger, f"Statement on the {text} meeting", f"The {text} said so.")
    assert tags.offices == []
    assert tags.countries == []


def test_us_election_is_the_united_states_only_by_name(
    tagger: Tagger, seeds: list[NewsItem]
) -> None:
    odihr = seeds[3]
    assert "US election" in odihr.title
    assert text_only(tagger, odihr.title).countries == []
    us = by_id(text_only(tagger, odihr.title, odihr.summary).countries, "us")
    assert [e.text for e in us.evidence] == ["United States"]


def test_longest_name_wins(tagger: Tagger) -> None:
    title = "Personal Representative of the OSCE Chairperson-in-Office on Combating Antisemitism"
    # The Personal Representatives belong to the Chairpersonship, which they imply.
    assert ids(text_only(tagger, title).offices) == [
        "personal-representatives-cio",
        "chairpersonship",
    ]
    assert ids(text_only(tagger, "OSCE Chairperson-in-Office visits Vienna").offices) == [
        "chairpersonship"
    ]


def test_minsk_group_is_not_the_office_in_minsk(tagger: Tagger) -> None:
    tags = text_only(tagger, "Co-Chairs of the OSCE Minsk Group meet in Vienna")
    assert ids(tags.offices) == ["minsk-group"]
    assert ids(text_only(tagger, "OSCE Office in Minsk closes").offices) == ["office-minsk"]
    assert text_only(tagger, "Talks on the Minsk agreements resume").offices == []


def test_department_implies_the_secretariat(tagger: Tagger) -> None:
    tags = text_only(tagger, "Transnational Threats Department trains border guards")
    tntd, secretariat = tags.offices
    assert (tntd.id, secretariat.id) == ("tntd", "secretariat")
    assert secretariat.confidence == 0.6
    assert secretariat.evidence == tntd.evidence


# --------------------------------------------------------------------------- boundaries, accents


def test_roma_is_not_matched_inside_romania(tagger: Tagger) -> None:
    tags = text_only(tagger, "Romania hosts conference on regional security")
    assert tags.topics == []
    assert ids(tags.countries) == ["ro"]
    tags = text_only(tagger, "ODIHR supports Roma inclusion in Romania")
    assert ids(tags.topics) == ["roma-sinti"]
    assert ids(tags.countries) == ["ro"]
    assert [e.text for e in tags.topics[0].evidence] == ["Roma"]


def test_words_inside_other_words_do_not_match(tagger: Tagger) -> None:
    assert text_only(tagger, "Kazakhstani officials").countries[0].evidence[0].text == (
        "Kazakhstani"
    )
    tags = text_only(tagger, "District officials discuss conflict early warning")
    assert all(e.text != "ICT" for t in tags.topics for e in t.evidence)
    assert text_only(tagger, "The Albanians of the region").countries == []  # not a listed form


def test_accent_and_case_insensitive(tagger: Tagger) -> None:
    for title in ("Elections in Türkiye", "Elections in Turkiye", "ELECTIONS IN TÜRKIYE"):
        tags = text_only(tagger, title)
        assert ids(tags.countries) == ["tr"], title
        span = tags.countries[0].evidence[0]
        assert title[span.start : span.end] == span.text == title.split()[-1]
    assert ids(text_only(tagger, "Elections in Turkey").countries) == ["tr"]  # former name
    assert ids(text_only(tagger, "Minister of the Czech Republic").countries) == ["cz"]


def test_offsets_survive_folding_that_changes_length(tagger: Tagger) -> None:
    # 'ß' folds to 'ss' and a decomposed 'ü' loses its combining mark.
    title = "Große Konferenz in der Tu\u0308rkei: ODIHR und die Türkiye"
    tags = text_only(tagger, title)
    odihr = tags.offices[0].evidence[0]
    assert title[odihr.start : odihr.end] == "ODIHR"
    turkey = tags.countries[0].evidence[0]
    assert title[turkey.start : turkey.end] == "Türkiye"
    decomposed = unicodedata.normalize("NFD", "Conference in Türkiye")
    span = text_only(tagger, decomposed).countries[0].evidence[0]
    assert decomposed[span.start : span.end] == unicodedata.normalize("NFD", "Türkiye")


def test_fold_with_offsets() -> None:
    # Folding is case and accents only; dashes and quotes are the matching form's business.
    assert fold_with_offsets("Priština – Prishtinë") == ("pristina – prishtine", None)
    folded, offsets = fold_with_offsets("Straße")
    assert folded == "strasse"
    assert offsets == [0, 1, 2, 3, 4, 4, 5, 6]
    assert fold("Chișinău") == "chisinau"


def test_one_fold_for_tagging_search_and_identity_keys() -> None:
    assert fold is text.fold
    # 'ʼ' (U+02BC) is a letter to Unicode: identity keys (hence item ids) keep it ...
    assert identity_key("Ukraineʼs report") == "ukraineʼs report"


def test_dashes_and_quotes_are_gaps_between_words(tagger: Tagger) -> None:
    # ... but the tagger reads it, like every dash and quote, as a gap between words.
    for title in ("Ukraineʼs observers", "Ukraine’s observers", "Ukraine‑based observers"):
        assert ids(text_only(tagger, title).countries) == ["ua"], title
    tags = text_only(tagger, "Report—ODIHR′s observers")
    assert ids(tags.offices) == ["odihr"]


# --------------------------------------------------------------------------- ambiguity


def test_astana_the_city_is_not_the_astana_office(tagger: Tagger) -> None:
    for title in (
        "OSCE Chairperson-in-Office visits Astana",
        "OSCE Summit in Astana adopts Commemorative Declaration",
    ):
        assert "po-astana" not in ids(text_only(tagger, title).offices), title
    tags = text_only(tagger, "OSCE Programme Office in Astana hosts conference")
    assert ids(tags.offices) == ["po-astana"]


def test_generic_office_phrase_resolved_by_context(tagger: Tagger, seeds: list[NewsItem]) -> None:
    summary = seeds[2].summary
    assert summary is not None
    # The seed summary says only "the OSCE Programme Office" and names East Kazakhstan.
    tags = text_only(tagger, "Equipment handed over", summary)
    office = tags.offices[0]
    assert (office.id, office.source, office.confidence) == ("po-astana", "inferred", 0.6)
    assert office.evidence[0].text == "OSCE Programme Office"


def test_generic_office_phrase_left_out_when_ambiguous(tagger: Tagger) -> None:
    summary = "Officers from Kazakhstan and Kyrgyzstan met at the OSCE Programme Office."
    assert text_only(tagger, "Regional meeting", summary).offices == []
    assert text_only(tagger, "Meeting", "The OSCE Programme Office said so.").offices == []


def test_generic_office_phrase_respects_dates(tagger: Tagger) -> None:
    summary = "The OSCE Office presented a report to the authorities of Armenia."
    then = datetime(2015, 12, 10, tzinfo=UTC)
    later = datetime(2021, 1, 1, tzinfo=UTC)  # the Office in Yerevan closed in 2017
    assert ids(text_only(tagger, "Report", summary, published_at=then).offices) == [
        "office-yerevan"
    ]
    assert text_only(tagger, "Report", summary, published_at=later).offices == []


def test_osce_presence_needs_albania(tagger: Tagger) -> None:
    tags = text_only(tagger, "OSCE Presence supports electoral reform", "TIRANA – Albania's ...")
    assert ids(tags.offices) == ["presence-albania"]
    tags = text_only(tagger, "Twenty years of OSCE presence in Kazakhstan")
    assert tags.offices == []


def test_host_country_of_a_field_operation(tagger: Tagger) -> None:
    assert ids(text_only(tagger, "OSCE Programme Office in Nur-Sultan").countries) == ["kz"]
    serbia = text_only(tagger, "OSCE Mission to Serbia").countries[0]
    assert (serbia.id, serbia.confidence) == ("rs", 0.8)
    assert text_only(tagger, "ODIHR publishes report").countries == []  # seat is not the subject
    assert text_only(tagger, "OSCE Mission in Kosovo").countries == []


def test_countries_by_name_demonym_and_exclusions(tagger: Tagger) -> None:
    tags = text_only(tagger, "Albanian and Kazakh officials meet in Vienna")
    assert ids(tags.countries) == ["al", "kz"]
    assert by_id(tags.countries, "al").confidence == 0.7  # a demonym says less than a name
    assert ids(text_only(tagger, "Democratic People's Republic of Korea").countries) == []
    assert ids(text_only(tagger, "North Korea missile test").countries) == []
    assert ids(text_only(tagger, "Republic of Korea joins conference").countries) == ["kr"]
    assert ids(text_only(tagger, "Youth from Northern Ireland").countries) == ["gb"]


@pytest.mark.parametrize(
    "title",
    [
        "Guide published in Russian",
        "Guide published in Kyrgyz and Russian.",
        "Russian-language media",
        "Teachers from ethnic Albanian communities",
        "Kosovo Albanian and Kosovo Serb youth",
    ],
)
def test_demonyms_for_languages_and_peoples_are_not_countries(tagger: Tagger, title: str) -> None:
    assert text_only(tagger, title).countries == []


def test_demonym_for_a_state_is_a_country(tagger: Tagger) -> None:
    assert ids(text_only(tagger, "Russian diplomats meet Ukrainian officials").countries) == [
        "ru",
        "ua",
    ]


# --------------------------------------------------------------------------- topics


def test_topic_confidence_grows_with_evidence(tagger: Tagger) -> None:
    assert text_only(tagger, "Students visit Vienna").topics == []  # 'students' alone is weak
    one = by_id(text_only(tagger, "Young people learn about journalism").topics, "youth")
    two = by_id(
        text_only(tagger, "Young people and youth leaders learn about journalism").topics, "youth"
    )
    assert 0.5 <= one.confidence < two.confidence < 1.0
    assert [e.text for e in two.evidence] == ["Young people", "youth"]


def test_signal_inside_an_office_name_is_not_a_topic(tagger: Tagger) -> None:
    tags = text_only(tagger, "OSCE Office for Democratic Institutions and Human Rights statement")
    assert tags.topics == []
    tags = text_only(tagger, "Conflict Prevention Centre briefs delegations")
    assert ids(tags.topics) == ["conflict-prevention"]  # from the Centre's mandate, not its name
    assert tags.topics[0].evidence[0].text == "Conflict Prevention Centre"


def test_subtopic_implies_its_field_of_work(tagger: Tagger) -> None:
    tags = text_only(tagger, "Ministers discuss climate change and security")
    assert ids(tags.topics) == ["climate-change", "environmental-activities"]
    climate, environment = tags.topics
    assert environment.confidence < climate.confidence
    assert environment.evidence == climate.evidence


def test_office_mandate_hints_a_topic(tagger: Tagger) -> None:
    tags = text_only(tagger, "OSCE Representative on Freedom of the Media visits Baku")
    assert ids(tags.topics) == ["media-freedom"]


def test_prefix_signals_match_word_endings(tagger: Tagger) -> None:
    tags = text_only(tagger, "Journalists and their safety")
    assert tags.topics[0].id == "media-freedom"
    assert tags.topics[0].evidence[0].text == "Journalists"


# --------------------------------------------------------------------------- properties


def _evaluation_items() -> Iterator[dict[str, Any]]:
    for line in EVALUATION.read_text(encoding="utf-8").splitlines():
        yield json.loads(line)["item"]


def test_evidence_offsets_point_into_the_original_fields(tagger: Tagger) -> None:
    checked = 0
    for raw in _evaluation_items():
        item = normalise(raw, now=NOW)
        tags = tagger.tag(item)
        fields = {"title": item.title, "summary": item.summary, "body": item.body}
        for tag in [*tags.offices, *tags.topics, *tags.countries]:
            for e in tag.evidence:
                if e.field == "declared":
                    assert e.start is None
                    continue
                text = fields[e.field]
                assert text is not None
                assert e.start is not None
                assert text[e.start : e.end] == e.text
                checked += 1
    assert checked > 300


def test_tags_are_ordinary_valid_models(tagger: Tagger) -> None:
    for raw in _evaluation_items():
        tags = tagger.tag(normalise(raw, now=NOW))
        assert Tags.model_validate(tags.model_dump()) == tags
        assert Tags.model_validate_json(tags.model_dump_json()) == tags
        assert all(0.0 <= t.confidence <= 1.0 for t in [*tags.offices, *tags.topics])


def test_tagging_is_pure(tagger: Tagger, seeds: list[NewsItem]) -> None:
    first = [tagger.tag(item) for item in seeds]
    again = [Tagger(load_taxonomy()).tag(item) for item in seeds]
    assert first == again
    assert first == [tagger.tag(item) for item in seeds]


def test_what_a_declared_office_implies_cites_the_declared_label(tagger: Tagger) -> None:
    tags = tagger.tag_fields(
        title="New handbook published",
        offices=["OSCE Programme Office in Dushanbe", "Transnational Threats Department"],
        topics=["Climate change"],
    )
    assert ids(tags.offices) == ["po-dushanbe", "tntd", "secretariat"]
    secretariat = tags.offices[2]
    assert [(e.field, e.text) for e in secretariat.evidence] == [
        ("declared", "Transnational Threats Department")
    ]
    (tajikistan,) = tags.countries
    assert tajikistan.id == "tj"
    assert [(e.field, e.text) for e in tajikistan.evidence] == [
        ("declared", "OSCE Programme Office in Dushanbe")
    ]
    climate, environment = tags.topics
    assert (climate.source, environment.source) == ("declared", "inferred")
    assert [(e.field, e.text) for e in environment.evidence] == [("declared", "Climate change")]
    rfom = tagger.tag_fields(title="Statement", offices=["RFoM"]).topics[0]
    assert (rfom.id, rfom.evidence[0].field, rfom.evidence[0].text) == (
        "media-freedom",
        "declared",
        "RFoM",
    )


def test_every_tag_explains_itself(tagger: Tagger) -> None:
    for raw in _evaluation_items():
        tags = tagger.tag(normalise(raw, now=NOW))
        for tag in [*tags.offices, *tags.topics, *tags.countries]:
            assert tag.evidence, (raw["title"], tag.id)


def test_nothing_matches_across_fields(tagger: Tagger) -> None:
    tags = tagger.tag_fields(title="Statement on human", summary="rights of the child")
    assert tags.topics == []
    tags = tagger.tag_fields(title="Statement on human rights", summary="of the child")
    assert [e.field for e in by_id(tags.topics, "human-rights").evidence] == ["title"]


def test_non_ascii_letters_stay_part_of_their_word(tagger: Tagger) -> None:
    assert text_only(tagger, "SMMé report and ODIHRж").offices == []
    tags = text_only(tagger, "ODIHR’s report – “SMM” – Kyiv")
    assert ids(tags.offices) == ["odihr", "smm-ukraine"]


def test_fast_and_general_folding_agree(tagger: Tagger) -> None:
    general = Tagger(load_taxonomy())
    general._scanner.stand_in = None  # as if a pattern were not ASCII: the general path
    samples = [
        *(normalise(raw, now=NOW) for raw in _evaluation_items()),
        normalise({"title": "Мисия ОБСЕ – ODIHR in Türkiye, Vollebæk, Große ß, Kyivʼs"}, now=NOW),
    ]
    for item in samples:
        assert general.tag(item) == tagger.tag(item), item.title


def test_constructed_tags_equal_validated_ones(tagger: Tagger) -> None:
    # The tagger builds its output with model_construct; validation must agree with it.
    for raw in _evaluation_items():
        tags = tagger.tag(normalise(raw, now=NOW))
        validated = Tags.model_validate(tags.model_dump())
        assert validated == tags
        assert validated.model_dump_json() == tags.model_dump_json()
        assert validated.model_fields_set == tags.model_fields_set
        for made, checked in zip(
            [*tags.topics, *tags.offices, *tags.countries],
            [*validated.topics, *validated.offices, *validated.countries],
            strict=True,
        ):
            assert made.model_fields_set == checked.model_fields_set
            assert [e.model_fields_set for e in made.evidence] == [
                e.model_fields_set for e in checked.evidence
            ]


def test_constructor_falls_back_to_model_construct_when_a_model_changes() -> None:
    from pydantic import BaseModel, Field

    from newsflow.domain.tagging.building import _constructor

    class Grown(BaseModel):  # a model that gained a field the tagger does not pass
        text: str
        extra: list[str] = Field(default_factory=list)

    built = _constructor(Grown, ("text",))({"text": "ODIHR"})
    assert built == Grown(text="ODIHR")
    assert built.model_dump() == {"text": "ODIHR", "extra": []}
