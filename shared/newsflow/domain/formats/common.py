"""Result types and small helpers shared by the format parsers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, AnyStr, Final
from urllib.parse import urljoin, urlsplit

from newsflow.domain.contract import LIMITS, MAX_REVISION, check_text
from newsflow.domain.taxonomy import iptc_code
from newsflow.domain.text import label_key

#: The byte-order mark Windows editors write at the start of a UTF-8 file.
BOM: Final = "\ufeff"
_BOM_BYTES: Final = BOM.encode()


def without_bom(data: AnyStr) -> AnyStr:
    """``data`` without one leading byte-order mark, as bytes or as text.

    JSON (RFC 8259) forbids the mark and orjson refuses it, but a file saved as
    "UTF-8 with BOM" is still UTF-8, and XML bodies with one were always read: so
    every JSON door drops one leading mark before parsing. Only one, and only at
    the start: a second mark, or one inside the text, stays and is refused as JSON.
    """
    if isinstance(data, bytes):
        return data[len(_BOM_BYTES) :] if data.startswith(_BOM_BYTES) else data
    return data[1:] if data.startswith(BOM) else data


def not_json(exc: ValueError) -> str:
    """Why text is not JSON, with the position only where it helps.

    The parser counts lines within the text it was given, so a JSON Lines line
    (or a stream entry's ``item``) always fails on "line 1": beside "line 2: ...",
    that reads as a contradiction. A one-line position is given as a column only;
    a position in a document of several lines keeps its line.
    """
    msg, line, column = (getattr(exc, k, None) for k in ("msg", "lineno", "colno"))
    if not isinstance(msg, str) or not isinstance(line, int) or not isinstance(column, int):
        return f"not valid JSON: {exc}"
    where = f"column {column}" if line == 1 else f"line {line} column {column}"
    return f"not valid JSON: {msg} at {where}"


@dataclass(frozen=True)
class ParsedItem:
    """An item in the publisher contract, and the line it started on."""

    line: int
    item: dict[str, Any]


@dataclass(frozen=True)
class ParseError:
    line: int
    message: str


@dataclass
class ParseResult:
    items: list[ParsedItem] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)


def http_url(value: object) -> str | None:
    """``value`` stripped, if it is an absolute http(s) URL; anything else is None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    return value if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def identity_url(value: str | None) -> str | None:
    """An identifier (a NewsML-G2 ``guid``, a ninjs ``uri``) as the url, if it is one.

    Only an http(s) URL of one token: an identifier holding whitespace is neither a
    URL nor a valid guid, so it stays the ``guid``, which the contract refuses
    naming it, rather than becoming a url the normaliser would percent-encode.
    """
    return http_url(value) if value is not None and len(value.split()) == 1 else None


#: Why an item with an unusable ``version`` is refused.
BAD_VERSION: Final = f"version: must be a whole number from 0 to {MAX_REVISION}"
#: Digits in :data:`MAX_REVISION`: a longer string of digits is out of range unread.
_REVISION_DIGITS: Final = len(str(MAX_REVISION))


def version_revision(value: object) -> int | None:
    """A NewsML-G2 or ninjs ``version`` as the contract's ``revision``; None when absent or blank.

    Raises ValueError (:data:`BAD_VERSION`) for anything else: a version that is not
    a whole number from 0 to MAX_REVISION must refuse the item, not be dropped.
    Dropped, the item would carry no revision, storage would order its copies by
    ``updated_at`` (microseconds, far above any real revision), and a stale copy
    with a nonsense version would overwrite a newer one. A whole number is an
    integer or a string of ASCII digits; floats and booleans are not.
    """
    if value is None:
        return None
    number = -1
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if text.isascii() and text.isdigit() and len(text) <= _REVISION_DIGITS:
            number = int(text)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    if 0 <= number <= MAX_REVISION:
        return number
    raise ValueError(BAD_VERSION)


def subject_code(code: str | None, scheme: str | None = None) -> str | None:
    """A subject's code as a label carries it: IPTC codes in their canonical qcode form.

    ``scheme`` is a vocabulary URI that ``code`` is relative to (ninjs 1.x writes
    ``{"scheme": "http://cv.iptc.org/newscodes/mediatopic/", "code": "20000574"}``).
    A code of any other vocabulary is kept as written; blank is None.
    """
    text = " ".join(code.split()) if code else ""
    if not text:
        return None
    if scheme and scheme.strip() and ":" not in text:
        base = scheme.strip()
        found = iptc_code(urljoin(base if base.endswith("/") else base + "/", text))
        if found:
            return found
    return iptc_code(text) or text


#: The LIMITS key of one entry of each coded-label field.
_ENTRY: Final = {"topics": "topic", "countries": "country"}


def subject_label(name: str | None, code: str | None, entry: str = "topic") -> str | None:
    """A declared subject as a topic label: ``election (medtop:20000574)``.

    This is the one form every reader writes and :func:`newsflow.domain.taxonomy.label_code`
    reads back, so a code resolves the same whichever format carried it. A name that is
    itself an IPTC code becomes the code. Commas become semicolons, since the contract
    splits labels on commas. A label the contract would refuse (longer than it
    allows, or holding a control or bidirectional control character) keeps only its
    code (which is what resolves); with no acceptable code it is left out rather than
    refusing the item: a declared subject or place is a hint, and one bad entry must
    not cost the story.
    """
    name = " ".join(name.split()) if name else None
    code = subject_code(code)
    if name and code is None and (named := iptc_code(name)):
        name, code = None, named
    text = f"{name} ({code})" if name and code else name or code
    if text and not _acceptable(text, entry):
        text = code if code and _acceptable(code, entry) else None
    return text.replace(",", ";") if text else None


def _acceptable(label: str, entry: str) -> bool:
    """Whether the contract takes ``label`` as one entry of the field ``entry`` belongs to."""
    if len(label) > LIMITS[entry]:
        return False
    try:
        check_text(label)
    except ValueError:
        return False
    return True


def subject_labels(
    subjects: Iterable[tuple[str | None, str | None]], kind: str = "topics"
) -> list[str]:
    """Distinct labels of (name, code) pairs, in order; one more than ``kind`` takes, at most.

    Repeats are dropped before counting, so a place declared ten thousand times is
    one country. A repeat is what the contract counts once too (:func:`label_key`:
    'Serbia' and 'SERBIA' are one), and the first spelling is kept. Past the
    contract's limit the list is not cut (that lost the rest silently): one label
    over it is kept, so the contract refuses the item naming the field and the
    limit (``countries: at most 50 entries``), as it refuses any other list that is
    too long. Reading stops there, so a document with a million distinct subjects
    costs no more than one with fifty-one.
    """
    out: dict[str, str] = {}
    for name, code in subjects:
        text = subject_label(name, code, _ENTRY[kind])
        if text:
            out.setdefault(label_key(text), text)
            if len(out) > LIMITS[kind]:
                break
    return list(out.values())
