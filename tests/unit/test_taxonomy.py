"""The taxonomy file: its content (checked against osce.org facts) and the loader's checks."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from newsflow.domain.taxonomy import (
    DEFAULT_PATH,
    TaxonomyError,
    date_bounds,
    in_window,
    label_key,
    load_taxonomy,
    parse_taxonomy,
    strip_closed_suffix,
)
from newsflow.domain.text import identity_key

TAXONOMY = load_taxonomy()


def test_default_taxonomy_is_versioned_and_cached() -> None:
    assert TAXONOMY.version == "2026.11.29.2"
    assert load_taxonomy() is TAXONOMY
    assert load_taxonomy(DEFAULT_PATH) is not TAXONOMY  # an explicit path is read afresh


def test_countries_are_the_57_participating_states_and_11_partners() -> None:
    kinds = [c.kind for c in TAXONOMY.countries.values()]
    assert kinds.count("participating_state") == 57
    assert kinds.count("partner") == 11
    assert all(len(cid) == 2 and cid.islower() for cid in TAXONOMY.countries)
    assert TAXONOMY.countries["tr"].name == "Türkiye"
    assert TAXONOMY.countries["va"].name == "Holy See"
    assert TAXONOMY.countries["mn"].kind == "participating_state"  # since 2012
    assert {c.id for c in TAXONOMY.countries.values() if c.partner_group == "asian"} == {
        "af",
        "au",
        "jp",
        "kr",
        "th",
    }


def test_country_former_names_and_demonyms() -> None:
    turkey = TAXONOMY.countries["tr"].former_names[0]
    assert turkey.name == "Turkey"
    assert turkey.until == "2022-06-01"
    assert [f.name for f in TAXONOMY.countries["cz"].former_names] == ["Czech Republic"]
    macedonia = {f.name: f for f in TAXONOMY.countries["mk"].former_names}
    assert macedonia["the former Yugoslav Republic of Macedonia"].until == "2019-02-12"
    assert macedonia["FYROM"].abbreviation
    assert "Albanian" in TAXONOMY.countries["al"].demonyms
    assert "Kazakh" in TAXONOMY.countries["kz"].demonyms


def test_the_23_fields_of_work_and_the_newsroom_subtopics() -> None:
    fields = [t for t in TAXONOMY.topics.values() if t.level == "field_of_work"]
    assert len(fields) == 23
    assert TAXONOMY.topics["security-sector-reform"].name == (
        "Reform and co-operation in the security sector"
    )
    subtopics = {t.id: t.parents for t in TAXONOMY.topics.values() if t.level == "subtopic"}
    assert subtopics == {
        "climate-change": ["environmental-activities"],
        "safety-of-journalists": ["media-freedom"],
        "environmental-good-governance": ["environmental-activities"],
        "water-management": ["environmental-activities"],
    }
    assert all(t.signals for t in TAXONOMY.topics.values())
    assert TAXONOMY.topic_ancestors("safety-of-journalists") == ["media-freedom"]


def test_content_types() -> None:
    assert set(TAXONOMY.content_types) == {
        "news",
        "press-release",
        "daily-report",
        "spot-report",
        "press-statement",
    }


def test_odihr_predecessor_is_a_former_name_not_an_alias() -> None:
    odihr = TAXONOMY.offices["odihr"]
    assert not any("Free Elections" in a for a in odihr.aliases)
    (former,) = odihr.former_names
    assert (former.name, former.from_, former.until) == (
        "Office for Free Elections",
        "1990-11-21",
        "1992-01-31",
    )
    assert former.in_use_on(date(1991, 6, 1))
    assert not former.in_use_on(date(1992, 2, 1))
    assert odihr.country == "pl"
    assert "ODIHR" in odihr.abbreviations


def test_astana_office_knows_its_names_through_time() -> None:
    office = TAXONOMY.offices["po-astana"]
    assert office.name == "OSCE Programme Office in Astana"
    assert office.status == "active"
    assert office.country == "kz"

    def name_on(day: date) -> list[str]:
        return [
            f.name for f in office.former_names if f.in_use_on(day) and f.name.startswith("OSCE")
        ]

    assert name_on(date(2004, 11, 15)) == ["OSCE Centre in Almaty"]
    assert name_on(date(2010, 9, 23)) == ["OSCE Centre in Astana"]
    assert name_on(date(2021, 1, 7)) == ["OSCE Programme Office in Nur-Sultan"]
    assert name_on(date(2023, 1, 1)) == []  # the current name again
    assert not set(office.aliases) & {f.name for f in office.former_names}


def test_corrected_dates_of_field_operations() -> None:
    offices = TAXONOMY.offices
    assert offices["office-zagreb"].closed == "2012-01-17"
    assert offices["office-zagreb"].former_names[0].name == "OSCE Mission to Croatia"
    assert offices["pc-baku"].former_names[0].until == "2013-12-31"
    assert offices["pc-baku"].closed == "2015-07-04"
    dushanbe = [f.name for f in offices["po-dushanbe"].former_names if f.name.isascii()]
    assert dushanbe == [
        "OSCE Mission to Tajikistan",
        "OSCE Centre in Dushanbe",
        "OSCE Office in Tajikistan",
    ]
    skopje = {f.name: f for f in offices["mission-skopje"].former_names}
    assert skopje["OSCE Spillover Monitor Mission to Skopje"].until == "2010-12"
    assert offices["smm-ukraine"].status == "closed"
    assert offices["smm-ukraine"].name == "OSCE Special Monitoring Mission to Ukraine"
    assert offices["minsk-group"].closed == "2025-11-30"
    assert offices["office-minsk"].closed == "2011-03-31"


def test_closed_status_matches_closed_date() -> None:
    for office in TAXONOMY.offices.values():
        assert (office.status == "closed") == (office.closed is not None), office.id
        assert "(closed)" not in office.name


@pytest.mark.parametrize("label", ["PA", "PC", "MC", "SG", "OM", "CiO"])
def test_dangerous_short_office_labels_are_declared_only(label: str) -> None:
    owners = [o for o in TAXONOMY.offices.values() if label in o.declared_only]
    assert len(owners) == 1
    for office in TAXONOMY.offices.values():
        assert label not in office.aliases
        assert label not in office.abbreviations


def test_us_is_declared_only_for_the_united_states() -> None:
    usa = TAXONOMY.countries["us"]
    assert "US" in usa.declared_only
    assert "US" not in usa.abbreviations
    assert "USA" in usa.abbreviations


def test_every_field_operation_has_a_seat() -> None:
    for office in TAXONOMY.offices.values():
        if office.category == "field_operation" and office.id not in ("kvm", "mission-kosovo"):
            assert office.country in TAXONOMY.countries, office.id


def test_chairmanship_knows_the_chairing_states() -> None:
    chairs = {c.year: c.country for c in TAXONOMY.offices["chairpersonship"].chairs}
    assert chairs[2021] == "se"
    assert chairs[2010] == "kz"
    assert chairs[2025] == "fi"
    assert all(c in TAXONOMY.countries for c in chairs.values())


def test_office_ancestors() -> None:
    assert TAXONOMY.office_ancestors("tntd") == ["secretariat"]
    assert TAXONOMY.office_ancestors("bmsc") == ["po-dushanbe"]
    assert TAXONOMY.office_ancestors("odihr") == []


def test_provenance_lists_corrections_with_known_sources() -> None:
    provenance = TAXONOMY.provenance
    assert provenance.corrections
    entries = " ".join(c.entry for c in provenance.corrections)
    assert "offices/odihr" in entries
    assert "offices/office-zagreb" in entries
    for correction in provenance.corrections:
        assert set(correction.sources) <= set(provenance.sources)


def test_labels_are_unique_within_each_kind() -> None:
    seen: dict[str, str] = {}
    for office in TAXONOMY.offices.values():
        labels = [office.name, *office.aliases, *office.abbreviations, *office.declared_only]
        for label in [*labels, *(f.name for f in office.former_names)]:
            assert seen.setdefault(identity_key(label), office.id) == office.id, label


def test_date_bounds() -> None:
    assert date_bounds("2019", end=False) == date(2019, 1, 1)
    assert date_bounds("2019", end=True) == date(2019, 12, 31)
    assert date_bounds("2024-02", end=True) == date(2024, 2, 29)
    assert date_bounds("2010-12", end=True) == date(2010, 12, 31)
    assert date_bounds("2022-09-23", end=False) == date(2022, 9, 23)


def test_in_window_is_inclusive_and_open_ended() -> None:
    day = date(2019, 3, 15)
    assert in_window(day, None, None)
    assert in_window(day, "2019-03", "2019-03")  # a month covers all its days
    assert in_window(day, "2019", None)
    assert in_window(day, None, "2019-03-15")
    assert not in_window(day, "2019-03-16", None)
    assert not in_window(day, None, "2019-02")


def test_names_and_offices_use_the_same_date_window() -> None:
    office = TAXONOMY.offices["po-astana"]
    assert office.active_on(date(1998, 7, 23))
    assert not office.active_on(date(1998, 7, 22))
    (almaty, astana, *_) = office.former_names
    assert almaty.in_use_on(date(2007, 6, 21))
    assert astana.in_use_on(date(2007, 6, 21))
    assert not almaty.in_use_on(date(2007, 6, 22))


@pytest.mark.parametrize(
    ("kind", "label", "entry_id"),
    [
        ("office", "OSCE Programme Office in Nur-Sultan", "po-astana"),  # a former name
        ("office", "OSCE Center in Ashgabat", "centre-ashgabat"),  # a spelling variant
        ("office", "osce  office in zagreb (closed)", "office-zagreb"),
        ("office", "PC", "permanent-council"),  # an abbreviation
        ("office", "Nowhere Office", None),
        ("topic", "GENDER-EQUALITY", "gender-equality"),
        ("topic", "Cybersecurity", "cyber-ict"),  # an alias
        ("topic", "Economic", None),
        ("content_type", "News story", "news"),
        ("content_type", "Press releases", "press-release"),
        ("content_type", "Blog", None),
    ],
)
def test_declared_labels_resolve_through_the_taxonomy(
    kind: str, label: str, entry_id: str | None
) -> None:
    resolve = {
        "office": TAXONOMY.resolve_office,
        "topic": TAXONOMY.resolve_topic,
        "content_type": TAXONOMY.resolve_content_type,
    }[kind]
    assert resolve(label) == entry_id
    assert resolve(label) == entry_id  # again, from the memo


def test_label_lookup_is_built_once_on_first_use() -> None:
    taxonomy = parse_taxonomy(DEFAULT_PATH.read_bytes())
    assert taxonomy._labels == {}  # loading the taxonomy builds no lookup
    assert taxonomy.resolve_topic("Policing") == "policing"
    index = taxonomy._labels["topic"]
    assert taxonomy.resolve_topic("Gender equality") == "gender-equality"
    assert taxonomy._labels["topic"] is index
    assert list(taxonomy._labels) == ["topic"]


def test_label_key_takes_one_spelling() -> None:
    assert label_key("OSCE Centre in Almaty") == label_key("OSCE Center in Almaty")
    assert label_key("Co-operation Programme") == "cooperation program"
    assert label_key("Organisation (closed)") == "organization"


def test_strip_closed_suffix() -> None:
    assert strip_closed_suffix("OSCE Office in Zagreb (closed)") == "OSCE Office in Zagreb"
    assert strip_closed_suffix("Observer Mission (Discontinued)") == "Observer Mission"
    assert strip_closed_suffix("ODIHR") == "ODIHR"


# --------------------------------------------------------------------------- loader checks


def _raw() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    return data


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "taxonomy.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _office(data: dict[str, Any], office_id: str) -> dict[str, Any]:
    return next(o for o in data["offices"] if o["id"] == office_id)


def test_a_copy_of_the_file_loads(tmp_path: Path) -> None:
    assert load_taxonomy(_write(tmp_path, _raw())).offices.keys() == TAXONOMY.offices.keys()


def test_duplicate_ids_fail(tmp_path: Path) -> None:
    data = _raw()
    data["offices"].append(dict(_office(data, "odihr"), aliases=[], abbreviations=[]))
    with pytest.raises(TaxonomyError, match="duplicate office id 'odihr'"):
        load_taxonomy(_write(tmp_path, data))


def test_dangling_parent_fails(tmp_path: Path) -> None:
    data = _raw()
    _office(data, "tntd")["parent"] = "no-such-office"
    with pytest.raises(TaxonomyError, match="unknown parent office 'no-such-office'"):
        load_taxonomy(_write(tmp_path, data))


def test_dangling_country_fails(tmp_path: Path) -> None:
    data = _raw()
    _office(data, "mission-kosovo")["country"] = "xk"
    with pytest.raises(TaxonomyError, match="unknown country 'xk'"):
        load_taxonomy(_write(tmp_path, data))


def test_a_label_naming_two_offices_fails(tmp_path: Path) -> None:
    data = _raw()
    # Compared by identity key: case and punctuation do not make it a new label.
    _office(data, "hcnm")["aliases"].append("office for democratic institutions and human-rights")
    with pytest.raises(TaxonomyError, match="names both odihr and hcnm"):
        load_taxonomy(_write(tmp_path, data))


def test_unknown_fields_fail(tmp_path: Path) -> None:
    data = _raw()
    _office(data, "odihr")["nickname"] = "the Warsaw office"
    with pytest.raises(TaxonomyError, match="nickname"):
        load_taxonomy(_write(tmp_path, data))


def test_dates_must_be_iso(tmp_path: Path) -> None:
    data = _raw()
    _office(data, "office-yerevan")["closed"] = "2017 (MEM)"
    with pytest.raises(TaxonomyError, match="not an ISO date"):
        load_taxonomy(_write(tmp_path, data))


def test_closed_office_needs_a_date(tmp_path: Path) -> None:
    data = _raw()
    _office(data, "office-yerevan")["closed"] = None
    with pytest.raises(TaxonomyError, match="closed date"):
        load_taxonomy(_write(tmp_path, data))


def test_unknown_source_fails(tmp_path: Path) -> None:
    data = _raw()
    _office(data, "odihr")["sources"].append("S999")
    with pytest.raises(TaxonomyError, match="unknown source 'S999'"):
        load_taxonomy(_write(tmp_path, data))


def test_topic_parent_cycle_fails(tmp_path: Path) -> None:
    data = _raw()
    topics = {t["id"]: t for t in data["topics"]}
    topics["environmental-activities"]["level"] = "subtopic"
    topics["environmental-activities"]["parents"] = ["climate-change"]
    with pytest.raises(TaxonomyError, match="cycle"):
        load_taxonomy(_write(tmp_path, data))


# --------------------------------------------------------------------------- IPTC subject codes


def _iptc(data: dict[str, Any]) -> dict[str, Any]:
    section: dict[str, Any] = data["iptc_subjects"]
    return section


def test_a_file_without_iptc_codes_loads_and_resolves_no_code(tmp_path: Path) -> None:
    data = _raw()
    del data["iptc_subjects"]
    taxonomy = load_taxonomy(_write(tmp_path, data))
    assert taxonomy.subject_codes == {}
    assert taxonomy.resolve_topic("election (medtop:20000574)") is None
    assert taxonomy.resolve_topic("Elections") == "elections"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda s: s["codes"][0].update(topic="no-such-topic"), "unknown topic 'no-such-topic'"),
        (lambda s: s["codes"].append(dict(s["codes"][0])), "medtop:20000574: mapped twice"),
        (lambda s: s["codes"][0].update(code="medtop:2000057"), "String should match pattern"),
        (lambda s: s["codes"][0].update(code="dpa:20000574"), "String should match pattern"),
        (lambda s: s["codes"][0].update(sources=["S999"]), "unknown source 'S999'"),
        (lambda s: s["codes"][0].update(sources=[]), "at least 1 item"),
        (lambda s: s["codes"][0].update(label=""), "at least 1 character"),
        (lambda s: s["vocabularies"].pop("subj"), "no vocabulary for scheme 'subj'"),
        (lambda s: s["vocabularies"].update(medtop="S999"), "medtop: unknown source 'S999'"),
        (lambda s: s["vocabularies"].update(geo="S1"), "vocabularies"),
    ],
)
def test_a_bad_iptc_mapping_fails(tmp_path: Path, change: Any, error: str) -> None:
    data = _raw()
    change(_iptc(data))
    with pytest.raises(TaxonomyError, match=error):
        load_taxonomy(_write(tmp_path, data))
