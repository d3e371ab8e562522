"""Our search syntax: a small parser of our own, and its translation into Tantivy queries.

User text never reaches Tantivy's query parser. :func:`parse` turns ``q`` into a small
tree, checking syntax and complexity limits; :func:`compile_query` turns the tree
into :class:`tantivy.Query` objects built with ``Query.term_query``,
``phrase_query`` and ``boolean_query``.

The syntax:

- ``asset recovery``: words; all must match (AND is the default; ``AND`` may be written).
- ``"rule of law"``: a phrase, its words adjacent and in order.
- ``-ukraine``, ``-"daily report"``, ``-(a OR b)``: exclusions.
- ``elections OR referendum``: either. ``OR`` binds tighter than the implicit AND:
  ``a b OR c d`` means ``a (b OR c) d``. Lower-case ``or`` is an ordinary word.
- ``(a OR b) c``: parentheses group.
- ``title:election``, ``summary:"rule of law"``, ``title:(a OR b)``: search one field.
- ``elect*``: a trailing ``*`` matches every word starting with ``elect`` (in its
  indexed, stemmed form; at least :data:`MIN_PREFIX_CHARS` letters).
- Hyphenated or dotted words match their joined form and vice versa: ``co-operation``
  finds ``cooperation``. French elisions and English possessives are dropped:
  ``l’ODIHR`` searches ``ODIHR``, ``Ukraine's`` searches ``Ukraine``.
- Any other punctuation is only a separator: ``{"$where": 1}`` searches ``where 1``.

Bad syntax, or a query over the limits below, raises :class:`QuerySyntaxError` with
what is wrong and the character position (0-based, into the query as sent). A query
with nothing searchable in it at all (``.*``, ``-``, emoji only) raises
:class:`EmptyQueryError`, a subclass, so a caller can choose to answer it like a
request without ``q`` instead of a 422. A query whose words are all stop-words
(``the of``) parses, and matches only stories whose analyser keeps those words.

Ranking is BM25 with field boosts: title above summary above tags above body.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

import tantivy

from newsflow_gateway.index import analysis
from newsflow_gateway.index.schema import TEXT_SOURCES, text_field

MAX_QUERY_CHARS: Final = 500
MAX_TERMS: Final = 32  # words, counting each word of a phrase
MAX_DEPTH: Final = 5  # nested parentheses
MAX_PREFIXES: Final = 4
MAX_PREFIX_TERMS: Final = 200  # distinct index words one prefix may expand to
MIN_PREFIX_CHARS: Final = 2

#: BM25 field boosts: a match in the title outweighs one in the summary, and so on.
BOOSTS: Final = {"title": 3.0, "summary": 1.8, "tags": 1.4, "body": 1.0}

Scope = Literal["title", "summary"]
SCOPES: Final[tuple[Scope, ...]] = ("title", "summary")


class QuerySyntaxError(ValueError):
    """A query we refuse: ``message`` says what is wrong, ``position`` where (0-based)."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at character {position})")
        self.message = message
        self.position = position


class EmptyQueryError(QuerySyntaxError):
    """The query has no letters or digits to search for."""


# --- the tree -------------------------------------------------------------------------


@dataclass(frozen=True)
class Word:
    text: str  # as typed, elisions and the trailing * removed
    position: int
    scope: Scope | None = None
    prefix: bool = False


@dataclass(frozen=True)
class Phrase:
    text: str
    position: int
    scope: Scope | None = None


@dataclass(frozen=True)
class Not:
    child: Node
    position: int


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


Node = Word | Phrase | Not | And | Or


@dataclass(frozen=True)
class ParsedQuery:
    """A parsed query; ``root`` holds only searchable parts."""

    text: str
    root: Node

    def leaves(self) -> Iterator[Word | Phrase]:
        return _leaves(self.root)


def _leaves(node: Node) -> Iterator[Word | Phrase]:
    if isinstance(node, Word | Phrase):
        yield node
    elif isinstance(node, Not):
        yield from _leaves(node.child)
    else:
        for child in node.children:
            yield from _leaves(child)


# --- lexing ---------------------------------------------------------------------------

_ELISION: Final = re.compile(r"^(?:[ldjmnstc]|qu|lorsqu|puisqu|jusqu)['’](?=[^\W_])", re.I)
_POSSESSIVE: Final = re.compile(r"(?<=[^\W_])['’]s$", re.I)
_SPECIAL: Final = frozenset('()"')


@dataclass(frozen=True)
class _Tok:
    kind: Literal["(", ")", "phrase", "word", "prefix", "or", "and", "not", "scope"]
    position: int
    text: str = ""


def _searchable(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def _lex(q: str) -> list[_Tok]:
    out: list[_Tok] = []
    i, n = 0, len(q)
    while i < n:
        ch = q[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            out.append(_Tok(ch, i))  # type: ignore[arg-type]
            i += 1
        elif ch == '"':
            end = q.find('"', i + 1)
            if end < 0:
                raise QuerySyntaxError('unclosed quote: a phrase needs a closing "', i)
            out.append(_Tok("phrase", i, q[i + 1 : end]))
            i = end + 1
        elif ch == "-" and i + 1 < n and (q[i + 1].isalnum() or q[i + 1] in '"('):
            out.append(_Tok("not", i))
            i += 1
        else:
            start = i
            while i < n and not q[i].isspace() and q[i] not in _SPECIAL:
                i += 1
            word = q[start:i]
            scope = word.split(":", 1)[0]
            if word in ("OR", "AND"):
                out.append(_Tok(word.lower(), start))  # type: ignore[arg-type]
            elif ":" in word and scope in SCOPES:
                out.append(_Tok("scope", start, scope))
                i = start + len(scope) + 1  # lex what follows the colon on its own
                if i >= n or q[i].isspace():
                    raise QuerySyntaxError(
                        f"{scope}: must be followed by a word, phrase or group", start
                    )
            else:
                star = word.find("*")
                if 0 <= star < len(word) - 1:
                    raise QuerySyntaxError("* is allowed only at the end of a word", start + star)
                if star >= 0:
                    out.append(_Tok("prefix", start, word[:-1]))
                else:
                    out.append(_Tok("word", start, word))
    return out


# --- parsing --------------------------------------------------------------------------


class _Parser:
    def __init__(self, q: str) -> None:
        self.q = q
        self.toks = _lex(q)
        self.i = 0
        self.depth = 0
        self.scope: Scope | None = None
        self.terms = 0
        self.prefixes = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node | None:
        node = self.conjunction()
        tok = self.peek()
        if tok is not None:  # only a ")" can stop a conjunction early
            raise QuerySyntaxError("unmatched ): no ( before it", tok.position)
        return node

    def conjunction(self) -> Node | None:
        items: list[Node] = []
        seen = False
        while (tok := self.peek()) is not None and tok.kind != ")":
            if tok.kind == "and":
                self.take()
                after = self.peek()
                if not seen or after is None or after.kind in (")", "or", "and"):
                    raise QuerySyntaxError("AND needs a term on both sides", tok.position)
                continue
            seen = True
            node = self.disjunction()
            if node is not None:
                items.append(node)
        if not items:
            return None
        return items[0] if len(items) == 1 else And(tuple(items))

    def disjunction(self) -> Node | None:
        items = [self.unary()]
        while (tok := self.peek()) is not None and tok.kind == "or":
            self.take()
            after = self.peek()
            if after is None or after.kind in (")", "or", "and"):
                raise QuerySyntaxError("OR needs a term on both sides", tok.position)
            items.append(self.unary())
        kept = [item for item in items if item is not None]
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else Or(tuple(kept))

    def unary(self) -> Node | None:
        tok = self.peek()
        if tok is not None and tok.kind == "not":
            self.take()
            child = self.primary()
            return Not(child, tok.position) if child is not None else None
        return self.primary()

    def primary(self) -> Node | None:
        tok = self.take()
        if tok.kind in ("or", "and"):
            raise QuerySyntaxError(f"{tok.kind.upper()} needs a term on both sides", tok.position)
        if tok.kind == "scope":
            if self.scope is not None:
                raise QuerySyntaxError(
                    f"{tok.text}: cannot be used inside another scope", tok.position
                )
            nxt = self.peek()
            if nxt is None or nxt.kind not in ("word", "prefix", "phrase", "(", "scope"):
                raise QuerySyntaxError(
                    f"{tok.text}: must be followed by a word, phrase or group", tok.position
                )
            self.scope = tok.text  # type: ignore[assignment]
            try:
                return self.primary()
            finally:
                self.scope = None
        if tok.kind == "(":
            return self.group(tok)
        if tok.kind == ")":
            raise QuerySyntaxError("unmatched ): no ( before it", tok.position)
        if tok.kind == "phrase":
            return self.leaf_phrase(tok)
        return self.leaf_word(tok)

    def group(self, open_tok: _Tok) -> Node | None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QuerySyntaxError(
                f"parentheses nested too deeply (at most {MAX_DEPTH} levels)", open_tok.position
            )
        empty = self.peek()
        if empty is not None and empty.kind == ")":
            raise QuerySyntaxError("empty parentheses", open_tok.position)
        node = self.conjunction()
        close = self.peek()
        if close is None:
            raise QuerySyntaxError("unclosed (: no ) after it", open_tok.position)
        self.take()
        self.depth -= 1
        return node

    def count(self, words: int, position: int) -> None:
        self.terms += words
        if self.terms > MAX_TERMS:
            raise QuerySyntaxError(f"too many words (at most {MAX_TERMS})", position)

    def leaf_phrase(self, tok: _Tok) -> Node | None:
        words = [w for w in re.split(r"\s+", tok.text) if _searchable(w)]
        if not words:
            return None
        self.count(len(words), tok.position)
        return Phrase(tok.text, tok.position, self.scope)

    def leaf_word(self, tok: _Tok) -> Node | None:
        text = _POSSESSIVE.sub("", _ELISION.sub("", tok.text))
        if not _searchable(text):
            return None
        self.count(1, tok.position)
        if tok.kind != "prefix":
            return Word(text, tok.position, self.scope)
        self.prefixes += 1
        if self.prefixes > MAX_PREFIXES:
            raise QuerySyntaxError(f"too many * prefixes (at most {MAX_PREFIXES})", tok.position)
        if len(_prefix_text(text)) < MIN_PREFIX_CHARS:
            raise QuerySyntaxError(
                f"a prefix needs at least {MIN_PREFIX_CHARS} letters or digits before *",
                tok.position,
            )
        return Word(text, tok.position, self.scope, prefix=True)


def parse(q: str) -> ParsedQuery:
    """Parse ``q``; raises :class:`QuerySyntaxError` (or :class:`EmptyQueryError`)."""
    if len(q) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(
            f"query too long (at most {MAX_QUERY_CHARS} characters)", MAX_QUERY_CHARS
        )
    root = _Parser(q).parse()
    if root is None:
        raise EmptyQueryError("the query has no letters or digits to search for", 0)
    return ParsedQuery(q, root)


# --- compiling ------------------------------------------------------------------------


def _prefix_text(text: str) -> str:
    """A prefix as index words are spelled: folded, separators removed."""
    folded = unicodedata.normalize("NFC", text)
    return "".join(t for t in analysis.terms(analysis.DEFAULT_CODE, folded))


#: ``expand(field, prefix, limit)`` lists index words of ``field`` starting with ``prefix``.
Expander = Callable[[str, str, int], Sequence[str]]


@dataclass
class CompiledQuery:
    """The Tantivy query to run, and per text field the positive parts to highlight."""

    search: tantivy.Query
    highlight: dict[str, list[tantivy.Query]] = field(default_factory=dict)


class _Compiler:
    """Compiles a tree for one analyser; ``None`` means "ignored" (all stop-words)."""

    def __init__(
        self,
        schema: tantivy.Schema,
        code: str,
        expand: Expander,
        highlight: dict[str, list[tantivy.Query]],
        expansions: dict[Word, list[tuple[str, str]]],
    ) -> None:
        self.schema = schema
        self.code = code
        self.expand = expand
        self.highlight = highlight
        self.expansions = expansions

    def fields(self, scope: Scope | None) -> list[tuple[str, float]]:
        sources = (scope,) if scope else TEXT_SOURCES
        return [(text_field(s, self.code), BOOSTS[s]) for s in sources]

    def every_item(self) -> tantivy.Query:
        term = tantivy.Query.term_query(self.schema, "analyzer", self.code)
        return tantivy.Query.const_score_query(term, 0.0)

    def standalone(self, node: Node, positive: bool = True) -> tantivy.Query | None:
        if isinstance(node, Not):
            inner = self.compile(node.child, positive=not positive)
            if inner is None:
                # Excluding what this analyser ignores (a stop-word) excludes nothing.
                return self.every_item()
            return _boolean(
                [(tantivy.Occur.Must, self.every_item()), (tantivy.Occur.MustNot, inner)]
            )
        return self.compile(node, positive)

    def compile(self, node: Node, positive: bool = True) -> tantivy.Query | None:
        if isinstance(node, Word):
            return self.prefix(node, positive) if node.prefix else self.word(node, positive)
        if isinstance(node, Phrase):
            return self.phrase(node, positive)
        if isinstance(node, Not):
            return self.standalone(node, positive)
        if isinstance(node, Or):
            parts = [q for c in node.children if (q := self.standalone(c, positive)) is not None]
            if not parts:
                return None
            return (
                parts[0]
                if len(parts) == 1
                else _boolean([(tantivy.Occur.Should, q) for q in parts])
            )
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        positives = 0
        for child in node.children:
            if isinstance(child, Not):
                inner = self.compile(child.child, positive=not positive)
                if inner is not None:  # excluding an ignored word excludes nothing
                    clauses.append((tantivy.Occur.MustNot, inner))
                continue
            positives += 1
            if (q := self.compile(child, positive)) is not None:
                clauses.append((tantivy.Occur.Must, q))
        if not any(occur == tantivy.Occur.Must for occur, _ in clauses):
            if positives:
                return None  # every word to find is ignored here: nothing to find
            clauses.insert(0, (tantivy.Occur.Must, self.every_item()))
        return _boolean(clauses)

    def leaf(
        self, scope: Scope | None, build: Callable[[str], tantivy.Query | None], positive: bool
    ) -> tantivy.Query | None:
        parts: list[tantivy.Query] = []
        for name, boost in self.fields(scope):
            q = build(name)
            if q is None:
                continue
            if positive:
                self.highlight.setdefault(name, []).append(q)
            parts.append(tantivy.Query.boost_query(q, boost))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else _boolean([(tantivy.Occur.Should, q) for q in parts])

    def term(self, name: str, token: str) -> tantivy.Query:
        return tantivy.Query.term_query(self.schema, name, token)

    def word(self, node: Word, positive: bool) -> tantivy.Query | None:
        text = unicodedata.normalize("NFC", node.text)
        toks = analysis.tokens(self.code, text)
        if not toks:
            return None
        if len(toks) == 1:
            return self.leaf(node.scope, lambda name: self.term(name, toks[0].text), positive)
        # A compound ("co-operation", "U.S."): its parts as a phrase, or its joined form.
        joined = analysis.terms(self.code, re.sub(r"[^\w]|_", "", text))
        base = toks[0].position

        def build(name: str) -> tantivy.Query:
            words: list[str | tuple[int, str]] = [(t.position - base, t.text) for t in toks]
            phrase = tantivy.Query.phrase_query(self.schema, name, words)
            if len(joined) != 1:
                return phrase
            return _boolean(
                [(tantivy.Occur.Should, phrase), (tantivy.Occur.Should, self.term(name, joined[0]))]
            )

        return self.leaf(node.scope, build, positive)

    def phrase(self, node: Phrase, positive: bool) -> tantivy.Query | None:
        text = unicodedata.normalize("NFC", node.text)
        toks = analysis.tokens(self.code, text)
        if not toks:
            return None
        base = toks[0].position
        words: list[str | tuple[int, str]] = [(t.position - base, t.text) for t in toks]
        if len(toks) == 1:
            return self.leaf(node.scope, lambda name: self.term(name, toks[0].text), positive)
        return self.leaf(
            node.scope,
            lambda name: tantivy.Query.phrase_query(self.schema, name, words),
            positive,
        )

    def prefix(self, node: Word, positive: bool) -> tantivy.Query | None:
        by_field: dict[str, list[str]] = {}
        for name, term in self.expansions[node]:
            by_field.setdefault(name, []).append(term)

        def build(name: str) -> tantivy.Query:
            terms = by_field.get(name)
            if not terms:
                return tantivy.Query.empty_query()
            return _boolean([(tantivy.Occur.Should, self.term(name, t)) for t in terms])

        return self.leaf(node.scope, build, positive)


def _boolean(clauses: list[tuple[tantivy.Occur, tantivy.Query]]) -> tantivy.Query:
    return tantivy.Query.boolean_query(clauses)


def _expand_prefixes(parsed: ParsedQuery, expand: Expander) -> dict[Word, list[tuple[str, str]]]:
    """Every prefix's matching index words per field; too many is a syntax error."""
    out: dict[Word, list[tuple[str, str]]] = {}
    for leaf in parsed.leaves():
        if not (isinstance(leaf, Word) and leaf.prefix):
            continue
        prefix = _prefix_text(leaf.text)
        sources = (leaf.scope,) if leaf.scope else TEXT_SOURCES
        found: list[tuple[str, str]] = []
        distinct: set[str] = set()
        for code in analysis.CODES:
            for source in sources:
                name = text_field(source, code)
                for term in expand(name, prefix, MAX_PREFIX_TERMS + 1):
                    found.append((name, term))
                    distinct.add(term)
        if len(distinct) > MAX_PREFIX_TERMS:
            raise QuerySyntaxError(
                f"{prefix}* matches too many words (more than {MAX_PREFIX_TERMS}); "
                "use a longer prefix",
                leaf.position,
            )
        out[leaf] = found
    return out


def compile_query(parsed: ParsedQuery, schema: tantivy.Schema, expand: Expander) -> CompiledQuery:
    """The Tantivy query for ``parsed``: one branch per analyser, OR-ed.

    Each item's text is only in its own analyser's fields, so branch ``a`` can only
    match items analysed by ``a``, with ``a``'s stems and stop-words applied to the
    query. Words that an analyser drops (its stop-words) are ignored in its branch.
    """
    highlight: dict[str, list[tantivy.Query]] = {}
    expansions = _expand_prefixes(parsed, expand)
    branches: list[tantivy.Query] = []
    for code in analysis.CODES:
        compiler = _Compiler(schema, code, expand, highlight, expansions)
        q = compiler.standalone(parsed.root)
        if q is not None:
            branches.append(q)
    if not branches:
        return CompiledQuery(tantivy.Query.empty_query(), highlight)
    search = (
        branches[0]
        if len(branches) == 1
        else _boolean([(tantivy.Occur.Should, q) for q in branches])
    )
    return CompiledQuery(search, highlight)
