"""Result types and small helpers shared by the format parsers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urljoin, urlsplit

from newsflow.domain.contract import LIMITS
from newsflow.domain.taxonomy import iptc_code


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
    splits labels on commas. A label longer than the contract allows keeps only its
    code (which is what resolves); with no code it is left out rather than refusing
    the item.
    """
    name = " ".join(name.split()) if name else None
    code = subject_code(code)
    if name and code is None and (named := iptc_code(name)):
        name, code = None, named
    text = f"{name} ({code})" if name and code else name or code
    if text and len(text) > LIMITS[entry]:
        text = code if code and len(code) <= LIMITS[entry] else None
    return text.replace(",", ";") if text else None


def subject_labels(
    subjects: Iterable[tuple[str | None, str | None]], kind: str = "topics"
) -> list[str]:
    """Distinct labels of (name, code) pairs, in order, at most as many as ``kind`` takes.

    Reading stops once the contract's limit is reached, so a document with a
    million subjects costs no more than one with fifty.
    """
    out: dict[str, None] = {}
    for name, code in subjects:
        text = subject_label(name, code, _ENTRY[kind])
        if text:
            out.setdefault(text, None)
            if len(out) >= LIMITS[kind]:
                break
    return list(out)
