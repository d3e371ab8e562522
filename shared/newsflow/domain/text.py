"""Small pure text helpers used across the pipeline: whitespace, accents, keys."""

from __future__ import annotations

import re
import unicodedata

_BLANK_LINES = re.compile(r"\n{3,}")
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def clean_line(value: str) -> str:
    """NFC-normalise, collapse every run of whitespace to one space, and trim."""
    return " ".join(unicodedata.normalize("NFC", value).split())


def clean_block(value: str) -> str:
    """Like :func:`clean_line` but keeps paragraph breaks (at most one blank line)."""
    text = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def fold(value: str) -> str:
    """Case- and accent-fold: 'Türkiye' -> 'turkiye', 'Priština' -> 'pristina'.

    ASCII text (most of an English corpus) takes a fast path: it has no accents,
    and its case-fold is its lower case.
    """
    if value.isascii():
        return value.lower()
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def identity_key(value: str) -> str:
    """A key that survives cosmetic differences: folded, punctuation as spaces."""
    return " ".join(_NON_WORD.sub(" ", fold(value)).split())
