"""The publisher contract and the ingest normaliser, on real-looking items."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from newsflow.domain.contract import LIMITS, parse_published_at
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
        assert reject({"summary": "x"}).errors == [{"field": "title", "message": "Field required"}]

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
                topics="Economic activities, Policing",
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
