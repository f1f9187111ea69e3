import datetime as dt

import pytest

from nest_desktop.domain import patients as rules
from nest_desktop.domain.dates import age_in_years, parse_date
from nest_desktop.domain.text import fold, similar_names, words

TODAY = dt.date(2026, 11, 23)


def test_fold_and_words_ignore_accents_and_case():
    assert fold("Ndèye Aïssatou") == "ndeye aissatou"
    assert words("N'Diaye  Ndèye-Fatou") == ["n", "diaye", "ndeye", "fatou"]


def test_similar_names():
    assert similar_names("Fatou Diop", "Diop Fatou Binetou")
    assert similar_names("Aïssatou Ndiaye", "Aissatou Ndiay")
    assert not similar_names("Awa Sarr", "Mariama Ba")


@pytest.mark.parametrize("text, expected", [
    ("23/11/2026", dt.date(2026, 11, 23)), ("3.2.1990", dt.date(1990, 2, 3)),
    ("2026-11-23", dt.date(2026, 11, 23)), ("01/01/95", dt.date(1995, 1, 1)),
    ("01/01/20", dt.date(2020, 1, 1)),
])
def test_parse_date(text, expected):
    assert parse_date(text, today=TODAY) == expected


@pytest.mark.parametrize("text", ["31/02/2020", "hier", "2020"])
def test_parse_date_rejects(text):
    with pytest.raises(ValueError):
        parse_date(text, today=TODAY)


def test_age_in_years():
    assert age_in_years(dt.date(2000, 11, 24), TODAY) == 25
    assert age_in_years(dt.date(2000, 11, 23), TODAY) == 26


def test_birth_date_rules():
    assert rules.validate_birth_date(dt.date(2027, 1, 1), TODAY) == (
        "La date de naissance ne peut pas être dans le futur.")
    assert "120" in rules.validate_birth_date(dt.date(1900, 1, 1), TODAY)
    assert rules.validate_birth_date(dt.date(1990, 1, 1), TODAY) is None


def test_name_rules():
    assert rules.validate_name("  ") == "Le nom est obligatoire."
    assert rules.validate_name("Awa2") is not None
    assert rules.validate_name("x" * 101) is not None
    assert rules.validate_name("Ndèye Fatou") is None


def test_find_duplicates_by_phone_or_birth_date_with_similar_name():
    existing = [
        rules.PersonRecord("patient", 1, "Awa Diop", dt.date(1990, 5, 1), ("+221771234567",)),
        rules.PersonRecord("patient", 2, "Fatou Sarr", dt.date(1990, 5, 1), ()),
        rules.PersonRecord("patient", 3, "Mariama Ba", dt.date(1985, 1, 1), ("+221770000000",)),
    ]
    found = rules.find_duplicates("Awa Diop", dt.date(1990, 5, 1), ["+221771234567"], existing)
    assert [(c.record.record_id, c.reasons) for c in found] == [
        (1, ("phone", "birth_date_and_name"))]
    # Same birth date but another name: not the same person.
    assert rules.find_duplicates("Khady Fall", dt.date(1990, 5, 1), [], existing) == []
    # A junk number (shared by many records) is not a reason.
    assert rules.find_duplicates("Khady Fall", None, ["+221770000000"], existing,
                                 junk_phones=frozenset({"+221770000000"})) == []


def test_the_reason_for_the_visit_proposes_the_standard_pathway():
    from nest_desktop.domain.patients import proposed_pathway

    assert proposed_pathway("Suivi de grossesse") == "pregnancy"
    assert proposed_pathway("ECHOGRAPHIE de datation") == "pregnancy"
    assert proposed_pathway("Vaccination du bébé") == "paediatrics"
    assert proposed_pathway("Pose de stérilet") == "gynaecology"
    assert proposed_pathway("Renseignements") is None
