"""Language detection for items whose publisher declares none."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsflow.domain.language import GUESS_CHARS, guess_language


@pytest.mark.parametrize(
    ("texts", "language"),
    [
        (("Jan Braathu takes up duties as Head of the OSCE Mission to Serbia",), "en"),
        (("La mission de l'OSCE pour la Serbie et le Kosovo",), "fr"),
        (("Die OSZE und der Krieg in der Ukraine ist nicht vorbei",), "de"),
        # a Russian headline has few function words: the script says it
        (("Генсек ОБСЕ прибыл в Бишкек",), "ru"),
        (("БДИПЧ ОБСЕ открыло миссию", None, "Наблюдатели будут оценивать выборы."), "ru"),
        # ё is Russian too, and Latin names inside Russian text do not change it
        (("Представитель ОБСЕ Teresa Ribeiro осудила задержание журналистов в Минске",), "ru"),
        (("Голова ОБСЄ прибув з візитом до Києва",), "uk"),
        (("Мисија ОЕБС у Србији подржава изборе",), None),  # Serbian Cyrillic: not guessed
        (("OSCE",), None),
        (("", None), None),
        (("2026 — 12:00",), None),
    ],
)
def test_guess_language(texts: tuple[str | None, ...], language: str | None) -> None:
    assert guess_language(*texts) == language


def test_mixed_text_goes_by_its_main_script() -> None:
    latin = "The OSCE Mission to Serbia and the Government signed a plan for the elections."
    assert guess_language(latin + " Миссия ОБСЕ") == "en"
    assert guess_language("Миссия ОБСЕ в Сербии и правительство подписали план. OSCE") == "ru"


def test_only_the_opening_words_are_read() -> None:
    """A huge body costs no more than its opening: the guess reads GUESS_WORDS words."""
    russian = "Миссия ОБСЕ в Сербии " * GUESS_CHARS
    assert guess_language(russian + " the of and to in " * 100_000) == "ru"


@given(st.text(max_size=300))
def test_any_text_gives_a_language_or_none(text: str) -> None:
    assert guess_language(text, text) in {None, "ru", "uk", "en", "fr", "de"}
