"""The IPTC ninjs parser (1.x, 2.x, 3.x), on real-looking OSCE items and on broken ones."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest

from newsflow.domain.contract import MAX_REVISION, PublisherItem
from newsflow.domain.formats.ninjs import looks_like_ninjs, parse_ninjs
from newsflow.domain.normalise import Rejection, normalise

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SCHEMA = Path(__file__).parents[1] / "data" / "ninjs-schema_2.2.json"

#: A press release as a CMS exporting ninjs 2.2 would write it.
PRESS_RELEASE: dict[str, Any] = {
    "uri": "https://www.osce.org/mission-to-serbia/475538",
    "standard": {
        "name": "ninjs",
        "version": "2.2",
        "schema": "http://www.iptc.org/std/ninjs/ninjs-schema_2.2.json",
    },
    "type": "text",
    "profile": "osce-press-release",
    "representationtype": "full",
    "version": "3",
    "firstcreated": "2021-01-06T09:30:00+01:00",
    "versioncreated": "2021-01-06T14:05:00+01:00",
    "pubstatus": "usable",
    "language": "en",
    "by": "OSCE Mission to Serbia",
    "copyrightholder": "OSCE",
    "located": "Belgrade",
    "headlines": [
        {"role": "short", "value": "New Head of Mission in Serbia"},
        {
            "role": "main",
            "value": "Jan Braathu takes up duties as Head of OSCE Mission to Serbia",
        },
    ],
    "descriptions": [
        {
            "role": "summary",
            "contenttype": "text/plain",
            "value": "BELGRADE, 5 January 2021 – Jan Braathu assumed his duties as "
            "Head of the OSCE Mission to Serbia today.",
        }
    ],
    "bodies": [
        {
            "role": "main",
            "contenttype": "text/html",
            "wordcount": 41,
            "value": "<p>BELGRADE, 5 January 2021 &ndash; Ambassador Jan Braathu assumed his "
            "duties as <strong>Head of the OSCE Mission to Serbia</strong>.</p>\n"
            "<p>Braathu previously served as Norway&#8217;s Ambassador to Serbia.</p>"
            '<script>ga("send", "pageview")</script>',
        }
    ],
    "subjects": [
        {"name": "Democratization", "uri": "https://www.osce.org/democratization", "rel": "about"},
        {"name": "Good governance", "rel": "about"},
        {"uri": "http://cv.iptc.org/newscodes/mediatopic/11000000"},
    ],
    "organisations": [
        {"name": "OSCE Mission to Serbia", "uri": "https://www.osce.org/mission-to-serbia"}
    ],
    "places": [{"name": "Belgrade", "literal": "belgrade"}],
    "genres": [{"name": "Press release", "uri": "https://www.osce.org/press-releases"}],
}

#: The second story of the same export, with less metadata and no HTML.
STATEMENT: dict[str, Any] = {
    "uri": "urn:osce:newsroom:480412",
    "version": "1",
    "firstcreated": "2021-01-12T16:45:00Z",
    "language": "en",
    "headlines": [{"value": "OSCE Chairperson-in-Office welcomes release of detainees"}],
    "bodies": [
        {
            "contenttype": "text/plain",
            "value": "VIENNA, 12 January 2021 – The OSCE Chairperson-in-Office welcomed...",
        },
        {"contenttype": "text/html", "value": "<p>VIENNA, 12 January 2021 – ignored</p>"},
    ],
    "genres": [{"name": "Press statement"}],
}


def ninjs(**changes: Any) -> dict[str, Any]:
    item = copy.deepcopy(PRESS_RELEASE)
    item.update(changes)
    return {k: v for k, v in item.items() if v is not None}


def only_item(value: Any) -> dict[str, Any]:
    result = parse_ninjs(orjson.dumps(value).decode())
    assert result.errors == []
    assert len(result.items) == 1
    return result.items[0].item


def only_error(value: Any) -> str:
    result = parse_ninjs(orjson.dumps(value).decode())
    assert result.items == []
    assert len(result.errors) == 1
    return result.errors[0].message


@pytest.mark.parametrize("sample", [PRESS_RELEASE, STATEMENT], ids=["release", "statement"])
def test_samples_are_valid_ninjs_2_2(sample: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(orjson.loads(SCHEMA.read_bytes())).validate(sample)


def test_press_release_maps_every_field() -> None:
    assert only_item(PRESS_RELEASE) == {
        "title": "Jan Braathu takes up duties as Head of OSCE Mission to Serbia",
        "summary": "BELGRADE, 5 January 2021 – Jan Braathu assumed his duties as "
        "Head of the OSCE Mission to Serbia today.",
        "body": "BELGRADE, 5 January 2021 – Ambassador Jan Braathu assumed his duties as "
        "Head of the OSCE Mission to Serbia.\n\n"
        "Braathu previously served as Norway’s Ambassador to Serbia.",
        "url": "https://www.osce.org/mission-to-serbia/475538",
        "published_at": "2021-01-06T09:30:00+01:00",
        "updated_at": "2021-01-06T14:05:00+01:00",
        "revision": 3,
        "content_type": "Press release",
        "language": "en",
        # a subject with only an IPTC uri is kept as its code (politics: not mapped)
        "topics": ["Democratization", "Good governance", "medtop:11000000"],
        "offices": ["OSCE Mission to Serbia"],
        # located and places: the same city twice is one label
        "countries": ["Belgrade"],
        "idempotency_key": "https://www.osce.org/mission-to-serbia/475538@3",
    }


def test_statement_prefers_the_plain_text_body_and_has_no_url_for_a_urn() -> None:
    item = only_item(STATEMENT)
    assert item["body"].startswith("VIENNA, 12 January 2021 – The OSCE")
    assert "url" not in item
    assert item["content_type"] == "Press statement"
    assert item["published_at"] == "2021-01-12T16:45:00Z"
    assert "updated_at" not in item


def test_items_pass_the_normaliser() -> None:
    result = parse_ninjs(orjson.dumps([PRESS_RELEASE, STATEMENT]).decode())
    stored = [normalise(parsed.item, now=NOW) for parsed in result.items]
    assert stored[0].published_at == datetime(2021, 1, 6, 8, 30, tzinfo=UTC)
    assert stored[0].revision == 3
    assert stored[0].offices == ["OSCE Mission to Serbia"]
    assert stored[1].url is None


def test_output_holds_only_contract_fields() -> None:
    assert set(only_item(PRESS_RELEASE)) <= set(PublisherItem.model_fields)


class TestShapes:
    def test_array_items_are_numbered_from_one(self) -> None:
        result = parse_ninjs(orjson.dumps([PRESS_RELEASE, "oops", STATEMENT]).decode())
        assert [p.line for p in result.items] == [1, 3]
        assert [(e.line, e.message) for e in result.errors] == [
            (2, "each ninjs item must be a JSON object")
        ]

    def test_json_lines_keep_their_line_numbers(self) -> None:
        lines = [PRESS_RELEASE, "", '{"uri": "x", "headl', "[1, 2]", STATEMENT]
        text = "\n".join(v if isinstance(v, str) else orjson.dumps(v).decode() for v in lines)
        result = parse_ninjs(text)
        assert [p.line for p in result.items] == [1, 5]
        assert [e.line for e in result.errors] == [3, 4]
        assert result.errors[0].message.startswith("not valid JSON")

    def test_line_separator_inside_a_string_does_not_split_a_line(self) -> None:
        first = orjson.dumps(ninjs(headlines=[{"value": "One\u2028Two"}])).decode()
        result = parse_ninjs(first + "\n" + orjson.dumps(STATEMENT).decode())
        assert result.errors == []
        assert result.items[0].item["title"] == "One Two"

    def test_truncated_pretty_printed_object_is_one_error(self) -> None:
        text = orjson.dumps(PRESS_RELEASE, option=orjson.OPT_INDENT_2).decode()[:300]
        result = parse_ninjs(text)
        assert result.items == []
        assert len(result.errors) == 1
        assert result.errors[0].line == 1
        assert result.errors[0].message.startswith("not valid JSON")

    @pytest.mark.parametrize("text", ["", "   \n\n"])
    def test_blank_input_gives_nothing(self, text: str) -> None:
        result = parse_ninjs(text)
        assert result.items == []
        assert result.errors == []

    @pytest.mark.parametrize("text", ["42", '"a string"', "null", "true"])
    def test_scalar_documents_are_errors(self, text: str) -> None:
        result = parse_ninjs(text)
        assert result.items == []
        assert result.errors[0].message == "each ninjs item must be a JSON object"

    def test_source_is_set_when_given(self) -> None:
        result = parse_ninjs(orjson.dumps(STATEMENT).decode(), source="osce.org")
        assert result.items[0].item["source"] == "osce.org"


class TestFields:
    def test_first_headline_when_none_is_main(self) -> None:
        item = only_item(ninjs(headlines=[{"value": "  "}, {"value": "Second  headline"}]))
        assert item["title"] == "Second headline"

    def test_html_in_headline_and_description_is_stripped(self) -> None:
        item = only_item(
            ninjs(
                headlines=[{"value": "OSCE &amp; <em>ODIHR</em> observe elections"}],
                descriptions=[
                    {"value": "<p>Preliminary <b>findings</b></p><img src=x onerror=alert(1)>"}
                ],
            )
        )
        assert item["title"] == "OSCE & ODIHR observe elections"
        assert item["summary"] == "Preliminary findings"

    def test_plain_text_with_angle_brackets_is_left_alone(self) -> None:
        item = only_item(ninjs(descriptions=[{"value": "Turnout was < 50% and > 40%"}]))
        assert item["summary"] == "Turnout was < 50% and > 40%"

    def test_ninjs_1_fields_are_read_as_fallbacks(self) -> None:
        item = only_item(
            {
                "uri": "https://www.osce.org/odihr/elections/480001",
                "headline": "ODIHR opens observation mission",
                "description_text": "WARSAW, 4 February 2021 – The ODIHR opened a mission.",
                "body_html": "<p>WARSAW &ndash; The mission</p><p>will observe.</p>",
            }
        )
        assert item == {
            "title": "ODIHR opens observation mission",
            "summary": "WARSAW, 4 February 2021 – The ODIHR opened a mission.",
            "body": "WARSAW – The mission\n\nwill observe.",
            "url": "https://www.osce.org/odihr/elections/480001",
        }

    def test_body_text_beats_body_html(self) -> None:
        item = only_item(
            {"uri": "u", "headline": "H", "body_text": "Plain.", "body_html": "<p>Markup.</p>"}
        )
        assert item["body"] == "Plain."

    def test_canonical_link_beats_uri(self) -> None:
        links = [
            {"rel": "alternate", "href": "https://www.osce.org/ru/mission-to-serbia/475538"},
            {"rel": "canonical", "href": "https://www.osce.org/mission-to-serbia/475538?x=1"},
        ]
        item = only_item(ninjs(links=links))
        assert item["url"] == "https://www.osce.org/mission-to-serbia/475538?x=1"

    def test_first_http_link_when_uri_is_not_an_address(self) -> None:
        links = [
            {"rel": "self", "href": "ftp://files.osce.org/475538"},
            {"rel": "alternate", "href": "https://www.osce.org/node/475538"},
        ]
        item = only_item(ninjs(uri="urn:newsml:osce.org:475538", links=links))
        assert item["url"] == "https://www.osce.org/node/475538"

    @pytest.mark.parametrize(
        "uri", ["javascript:alert(1)", "data:text/html,hi", "https://", "http//osce.org", "[::1"]
    )
    def test_non_http_uri_gives_no_url(self, uri: str) -> None:
        assert "url" not in only_item(ninjs(uri=uri))

    @pytest.mark.parametrize(
        ("version", "expected"),
        [
            ("12", 12),
            (" 7 ", 7),
            (4, 4),
            (0, 0),
            (MAX_REVISION, MAX_REVISION),
            (str(MAX_REVISION), MAX_REVISION),
            ("  ", None),
        ],
    )
    def test_version_becomes_revision(self, version: Any, expected: int | None) -> None:
        assert only_item(ninjs(version=version)).get("revision") == expected

    @pytest.mark.parametrize(
        "version",
        ["1.2", "v3", "-1", True, "9" * 40, -5, 1e308, 3.0, MAX_REVISION + 1, {"x": 1}, [1]],
    )
    def test_bad_version_refuses_the_item(self, version: Any) -> None:
        # Dropped, it left an item with no revision that storage ordered by
        # updated_at, so a stale copy with a nonsense version beat a real one.
        assert only_error(ninjs(version=version)) == (
            f"version: must be a whole number from 0 to {MAX_REVISION}"
        )

    def test_a_url_uri_with_whitespace_is_no_url_and_the_contract_refuses_it(self) -> None:
        item = only_item(ninjs(uri="http://example.com/a b", links=None))
        assert "url" not in item
        with pytest.raises(Rejection, match="guid: must not contain whitespace"):
            normalise(item, now=NOW)

    def test_a_place_the_contract_refuses_is_skipped(self) -> None:
        places = [{"name": "Bel\u202egrade"}, {"name": "Serbia", "qcode": "iso3166-1a2:RS"}]
        item = only_item(ninjs(located=None, places=places))
        assert item["countries"] == ["Serbia (iso3166-1a2:RS)"]

    def test_published_falls_back_to_versioncreated(self) -> None:
        item = only_item(ninjs(firstcreated=None))
        assert item["published_at"] == item["updated_at"] == "2021-01-06T14:05:00+01:00"

    def test_repeated_names_are_kept_once(self) -> None:
        subjects = [{"name": "Elections"}, {"name": " Elections "}, {"name": ""}]
        assert only_item(ninjs(subjects=subjects))["topics"] == ["Elections"]

    def test_bad_date_is_left_to_the_contract_to_reject(self) -> None:
        item = only_item(ninjs(firstcreated="yesterday"))
        with pytest.raises(Rejection, match="published_at"):
            normalise(item, now=NOW)


class TestEveryVersion:
    """ninjs 1.x pattern properties, 3.x titles, identity from uri and version."""

    def test_1x_pattern_properties(self) -> None:
        item = only_item(
            {
                "uri": "urn:osce:newsroom:480500",
                "version": "2",
                "headline_extheadline": "A longer headline nobody prefers",
                "headline_main": "HCNM visits Kyrgyzstan",
                "description_summary": "BISHKEK – The High Commissioner arrived.",
                "body_richtext": "<p>BISHKEK &ndash; The visit</p><p>lasts two days.</p>",
            }
        )
        assert item == {
            "title": "HCNM visits Kyrgyzstan",
            "summary": "BISHKEK – The High Commissioner arrived.",
            "body": "BISHKEK – The visit\n\nlasts two days.",
            "revision": 2,
            "idempotency_key": "urn:osce:newsroom:480500@2",
            "guid": "urn:osce:newsroom:480500",
        }

    def test_any_headline_pattern_when_there_is_no_main(self) -> None:
        item = only_item({"uri": "u", "headline_short": "Short one", "body_xhtml": "<p>B</p>"})
        assert item["title"] == "Short one"
        assert item["body"] == "B"

    def test_description_text_beats_other_descriptions(self) -> None:
        item = only_item(
            {"uri": "u", "headline": "H", "description_html": "<b>x</b>", "description_text": "T"}
        )
        assert item["summary"] == "T"

    def test_1x_pattern_properties_are_recognised(self) -> None:
        assert looks_like_ninjs('{"uri": "urn:x", "headline_main": "H"}')

    def test_3x_title_when_there_is_no_headline(self) -> None:
        item = only_item(
            {
                "uri": "urn:osce:events:77",
                "standard": {"name": "ninjs", "version": "3.1"},
                "type": "event",
                "title": "Ministerial Council, second day",
                "version": "5",
            }
        )
        assert item["title"] == "Ministerial Council, second day"
        assert item["revision"] == 5
        assert item["idempotency_key"] == "urn:osce:events:77@5"

    def test_3x_headline_still_wins_over_title(self) -> None:
        item = only_item(
            ninjs(standard={"name": "ninjs", "version": "3.0"}, title="slug-for-the-desk")
        )
        assert item["title"] == PRESS_RELEASE["headlines"][1]["value"]

    def test_planning_item_is_titled_even_without_a_standard(self) -> None:
        assert only_item({"uri": "u", "type": "planning", "title": "Coverage plan"})["title"] == (
            "Coverage plan"
        )

    @pytest.mark.parametrize("kind", ["picture", "video"])
    def test_media_with_no_title_anywhere_is_rejected_naming_it(self, kind: str) -> None:
        message = only_error(
            {
                "uri": "urn:osce:media:1",
                "type": kind,
                "standard": {"version": "3.0"},
                "descriptions": [{"value": "Caption only"}],
            }
        )
        assert message.startswith(f"no headline: a {kind} item with no title anywhere")

    def test_picture_with_a_3x_title_is_read(self) -> None:
        item = only_item(
            {"uri": "u", "type": "picture", "standard": {"version": "3.0"}, "title": "Photo"}
        )
        assert item["title"] == "Photo"

    @pytest.mark.parametrize(
        ("changes", "key"),
        [
            ({"version": "4"}, "https://www.osce.org/mission-to-serbia/475538@4"),
            ({"version": 9}, "https://www.osce.org/mission-to-serbia/475538@9"),
            ({"version": None}, None),
            ({"version": "  "}, None),
            ({"uri": "urn:" + "x" * 300}, None),
        ],
    )
    def test_identity_from_uri_and_version(self, changes: dict[str, Any], key: str | None) -> None:
        assert only_item(ninjs(**changes)).get("idempotency_key") == key

    def test_pattern_property_of_the_wrong_type_names_it(self) -> None:
        assert only_error({"uri": "u", "headline": "H", "body_text": 3}) == (
            "body_text must be a string, not a number"
        )


class TestBrokenItems:
    def test_item_without_headline(self) -> None:
        message = only_error(ninjs(headlines=None, title="internal slug"))
        assert message.startswith("no headline")

    def test_headline_that_is_only_markup(self) -> None:
        assert only_error(ninjs(headlines=[{"value": "<br/>"}])).startswith("no headline")

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"headlines": "A headline"}, "headlines must be an array, not a string"),
            ({"headlines": [{"role": "main"}]}, "headlines[0].value is required"),
            ({"headlines": [{"value": 7}]}, "value must be a string, not a number"),
            ({"subjects": ["Elections"]}, "subjects[0] must be an object, not a string"),
            ({"subjects": [{"name": ["a"]}]}, "subjects[0].name must be a string, not an array"),
            ({"firstcreated": 1609920000}, "firstcreated must be a string, not a number"),
            ({"language": {"code": "en"}}, "language must be a string, not an object"),
            ({"links": {"href": "https://x"}}, "links must be an array, not an object"),
        ],
    )
    def test_wrong_types_name_the_field(self, changes: dict[str, Any], message: str) -> None:
        assert only_error(ninjs(**changes)) == message

    @pytest.mark.parametrize("status", ["canceled", "withheld"])
    def test_items_not_for_publication_are_reported(self, status: str) -> None:
        assert only_error(ninjs(pubstatus=status)) == (
            f"pubstatus is {status!r}: the item is not for publication"
        )

    def test_one_bad_item_does_not_stop_the_rest(self) -> None:
        result = parse_ninjs(orjson.dumps([ninjs(headlines=None), STATEMENT]).decode())
        assert [p.line for p in result.items] == [2]
        assert [e.line for e in result.errors] == [1]


class TestDetection:
    @pytest.mark.parametrize(
        "value",
        [PRESS_RELEASE, [STATEMENT], {"uri": "urn:x", "headline": "Old style"}],
    )
    def test_ninjs_is_recognised(self, value: Any) -> None:
        assert looks_like_ninjs(orjson.dumps(value).decode())

    def test_json_lines_of_ninjs_are_recognised(self) -> None:
        text = orjson.dumps(STATEMENT).decode() + "\n" + orjson.dumps(PRESS_RELEASE).decode()
        assert looks_like_ninjs(text)

    @pytest.mark.parametrize(
        "text",
        [
            '{"title": "Contract item", "url": "https://www.osce.org/x"}',
            '[{"title": "Contract item"}]',
            '{"uri": "https://www.osce.org/x"}',
            "Newsroom\nTitle\nPublishing date: 7 January 2021",
            "[1, 2]",
            "",
        ],
    )
    def test_other_input_is_not(self, text: str) -> None:
        assert not looks_like_ninjs(text)
