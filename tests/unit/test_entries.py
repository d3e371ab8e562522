"""Reading raw stream entries (newsflow.runtime.entries): bytes in, a body or a reason out."""

from __future__ import annotations

import pytest

from newsflow.runtime.entries import (
    Decoded,
    Undecodable,
    decode_entry,
    fields_from_base64,
    raw_fields_base64,
)


def test_a_plain_entry_reads_as_its_fields() -> None:
    decoded = decode_entry({b"item": b'{"title": "A"}'}, "item")
    assert decoded == Decoded(body={"item": '{"title": "A"}'}, fields={"item": '{"title": "A"}'})


@pytest.mark.parametrize(
    ("raw", "field", "fragment"),
    [
        ({b"item": b"\xff\xfe\x00\x80binary"}, "item", "not valid UTF-8 (byte 0"),
        ({b"item": b'{"title": "Bad \xc3\x28"}'}, "item", "not valid UTF-8 (byte 15"),
        ({b"\xffitem": b"{}"}, "entry", "is not valid UTF-8"),
        ({b"title": b"x"}, "entry", "no 'item' field (fields present: ['title'])"),
        ({}, "entry", "no 'item' field"),
        ({b"__data__": b"\x89BIN\r\n\x1a\n\x00\x01\xff"}, "__data__", "FastStream envelope"),
    ],
)
def test_what_cannot_be_read_says_where_and_why(
    raw: dict[bytes, bytes], field: str, fragment: str
) -> None:
    problem = decode_entry(raw, "item")
    assert isinstance(problem, Undecodable)
    assert problem.field == field
    assert fragment in problem.message


def test_huge_or_many_field_names_are_clipped_in_the_reason() -> None:
    """A 1 MB field name, or thousands of fields, must not make a 1 MB log line."""
    long = decode_entry({b"x" * 1_000_000: b"1"}, "item")
    assert isinstance(long, Undecodable)
    assert len(long.message) < 400
    assert "(1000000 chars)" in long.message
    many = decode_entry({f"f{i:04}".encode(): b"1" for i in range(5000)}, "item")
    assert isinstance(many, Undecodable)
    assert len(many.message) < 400
    assert "'f0019'] and 4980 more" in many.message
    bad = decode_entry({b"y" * 1_000_000 + b"\xff": b"1"}, "item")
    assert isinstance(bad, Undecodable)
    assert len(bad.message) < 400
    wide = decode_entry({b"z" * 1_000_000: b"\xff"}, None)
    assert isinstance(wide, Undecodable)
    assert len(wide.field) < 200


def test_an_event_must_be_json_but_an_item_is_left_to_the_normaliser() -> None:
    broken = decode_entry({b"event": b'{"item": '}, "event")
    assert isinstance(broken, Undecodable)
    assert broken.reason.startswith("event: not valid JSON")
    assert isinstance(decode_entry({b"item": b'{"title": '}, "item"), Decoded)


def test_without_a_payload_field_any_text_fields_do() -> None:
    assert decode_entry({b"n": b"1"}, None) == Decoded(body={"n": "1"}, fields={"n": "1"})


def test_faststream_envelope_reads_as_the_object_inside() -> None:
    decoded = decode_entry({b"__data__": b'{"data": "{\\"title\\": \\"A\\"}"}'}, "item")
    assert isinstance(decoded, Decoded)
    assert decoded.body == {"title": "A"}


@pytest.mark.parametrize(
    "raw",
    [
        {b"item": b"\xff\xfe\x00\x80binary"},
        {b"\xff\x00name": b"value", b"item": b""},
        {b"base64:looks-encoded": b"\x00"},
    ],
)
def test_raw_bytes_survive_the_round_trip_through_json(raw: dict[bytes, bytes]) -> None:
    assert fields_from_base64(raw_fields_base64(raw)) == raw
