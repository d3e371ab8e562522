"""Guess the language of an item whose publisher declares none.

Two signals, both cheap enough to run on every item (enrichment's budget is a few
tens of microseconds an item):

- **Script.** Text written mostly in Cyrillic is Russian, unless it carries the
  letters only Ukrainian (``є ї ґ і``) or the South Slavic alphabets (``ђ ј љ њ ћ
  џ ѓ ќ ѕ``) use: Ukrainian is ``uk``, the others are left undetected rather than
  guessed wrong. Russian news has few function words per headline, so counting
  them alone would leave most Russian titles undetected.
- **Function words.** Latin-script text is the language whose frequent function
  words it uses most: at least three of them, and at least twice as many as the
  runner-up. The OSCE newsroom's own listing declares no language, yet is English;
  a headline of six words that names no function word stays undetected.

The search index (``newsflow_gateway.index.analysis``) picks its analyser with the
same guess, and enrichment records it on the item with ``language_source:
inferred``, so one item is never English to one service and undetected to another.
"""

from __future__ import annotations

import re
from typing import Final

#: Frequent function words that mark a language.
MARKERS: Final[dict[str, frozenset[str]]] = {
    "en": frozenset("the of and to in is for on with that by from as are was".split()),
    "fr": frozenset("le la les des et du un une pour dans est au aux sur par".split()),
    "de": frozenset("der die das und den von mit für ist des im auf zu dem nicht".split()),
    "ru": frozenset("и в на не что по с для от как из к о это".split()),
}
_WORD: Final = re.compile(r"[^\W\d_]+")
#: Characters looked at: the opening says enough, and a huge body costs no more.
GUESS_CHARS: Final = 3_000
#: Share of the letters that must be Cyrillic for the text to count as Cyrillic.
CYRILLIC_SHARE: Final = 0.6
_CYRILLIC: Final = re.compile("[\u0400-\u04ff]")
_LATIN: Final = re.compile("[A-Za-z\u00c0-\u024f]")
_UKRAINIAN: Final = re.compile("[єїґіЄЇҐІ]")
_SOUTH_SLAVIC: Final = re.compile("[ђјљњћџѓќѕЂЈЉЊЋЏЃЌЅ]")
#: Each marker word and the languages it marks (a few, such as 'des', mark two).
_MARKED: Final[dict[str, tuple[str, ...]]] = {
    word: tuple(code for code, words in MARKERS.items() if word in words)
    for words in MARKERS.values()
    for word in words
}


def guess_language(*texts: str | None) -> str | None:
    """The language of undeclared text (``ru``, ``uk``, ``en``, ``fr``, ``de``), or None.

    None when the text is too short or too mixed to say: a wrong language would
    give the item the wrong stemmer, which is worse than none.
    """
    head = " ".join(t for t in texts if t)[:GUESS_CHARS]
    if not head.isascii():
        cyrillic = len(_CYRILLIC.findall(head))
        if cyrillic and cyrillic >= CYRILLIC_SHARE * (cyrillic + len(_LATIN.findall(head))):
            if _SOUTH_SLAVIC.search(head):
                return None
            return "uk" if _UKRAINIAN.search(head) else "ru"
    counts = dict.fromkeys(MARKERS, 0)
    for word in _WORD.findall(head.lower()):
        for code in _MARKED.get(word, ()):
            counts[code] += 1
    ranked = sorted(((n, code) for code, n in counts.items()), reverse=True)
    (best, code), (second, _) = ranked[0], ranked[1]
    return code if best >= 3 and best >= 2 * second else None
