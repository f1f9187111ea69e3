"""French typography, the one helper every printed and shown text goes through."""

import pytest

from nest_desktop.domain.text import NBSP, NNBSP, typeset


@pytest.mark.parametrize(("typed", "set_"), [
    ("Répondu : 1", f"Répondu{NBSP}: 1"),
    ("Un doute ? Appelez ; merci !", f"Un doute{NNBSP}? Appelez{NNBSP}; merci{NNBSP}!"),
    ("« Lettre d'information »", f"«{NBSP}Lettre d’information{NBSP}»"),
    ("«Bonjour»", f"«{NBSP}Bonjour{NBSP}»"),
    ("7 000 FCFA", f"7{NBSP}000{NBSP}FCFA"),
    ("3 200 g", f"3{NBSP}200{NBSP}g"),
    ("Fièvre de 38 °C", f"Fièvre de 38{NBSP}°C"),
    ("Tél. +221 77 123 45 67", f"Tél.{NBSP}+221{NBSP}77{NBSP}123{NBSP}45{NBSP}67"),
    ("le 29 nov. 2026 à 04 h 35", f"le 29{NBSP}nov.{NBSP}2026{NBSP}à 04{NBSP}h{NBSP}35"),
    ("aujourd'hui", "aujourd’hui"),
    ("23/11/2026 09:30", "23/11/2026 09:30"),
    ("1 234 567 FCFA", f"1{NBSP}234{NBSP}567{NBSP}FCFA"),
])
def test_french_typography(typed, set_):
    assert typeset(typed) == set_
    assert typeset(set_) == set_  # set once is set for good


@pytest.mark.parametrize("left_alone", [
    "Answered: 1", "10:30", "https://chat.whatsapp.com/Nest?x=1", "'end_of_day'",
    "<font color='#b00020'>", "", "Appels et messages",
])
def test_what_is_not_french_punctuation_is_left_alone(left_alone):
    assert typeset(left_alone) == left_alone


def test_markup_is_not_touched_but_the_text_around_it_is():
    assert typeset("<b>Note :</b> l'eau <font color='red'>bouillie</font>") == (
        f"<b>Note{NBSP}:</b> l’eau <font color='red'>bouillie</font>")



@pytest.mark.parametrize(("name", "expected"), [
    ("Abdoulaye", "Vaccins d’Abdoulaye le 3 mars"),
    ("Aïssatou", "Vaccins d’Aïssatou le 3 mars"),
    ("Ousmane", "Vaccins d’Ousmane le 3 mars"),
    ("Moussa", "Vaccins de Moussa le 3 mars"),
    ("Yacine", "Vaccins de Yacine le 3 mars"),  # a consonant here
    ("Hawa", "Vaccins de Hawa le 3 mars"),
    ("<b>Awa</b>", "Vaccins d’<b>Awa</b> le 3 mars"),
    ("", "Vaccins de  le 3 mars"),
])
def test_de_is_elided_before_a_name_that_starts_with_a_vowel(name, expected):
    from nest_desktop.domain.text import fill_in

    assert fill_in("Vaccins de {child} le {day}", child=name, day="3 mars") == expected


def test_elision_changes_the_junction_only_never_the_name():
    from nest_desktop.domain.text import elide, fill_in

    assert fill_in("Fiche de {name}", name="de Oliveira Awa") == "Fiche de de Oliveira Awa"
    assert fill_in("Je dis que {name} viendra", name="Awa") == "Je dis qu’Awa viendra"
    assert elide("rendez-vous de {prenom}", {}) == "rendez-vous de {prenom}"


def test_the_sms_elides_and_stays_in_gsm7():
    from nest_desktop.domain import sms

    text = sms.render(sms.DEFAULT_TEMPLATES[sms.VACCINE]["fr"], {
        "prenom": "Awa", "prenom_enfant": "Abdoulaye", "date": "mardi 1er décembre",
        "vaccin": "RR", "site": "Clinique Nest", "tel_site": "33 860 10 10"})
    assert "vaccination d'Abdoulaye prévue" in text
    assert sms.is_gsm7(text)
