"""Analysis per language, folding, tags and compounds, seen through real searches."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newsflow_gateway.index import analysis
from newsflow_gateway.index.index import SearchIndex
from newsflow_gateway.index.query import parse

from .conftest import Story


def ids(index: SearchIndex, q: str) -> set[str]:
    return {h.id for h in index.search(parse(q), limit=100).hits}


@pytest.mark.parametrize(
    ("language", "code"),
    [
        ("en", "en"),
        ("en-GB", "en"),
        ("FR", "fr"),
        ("fr_CA", "fr"),
        ("de", "de"),
        ("ru", "ru"),
        ("sr", "xx"),
        ("", "xx"),
        (None, "xx"),
    ],
)
def test_language_picks_its_analyser(language: str | None, code: str) -> None:
    assert analysis.code_for_language(language) == code


def test_stemming_and_folding_per_language() -> None:
    assert analysis.terms("en", "Élections elections election") == ["elect"] * 3
    assert analysis.terms("fr", "Les élections présidentielles") == ["elect", "presidentiel"]
    assert analysis.terms("de", "die Präsidenten Prasidenten") == ["prasident", "prasident"]
    assert analysis.terms("ru", "выборы выборами") == ["выбор", "выбор"]
    # The default analyser folds but neither stems nor drops words.
    assert analysis.terms("xx", "The Élections") == ["the", "elections"]


def test_english_election_finds_elections(index: SearchIndex, story: Story) -> None:
    index.apply([story("a", "Elections observed"), story("b", "Budget talks")])
    index.commit("1-0")
    assert ids(index, "election") == {"a"}


def test_russian_stems(index: SearchIndex, story: Story) -> None:
    index.apply([story("a", "Наблюдение за выборами", language="ru"), story("b", "Бюджет")])
    index.commit("1-0")
    assert ids(index, "выборы") == {"a"}


def test_accents_fold_both_ways(index: SearchIndex, story: Story) -> None:
    index.apply(
        [
            story("fr", "Les Élections municipales", language="fr"),
            story("en", "Elections in Priština"),
            story("xx", "Izbori u Prištini, élections", language="sr"),
        ]
    )
    index.commit("1-0")
    assert ids(index, "elections") == {"fr", "en", "xx"}
    assert ids(index, "ÉLECTIONS") == {"fr", "en", "xx"}
    assert ids(index, "pristina") == {"en"}


def test_german_stems_and_drops_its_stop_words(index: SearchIndex, story: Story) -> None:
    index.apply([story("a", "Die Wahlen der Präsidenten", language="de")])
    index.commit("1-0")
    assert ids(index, "Wahl praesident") == {"a"}  # the German stemmer reads ae as ä
    assert ids(index, "wahl prasidenten") == {"a"}
    # "der" is a stop-word: not indexed, but its place is kept, so phrases stay exact.
    assert ids(index, '"wahlen der präsidenten"') == {"a"}
    assert ids(index, '"wahlen präsidenten"') == set()


def test_stop_words_are_ignored_in_that_language(index: SearchIndex, story: Story) -> None:
    index.apply([story("a", "Rule of law conference"), story("b", "Law and order")])
    index.commit("1-0")
    assert ids(index, "the rule of law") == {"a"}
    assert ids(index, '"rule of law"') == {"a"}
    assert ids(index, '"rule law"') == set()  # a phrase keeps the stop-word's place


def test_tags_are_searchable_by_id_name_and_label(index: SearchIndex, story: Story) -> None:
    odihr = {
        "id": "odihr",
        "name": "OSCE Office for Democratic Institutions and Human Rights",
        "labels": ["Bureau des institutions démocratiques"],
    }
    index.apply(
        [
            story(
                "a",
                "Observers deployed",
                summary="The Office for Democratic Institutions "
                "and Human Rights deployed observers.",
                offices=[odihr],
            ),
            story("b", "Unrelated"),
            story("c", "Le BIDDH et l’ODIHR", language="fr"),
        ]
    )
    index.commit("1-0")
    assert ids(index, "ODIHR") == {"a", "c"}
    assert ids(index, "l’ODIHR") == {"a", "c"}
    assert ids(index, "démocratiques") == {"a"}  # a published label


def test_hyphenated_words_match_their_joined_form(index: SearchIndex, story: Story) -> None:
    index.apply([story("hy", "Regional co-operation"), story("jo", "Regional cooperation")])
    index.commit("1-0")
    assert ids(index, "cooperation") == {"hy", "jo"}
    assert ids(index, "co-operation") == {"hy", "jo"}
    assert ids(index, "title:cooperation") == {"hy", "jo"}


def test_prefix_matches_indexed_words(index: SearchIndex, story: Story) -> None:
    index.apply(
        [
            story("a", "Electoral reform"),
            story("b", "Elections held"),
            story("c", "Selected works"),
        ]
    )
    index.commit("1-0")
    assert ids(index, "elect*") == {"a", "b"}
    assert ids(index, "title:elect* -reform") == {"b"}


def test_prefix_expanding_too_far_is_a_syntax_error(index: SearchIndex, story: Story) -> None:
    from newsflow_gateway.index.query import MAX_PREFIX_TERMS, QuerySyntaxError

    words = " ".join(f"ab{i:04d}x" for i in range(MAX_PREFIX_TERMS + 1))
    index.apply([story("a", "t", body=words)])
    index.commit("1-0")
    with pytest.raises(QuerySyntaxError) as info:
        index.search(parse("x ab*"))
    assert info.value.position == 2
    assert "too many words" in info.value.message
    assert ids(index, "ab0001*") == {"a"}


def test_exclusion_alone_matches_everything_else(index: SearchIndex, story: Story) -> None:
    index.apply(
        [
            story("a", "Ukraine talks"),
            story("b", "Serbia talks"),
            story("c", "Выборы", language="ru"),
        ]
    )
    index.commit("1-0")
    assert ids(index, "-ukraine") == {"b", "c"}
    assert ids(index, "talks -(ukraine OR moldova)") == {"b"}
    assert ids(index, "serbia OR -talks") == {"b", "c"}


def test_scopes_limit_the_field(index: SearchIndex, story: Story) -> None:
    index.apply(
        [
            story("t", "Media freedom", summary="A report"),
            story("s", "A report", summary="On media freedom"),
            story("b", "A report", body="media freedom matters"),
        ]
    )
    index.commit("1-0")
    assert ids(index, "media") == {"t", "s", "b"}
    assert ids(index, "title:media") == {"t"}
    assert ids(index, 'summary:"media freedom"') == {"s"}


def test_title_ranks_above_summary_above_body(index: SearchIndex, story: Story) -> None:
    when = datetime(2024, 1, 1, tzinfo=UTC)
    index.apply(
        [
            story(
                "body", "A report", summary="A text", body="trafficking in the body", sort_at=when
            ),
            story("title", "Trafficking report", summary="A text", body="a body", sort_at=when),
            story("summary", "A report", summary="About trafficking", body="a body", sort_at=when),
        ]
    )
    index.commit("1-0")
    page = index.search(parse("trafficking"), sort="relevance")
    assert [h.id for h in page.hits] == ["title", "summary", "body"]
    scores = [h.score or 0.0 for h in page.hits]
    assert all(h.score is not None for h in page.hits)
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Jan Braathu takes up duties as Head of the OSCE Mission to Serbia", "en"),
        ("La mission de l'OSCE pour la Serbie et le Kosovo", "fr"),
        ("Die OSZE und der Krieg in der Ukraine ist nicht vorbei", "de"),
        ("Миссия ОБСЕ в Сербии и на Косово: что это для региона", "ru"),
        ("OSCE", "xx"),  # too little to tell: the default, unstemmed
        ("", "xx"),
    ],
)
def test_an_undeclared_language_is_guessed_from_function_words(text: str, code: str) -> None:
    assert analysis.code_for_item(None, text) == code
    assert analysis.code_for_item("de", text) == "de"  # a declared language wins
