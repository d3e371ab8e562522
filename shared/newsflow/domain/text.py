"""Small pure text helpers used across the pipeline: whitespace, folding, keys.

:func:`fold` is the one case- and accent-fold of the code base: search terms, identity
keys (item ids, taxonomy labels) and the tagger's matching form all go through it, so
what counts as "the same word" cannot drift apart between them. It lives here, at the
bottom of the domain, because the taxonomy (which the tagger reads) needs it too.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

_BLANK_LINES: Final = re.compile(r"\n{3,}")
_NON_WORD: Final = re.compile(r"[^\w]+", re.UNICODE)
_NON_ASCII: Final = re.compile(r"[^\x00-\x7f]")


def clean_line(value: str) -> str:
    """NFC-normalise, collapse every run of whitespace to one space, and trim."""
    return " ".join(unicodedata.normalize("NFC", value).split())


def is_blank(value: str) -> bool:
    """Whether ``value`` shows nothing: only whitespace and format characters.

    Format characters (Unicode category Cf: zero-width space, joiners, the
    byte-order mark, bidi marks, the soft hyphen) print nothing on their own, so a
    title of "\\u200b" is as empty as one of spaces. This is the one emptiness test
    of the code base; it only judges: the characters stay in text that also has
    visible ones (a zero-width joiner shapes letters in some scripts).
    """
    if value.isascii():
        return not value.strip()
    return all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in value)


def clean_block(value: str) -> str:
    """Like :func:`clean_line` but keeps paragraph breaks (at most one blank line)."""
    text = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


class _FoldTable(dict[int, str]):
    """``str.translate``-style table: each character's fold, filled lazily.

    A character folds to its case-fold, compatibility-decomposed, without combining
    marks. Most characters fold to exactly one character, so folded text lines up
    with the original and needs no offset map. Characters that fold to none or
    several (combining marks, 'ß', ligatures) are remembered as irregular; text
    containing them takes the slower path that builds an offset map.
    """

    def __init__(self) -> None:
        super().__init__()
        self.irregular: set[str] = set()

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        kept = _OWN_LETTERS.get(ch)
        if kept is not None:
            self[code] = kept
            return kept
        decomposed = unicodedata.normalize("NFKD", ch.casefold())
        out = "".join(c for c in decomposed if not unicodedata.combining(c))
        if len(out) != 1:
            self.irregular.add(ch)
        self[code] = out
        return out


#: Letters that look like a base letter with a mark but are letters of their own: the
#: Russian 'й' is not 'и' ('мой' is not 'мои'). ('ё' does fold to 'е': Russian print
#: mostly writes 'е' for it, so a search or a name must find both.)
_OWN_LETTERS: Final = {"й": "й", "Й": "й"}

_FOLD: Final = _FoldTable()


def fold_char(ch: str) -> str:
    """What :func:`fold` makes of one character (memoised): 'Ü' -> 'u', 'ß' -> 'ss'."""
    return _FOLD[ord(ch)]


def fold(value: str) -> str:
    """Case- and accent-fold: 'Türkiye' -> 'turkiye', 'Priština' -> 'pristina'."""
    return fold_with_offsets(value)[0]


def fold_with_offsets(text: str) -> tuple[str, list[int] | None]:
    """Fold ``text``; return the folded string and, when lengths differ, an offset map.

    The map has one entry per folded character (the index of the original character
    it came from) plus a final ``len(text)``. ``None`` means position i is i.

    ASCII text (most of an English corpus) takes a fast path: it has no accents, and
    its case-fold is its lower case. Other text whose characters each fold to one
    character is case-folded in C and then has its few distinct non-ASCII characters
    replaced; only the rest goes character by character.
    """
    if text.isascii():
        return text.lower(), None
    folded = text.casefold()
    if len(folded) == len(text) and _FOLD.irregular.isdisjoint(text):
        for ch in set(_NON_ASCII.findall(text)):
            target = _FOLD[ord(ch)]
            if ch in _FOLD.irregular:
                break
            cased = ch.casefold()
            if cased != target:
                folded = folded.replace(cased, target)
        else:
            return folded, None
    return _fold_mapped(text)


def _fold_mapped(text: str) -> tuple[str, list[int]]:
    """The general case: characters that fold to none or several ('ß' -> 'ss')."""
    offsets: list[int] = []
    parts: list[str] = []
    for i, ch in enumerate(text):
        part = _FOLD[ord(ch)]
        parts.append(part)
        offsets.extend([i] * len(part))
    offsets.append(len(text))
    return "".join(parts), offsets


def identity_key(value: str) -> str:
    """A key that survives cosmetic differences: folded, punctuation as spaces."""
    return " ".join(_NON_WORD.sub(" ", fold(value)).split())


def label_key(value: str) -> str:
    """When two labels (countries, topics, offices) are one: their :func:`identity_key`.

    'Serbia', 'SERBIA' and 'Sérbia' are one country. A label with no letters or
    digits has an empty identity key; it is its own key (cleaned), so two different
    emoji flags stay two labels.
    """
    return identity_key(value) or clean_line(value)
