"""Answering the phone (procedure 004): what a caller asks, how a call ends, the hold
prompts, the transfer phrase and the appointments' rules. Pure: no Qt, no database."""

import datetime as dt

from nest_desktop.domain.messages import N_, _
from nest_desktop.domain.text import fold

# What the caller wants (TEL-03). The qualified ones make or feed a prospect (PRO-02).
REQUEST_TYPES = {
    "appointment": N_("Appointment"),
    "information": N_("Information"),
    "quote": N_("Quote or prices"),
    "programme": N_("NEST programme"),
    "message": N_("Message for someone"),
    "other": N_("Other"),
}
QUALIFIED_REQUESTS = frozenset({"appointment", "quote", "programme"})

# How a call ends (TEL-03 to TEL-08). The last two leave a request open until dealt with
# the same day (TEL-08).
ANSWERED, TRANSFERRED, MESSAGE, CALL_BACK_LATER, UNRESOLVED, LOST = (
    "answered", "transferred", "message", "call_back_later", "unresolved", "lost")
OUTCOMES = {
    ANSWERED: N_("Answered"),
    TRANSFERRED: N_("Transferred"),
    MESSAGE: N_("Message taken"),
    CALL_BACK_LATER: N_("Will call back later"),
    UNRESOLVED: N_("Unresolved"),
    LOST: N_("She hung up / line lost"),
}
UNSATISFIED = frozenset({CALL_BACK_LATER, UNRESOLVED})


def left_open(outcome: str, phone: str) -> bool:
    """A call that leaves something to do today: a request not satisfied, or a line lost
    whose number is known (she is called back)."""
    return outcome in UNSATISFIED or (outcome == LOST and bool(phone))
# What is said before hanging up (procedure 004: "salue l'appelant puis raccroche").
CLOSING_WORDS = {
    ANSWERED: N_("Thank you for calling, have a good day. Goodbye."),
    TRANSFERRED: N_("I am putting you through now. Have a good day."),
    MESSAGE: N_("Your message will be passed on today. Thank you for calling, goodbye."),
    CALL_BACK_LATER: N_("Thank you, we look forward to your call. Goodbye."),
    UNRESOLVED: N_("We will call you back today. Thank you for calling, goodbye."),
}
# What an outgoing follow-up call's attempt becomes in the register.
OUTGOING_OUTCOMES = {"reached": ANSWERED, "no_answer": UNRESOLVED,
                     "call_back_later": CALL_BACK_LATER, "wrong_number": UNRESOLVED,
                     "declined": ANSWERED}
DIRECTIONS = {"in": N_("Incoming"), "out": N_("Outgoing")}

DIRECTORY_KINDS = {"service": N_("A service"), "person": N_("A person")}

# The hold (TEL-06): the line is taken back after 30 seconds, then every minute.
HOLD_FIRST_PROMPT_SECONDS = 30
HOLD_PROMPT_EVERY_SECONDS = 60
HOLD_CHOICES = {
    "keep_waiting": N_("She keeps waiting"),
    "call_back_later": N_("She will call back later"),
    "leave_message": N_("She leaves a message"),
}

APPOINTMENT_STATUSES = {
    "booked": N_("Booked"),
    "attended": N_("Attended"),
    "missed": N_("Missed"),
    "cancelled": N_("Cancelled"),
}
APPOINTMENT_DURATIONS = (15, 20, 30, 45, 60, 90, 120)
# How far ahead an appointment can be booked, and how far back one can still be typed in
# (a visit booked on paper during a power cut).
BOOKING_HORIZON_DAYS = 366
BOOKING_BACKFILL_DAYS = 7

MESSAGE_CONFIRMATIONS = {"recipient": N_("By the recipient"),
                         "secretary": N_("By the secretary who delivered it")}


def hold_prompt_at(prompts_shown: int) -> int:
    """Seconds after the hold began when the next prompt is due: 30, 90, 150…"""
    return HOLD_FIRST_PROMPT_SECONDS + prompts_shown * HOLD_PROMPT_EVERY_SECONDS


def hold_prompts_due(held_seconds: float) -> int:
    """How many prompts the secretary should have had after `held_seconds` on hold."""
    if held_seconds < HOLD_FIRST_PROMPT_SECONDS:
        return 0
    return 1 + int((held_seconds - HOLD_FIRST_PROMPT_SECONDS) // HOLD_PROMPT_EVERY_SECONDS)


def said_as(kind: str, name: str) -> str:
    """How a directory entry is named in the transfer phrase when the clinic gave nothing
    else (it can: 'la maternité'): 'Service des admissions' -> 'le service des admissions',
    'Pédiatrie' -> 'le service de pédiatrie', 'Échographie' -> 'le service d'échographie';
    a person by her name."""
    name = " ".join(name.split())
    if kind != "service" or not name:
        return name
    lowered = name[0].lower() + name[1:]
    if fold(lowered).startswith("service"):
        return "le " + lowered
    elision = fold(lowered)[:1] in "aeiouyh"
    return "le service " + ("d'" if elision else "de ") + lowered



def transfer_phrase(said: str) -> str:
    """What to say before transferring (TEL-05)."""
    return _("One moment please, I am putting you through to {who}, please stay on the "
             "line.").format(who=said)


def appointment_problem(starts_at: dt.datetime, duration_minutes: int,
                        now: dt.datetime) -> dict[str, str]:
    """Why an appointment cannot be booked at this moment: field -> message."""
    errors = {}
    if starts_at < now - dt.timedelta(days=BOOKING_BACKFILL_DAYS):
        errors["starts_at"] = _("An appointment more than a week ago cannot be booked.")
    elif starts_at > now + dt.timedelta(days=BOOKING_HORIZON_DAYS):
        errors["starts_at"] = _("An appointment is booked at most a year ahead.")
    if duration_minutes not in APPOINTMENT_DURATIONS:
        errors["duration"] = _("Choose a duration from the list.")
    return errors


def overlaps(start: dt.datetime, minutes: int, other_start: dt.datetime,
             other_minutes: int) -> bool:
    end = start + dt.timedelta(minutes=minutes)
    other_end = other_start + dt.timedelta(minutes=other_minutes)
    return start < other_end and other_start < end


def week_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of the week holding `day`."""
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=6)
