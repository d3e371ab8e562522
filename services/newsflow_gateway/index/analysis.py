"""Text analysis for the search index: one analyser per language we stem, one default.

Every analyser splits text into words on anything that is not a letter or a digit,
drops absurdly long tokens, lower-cases, removes that language's stop-words, folds
accents (``Élections`` -> ``elections``) and then stems (``elections`` -> ``elect``).
Folding comes *before* stemming so that a reader who types no accents gets the same
stem as the accented text: the English stemmer leaves ``élections`` alone but
reduces ``elections``. Stop-words are removed before folding because the lists are
spelled with accents (French ``à``, ``été``). Any language without its own analyser
gets the default: lower case and accent folding, no stemming and no stop-words,
because a stemmer or stop list for the wrong language does more harm than none. An
item that declares no language is given the analyser whose function words its text
uses clearly most (:func:`guess_code`), else the default.

**Why one field per analyser.** A Tantivy field has exactly one analyser, fixed in
the schema. So each text field exists once per analyser (``title_en``, ``title_fr``,
... ``title_xx``) and an item fills only the fields of its own language's analyser.
A query is analysed by *every* analyser and run against each analyser's fields
(see :mod:`newsflow_gateway.index.query`): the English words of a query meet the
English stories with English stems and stop-words, the same words meet French
stories with French ones, and BM25 statistics stay per language. The alternatives
were worse: one shared field would stem every language with one stemmer, and
tokenising in Python (pre-tokenised text) would be several times slower to index.
The cost is a wider query (one clause per analyser), measured cheap.

Analysers are not saved in the index folder, only their names: they must be
registered on every :class:`tantivy.Index` object opened (:func:`register`).
:data:`ANALYSIS_VERSION` is part of the index fingerprint: change it whenever any
analyser changes, so that existing indexes are detected as stale and rebuilt.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Final

import tantivy

from newsflow.domain.language import MARKERS, guess_language

#: Bump on any change to what an analyser produces (filters, their order, the lists)
#: or to which analyser an item gets (3: Cyrillic text is guessed Russian by script).
ANALYSIS_VERSION: Final = 3

#: Tokens longer than this are junk (URLs, base64, run-together text) and are dropped.
MAX_TOKEN_BYTES: Final = 40


@dataclass(frozen=True)
class AnalyzerSpec:
    """One analyser: a short code (used in field names) and its Snowball language."""

    code: str
    language: str | None  # Tantivy's stemmer / stop-word language; None: fold only

    @property
    def tokenizer_name(self) -> str:
        return f"nf_{self.code}"


#: Code for the default analyser of every language without its own.
DEFAULT_CODE: Final = "xx"

ANALYZERS: Final[tuple[AnalyzerSpec, ...]] = (
    AnalyzerSpec("en", "english"),
    AnalyzerSpec("fr", "french"),
    AnalyzerSpec("de", "german"),
    AnalyzerSpec("ru", "russian"),
    AnalyzerSpec(DEFAULT_CODE, None),
)
CODES: Final = tuple(spec.code for spec in ANALYZERS)
_BY_CODE: Final = {spec.code: spec for spec in ANALYZERS}


def code_for_language(language: str | None) -> str:
    """The analyser for an item's ``language`` (BCP 47: ``en``, ``fr-CA``, ``RU``)."""
    if not language:
        return DEFAULT_CODE
    base = language.strip().lower().replace("_", "-").split("-", 1)[0]
    return base if base in _BY_CODE else DEFAULT_CODE


def guess_code(text: str) -> str:
    """The analyser for undeclared ``text``: its guessed language's (see
    :func:`newsflow.domain.language.guess_language`, which enrichment records on the
    item too), else the default."""
    return code_for_language(guess_language(text))


def code_for_item(language: str | None, *texts: str | None) -> str:
    """The analyser of an item: its declared language's, else a guess from its text."""
    if language:
        return code_for_language(language)
    return guess_code(" ".join(t for t in texts if t))


def build(spec: AnalyzerSpec) -> tantivy.TextAnalyzer:
    """The Tantivy analyser for ``spec`` (see the module docstring for the order)."""
    builder = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(MAX_TOKEN_BYTES))
        .filter(tantivy.Filter.lowercase())
    )
    if spec.language:
        builder = builder.filter(tantivy.Filter.stopword(spec.language))
    builder = builder.filter(tantivy.Filter.ascii_fold())
    if spec.language:
        builder = builder.filter(tantivy.Filter.stemmer(spec.language))
    return builder.build()


@cache
def analyzer(code: str) -> tantivy.TextAnalyzer:
    """The (cached) analyser for one code; queries are analysed with the same objects."""
    return build(_BY_CODE[code])


def register(index: tantivy.Index) -> None:
    """Register every analyser on ``index``: needed on each Index object, reader or writer."""
    for spec in ANALYZERS:
        index.register_tokenizer(spec.tokenizer_name, analyzer(spec.code))


@dataclass(frozen=True)
class Token:
    """One analysed token: its index form, position, and where it is in the text."""

    text: str
    position: int
    start: int  # character offsets into the analysed text
    end: int


def tokens(code: str, text: str) -> list[Token]:
    """Analyse ``text`` as the index does for analyser ``code``."""
    return [
        Token(t.text, t.position, t.char_offset_from, t.char_offset_to)
        for t in analyzer(code).pre_tokenize(text).tokens
    ]


def terms(code: str, text: str) -> list[str]:
    """The index terms of ``text`` for analyser ``code``, in order."""
    return list(analyzer(code).analyze(text))


def fingerprint_parts() -> dict[str, object]:
    """What the analysis contributes to the index fingerprint."""
    return {
        "analysis_version": ANALYSIS_VERSION,
        "max_token_bytes": MAX_TOKEN_BYTES,
        "analyzers": [[s.code, s.language] for s in ANALYZERS],
        "markers": {code: sorted(words) for code, words in MARKERS.items()},
        "tantivy": str(getattr(tantivy, "__version__", "unknown")),
    }
