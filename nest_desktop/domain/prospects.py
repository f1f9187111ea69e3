"""Prospects (procedure PO06-PR0001): who counts as a qualified prospect, what follows an
answer, and the conversion figures."""

import datetime as dt
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from nest_desktop.domain.messages import N_

# How the person first showed interest (PRO-01).
CHANNELS = {
    "phone": N_("Phone call"),
    "visit": N_("Visit at the clinic"),
    "email": N_("Email"),
    "website": N_("Website contact form"),
    "facebook": N_("Facebook"),
    "instagram": N_("Instagram"),
    "event": N_("NEST event"),
    "free_care": N_("Free care offer"),
    "canvassing": N_("Canvassing by NEST"),
}
# Requests that arrive in writing are centralised by the prospect manager (PRO-04).
WRITTEN_CHANNELS = frozenset({"email", "website"})

# Only these make a qualified prospect (PRO-02).
QUALIFICATIONS = {
    "appointment": N_("Appointment request"),
    "quote": N_("Quote or prices"),
    "programme": N_("NEST programme information"),
}
# What follows the answer (PRO-06): the follow-up rule to schedule, or nothing.
FOLLOW_UP_AFTER_ANSWER = {"appointment": None, "quote": "prospect_callback",
                          "programme": "prospect_callback"}

NEW, ANSWERED, TO_CALL_BACK, CONVERTED, LOST, NOT_INTERESTED = (
    "new", "answered", "to_call_back", "converted", "lost", "not_interested")
STATUSES = {
    NEW: N_("New: to answer"),
    ANSWERED: N_("Answered"),
    TO_CALL_BACK: N_("To call back"),
    CONVERTED: N_("Became a patient"),
    LOST: N_("Lost"),
    NOT_INTERESTED: N_("No longer interested"),
}
CLOSED_STATUSES = frozenset({CONVERTED, LOST, NOT_INTERESTED})

LOST_REASONS = {
    "price": N_("Too expensive"),
    "elsewhere": N_("Chose another clinic"),
    "distance": N_("Too far away"),
    "unreachable": N_("Never reachable"),
    "timing": N_("Not the right time"),
    "other": N_("Other reason"),
}

# The patient file's provenance a prospect's channel gives when she becomes a patient.
PROVENANCE_OF_CHANNEL = {"website": "website", "facebook": "facebook",
                         "instagram": "instagram", "event": "event",
                         "free_care": "free_care", "email": "website"}

# What a secretary records after a callback or the one-month review reached her.
CALL_RESULTS = {
    "interested": N_("Still interested"),
    "not_interested": N_("No longer interested"),
    "lost": N_("Lost (give the reason)"),
}
REVIEW_RESULTS = {
    "call_back": N_("Still interested: call her back in a week"),
    "not_interested": N_("No longer interested"),
    "lost": N_("Lost (give the reason)"),
}


def status_after_answer(qualification: str) -> str:
    return TO_CALL_BACK if FOLLOW_UP_AFTER_ANSWER.get(qualification) else ANSWERED


@dataclass(frozen=True)
class ProspectFact:
    """What the conversion report knows of one prospect."""

    created_on: dt.date
    channel: str
    qualification: str
    converted_on: dt.date | None


@dataclass(frozen=True)
class ConversionLine:
    group: str
    prospects: int
    converted: int

    @property
    def rate(self) -> float:
        return self.converted / self.prospects if self.prospects else 0.0


def conversion_by(facts: Iterable[ProspectFact],
                  key: Callable[[ProspectFact], str]) -> list[ConversionLine]:
    """Prospects and conversions per group, in the groups' order."""
    totals: dict[str, list[int]] = {}
    for fact in facts:
        counts = totals.setdefault(key(fact), [0, 0])
        counts[0] += 1
        counts[1] += fact.converted_on is not None
    return [ConversionLine(group, total, converted)
            for group, (total, converted) in sorted(totals.items())]


def days_to_conversion(facts: Iterable[ProspectFact]) -> float | None:
    """The median number of days from first contact to becoming a patient."""
    days = [(fact.converted_on - fact.created_on).days for fact in facts if fact.converted_on]
    return statistics.median(days) if days else None


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"
