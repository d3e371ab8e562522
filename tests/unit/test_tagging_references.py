"""Offices named through their holders' titles and their groups, and titles that do not count."""

from __future__ import annotations

import pytest

from newsflow.domain.tagging import Tagger
from newsflow.domain.tagging.titles import REFERENCES, counts
from newsflow.domain.tags import Tags
from newsflow.domain.taxonomy import load_taxonomy


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger(load_taxonomy())


def offices(tagger: Tagger, title: str, summary: str | None = None) -> list[str | None]:
    return [t.id for t in tag(tagger, title, summary).offices]


def tag(tagger: Tagger, title: str, summary: str | None = None) -> Tags:
    return tagger.tag_fields(title=title, summary=summary)


@pytest.mark.parametrize(
    ("title", "summary", "office"),
    [
        (
            "Secretary General highlights role of OSCE in first visit to Andorra",
            None,
            "secretary-general",
        ),
        (
            "OSCE Chair-in-Office Borg concludes visit to Tajikistan",
            None,
            "chairpersonship",
        ),
        ("CiO Dačić discusses settlement", "The OSCE Chairperson said so.", "chairpersonship"),
        ("OSCE Chairman regrets the death of a former leader", None, "chairpersonship"),
        (
            "Press statement of the Special Representative of the OSCE Chairperson-in-Office",
            None,
            "chairpersonship",
        ),
        (
            "OSCE High Commissioner discusses multilingual education",
            "The High Commissioner visited Kyrgyzstan.",
            "hcnm",
        ),
        ("OSCE Representative condemns arson attack on newspaper", None, "rfom"),
        ("OSCE human rights head says impunity is no option", None, "odihr"),
        ("ODIHR Director speaks in Warsaw", None, "odihr"),
        ("Head of the OSCE Mission to Serbia condemns threats", None, "mission-serbia"),
        ("OSCE Head of Mission to Bosnia and Herzegovina condemns threat", None, "mission-bih"),
        ("PA President stresses value of OSCE", None, "osce-pa"),
        ("President of the OSCE Parliamentary Assembly visits Minsk", None, "osce-pa"),
        ("Talks held with the OSCE's Asian Partner Japan", None, "asian-partners"),
        ("OSCE meets its Mediterranean Partners in Vienna", None, "mediterranean-partners"),
    ],
)
def test_titles_and_groups_stand_for_their_office(
    tagger: Tagger, title: str, summary: str | None, office: str
) -> None:
    tags = tag(tagger, title, summary)
    found = {t.id: t for t in tags.offices}
    assert office in found
    reference = found[office]
    assert reference.source == "inferred"
    assert 0 < reference.confidence < 1
    evidence = reference.evidence[0]
    text = title if evidence.field == "title" else summary or ""
    assert evidence.start is not None
    assert evidence.end is not None
    assert text[evidence.start : evidence.end] == evidence.text


@pytest.mark.parametrize(
    "title",
    [
        "UN Secretary-General Guterres calls for a global ceasefire, OSCE welcomes it",
        "NATO Secretary General meets OSCE ambassadors",
        "Secretary-General of NATO addresses OSCE conference",
        "OSCE event hears the Secretary-General of the United Nations",
        "OSCE welcomes UN High Commissioner for Refugees",
        "Assistant Secretary-General of the UN speaks at OSCE event",
        "The EU's Chair spoke at the OSCE Permanent Council",
    ],
)
def test_another_bodys_title_never_counts(tagger: Tagger, title: str) -> None:
    found = offices(tagger, title)
    assert "secretary-general" not in found
    assert "hcnm" not in found
    assert "chairpersonship" not in found


def test_bare_titles_need_an_item_that_names_the_osce(tagger: Tagger) -> None:
    assert offices(tagger, "Secretary General visits Andorra") == []
    assert offices(tagger, "Secretary General visits Andorra", "The OSCE said so.") == [
        "secretary-general"
    ]
    # A title that carries 'OSCE' needs no more.
    assert offices(tagger, "OSCE Chairman visits Skopje") == ["chairpersonship"]


def test_the_assemblys_secretary_general_is_the_assembly(tagger: Tagger) -> None:
    cases = [
        "Roberto Montella of Italy begins service as OSCE PA Secretary General",
        "Link congratulates Montella on election as Secretary General of OSCE Parliamentary "
        "Assembly",
        "OSCE PA President George Tsereteli and Secretary General Roberto Montella meet MEPs",
        "PA Secretary General meets OSCE ambassadors",
    ]
    for title in cases:
        assert offices(tagger, title) == ["osce-pa"], title


def test_a_sentence_end_stops_the_look_behind(tagger: Tagger) -> None:
    summary = "The UN discussed it. Secretary General Schmid then spoke for the OSCE."
    assert "secretary-general" in offices(tagger, "OSCE event in Vienna", summary)


def test_the_osce_and_another_body_in_one_sentence(tagger: Tagger) -> None:
    title = (
        "OSCE Chairperson-in-Office Lajčák, Secretary General Greminger and the President of "
        "the OSCE Parliamentary Assembly condemn violence"
    )
    assert offices(tagger, title) == ["chairpersonship", "secretary-general", "osce-pa"]


def test_special_representatives_name_the_chairpersonship(tagger: Tagger) -> None:
    title = "OSCE Special Representative for the Transdniestrian Settlement Process visits Chisinau"
    assert offices(tagger, title) == ["chairpersonship"]
    declared = tagger.resolve_office("Special Representative of the OSCE Chairperson-in-Office")
    assert declared == "chairpersonship"


def test_personal_representatives_imply_the_chairpersonship(tagger: Tagger) -> None:
    title = "Personal Representative of the OSCE Chairman-in-Office to travel to Albania"
    tags = tag(tagger, title)
    assert [t.id for t in tags.offices] == ["personal-representatives-cio", "chairpersonship"]
    assert tags.offices[1].confidence < tags.offices[0].confidence


def test_the_high_commissioner_brings_the_mandates_topic(tagger: Tagger) -> None:
    tags = tag(tagger, "High Commissioner visits Kyrgyzstan", "The OSCE office said so.")
    assert "national-minorities" in [t.id for t in tags.topics]


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (" of NATO spoke", False),
        (" of the OSCE spoke", True),
        (" of the OSCE Parliamentary Assembly spoke", False),
        (" of OSCE PA spoke", False),
        (" for Refugees spoke", False),
        (" Schmid spoke", True),
    ],
)
def test_owner_after_a_title(after: str, expected: bool) -> None:
    text = "The OSCE said that the Secretary General" + after
    start = text.index("Secretary")
    end = start + len("Secretary General")
    assert counts(True, text, start, end, osce_named=True) is expected


def test_every_reference_names_a_known_office() -> None:
    taxonomy = load_taxonomy()
    assert {r.office for r in REFERENCES} <= set(taxonomy.offices)
    texts = [r.text for r in REFERENCES]
    assert len(texts) == len(set(texts))


# ------------------------------------------------------------------------------ Russian


@pytest.mark.parametrize(
    ("title", "office", "country"),
    [
        ("Миссия ОБСЕ в Сербии провела тренинг для полицейских", "mission-serbia", "rs"),
        ("Глава Миссии ОБСЕ в Боснии и Герцеговине посетил Мостар", "mission-bih", "ba"),
        ("Генеральный секретарь ОБСЕ посетила Казахстан", "secretary-general", "kz"),
        ("БДИПЧ открыло миссию по наблюдению за выборами в Венгрии", "odihr", "hu"),
        ("Визит Верховного комиссара по делам национальных меньшинств в Грузию", "hcnm", "ge"),
        ("Программный офис ОБСЕ в Душанбе поддержал семинар в Таджикистане", "po-dushanbe", "tj"),
        ("Делегация Парламентской ассамблеи ОБСЕ прибыла в Молдову", "osce-pa", "md"),
        ("Действующий председатель ОБСЕ посетил Российскую Федерацию", "chairpersonship", "ru"),
    ],
)
def test_russian_names_of_offices_and_countries_in_their_case_forms(
    tagger: Tagger, title: str, office: str, country: str
) -> None:
    tags = tag(tagger, title)
    assert office in [t.id for t in tags.offices]
    assert country in [t.id for t in tags.countries]
    found = next(t for t in tags.offices if t.id == office)
    evidence = found.evidence[0]
    assert title[evidence.start : evidence.end] == evidence.text  # offsets into the Cyrillic


def test_russian_text_with_yo_and_short_i(tagger: Tagger) -> None:
    # 'ё' is written 'е' as often as not; both find the name. 'й' stays 'й'.
    assert [t.id for t in tag(tagger, "Визит в Соединённое Королевство").countries] == ["gb"]
    assert [t.id for t in tag(tagger, "Визит в Соединенное Королевство").countries] == ["gb"]


def test_russian_abbreviations_are_case_sensitive(tagger: Tagger) -> None:
    assert offices(tagger, "Доклад СММ о прекращении огня") == ["smm-ukraine"]
    assert offices(tagger, "доклад смм") == []


def test_english_text_keeps_the_fast_path_next_to_russian_patterns(tagger: Tagger) -> None:
    # Łódź has a letter with no ASCII fold that no pattern uses: still matched as a word.
    tags = tag(tagger, "OSCE Mission to Serbia meets Łódź students in Poland")
    assert [t.id for t in tags.offices] == ["mission-serbia"]
    assert sorted(t.id for t in tags.countries) == ["pl", "rs"]


def test_russian_topic_labels_and_phrases(tagger: Tagger) -> None:
    assert tagger.resolve_topic("Выборы") == "elections"
    assert tagger.resolve_topic("Свобода и развитие СМИ") == "media-freedom"
    tags = tag(tagger, "ОБСЕ провела тренинг по борьбе с торговлей людьми в Узбекистане")
    assert [t.id for t in tags.topics] == ["combating-thb"]
    assert [t.id for t in tags.countries] == ["uz"]
    # 'выбор' alone is a choice, not an election.
    assert tag(tagger, "Сложный выбор для молодых специалистов").topics == []


# ------------------------------------------------------------------------------ Russian titles


@pytest.mark.parametrize(
    ("title", "summary", "office"),
    [
        # a bare title counts in an item that names the OSCE ('ОБСЕ'), in any case form
        (
            "Кассис прибыл в Киев",
            "Он приехал с генеральным секретарём организации. ОБСЕ подтверждает роль.",
            "secretary-general",
        ),
        ("Генсек прибыл в Бишкек", "Визит организован ОБСЕ.", "secretary-general"),
        ("ОБСЕ: действующий председатель посетил Молдову", None, "chairpersonship"),
        ("Председателем ОБСЕ стал министр Словении", None, "chairpersonship"),
        ("Визит верховного комиссара ОБСЕ по делам нацменьшинств", None, "hcnm"),
        ("Директор БДИПЧ выступил в Варшаве", None, "odihr"),
        ("Председатель ПА ОБСЕ открыл сессию", None, "osce-pa"),
        ("Сопредседатели Минской группы прибыли в Баку", None, "minsk-group"),
        ("Специальный представитель ОБСЕ по борьбе с торговлей людьми в Киеве", None, "osr-cthb"),
        ("Офис ОБСЕ в Ереване закрылся", None, "office-yerevan"),
    ],
)
def test_russian_titles_of_office_holders(
    tagger: Tagger, title: str, summary: str | None, office: str
) -> None:
    tags = tag(tagger, title, summary)
    found = next(t for t in tags.offices if t.id == office)
    assert found.source == "inferred"
    evidence = found.evidence[0]
    text = title if evidence.field == "title" else summary or ""
    assert text[evidence.start : evidence.end] == evidence.text


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        ("Генеральный секретарь ООН выступил в Вене", "Его выслушали послы стран ОБСЕ."),
        ("Генсек НАТО и ОБСЕ", None),
        ("Генеральный секретарь Организации Объединённых Наций и ОБСЕ", None),
        ("Заместитель генерального секретаря приехал", "Делегация ОБСЕ встретила его."),
        ("Верховный комиссар по правам человека и ОБСЕ", None),
        ("Верховный комиссар ООН по делам беженцев посетил ОБСЕ", None),
        ("Генеральный секретарь посетил Вену", None),  # no OSCE in the item: anyone's
    ],
)
def test_russian_titles_of_other_bodies_do_not_count(
    tagger: Tagger, title: str, summary: str | None
) -> None:
    found = offices(tagger, title, summary)
    assert "secretary-general" not in found
    assert "hcnm" not in found


def test_generic_russian_phrase_needs_its_country_and_date(tagger: Tagger) -> None:
    """'Центр ОБСЕ' is the Centre in Ashgabat only where Turkmenistan is named."""
    from datetime import UTC, datetime

    in_2023 = datetime(2023, 6, 1, tzinfo=UTC)
    named = tagger.tag_fields(
        title="В Туркменистане открылось здание Центра ОБСЕ", published_at=in_2023
    )
    assert "centre-ashgabat" in [t.id for t in named.offices]
    alone = tagger.tag_fields(title="Открылось новое здание Центра ОБСЕ", published_at=in_2023)
    assert [t.id for t in alone.offices] == []


@pytest.mark.parametrize(
    ("title", "countries"),
    [
        ("Задержаны двое российских журналистов", ["ru"]),
        ("Французский дипломат избран генсеком", ["fr"]),
        ("Американскому журналисту запретили въезд", ["us"]),
        ("Под Краматорском задержали украинскую съёмочную группу", ["ua"]),
        # the language or a people, not the State
        ("Газета вышла на украинском языке", []),
        ("Армянская община отметила праздник", []),
        ("Доклад издан на русском и украинском", []),
        ("Этнические узбекские семьи вернулись", []),
    ],
)
def test_russian_demonyms_in_their_case_forms(
    tagger: Tagger, title: str, countries: list[str]
) -> None:
    assert [t.id for t in tag(tagger, title).countries] == countries
