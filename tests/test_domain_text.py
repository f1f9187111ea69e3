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

