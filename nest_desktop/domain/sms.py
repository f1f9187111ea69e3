"""SMS: what fits in a message (GSM-7 or UCS-2, parts), the clinic's templates and their
placeholders, and when a reminder goes (PAT-01, PAT-11). Pure rules, no sending here."""

import datetime as dt
import math
import re
import string
from dataclasses import dataclass

from babel import dates as babel_dates

from nest_desktop.domain.messages import N_, _
from nest_desktop.domain.text import elide

# The kinds of messages in the outbox.
APPOINTMENT = "appointment"
CONFIRMATION = "confirmation"  # of an appointment, when it is booked or moved
VACCINE = "vaccine"
NEWSLETTER = "newsletter"
OTHER = "other"
KINDS = {
    APPOINTMENT: N_("Appointment reminder"),
    CONFIRMATION: N_("Appointment confirmation"),
    VACCINE: N_("Vaccine reminder"),
    NEWSLETTER: N_("Newsletter"),
    OTHER: N_("Other"),
}

# The states of a message; `sending` is held only while a transport has it.
SCHEDULED = "scheduled"
SENDING = "sending"
SENT = "sent"
DELIVERED = "delivered"
FAILED = "failed"
CANCELLED = "cancelled"
STATES = {
    SCHEDULED: N_("Scheduled"),
    SENDING: N_("Sending"),
    SENT: N_("Sent"),
    DELIVERED: N_("Delivered to the phone"),
    FAILED: N_("Failed"),
    CANCELLED: N_("Cancelled"),
}
PENDING_STATES = (SCHEDULED, SENDING)

LANGUAGES = {"fr": N_("French"), "en": N_("English")}
DEFAULT_LANGUAGE = "fr"

# ---------------------------------------------------------------------------------------------
# GSM 03.38: the basic alphabet counts one septet a character, the extension table two; any
# other character turns the whole message into UCS-2.
# The basic table in code order (0x1B is the escape to the extension table).
_GSM7_TABLE = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
               "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM7_EXTENSION = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C,
                   "~": 0x3D, "]": 0x3E, "|": 0x40, "€": 0x65}
GSM7_BASIC = frozenset(_GSM7_TABLE) - {"\x1b"}
GSM7_EXTENDED = frozenset(_GSM7_EXTENSION)

# French typography and accents outside GSM-7, replaced where the meaning is kept: a curly
# apostrophe or a guillemet would halve the room of every part (70 characters, not 160).
_GSM7_EQUIVALENTS = {
    "’": "'", "‘": "'", "‚": "'", "ʼ": "'", "`": "'", "´": "'",
    "“": '"', "”": '"', "„": '"', "«": '"', "»": '"',
    "…": "...", "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-",
    "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\t": " ",
    "œ": "oe", "Œ": "OE",
    "â": "a", "á": "a", "ã": "a", "À": "A", "Â": "A", "Á": "A",
    "ê": "e", "ë": "e", "È": "E", "Ê": "E", "Ë": "E",
    "î": "i", "ï": "i", "í": "i", "Î": "I", "Ï": "I",
    "ô": "o", "ó": "o", "õ": "o", "Ô": "O",
    "û": "u", "ú": "u", "Ù": "U", "Û": "U",
    "ç": "c", "ÿ": "y",
}

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


def to_gsm7(text: str) -> str:
    """The text with its typography replaced by GSM-7 equivalents; other characters kept.
    « guillemets » lose their inner spaces: "guillemets"."""
    text = re.sub(r"«[\s\u00a0\u202f]*", "«", re.sub(r"[\s\u00a0\u202f]*»", "»", text))
    return "".join(_GSM7_EQUIVALENTS.get(ch, ch) for ch in text)


def gsm7_bytes(text: str) -> bytes:
    """The text in the GSM default alphabet, one byte a septet (a modem's text mode with
    AT+CSCS="GSM"). Raises ValueError for a character outside it."""
    out = bytearray()
    for ch in text:
        if ch in _GSM7_EXTENSION:
            out += bytes((0x1B, _GSM7_EXTENSION[ch]))
        elif ch in GSM7_BASIC:
            out.append(_GSM7_TABLE.index(ch))
        else:
            raise ValueError(f"not in the GSM alphabet: {ch!r}")
    return bytes(out)


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text)


@dataclass(frozen=True)
class Length:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (an extension character counts two) or UTF-16 units
    parts: int
    left: int  # room left in the last part
    foreign: str  # the characters that forced UCS-2, once each

    def describe(self) -> str:
        if self.encoding == "GSM-7":
            return _("{units} characters, {parts} SMS ({left} left)").format(
                units=self.units, parts=self.parts, left=self.left)
        return _("{units} characters, {parts} SMS ({left} left): special characters "
                 "{foreign} halve the room of each SMS").format(
            units=self.units, parts=self.parts, left=self.left, foreign=self.foreign)


def length(text: str) -> Length:
    """How long a message is once encoded, and in how many SMS it goes."""
    if is_gsm7(text):
        units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        single, part, encoding, foreign = GSM7_SINGLE, GSM7_PART, "GSM-7", ""
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part, encoding = UCS2_SINGLE, UCS2_PART, "UCS-2"
        foreign = "".join(dict.fromkeys(
            ch for ch in text if ch not in GSM7_BASIC and ch not in GSM7_EXTENDED))
    parts = 1 if units <= single else math.ceil(units / part)
    room = single if parts == 1 else parts * part
    return Length(encoding, units, parts, room - units, foreign)


# ---------------------------------------------------------------------------------------------
# Templates: the clinic writes them with {placeholders}; the text is made at send time.
PLACEHOLDERS = {
    "prenom": N_("first name of the person receiving the SMS"),
    "prenom_enfant": N_("the child's first name"),
    "date_heure": N_("date and time in words: mardi 24 novembre à 10 h 30"),
    "date": N_("date in words: mardi 24 novembre"),
    "heure": N_("time: 10 h 30"),
    "service": N_("the service or practitioner of the appointment"),
    "vaccin": N_("the vaccine due"),
    "site": N_("the site's name"),
    "tel_site": N_("the site's phone number"),
}
PLACEHOLDERS_OF = {
    APPOINTMENT: ("prenom", "date_heure", "date", "heure", "service", "site", "tel_site"),
    CONFIRMATION: ("prenom", "date_heure", "date", "heure", "service", "site", "tel_site"),
    VACCINE: ("prenom", "prenom_enfant", "vaccin", "date", "site", "tel_site"),
    NEWSLETTER: ("prenom", "site", "tel_site"),
    OTHER: ("prenom", "site", "tel_site"),
}
TEMPLATE_KINDS = (CONFIRMATION, APPOINTMENT, VACCINE)
APPOINTMENT_KINDS = (APPOINTMENT, CONFIRMATION)

DEFAULT_TEMPLATES = {
    APPOINTMENT: {
        "fr": "Bonjour {prenom}, rappel : rendez-vous ({service}) le {date_heure}, {site}. "
              "Empêchement : {tel_site}",
        "en": "Hello {prenom}, reminder: appointment ({service}) on {date_heure}, {site}. "
              "Cannot come? Call {tel_site}",
    },
    CONFIRMATION: {
        "fr": "Bonjour {prenom}, votre rendez-vous ({service}) est pris pour le {date_heure}, "
              "{site}. Empêchement : {tel_site}",
        "en": "Hello {prenom}, your appointment ({service}) is booked for {date_heure}, "
              "{site}. Cannot come? Call {tel_site}",
    },
    VACCINE: {
        "fr": "Bonjour {prenom}, vaccination de {prenom_enfant} prévue le {date} ({vaccin}). "
              "{site} : {tel_site}",
        "en": "Hello {prenom}, {prenom_enfant}'s vaccination is due on {date} ({vaccin}). "
              "{site}: {tel_site}",
    },
}


class TemplateProblem(ValueError):
    """A template that cannot be rendered; the message says why, for the user."""


def template_problem(template: str, kind: str) -> str | None:
    """Why `template` cannot be used for messages of `kind`, or None."""
    if not template.strip():
        return _("Write the text of the message.")
    allowed = PLACEHOLDERS_OF[kind]
    try:
        fields = [name for _text, name, _spec, _conv in string.Formatter().parse(template)
                  if name is not None]
    except ValueError:
        return _("A brace is not closed: placeholders are written {prenom}.")
    for name in fields:
        if name not in allowed:
            return _("Unknown placeholder {{{name}}}: use {names}.").format(
                name=name, names=", ".join("{" + n + "}" for n in allowed))
    return None


def render(template: str, values: dict[str, str]) -> str:
    """The message from its template, made fit for GSM-7 and with spaces tidied. A text that
    stays UCS-2 all the same (a name in Wolof's ŋ) keeps its accents and typography: they
    cost nothing more there."""
    try:
        text = elide(template, values).format_map(values)
    except (KeyError, ValueError, IndexError) as error:
        raise TemplateProblem(_("This template cannot be used: {error}").format(
            error=error)) from error
    plain = to_gsm7(text)
    text = re.sub(r"\s*\(\s*\)", "", plain if is_gsm7(plain) else text)  # "({service})"
    return re.sub(r" {2,}", " ", text).strip()


def date_in_words(value: dt.date, language: str) -> str:
    """'mardi 24 novembre' / 'Tuesday 24 November'."""
    return babel_dates.format_date(value, "EEEE d MMMM", locale=_locale(language))


def time_in_words(value: dt.time, language: str) -> str:
    """'10 h 30', '10 h' / '10:30'."""
    if language == "fr":
        return f"{value.hour} h {value.minute:02d}" if value.minute else f"{value.hour} h"
    return f"{value.hour}:{value.minute:02d}"


def when_in_words(value: dt.datetime, language: str) -> str:
    """'mardi 24 novembre à 10 h 30' / 'Tuesday 24 November at 10:30'."""
    link = "à" if language == "fr" else "at"
    return f"{date_in_words(value.date(), language)} {link} {time_in_words(value.time(), language)}"


def _locale(language: str) -> str:
    return "fr_SN" if language == "fr" else "en"


# ---------------------------------------------------------------------------------------------
# When reminders go.
@dataclass(frozen=True)
class Timing:
    """The clinic's SMS settings that decide when a message goes (Settings > SMS)."""

    appointment_eve_at: dt.time = dt.time(18, 0)  # the day before the appointment
    appointment_morning: bool = False  # also the morning of the appointment
    appointment_morning_at: dt.time = dt.time(7, 30)
    appointment_confirmation: bool = True  # an SMS when it is booked or moved
    vaccine_days_before: int = 2
    vaccine_at: dt.time = dt.time(9, 0)
    opens_at: dt.time = dt.time(7, 0)  # no SMS before…
    closes_at: dt.time = dt.time(20, 0)  # …nor after: never at night
    late_hours: int = 6  # a reminder not sent this long after its moment is cancelled
    vaccine_horizon_days: int = 30  # doses due within this many days get their reminders


@dataclass(frozen=True)
class Reminder:
    occurrence: str  # with the record and the kind, what makes a reminder unique
    scheduled_at: dt.datetime
    expires_at: dt.datetime  # not sent after this: cancelled as too late


def appointment_reminders(starts_at: dt.datetime, timing: Timing) -> list[Reminder]:
    """The day before at the set hour, and optionally the same morning; none after the start.

    The occurrence names the appointment's time, so a moved appointment is reminded again
    for its new time even if the old time's reminder went.
    """
    stamp = starts_at.strftime("%Y%m%d%H%M")
    late = dt.timedelta(hours=timing.late_hours)
    moments = [("eve", dt.datetime.combine(starts_at.date() - dt.timedelta(days=1),
                                           timing.appointment_eve_at))]
    if timing.appointment_morning:
        moments.append(("morning", dt.datetime.combine(starts_at.date(),
                                                       timing.appointment_morning_at)))
    return [Reminder(f"{stamp}:{name}", moment, min(moment + late, starts_at))
            for name, moment in moments if moment < starts_at]


def appointment_confirmation(starts_at: dt.datetime, booked_at: dt.datetime,
                             timing: Timing) -> Reminder | None:
    """The SMS saying an appointment was booked (or moved): at once, within the sending
    hours; none when it would reach her after the appointment, or within the hour before
    (the morning reminder's job)."""
    if not timing.appointment_confirmation:
        return None
    moment = next_opening(booked_at, timing)
    expires = min(moment + dt.timedelta(hours=timing.late_hours),
                  starts_at - dt.timedelta(hours=1))
    if expires <= moment:
        return None
    return Reminder(f"{starts_at:%Y%m%d%H%M}:booked", moment, expires)


def vaccine_reminders(due: dt.date, timing: Timing) -> list[Reminder]:
    """N days before a vaccination day and on the day, each until the end of its day at most.
    The doses due on one day share their reminders: one SMS names them all."""
    late = dt.timedelta(hours=timing.late_hours)
    moments = [("day", due)]
    if timing.vaccine_days_before > 0:
        moments.insert(0, ("before", due - dt.timedelta(days=timing.vaccine_days_before)))
    reminders = []
    for name, day in moments:
        moment = dt.datetime.combine(day, timing.vaccine_at)
        end_of_day = dt.datetime.combine(day, dt.time(23, 59))
        reminders.append(Reminder(f"{due:%Y%m%d}:{name}", moment,
                                  min(moment + late, end_of_day)))
    return reminders


def may_send_at(moment: dt.datetime, timing: Timing) -> bool:
    """Within the sending hours: never at night."""
    return timing.opens_at <= moment.time() < timing.closes_at


def next_opening(moment: dt.datetime, timing: Timing) -> dt.datetime:
    """The first moment from `moment` within the sending hours."""
    if may_send_at(moment, timing):
        return moment
    day = moment.date() if moment.time() < timing.opens_at else moment.date() + dt.timedelta(1)
    return dt.datetime.combine(day, timing.opens_at)


# A failure the transport may get over (no network, modem busy, provider error) is retried
# after these delays; after the last, the message is failed with the reason.
RETRY_MINUTES = (1, 5, 15, 60, 180)


def retry_at(attempts: int, moment: dt.datetime) -> dt.datetime | None:
    """When to try again after `attempts` failed tries, or None: give up."""
    if attempts > len(RETRY_MINUTES):
        return None
    return moment + dt.timedelta(minutes=RETRY_MINUTES[attempts - 1])


def timing_problems(timing: Timing) -> dict[str, str]:
    """What is wrong with the settings, by field."""
    problems = {}
    if timing.opens_at >= timing.closes_at:
        problems["closes_at"] = _("The sending hours end after they start.")
    for field, moment in (("appointment_eve_at", timing.appointment_eve_at),
                          ("appointment_morning_at", timing.appointment_morning_at),
                          ("vaccine_at", timing.vaccine_at)):
        if not timing.opens_at <= moment < timing.closes_at:
            problems[field] = _("Choose a time within the sending hours.")
    if not 0 <= timing.vaccine_days_before <= 14:
        problems["vaccine_days_before"] = _("Between 0 and 14 days.")
    if not 1 <= timing.late_hours <= 48:
        problems["late_hours"] = _("Between 1 and 48 hours.")
    return problems


# A delivery report as Kannel sends it to its `dlr-url` (`%d`, the bits of its `dlr-mask`):
# 1 delivered to the phone, 2 not delivered to the phone, 4 waiting at the operator, 8 taken
# by the operator, 16 refused by the operator.
DELIVERED_TO_PHONE, NOT_DELIVERED, REFUSED_BY_OPERATOR = 1, 2, 16


def delivery_outcome(code: str) -> bool | None:
    """True when a report says the message reached the phone, False when it never will,
    None when it says nothing final (waiting, taken by the operator, unreadable)."""
    try:
        value = int(str(code).strip())
    except ValueError:
        return None
    if value & DELIVERED_TO_PHONE:
        return True
    if value & (NOT_DELIVERED | REFUSED_BY_OPERATOR):
        return False
    return None
