"""Folding: one case- and accent-fold for search, keys and the tagger, Cyrillic included."""

from newsflow.domain.text import fold, fold_with_offsets, identity_key


def test_fold_handles_cyrillic() -> None:
    assert fold("ОБСЕ") == "обсе"
    assert fold("Соединённое Королевство") == fold("Соединенное Королевство")
    assert fold("Ёлка") == "елка"
    # 'й' is a letter of its own, not 'и' with a mark.
    assert fold("МОЙ") == "мой"
    assert fold("мой") != fold("мои")
    assert fold_with_offsets("Йошкар-Ола") == ("йошкар-ола", None)
    assert identity_key("Миссия ОБСЕ в Сербии!") == "миссия обсе в сербии"
