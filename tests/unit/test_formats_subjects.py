"""IPTC subject codes, from every format that carries them to our topics.

Documents are written for these tests (never IPTC's examples). Each format reads a
code into a ``name (qcode)`` label; the taxonomy's ``iptc_subjects`` section, and
only it, resolves the code to a topic when the tagger meets the label.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsflow.domain.contract import LIMITS
from newsflow.domain.formats.common import subject_label, subject_labels
from newsflow.domain.formats.newsml import parse_newsml
from newsflow.domain.formats.ninjs import parse_ninjs
from newsflow.domain.formats.nitf import parse_nitf
from newsflow.domain.normalise import Rejection, normalise
from newsflow.domain.tagging import Tagger
from newsflow.domain.tags import Tag
from newsflow.domain.taxonomy import iptc_code, label_code, load_taxonomy

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
NS = "http://iptc.org/std/nar/2006-10-01/"
TAXONOMY = load_taxonomy()
TAGGER = Tagger(TAXONOMY)
MEDTOP = "http://cv.iptc.org/newscodes/mediatopic"
#: A headline that names no topic, so every topic tag below comes from a declared code.
TITLE = "Statement by the spokesperson"


def news_item(subjects: str, *, guid: str = "urn:newsml:example.com:20261129:abc123") -> str:
    return f"""<newsItem xmlns="{NS}" guid="{guid}" version="1">
  <itemMeta><itemClass qcode="ninat:text"/><versionCreated>2026-11-29T10:00:00Z</versionCreated>
    <firstCreated>2026-11-29T09:00:00Z</firstCreated></itemMeta>
  <contentMeta><headline>{TITLE}</headline>{subjects}</contentMeta>
  <contentSet><inlineData contenttype="text/plain">Text.</inlineData></contentSet>
</newsItem>"""


def nitf(head: str = "", docdata: str = "") -> str:
    return f"""<nitf><head>{head}<docdata>{docdata}</docdata></head>
  <body><body.head><hedline><hl1>{TITLE}</hl1></hedline></body.head>
  <body.content><p>Text.</p></body.content></body></nitf>"""


def one(result: Any) -> dict[str, Any]:
    assert result.errors == []
    assert len(result.items) == 1
    item: dict[str, Any] = result.items[0].item
    return item


def newsml_item(subjects: str) -> dict[str, Any]:
    return one(parse_newsml(news_item(subjects).encode()))


def ninjs_item(**fields: Any) -> dict[str, Any]:
    return one(parse_ninjs(json.dumps({"uri": "urn:x:1", "headline": TITLE, **fields})))


def topic_tags(item: dict[str, Any]) -> list[Tag]:
    """The topic tags enrichment gives the item, through the real normaliser and tagger."""
    return TAGGER.tag(normalise(item, now=NOW)).topics


def resolved(item: dict[str, Any]) -> dict[str | None, str | None]:
    return {t.id: t.label for t in topic_tags(item) if t.resolved}


def unresolved(item: dict[str, Any]) -> list[str]:
    return [t.name for t in topic_tags(item) if not t.resolved]


# --------------------------------------------------------------------------- codes


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("medtop:20000574", "medtop:20000574"),
        (" MEDTOP:20000574 ", "medtop:20000574"),
        ("mediatopic:20000574", "medtop:20000574"),
        ("http://cv.iptc.org/newscodes/mediatopic/20000574", "medtop:20000574"),
        ("https://cv.iptc.org/newscodes/mediatopic/20000574/", "medtop:20000574"),
        ("subj:11003006", "subj:11003006"),
        ("subjectcode:11003006", "subj:11003006"),
        ("http://cv.iptc.org/newscodes/subjectcode/11003006", "subj:11003006"),
        # not IPTC codes
        ("medtop:2000057", None),
        ("medtop:200005740", None),
        ("medtop:abcdefgh", None),
        ("medtop:", None),
        ("medtop:٢٠٠٠٠٥٧٤", None),  # Arabic-Indic digits are digits to Python, not to IPTC
        ("\u017fubj:11003006", None),  # long s: Unicode case folding must not make it 'subj'
        ("mediatop\u0131c:20000574", None),  # dotless i
        ("HTTP://CV.IPTC.ORG/NEWSCODES/MEDIATOPIC/20000574", "medtop:20000574"),
        ("dpasubject:553", None),
        ("http://cv.iptc.org/newscodes/genre/Analysis", None),
        ("http://example.com/newscodes/mediatopic/20000574", None),
        ("http://cv.iptc.org/newscodes/mediatopic/../20000574", None),
        ("", None),
    ],
)
def test_iptc_codes_are_read_in_every_published_form(value: str, code: str | None) -> None:
    assert iptc_code(value) == code


def test_a_label_carries_its_code_at_the_end() -> None:
    assert label_code("election (medtop:20000574)") == "medtop:20000574"
    assert label_code("medtop:20000574") == "medtop:20000574"
    assert label_code("Elections") is None
    assert label_code("OSCE Office in Zagreb (closed)") is None
    assert label_code("Jan Braathu (p:braathu)") is None


def test_the_mapping_lives_in_the_taxonomy_with_its_sources() -> None:
    codes = TAXONOMY.subject_codes
    schemes = [c.split(":")[0] for c in codes]
    assert (len(codes), schemes.count("medtop"), schemes.count("subj")) == (78, 42, 36)  # README
    sources = TAXONOMY.provenance.sources
    assert sources["IPTC-MT"].url == "https://cv.iptc.org/newscodes/mediatopic/"
    assert sources["IPTC-SC"].url == "https://cv.iptc.org/newscodes/subjectcode/"
    for code, entry in codes.items():
        assert entry.topic in TAXONOMY.topics, code
        assert entry.label.strip(), code
        assert all(ref in sources for ref in entry.sources), code
    assert codes["medtop:20000574"].label == "election"
    assert codes["medtop:20000591"].topic == "media-freedom"
    assert codes["subj:11003006"].topic == "elections"


@pytest.mark.parametrize(
    ("label", "topic"),
    [
        ("election (medtop:20000574)", "elections"),
        ("human rights (medtop:20000592)", "human-rights"),
        ("freedom of the press (medtop:20000591)", "media-freedom"),
        ("act of terror (medtop:20000053)", "countering-terrorism"),
        ("peace process (medtop:20000073)", "conflict-prevention"),
        ("disarmament (medtop:20000078)", "arms-control"),
        ("police (medtop:20000133)", "policing"),
        ("immigration (medtop:20000771)", "migration"),
        ("national or ethnic minority (medtop:20000795)", "national-minorities"),
        ("climate change (medtop:20000418)", "climate-change"),
        ("local elections (subj:11003006)", "elections"),
        ("bioterrorism (subj:16005001)", "countering-terrorism"),
        ("human rights (subj:11007000)", "human-rights"),
        ("refugee (subj:11011000)", "migration"),
        ("subjectcode:11025000", "media-freedom"),
        # a code decides, whatever the name next to it says
        ("Elections (medtop:20000592)", "human-rights"),
        # mapped codes only: politics, its parent, and war are not fields of work
        ("politics (medtop:11000000)", None),
        ("war (subj:16009000)", None),
        # a narrower code is not mapped through a broader one (or the reverse)
        ("intergovernmental elections (medtop:20000577)", None),
        # and an IPTC name that shares our wording does not resolve without a mapping
        ("Human rights (medtop:99999999)", None),
        ("Human rights", "human-rights"),
    ],
)
def test_declared_codes_resolve_only_through_the_mapping(label: str, topic: str | None) -> None:
    assert TAXONOMY.resolve_topic(label) == topic


# --------------------------------------------------------------------------- formats


def test_newsml_subjects_resolve_mapped_and_keep_unmapped() -> None:
    item = newsml_item(
        '<subject type="cpnat:abstract" qcode="medtop:20000574"><name>election</name></subject>'
        '<subject uri="http://cv.iptc.org/newscodes/mediatopic/20000591">'
        "<name>freedom of the press</name></subject>"
        '<subject qcode="medtop:11000000"><name>politics</name></subject>'
        '<subject qcode="subj:11003006"/>'
    )
    assert item["topics"] == [
        "election (medtop:20000574)",
        "freedom of the press (medtop:20000591)",
        "politics (medtop:11000000)",
        "subj:11003006",
    ]
    assert resolved(item) == {
        "elections": "election (medtop:20000574)",
        "media-freedom": "freedom of the press (medtop:20000591)",
    }
    assert unresolved(item) == ["politics (medtop:11000000)"]


def test_a_declared_code_is_a_declared_topic_citing_its_label() -> None:
    item = newsml_item('<subject qcode="medtop:20000592"><name>human rights</name></subject>')
    (tag,) = [t for t in topic_tags(item) if t.id == "human-rights"]
    assert tag.source == "declared"
    assert tag.confidence == 1.0
    assert tag.name == "Human rights"
    assert [e.text for e in tag.evidence] == ["human rights (medtop:20000592)"]


def test_newsml_agency_subject_resolves_through_its_iptc_same_as() -> None:
    item = newsml_item(
        '<subject type="dpatype:dpasubject" qcode="dpasubject:1">'
        "<name>Wahlen</name>"
        '<sameAs qcode="medtop:20000574"><name>Wahl</name></sameAs></subject>'
    )
    # (an agency's own subject type is not abstract, so it is not read at all)
    assert "topics" not in item
    item = newsml_item(
        '<subject qcode="dpasubject:1"><name>Wahlen</name>'
        '<sameAs qcode="dpasubject:2"/><sameAs qcode="mediatopic:20000574"/></subject>'
    )
    assert item["topics"] == ["Wahlen (medtop:20000574)"]
    assert set(resolved(item)) == {"elections"}


def test_newsml_broader_codes_are_not_followed() -> None:
    item = newsml_item(
        '<subject qcode="medtop:20000577"><name>intergovernmental elections</name>'
        '<broader qcode="medtop:20000574"/></subject>'
    )
    assert resolved(item) == {}
    assert unresolved(item) == ["intergovernmental elections (medtop:20000577)"]


@pytest.mark.parametrize(
    "subject",
    [
        {"name": "election", "uri": "http://cv.iptc.org/newscodes/mediatopic/20000574"},
        {"name": "election", "qcode": "medtop:20000574"},
        {"name": "election", "uri": "https://example.org/x", "qcode": "medtop:20000574"},
        {"name": "election", "scheme": f"{MEDTOP}/", "code": "20000574"},
        {"name": "election", "scheme": MEDTOP, "code": "20000574"},
        {"name": "election", "code": "medtop:20000574"},
    ],
)
def test_ninjs_subjects_in_every_version_resolve(subject: dict[str, str]) -> None:
    for key in ("subjects", "subject"):  # 2.x/3.x, and 1.x
        item = ninjs_item(**{key: [subject]})
        assert item["topics"] == ["election (medtop:20000574)"]
        assert set(resolved(item)) == {"elections"}


def test_ninjs_subjects_of_other_vocabularies_stay_names() -> None:
    item = ninjs_item(
        subjects=[
            {"name": "Democratization", "uri": "https://www.osce.org/democratization"},
            {"name": "Wahl", "scheme": "http://example.org/cv/", "code": "20000574"},
            {"name": "politics", "uri": "http://cv.iptc.org/newscodes/mediatopic/11000000"},
            {"name": "Bad code", "code": 20000574},
        ]
    )
    assert item["topics"] == [
        "Democratization",
        "Wahl",
        "politics (medtop:11000000)",
        "Bad code",
    ]
    assert set(resolved(item)) == {"democratization"}
    assert unresolved(item) == ["Wahl", "politics (medtop:11000000)", "Bad code"]


def test_nitf_tobject_subjects_and_coded_keywords_resolve() -> None:
    head = (
        '<tobject tobject.type="news">'
        '<tobject.subject tobject.subject.refnum="11003006" tobject.subject.type="politics" '
        'tobject.subject.matter="elections" tobject.subject.detail="local elections"/>'
        '<tobject.subject tobject.subject.ipr="IPTC" tobject.subject.refnum="16009000" '
        'tobject.subject.matter="war"/>'
        '<tobject.subject tobject.subject.ipr="ACME" tobject.subject.refnum="16005001" '
        'tobject.subject.matter="bioterror"/>'
        '<tobject.subject tobject.subject.refnum="1600500x" tobject.subject.matter="odd"/>'
        "</tobject>"
    )
    docdata = '<key-list><keyword key="medtop:20000073"/><keyword key="Policing"/></key-list>'
    item = one(parse_nitf(nitf(head, docdata).encode()))
    assert item["topics"] == [
        "medtop:20000073",
        "Policing",
        "local elections (subj:11003006)",
        "war (subj:16009000)",
        "bioterror",
        "odd",
    ]
    assert resolved(item) == {
        "conflict-prevention": "medtop:20000073",
        "policing": "Policing",
        "elections": "local elections (subj:11003006)",
    }
    assert unresolved(item) == ["war (subj:16009000)", "bioterror", "odd"]


# --------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize(
    "qcode",
    ["medtop:abc", "medtop:123", "medtop:200005740000", "medtop:", "medtop:2000 0574"],
)
def test_malformed_qcodes_are_kept_as_written_and_resolve_to_nothing(qcode: str) -> None:
    item = newsml_item(f'<subject qcode="{qcode}"><name>election</name></subject>')
    written = " ".join(qcode.split())
    assert item["topics"] == [f"election ({written})"]
    assert resolved(item) == {}


def test_repeated_and_conflicting_subjects_give_one_tag_per_topic() -> None:
    item = newsml_item(
        '<subject qcode="medtop:20000574"><name>election</name></subject>'
        '<subject qcode="medtop:20000574"><name>election</name></subject>'
        '<subject qcode="medtop:20000574"><name>voting</name></subject>'
        '<subject qcode="MEDTOP:20000574"><name>Election</name></subject>'
        '<subject qcode="medtop:20000586"><name>election</name></subject>'
        '<subject qcode="medtop:20000592"><name>election</name></subject>'
    )
    assert item["topics"] == [
        "election (medtop:20000574)",
        "voting (medtop:20000574)",
        # "Election (medtop:20000574)" is the first label in another case: the reader
        # counts it once, as the contract does
        "election (medtop:20000586)",
        "election (medtop:20000592)",
    ]
    assert normalise(item, now=NOW).topics == [
        "election (medtop:20000574)",
        "voting (medtop:20000574)",
        "election (medtop:20000586)",
        "election (medtop:20000592)",
    ]
    tags = [t for t in topic_tags(item) if t.resolved]
    assert [t.id for t in tags] == ["elections", "human-rights"]
    # the first label that named the topic is the one cited
    assert tags[0].label == "election (medtop:20000574)"


def test_a_flood_of_subjects_is_read_one_past_the_limit_and_refused() -> None:
    """Never cut silently: one label over the limit, which the contract refuses."""
    many = "".join(
        f'<subject qcode="medtop:{20000000 + n:08d}"><name>s{n}</name></subject>'
        for n in range(20_000)
    )
    item = newsml_item(many)
    assert len(item["topics"]) == LIMITS["topics"] + 1
    assert item["topics"][0] == "s0 (medtop:20000000)"
    too_many = [{"field": "topics", "message": f"at most {LIMITS['topics']} entries"}]
    with pytest.raises(Rejection) as refused:
        normalise(item, now=NOW)
    assert refused.value.errors == too_many
    flood = [{"name": f"s{n}", "qcode": "medtop:20000574"} for n in range(20_000)]
    assert len(ninjs_item(subjects=flood)["topics"]) == LIMITS["topics"] + 1


def test_an_overlong_name_keeps_its_code() -> None:
    long_name = "x" * (LIMITS["topic"] + 10)
    assert subject_label(long_name, "medtop:20000574") == "medtop:20000574"
    assert subject_label(long_name, None) is None
    assert subject_label("a, b", "http://cv.iptc.org/newscodes/mediatopic/20000574") == (
        "a; b (medtop:20000574)"
    )
    assert subject_label("medtop:20000574", None) == "medtop:20000574"
    assert subject_label(" ", " ") is None
    assert subject_labels([(None, None), ("a", None), ("a", None)]) == ["a"]


CANONICAL = re.compile(r"^(medtop|subj):[0-9]{8}$")
FUZZ = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
#: Text near the forms a code takes, so the fuzzer spends its time close to the edges.
CODEISH = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda prefix, digits, tail: f"{prefix}{digits}{tail}",
        st.sampled_from(
            [
                "medtop:",
                "MEDTOP:",
                "subj:",
                "mediatopic:",
                "\u017fubj:",
                "medtop: ",
                "http://cv.iptc.org/newscodes/mediatopic/",
                "https://CV.iptc.org/newscodes/subjectcode/",
            ]
        ),
        st.one_of(
            st.text(alphabet="0123456789", min_size=8, max_size=8),
            st.text(alphabet="0123456789\u0662\uff10 ", max_size=10),
        ),
        st.sampled_from(["", "/", ")", " ", "\n"]),
    ),
)


@FUZZ
@given(CODEISH)
def test_reading_a_code_never_raises_and_gives_a_canonical_code_or_nothing(text: str) -> None:
    for found in (iptc_code(text), label_code(text), label_code(f"name ({text})")):
        assert found is None or CANONICAL.match(found)


@FUZZ
@given(st.lists(st.tuples(st.one_of(st.none(), st.text(max_size=40)), CODEISH), max_size=8))
def test_any_subjects_give_labels_the_contract_and_the_tagger_take(
    subjects: list[tuple[str | None, str]],
) -> None:
    xml = "".join(
        f"<subject qcode={quoteattr(code)}>"
        + (f"<name>{escape(name)}</name>" if name is not None else "")
        + "</subject>"
        for name, code in subjects
        if code.isprintable() and (name is None or name.isprintable())
    )
    documents = [
        parse_ninjs(
            json.dumps(
                {
                    "uri": "u",
                    "headline": TITLE,
                    "subjects": [{"name": name, "qcode": code} for name, code in subjects],
                }
            )
        ),
        parse_newsml(news_item(xml).encode()),
    ]
    for result in documents:
        for parsed in result.items:
            topics = parsed.item.get("topics", [])
            assert len(topics) <= LIMITS["topics"]
            assert all(0 < len(t) <= LIMITS["topic"] and "," not in t for t in topics)
            try:
                item = normalise(parsed.item, now=NOW)
            except Rejection:  # a clear rejection (a name the contract refuses) is fine
                continue
            TAGGER.tag(item)


# --------------------------------------------------------------------------- located


def country_tags(item: dict[str, Any]) -> list[Tag]:
    """The country tags enrichment gives the item, through the real normaliser and tagger."""
    return TAGGER.tag(normalise(item, now=NOW)).countries


def declared_countries(located: str) -> list[tuple[str | None, str, bool]]:
    """(id, label as published, resolved) of each declared country tag of a NewsML item."""
    return [
        (t.id, t.label or "", t.resolved)
        for t in country_tags(newsml_item(located))
        if t.source == "declared"
    ]


def test_located_with_an_iso_qcode_resolves_by_the_code() -> None:
    located = '<located qcode="iso3166-1a2:RS"><name>Serbia</name></located>'
    assert newsml_item(located)["countries"] == ["Serbia (iso3166-1a2:RS)"]
    (tag,) = country_tags(newsml_item(located))
    assert (tag.id, tag.name, tag.source, tag.confidence) == ("rs", "Serbia", "declared", 1.0)
    assert tag.label == "Serbia (iso3166-1a2:RS)"
    assert tag.evidence[0].field == "declared"


def test_the_code_wins_over_the_name_and_a_bare_code_resolves() -> None:
    """The code is what the publisher meant; a lower-case code is the same code."""
    assert declared_countries('<located qcode="iso3166-1a2:RS"><name>Albania</name></located>') == [
        ("rs", "Albania (iso3166-1a2:RS)", True)
    ]
    assert declared_countries('<located qcode="iso3166-1a2:al"/>') == [
        ("al", "iso3166-1a2:al", True)
    ]


@pytest.mark.parametrize(
    ("name", "country"), [("Serbia", "rs"), ("Сербия", "rs"), ("Czech Republic", "cz")]
)
def test_located_by_name_alias_or_former_name(name: str, country: str) -> None:
    """An agency's own place qcode is dropped: the name is what resolves."""
    located = f'<located qcode="geo:{country}"><name>{name}</name></located>'
    assert newsml_item(located)["countries"] == [name]
    assert declared_countries(located) == [(country, name, True)]


def test_a_city_and_its_broader_country() -> None:
    located = (
        '<located qcode="geo:belgrade" type="loctype:City"><name>Belgrade</name>'
        '<broader qcode="iso3166-1a2:RS" type="loctype:Country"><name>Serbia</name></broader>'
        "</located>"
    )
    assert declared_countries(located) == [
        ("rs", "Serbia (iso3166-1a2:RS)", True),
        (None, "Belgrade", False),
    ]


@pytest.mark.parametrize(
    "located",
    [
        '<located qcode="geo:atlantis"><name>Atlantis</name></located>',
        # a real code outside the taxonomy: the code decides, the name never rescues it
        '<located qcode="iso3166-1a2:XK"><name>Serbia</name></located>',
        '<located qcode="iso3166-1a2:ZZ"/>',
    ],
)
def test_an_unknown_place_stays_an_unresolved_label(located: str) -> None:
    (tag,) = country_tags(newsml_item(located))
    assert (tag.id, tag.source, tag.resolved, tag.confidence) == (None, "declared", False, 0.0)
    assert tag.name == tag.label


@pytest.mark.parametrize(
    "located",
    [
        "<located/>",
        "<located><name>   </name></located>",
        '<located qcode=""><name/></located>',
        f'<located qcode="{"q" * 5000}"><name>{"Belgrade " * 2000}</name></located>',
        '<located qcode="iso3166-1a2:RSX"><name>Serbia, Montenegro</name></located>',
        '<located qcode="iso3166-1a2:R1"><name>$where</name></located>',
        "<located><broader><broader/></broader></located>",
    ],
)
def test_hostile_located_values_never_break_an_item(located: str) -> None:
    """Blank, huge or odd places are dropped or kept as labels; the item always reads."""
    item = newsml_item(located)
    countries = item.get("countries", [])
    assert all(0 < len(c) <= LIMITS["country"] and "," not in c for c in countries)
    tags = country_tags(item)
    assert all(not t.resolved for t in tags)
    assert {k: v for k, v in item.items() if k != "countries"} == newsml_item("")


def test_many_places_are_read_one_past_the_limit_and_refused() -> None:
    located = "".join(f"<located><name>Place {i}</name></located>" for i in range(5_000))
    item = newsml_item(located + '<located qcode="iso3166-1a2:RS"/>')
    assert item["countries"] == [f"Place {i}" for i in range(LIMITS["countries"] + 1)]
    with pytest.raises(Rejection) as refused:
        normalise(item, now=NOW)
    assert refused.value.errors == [
        {"field": "countries", "message": f"at most {LIMITS['countries']} entries"}
    ]
    # the limit itself is taken whole
    exact = "".join(
        f"<located><name>Place {i}</name></located>" for i in range(LIMITS["countries"])
    )
    assert len(country_tags(newsml_item(exact))) == LIMITS["countries"]


def test_a_declared_country_the_text_names_keeps_its_text_evidence() -> None:
    item = {
        "title": "OSCE supports elections in Serbia",
        "countries": ["iso3166-1a2:RS", "Albania"],
    }
    tags = {t.id: t for t in country_tags(item)}
    assert set(tags) == {"rs", "al"}
    assert tags["rs"].source == tags["al"].source == "declared"
    assert [e.field for e in tags["rs"].evidence] == ["declared", "title"]


def test_ninjs_located_places_and_locations() -> None:
    item = ninjs_item(
        located="Belgrade",
        places=[
            {"name": "Serbia", "uri": "iso3166-1a2:RS"},
            {"name": 7},
            "not an object",
            {"literal": "iso3166-1a2:AL"},
        ],
        locations=[{"name": "Сербия"}],
    )
    assert item["countries"] == ["Belgrade", "Serbia (iso3166-1a2:RS)", "iso3166-1a2:AL", "Сербия"]
    resolved_ids = [t.id for t in country_tags(item) if t.source == "declared"]
    assert resolved_ids == ["rs", "al", None]


@pytest.mark.parametrize("places", [None, "Belgrade", 7, [None], {"name": "x"}])
def test_malformed_ninjs_places_are_skipped(places: Any) -> None:
    """Places were ignored before: a malformed entry must not now refuse the story."""
    assert "countries" not in ninjs_item(places=places, locations=places)


# --------------------------------------------------------------------------- URN identity


def story(item: dict[str, Any]) -> str:
    return normalise(item, now=NOW).id


def newsml_version(version: int, *, headline: str = TITLE, guid: str | None = None) -> str:
    """Version ``version`` of the URN item, created later, with ``headline``."""
    return (
        news_item("", **({"guid": guid} if guid else {}))
        .replace('version="1"', f'version="{version}"')
        .replace("2026-11-29T10:00:00Z", f"2026-11-29T1{version}:30:00Z")
        .replace(f"<headline>{TITLE}</headline>", f"<headline>{escape(headline)}</headline>")
    )


def test_a_urn_guid_is_the_story_across_versions_even_when_the_headline_changes() -> None:
    guid = "urn:newsml:example.com:20261129:abc123"
    first = one(parse_newsml(newsml_version(1).encode()))
    corrected = one(parse_newsml(newsml_version(2, headline=f"{TITLE} (corrected)").encode()))
    assert "url" not in first  # a URN is an identity, never an address
    assert first["guid"] == corrected["guid"] == guid
    assert first["idempotency_key"] == f"{guid}@1"
    assert corrected["idempotency_key"] == f"{guid}@2"
    assert corrected["revision"] == 2
    ids = {story(first), story(corrected)}
    assert len(ids) == 1
    (story_id,) = ids
    assert re.fullmatch(r"[0-9a-f]{32}", story_id)
    assert normalise(corrected, now=NOW).guid == guid
    # Another guid with the same headline and day is another story (ADR 0002).
    other = one(
        parse_newsml(newsml_version(1, guid="urn:newsml:example.com:20261129:xyz").encode())
    )
    assert story(other) != story_id


def test_an_http_guid_is_the_url_and_no_guid() -> None:
    item = one(parse_newsml(newsml_version(1, guid="https://example.com/news/1").encode()))
    assert item["url"] == "https://example.com/news/1"
    assert "guid" not in item


def test_a_ninjs_urn_uri_behaves_the_same() -> None:
    uri = "urn:newsml:example.com:20261129:abc123"
    items = [
        one(
            parse_ninjs(
                json.dumps(
                    {
                        "uri": uri,
                        "headline": headline,
                        "version": version,
                        "firstcreated": "2026-11-29T09:00:00Z",
                    }
                )
            )
        )
        for version, headline in (("1", TITLE), ("2", f"{TITLE} (corrected)"))
    ]
    assert all("url" not in item for item in items)
    assert [item["guid"] for item in items] == [uri, uri]
    assert [item["idempotency_key"] for item in items] == [f"{uri}@1", f"{uri}@2"]
    assert story(items[0]) == story(items[1])
    # The NewsML-G2 item with the same guid is the same story: the guid is the identity.
    assert story(items[0]) == story(one(parse_newsml(newsml_version(1).encode())))


def test_a_ninjs_http_uri_is_the_url_and_no_guid() -> None:
    item = ninjs_item(uri="https://example.com/news/1")
    assert item["url"] == "https://example.com/news/1"
    assert "guid" not in item
