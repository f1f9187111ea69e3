import pytest

from nest_desktop.domain import phones


@pytest.mark.parametrize("raw", [
    "77 123 45 67", "+221 77 123 45 67", "00221771234567", "771234567", "77-123-45-67",
    "221771234567", " 77.123.45.67 ",
])
def test_normalize_accepts_every_written_form(raw):
    assert phones.normalize(raw) == "+221771234567"


def test_normalize_fixed_line_and_foreign_numbers():
    assert phones.normalize("33 860 10 10") == "+221338601010"
    assert phones.normalize("+33 6 12 34 56 78") == "+33612345678"


@pytest.mark.parametrize("raw, message", [
    ("7712345", "9\u00a0chiffres"),
    ("7712345678", "9\u00a0chiffres"),
    ("77 12a 45 67", "chiffres"),
    ("", "Saisissez"),
])
def test_normalize_rejects_with_a_french_message(raw, message):
    with pytest.raises(ValueError) as error:
        phones.normalize(raw)
    assert message in str(error.value)


def test_display_national_for_senegal_international_otherwise():
    assert phones.display("+221771234567") == "77 123 45 67"
    assert phones.display("+33612345678") == "+33 6 12 34 56 78"


@pytest.mark.parametrize("raw, digits", [
    ("77 12", "7712"), ("+221 77 12", "7712"), ("00221 77 123", "77123"),
    ("221771234567", "771234567"), ("77", "77"), ("7", ""),
])
def test_search_digits(raw, digits):
    assert phones.search_digits(raw) == digits


def test_looks_like_phone():
    assert phones.looks_like_phone("+221 77 123")
    assert not phones.looks_like_phone("Diop")
    assert not phones.looks_like_phone("12/03/1990")
