"""The matching form: the text the automaton reads, and the keys it holds.

The matching form of a text is its :func:`~newsflow.domain.text.fold` with every gap
between words (anything that is not a letter, a digit or '+') turned into a space,
one character per character where possible, so a match maps straight back to the
text as published. Patterns take the same form with a leading space, so the
automaton itself only starts a match at a word start.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from newsflow.domain.taxonomy import SPELLING_VARIANTS
from newsflow.domain.text import fold, fold_char, fold_with_offsets

#: Joins the fields of an item; no pattern contains it, so nothing matches across fields.
FIELD_SEPARATOR: Final = " \x1f "
_KEEP: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789+\x1f")
_GAPS_BYTES: Final = bytes(b if chr(b) in _KEEP else 32 for b in range(256))
# Dashes and quotes are gaps. All but one are not word characters anyway; U+02BC, the
# modifier-letter apostrophe of "Ukraineʼs", is a letter to Unicode, so it is named.
_DASHES_AND_QUOTES: Final = frozenset(
    "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2018\u2019\u201b\u02bc\u2032"
)
_GAPS_TEXT: Final = re.compile(r"[^\w+\x1f]|[_\u02bc]")


def matching_form(label: str) -> str:
    """' ' + the label folded, with gaps as spaces: 'OSCE/ODIHR' -> ' osce odihr'."""
    return " " + _GAPS_TEXT.sub(" ", fold(label))


def fold_for_matching(
    text: str, word: int, letters: frozenset[str] = frozenset()
) -> tuple[str, list[int] | None]:
    """The matching form of ``text``, and an offset map (None: position i is i).

    News text is mostly ASCII with a few dashes, quotes and accents. Encode to ASCII
    with one '?' per other character and lower-case the bytes. A '?' that stands for
    a gap (a dash, a quote, a no-break space) becomes a space like every other gap,
    so only letters and digits need fixing: an accented letter becomes its base
    letter, any other becomes ``word``, an ASCII character no pattern contains, so it
    still belongs to its word. All of it runs in C and keeps one character per
    character, so offsets need no map. (Gaps other than the en dash take the loop,
    which maps them to spaces too.) Characters that fold to none or several
    ('ß' -> 'ss', combining marks) take the general path, and so does text with a
    letter some pattern is written in (``letters``: the Cyrillic of Russian names),
    which must stay itself to match.
    """
    raw = text.encode("ascii", "replace").lower()
    # Usually the only non-ASCII character is the dateline's en dash: nothing to fix.
    if not text.isascii() and raw.count(63) != text.count("?") + text.count("\u2013"):
        buf = bytearray(raw)
        at = raw.find(63)  # '?'
        while at != -1:
            ch = text[at]
            code = _MATCH_CODES.get(ch)
            if code is None:
                code = _match_code(ch)
            if code < 0 or (code == _WORD and letters and fold_char(ch) in letters):
                return fold_for_matching_general(text)
            buf[at] = word if code == _WORD else code
            at = raw.find(63, at + 1)
        raw = bytes(buf)
    return raw.translate(_GAPS_BYTES).decode("ascii"), None


_WORD: Final = 256  # 'a letter or digit with no ASCII fold'
_MATCH_CODES: dict[str, int] = {"?": 63}


def _match_code(ch: str) -> int:
    """The byte a non-ASCII character becomes (memoised): its ASCII fold, _WORD, a
    space, or -1 if it folds to none or several characters."""
    out = fold_char(ch)
    if ch in _DASHES_AND_QUOTES:
        code = 32
    elif len(out) != 1:
        code = -1
    elif ord(out) < 128:
        code = ord(out)
    else:
        code = _WORD if out.isalnum() else 32
    if len(_MATCH_CODES) < 65_536:
        _MATCH_CODES[ch] = code
    return code


def fold_for_matching_general(text: str) -> tuple[str, list[int] | None]:
    """The general path: fold (with an offset map if needed), then gaps to spaces."""
    folded, offsets = fold_with_offsets(text)
    return _GAPS_TEXT.sub(" ", folded), offsets


def stand_in(keys: Iterable[str]) -> int | None:
    """An ASCII letter or digit that no pattern contains (None: use the general path).

    Letters outside ASCII in patterns (Russian names) do not matter here: text that
    contains one takes the general path (see :func:`fold_for_matching`).
    """
    used = set("".join(keys))
    return next((ord(c) for c in "9876543210zqxj" if c not in used), None)


def pattern_letters(keys: Iterable[str]) -> frozenset[str]:
    """The letters outside ASCII that patterns are written in ('м', 'ж', ...)."""
    return frozenset(ch for key in keys for ch in key if not ch.isascii() and ch.isalnum())


def spellings(key: str) -> set[str]:
    """A pattern key and its spelling variants, both ways ('centre' <-> 'center')."""
    out = {key}
    for a, b in SPELLING_VARIANTS:
        for s in list(out):
            if a in s:
                out.add(s.replace(a, b))
            if b in s:
                out.add(s.replace(b, a))
    return out
