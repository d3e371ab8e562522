"""The publisher contract and the ingest normaliser, on real-looking items."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from newsflow.domain.contract import LIMITS, PublisherItem, parse_published_at
from newsflow.domain.normalise import Rejection, canonical_url, decode_entry, normalise, story_id

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def item(**fields: object) -> dict[str, object]:
    return {"title": "Jan Braathu takes up duties as Head of OSCE Mission to Serbia", **fields}


def reject(raw: object) -> Rejection:
    with pytest.raises(Rejection) as info:
        normalise(raw, now=NOW)
    return info.value


class TestDates:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("7 January 2021", datetime(2021, 1, 7, tzinfo=UTC)),
            ("07 january 2021", datetime(2021, 1, 7, tzinfo=UTC)),
            ("2021-01-07", datetime(2021, 1, 7, tzinfo=UTC)),
            ("2021-01-07T10:30:00Z", datetime(2021, 1, 7, 10, 30, tzinfo=UTC)),
            ("2021-01-07T12:30:00+02:00", datetime(2021, 1, 7, 10, 30, tzinfo=UTC)),
            ("2021-01-07T10:30:00", datetime(2021, 1, 7, 10, 30, tzinfo=UTC)),
        ],
    )
    def test_forms_are_parsed_to_utc(self, text: str, expected: datetime) -> None:
        assert parse_published_at(text) == expected

    @pytest.mark.parametrize(
        "text", ["7 Janvier 2021", "yesterday", "2021-13-01", "31 February 2021"]
    )
    def test_bad_dates_are_rejected_with_the_field(self, text: str) -> None:
        rejection = reject(item(published_at=text))
        assert rejection.errors[0]["field"] == "published_at"

    def test_far_future_is_rejected(self) -> None:
        rejection = reject(item(published_at="9999-01-01"))
        assert rejection.errors == [
            {"field": "published_at", "message": "9999-01-01T00:00:00+00:00 is in the future"}
        ]

    def test_tomorrow_is_tolerated_for_time_zones(self) -> None:
        assert normalise(item(published_at="2026-11-27T06:00:00Z"), now=NOW).published_at


class TestEntryShapes:
    def test_plain_item_field(self) -> None:
        raw = {"item": orjson.dumps(item()).decode()}
        assert normalise(raw, now=NOW).title.startswith("Jan Braathu")

    def test_faststream_envelope_body_is_the_object(self) -> None:
        assert normalise(item(), now=NOW).title.startswith("Jan Braathu")

    def test_json_string_body(self) -> None:
        assert decode_entry('{"title": "x"}') == {"title": "x"}

    def test_extra_stream_fields_are_rejected(self) -> None:
        rejection = reject({"item": "{}", "foo": "bar"})
        assert rejection.errors[0]["field"] == "entry"
        assert "foo" in rejection.reason

    @pytest.mark.parametrize("raw", [{"item": "{not json"}, {"item": '{"title": "x"'}])
    def test_truncated_json(self, raw: dict[str, str]) -> None:
        assert "not valid JSON" in reject(raw).reason

    def test_non_object_json(self) -> None:
        assert "must be a JSON object" in reject({"item": "[1, 2]"}).reason


class TestValidation:
    def test_title_is_required(self) -> None:
        assert reject({"summary": "x"}).errors == [{"field": "title", "message": "required"}]

    def test_blank_title(self) -> None:
        assert reject({"title": "   "}).errors[0]["field"] == "title"

    def test_unknown_fields_are_rejected(self) -> None:
        assert reject(item(author="me")).errors == [{"field": "author", "message": "unknown field"}]

    def test_dollar_keys_are_rejected(self) -> None:
        assert "'$'" in reject(item(**{"$where": "1"})).reason

    def test_wrong_types(self) -> None:
        errors = reject(item(offices=7, title=["x"])).errors
        assert {e["field"] for e in errors} == {"title", "offices"}

    def test_limits_name_the_field(self) -> None:
        too_many = [f"Topic {i}" for i in range(LIMITS["topics"] + 1)]
        rejection = reject(item(topics=too_many))
        assert rejection.errors[0]["field"] == "topics"
        long_title = "x" * (LIMITS["title"] + 1)
        assert reject(item(title=long_title)).errors[0]["field"] == "title"

    @pytest.mark.parametrize(
        ("text", "fragment"),
        [("a\x00b", "U+0000"), ("evil\u202etxt", "bidirectional"), ("bell\x07", "U+0007")],
    )
    def test_control_characters(self, text: str, fragment: str) -> None:
        assert fragment in reject(item(summary=text)).reason

    def test_javascript_url(self) -> None:
        assert reject(item(url="javascript:alert(1)")).errors == [
            {"field": "url", "message": "must be an http or https URL"}
        ]


class TestNormalisation:
    def test_whitespace_and_labels(self) -> None:
        result = normalise(
            item(
                title="  OSCE   holds\ttraining ",
                summary="One.\r\n\r\n\r\n  Two  ",
                offices=[
                    "Transnational Threats Department, OSCE Secretariat",
                    " OSCE Secretariat ",
                ],
                topics=["Economic activities, Policing"],
                language="EN",
            ),
            now=NOW,
        )
        assert result.title == "OSCE holds training"
        assert result.summary == "One.\n\nTwo"
        assert result.offices == ["Transnational Threats Department", "OSCE Secretariat"]
        assert result.topics == ["Economic activities", "Policing"]
        assert result.language == "en"

    def test_canonical_url(self) -> None:
        assert (
            canonical_url("HTTPS://WWW.OSCE.org:443/odihr/news/?utm_source=x&b=2&a=1#top")
            == "https://www.osce.org/odihr/news?a=1&b=2"
        )

    def test_same_story_two_offices_same_id_different_copy(self) -> None:
        a = normalise(item(published_at="7 January 2021", offices=["OSCE Secretariat"]), now=NOW)
        b = normalise(
            item(
                title="JAN BRAATHU takes up duties as head of OSCE Mission to Serbia!",
                published_at="2021-01-07T15:00:00Z",
                offices=["OSCE Mission to Serbia"],
            ),
            now=NOW,
        )
        assert a.id == b.id
        assert a.copy_key != b.copy_key

    def test_url_is_the_identity_when_present(self) -> None:
        a = normalise(item(url="https://www.osce.org/x?utm_medium=1"), now=NOW)
        b = normalise(item(title="Another headline", url="https://www.osce.org/x"), now=NOW)
        assert a.id == b.id == story_id(url="https://www.osce.org/x", title="", published_at=None)

    def test_different_day_is_a_different_story(self) -> None:
        a = normalise(item(published_at="7 January 2021"), now=NOW)
        b = normalise(item(published_at="8 January 2021"), now=NOW)
        assert a.id != b.id

    def test_revision_from_updated_at(self) -> None:
        result = normalise(item(updated_at="2021-01-07T10:00:00Z"), now=NOW)
        assert result.revision == int(datetime(2021, 1, 7, 10, tzinfo=UTC).timestamp() * 1e6)


class TestHtml:
    def test_markup_is_stripped_from_text_fields(self) -> None:
        result = normalise(
            item(
                title="<b>Jan Braathu</b> takes up duties",
                summary='<p>One &amp; two.</p><script>alert("x")</script><p>Three.</p>',
            ),
            now=NOW,
        )
        assert result.title == "Jan Braathu takes up duties"
        assert result.summary == "One & two.\n\nThree."

    def test_plain_text_with_angle_brackets_is_kept(self) -> None:
        assert normalise(item(summary="a < b and c > d"), now=NOW).summary == "a < b and c > d"


# -- the contract, field by field, as the README's table states it --------------------

README = Path(__file__).resolve().parents[2] / "README.md"

#: A value of exactly ``length`` characters that the field accepts.
FILLERS: dict[str, Callable[[int], str]] = {
    "title": lambda n: "t" * n,
    "summary": lambda n: "s" * n,
    "body": lambda n: "b" * n,
    "url": lambda n: "https://www.osce.org/" + "p" * (n - len("https://www.osce.org/")),
    "content_type": lambda n: "c" * n,
    "language": lambda n: ("en-" + "abcdefgh-" * 4)[: n - 5] + "abcde",
    "source": lambda n: "w" * n,
    "idempotency_key": lambda n: "k" * n,
    "guid": lambda n: "urn:x:" + "g" * (n - len("urn:x:")),
}


#: Each list field and the LIMITS key of one of its entries.
LIST_ENTRIES: dict[str, str] = {"offices": "office", "topics": "topic", "countries": "country"}


def contract_table() -> dict[str, tuple[str, str]]:
    """The README's contract table: field -> (type, limit)."""
    text = README.read_text()
    section = text[text.index("## Publishing: the contract") :]
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \| ([^|]+) \|", section, re.M)
    return {name: (kind.strip(), limit.strip()) for name, kind, limit in rows}


class TestContract:
    def test_the_readme_table_names_every_field_with_its_limit(self) -> None:
        table = contract_table()
        assert set(table) == set(PublisherItem.model_fields)
        for field, (kind, limit) in table.items():
            if kind == "string":
                assert limit == f"{LIMITS[field]:,} chars", field
            elif kind == "list of strings":
                entry = LIMITS[LIST_ENTRIES[field]]
                assert limit == f"{LIMITS[field]} entries of {entry} chars", field
            else:
                assert (field, kind, limit) == ("revision", "integer", "0 … 2^53")

    @pytest.mark.parametrize("field", sorted(FILLERS))
    def test_every_string_limit_holds_at_the_limit_and_refuses_one_more(self, field: str) -> None:
        limit = LIMITS[field]
        assert len(FILLERS[field](limit)) == limit
        normalise(item(**{field: FILLERS[field](limit)}), now=NOW)
        rejection = reject(item(**{field: FILLERS[field](limit + 1)}))
        assert rejection.reason == f"{field}: at most {limit:,} characters"

    @pytest.mark.parametrize("field", sorted(LIST_ENTRIES))
    def test_list_limits(self, field: str) -> None:
        entries, entry = LIMITS[field], LIMITS[LIST_ENTRIES[field]]
        labels = [f"Label {i}" for i in range(entries)]
        assert len(getattr(normalise(item(**{field: labels}), now=NOW), field)) == entries
        too_many = reject(item(**{field: [*labels, "One more"]}))
        assert too_many.reason == f"{field}: at most {entries} entries"
        assert len(getattr(normalise(item(**{field: ["l" * entry]}), now=NOW), field)) == 1
        too_long = reject(item(**{field: ["l" * (entry + 1)]}))
        assert too_long.reason == f"{field}.0: at most {entry} characters"

    @pytest.mark.parametrize("field", ["published_at", "updated_at"])
    def test_date_limit(self, field: str) -> None:
        limit = LIMITS[field]
        at_limit = reject(item(**{field: "9" * limit}))
        assert at_limit.errors[0]["message"].startswith("must be ISO 8601")
        assert reject(item(**{field: "9" * (limit + 1)})).reason == (
            f"{field}: at most {limit} characters"
        )

    @pytest.mark.parametrize("field", sorted(LIST_ENTRIES))
    def test_a_string_where_a_list_belongs_is_refused(self, field: str) -> None:
        rejection = reject(item(**{field: "ODIHR"}))
        assert rejection.errors == [{"field": field, "message": "must be a list of strings"}]

    @pytest.mark.parametrize("value", ["3", True, False, 3.5, "", [3]])
    def test_revision_must_be_an_integer(self, value: object) -> None:
        assert reject(item(revision=value)).errors == [
            {"field": "revision", "message": "must be an integer"}
        ]

    @pytest.mark.parametrize(
        ("value", "accepted"), [(0, True), (2**53, True), (-1, False), (2**53 + 1, False)]
    )
    def test_revision_range(self, value: int, accepted: bool) -> None:
        if accepted:
            assert normalise(item(revision=value), now=NOW).revision == value
        else:
            assert reject(item(revision=value)).reason == (
                "revision: must be an integer from 0 to 2^53"
            )

    @pytest.mark.parametrize("field", ["published_at", "updated_at"])
    @pytest.mark.parametrize("value", [1_609_977_600, 1.6e9, True, ["2021-01-07"]])
    def test_a_date_must_be_a_string(self, field: str, value: object) -> None:
        (error,) = reject(item(**{field: value})).errors
        assert error["field"] == field
        assert error["message"].startswith("must be a string: ISO 8601")

    def test_a_number_from_json_is_no_date_either(self) -> None:
        raw = {"item": orjson.dumps(item(published_at=1609977600)).decode()}
        assert reject(raw).errors[0]["field"] == "published_at"

    @pytest.mark.parametrize(
        ("fields", "expected"),
        [
            ({"title": 5}, [{"field": "title", "message": "must be a string"}]),
            ({"summary": ["x"]}, [{"field": "summary", "message": "must be a string"}]),
            ({"offices": [7]}, [{"field": "offices.0", "message": "must be a string"}]),
            ({"title": ""}, [{"field": "title", "message": "must not be empty"}]),
            (
                {"language": "english!"},
                [
                    {
                        "field": "language",
                        "message": "must be a BCP 47 language tag, e.g. 'en' or 'sr-Latn'",
                    }
                ],
            ),
        ],
    )
    def test_errors_speak_the_contract(
        self, fields: dict[str, object], expected: list[dict[str, str]]
    ) -> None:
        rejection = reject(item(**fields))
        assert rejection.errors == expected
        assert "should" not in rejection.reason
        assert "Input" not in rejection.reason


@pytest.mark.parametrize("field", sorted(LIST_ENTRIES))
@pytest.mark.parametrize("labels", [[""], ["  "], ["ODIHR", ""]])
def test_an_empty_label_is_rejected_as_the_published_schema_says(
    field: str, labels: list[str]
) -> None:
    """The OpenAPI schema says minLength 1 (schemathesis ST201 found `[""]` accepted)."""
    with pytest.raises(Rejection) as raised:
        normalise({"title": "A headline", field: labels}, now=NOW)
    assert raised.value.reason == f"{field}: labels must not be empty"


def test_a_label_with_a_trailing_comma_is_still_one_label() -> None:
    assert normalise({"title": "A headline", "topics": ["Elections, "]}, now=NOW).topics == [
        "Elections"
    ]
