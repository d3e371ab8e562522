"""Our query syntax: each form parses to the tree we expect; each error says what and where."""

from __future__ import annotations

import pytest

from newsflow_gateway.index.query import (
    MAX_DEPTH,
    MAX_PREFIXES,
    MAX_QUERY_CHARS,
    MAX_TERMS,
    And,
    EmptyQueryError,
    Not,
    Or,
    Phrase,
    QuerySyntaxError,
    Word,
    parse,
)


def test_words_are_anded() -> None:
    assert parse("asset recovery").root == And((Word("asset", 0), Word("recovery", 6)))


def test_explicit_and_is_the_same_as_a_space() -> None:
    assert parse("asset AND recovery").root == And((Word("asset", 0), Word("recovery", 10)))


def test_phrase() -> None:
    assert parse('"rule of law"').root == Phrase("rule of law", 0)


def test_exclusions_of_word_phrase_and_group() -> None:
    root = parse('a -b -"c d" -(e OR f)').root
    assert root == And(
        (
            Word("a", 0),
            Not(Word("b", 3), 2),
            Not(Phrase("c d", 6), 5),
            Not(Or((Word("e", 14), Word("f", 19))), 12),
        )
    )


def test_or_binds_tighter_than_the_implicit_and() -> None:
    root = parse("a b OR c d").root
    assert root == And((Word("a", 0), Or((Word("b", 2), Word("c", 7))), Word("d", 9)))


def test_lower_case_or_is_a_word() -> None:
    assert parse("war or peace").root == And((Word("war", 0), Word("or", 4), Word("peace", 7)))


def test_parentheses_group() -> None:
    root = parse("(a OR b) c").root
    assert root == And((Or((Word("a", 1), Word("b", 6))), Word("c", 9)))


def test_scopes_apply_to_a_word_phrase_or_group() -> None:
    root = parse('title:a summary:"b c" title:(d OR e)').root
    assert root == And(
        (
            Word("a", 6, "title"),
            Phrase("b c", 16, "summary"),
            Or((Word("d", 29, "title"), Word("e", 34, "title"))),
        )
    )


def test_scope_is_only_title_or_summary_other_colons_are_text() -> None:
    assert parse("Ukraine: body:x").root == And((Word("Ukraine:", 0), Word("body:x", 9)))


def test_trailing_star_is_a_prefix() -> None:
    assert parse("elect*").root == Word("elect", 0, prefix=True)


def test_elision_and_possessive_are_dropped() -> None:
    assert parse("l’ODIHR").root == Word("ODIHR", 0)
    assert parse("d'Ukraine Ukraine's").root == And((Word("Ukraine", 0), Word("Ukraine", 10)))


def test_hyphenated_word_stays_one_word() -> None:
    assert parse("co-operation").root == Word("co-operation", 0)


def test_dashes_not_before_a_word_are_punctuation() -> None:
    assert parse("Kyiv - news -- today").root == And(
        (Word("Kyiv", 0), Word("news", 7), Word("today", 15))
    )
    assert parse("--a").root == Word("--a", 0)


def test_unsearchable_parts_are_ignored() -> None:
    assert parse("election 🙂 .* - --").root == Word("election", 0)
    assert parse('election ""').root == Word("election", 0)


@pytest.mark.parametrize("q", [".*", "-", "🙂🙂", "*", '""', "( .* )", "-.*", "  "])
def test_nothing_searchable_is_an_empty_query_error(q: str) -> None:
    with pytest.raises(EmptyQueryError) as info:
        parse(q)
    assert "nothing" in str(info.value) or "no letters" in str(info.value)
    assert isinstance(info.value, QuerySyntaxError)


@pytest.mark.parametrize(
    ("q", "words", "position"),
    [
        ('a "b c', "unclosed quote", 2),
        ("(a b", "unclosed (", 0),
        ("a b)", "unmatched )", 3),
        ("a ()", "empty parentheses", 2),
        ("OR a", "OR needs a term on both sides", 0),
        ("a OR", "OR needs a term on both sides", 2),
        ("a OR OR b", "OR needs a term on both sides", 2),
        ("(a OR) b", "OR needs a term on both sides", 3),
        ("AND a", "AND needs a term on both sides", 0),
        ("a AND", "AND needs a term on both sides", 2),
        ("a el*ect", "* is allowed only at the end of a word", 4),
        ("a *x", "* is allowed only at the end of a word", 2),
        ("title: a", "title: must be followed by a word, phrase or group", 0),
        ("a summary:", "summary: must be followed by a word, phrase or group", 2),
        ("title:summary:a", "cannot be used inside another scope", 6),
        ("title:(a summary:b)", "cannot be used inside another scope", 9),
        ("x e*", "a prefix needs at least 2 letters", 2),
    ],
)
def test_syntax_errors_say_what_and_where(q: str, words: str, position: int) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse(q)
    assert not isinstance(info.value, EmptyQueryError)
    assert words in info.value.message
    assert info.value.position == position
    assert f"character {position}" in str(info.value)


def test_too_long() -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse("a" * (MAX_QUERY_CHARS + 1))
    assert info.value.position == MAX_QUERY_CHARS
    assert "too long" in info.value.message
    parse("a" * MAX_QUERY_CHARS)  # at the limit is fine


def test_too_many_words_points_at_the_first_word_over() -> None:
    words = [f"w{i}" for i in range(MAX_TERMS + 1)]
    q = " ".join(words)
    with pytest.raises(QuerySyntaxError) as info:
        parse(q)
    assert info.value.position == q.index(words[-1])
    assert "too many words" in info.value.message
    parse(" ".join(words[:-1]))


def test_phrase_words_count_towards_the_limit() -> None:
    q = '"' + " ".join(["w"] * MAX_TERMS) + '" x'
    with pytest.raises(QuerySyntaxError) as info:
        parse(q)
    assert info.value.position == len(q) - 1


def test_nesting_depth_limit() -> None:
    ok = "(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH
    parse(ok)
    deep = "(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(QuerySyntaxError) as info:
        parse(deep)
    assert info.value.position == MAX_DEPTH
    assert "nested too deeply" in info.value.message


def test_too_many_prefixes() -> None:
    q = " ".join(f"ab{i}*" for i in range(MAX_PREFIXES + 1))
    with pytest.raises(QuerySyntaxError) as info:
        parse(q)
    assert info.value.position == q.rindex("ab")
    assert "too many * prefixes" in info.value.message


def test_operators_from_other_engines_are_plain_text() -> None:
    root = parse('{"$where": "sleep(1000)"} field:[a TO b]').root
    # Nothing here is an operator of ours except the quotes and parentheses.
    assert isinstance(root, And)
