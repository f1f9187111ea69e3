"""Phone numbers: stored in E.164, shown the way Senegal writes them, found however typed."""

import re

import phonenumbers

from nest_desktop.domain.messages import _

DEFAULT_REGION = "SN"
_NON_DIALABLE = re.compile(r"[^\d+]")


def normalize(raw: str, region: str = DEFAULT_REGION) -> str:
    """'77 123 45 67', '+221 77 123 45 67', '00221771234567' -> '+221771234567'.

    Raises ValueError with a message for the user when the number cannot be a real one.
    """
    text = (raw or "").strip()
    if not text:
        raise ValueError(_("Enter a phone number."))
    if re.search(r"[A-Za-z]", text):
        raise ValueError(_("A phone number contains only digits, spaces and '+'."))
    dialable = _NON_DIALABLE.sub("", text)
    if dialable.startswith("00"):
        dialable = "+" + dialable[2:]
    try:
        number = phonenumbers.parse(dialable, region)
    except phonenumbers.NumberParseException as error:
        raise ValueError(_("This phone number is not complete or not valid.")) from error
    if not phonenumbers.is_valid_number(number):
        if number.country_code == 221:
            raise ValueError(
                _("A Senegalese number has 9 digits, for example 77 123 45 67.")
            )
        raise ValueError(_("This phone number is not complete or not valid."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display(e164: str) -> str:
    """'+221771234567' -> '77 123 45 67'; a foreign number in its international form."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code == 221:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def national_digits(e164: str) -> str:
    """The digits a secretary would type for this number: '+221771234567' -> '771234567'."""
    number = phonenumbers.parse(e164, None)
    return phonenumbers.national_significant_number(number)


def search_digits(raw: str) -> str:
    """The digits to look for when part of a number is typed, in any written form.

    '+221 77 12' -> '7712'; '00221 77…' and '221 77…' likewise; '77 123' -> '77123'.
    Returns '' when the text holds fewer than 2 digits, too few to search on.
    """
    text = (raw or "").strip()
    digits = re.sub(r"\D", "", text)
    if text.startswith("+") and digits.startswith("221"):
        digits = digits[3:]
    elif digits.startswith("00221"):
        digits = digits[5:]
    elif digits.startswith("221") and len(digits) > 9:
        digits = digits[3:]
    return digits if len(digits) >= 2 else ""


def looks_like_phone(text: str) -> bool:
    """Whether a search text is a (partial) phone number rather than a name or a date."""
    stripped = (text or "").strip()
    return bool(stripped) and re.fullmatch(r"[\d\s+\-.()]+", stripped) is not None and (
        "/" not in stripped
    )
