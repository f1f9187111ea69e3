"""What a patient file holds and the rules its fields obey (PAT-02)."""

import datetime as dt
import re
from dataclasses import dataclass, field

from nest_desktop.domain import clock
from nest_desktop.domain.dates import age_in_years
from nest_desktop.domain.messages import N_, _
from nest_desktop.domain.text import fold, similar_names, words

MAX_AGE_YEARS = 120
NAME_MAX_LENGTH = 100

SEXES = {"F": N_("Female"), "M": N_("Male")}

# Where a new patient comes from, to reconcile with prospects (PAT-02).
PROVENANCES = {
    "facebook": N_("Facebook"),
    "instagram": N_("Instagram"),
    "website": N_("Website"),
    "word_of_mouth": N_("Word of mouth"),
    "event": N_("NEST event"),
    "free_care": N_("Free care offer"),
    "referring_doctor": N_("Referring doctor"),
    "walk_in": N_("Walk-in"),
    "other": N_("Other"),
}

# The reason for the visit assigns a standard pathway (parcours-type).
PATHWAYS = {
    "none": N_("No pathway"),
    "pregnancy": N_("Pregnancy"),
    "gynaecology": N_("Gynaecology"),
    "paediatrics": N_("Paediatrics"),
    "postnatal": N_("Post-natal"),
}
# After a birth the mother is in the post-natal pathway until the post-natal consultation
# (6 to 8 weeks, REFERENCE.md), then without a pathway (PAT-04).
POSTNATAL_WEEKS = 8
PATHWAY_CHANGE_REASONS = {
    "file": N_("Changed on her file"),
    "pregnancy": N_("Pregnancy followed"),
    "birth": N_("Birth"),
    "pregnancy_ended": N_("Pregnancy ended"),
    "postnatal_over": N_("End of the post-natal period"),
}

# The NEST mothers' group (PAT-06): WhatsApp or Facebook, offered when the pathway starts and
# at 36 weeks "si ce n'est déjà fait".
MOTHERS_GROUP_STATUSES = {
    "invited": N_("Invited (link sent)"),
    "joined": N_("Member"),
    "declined": N_("Declined"),
    "left": N_("Left the group"),
}
MOTHERS_GROUP_CHANNELS = {"whatsapp": N_("WhatsApp"), "facebook": N_("Facebook")}

# Words of a reason for the visit and the standard pathway they propose (PAT-02, PAT-04).
_PATHWAY_WORDS = {
    "pregnancy": ("grossesse", "enceinte", "prenatal", "prénatal", "echographie", "échographie",
                  "terme", "accouchement", "ddr", "aménorrhée", "amenorrhee"),
    "paediatrics": ("pediatr", "pédiatr", "bebe", "bébé", "enfant", "nourrisson", "vaccin"),
    "gynaecology": ("gyneco", "gynéco", "contracept", "frottis", "sterilet", "stérilet",
                    "regles", "règles", "menopause", "ménopause"),
}


def proposed_pathway(visit_reason: str) -> str | None:
    """The standard pathway a reason for the visit points to ('Suivi de grossesse' ->
    pregnancy); None when it points to none."""
    folded = fold(visit_reason)
    for pathway, stems in _PATHWAY_WORDS.items():
        if any(fold(stem) in folded for stem in stems):
            return pathway
    return None


CONTACT_CHANNELS = {
    "sms": N_("SMS"),
    "whatsapp": N_("WhatsApp"),
    "email": N_("Email"),
    "facebook": N_("Facebook"),
}

# What the intake interview gives and collects (PAT-02).
INTAKE_ITEMS = {
    "intake_tariffs_given": N_("Tariffs, coverage and financial conditions given"),
    "intake_pathways_given": N_("NEST pathways and services presented"),
    "intake_file_complete": N_("Patient file complete"),
    "intake_provenance_collected": N_("Provenance collected"),
}

FAMILY_RELATIONS = {
    "mother": N_("Mother"),
    "father": N_("Father"),
    "guardian": N_("Guardian"),
}

# Whom a call about a child asks for: "Am I speaking with Omar's mother?" ({of_child} is
# French's "de Fatou" / "d'Omar").
ASKED_FOR = {
    "mother": N_("the mother of {child}"),
    "father": N_("the father of {child}"),
    "guardian": N_("the guardian of {child}"),
}


def french_of(name: str) -> str:
    """'de Fatou', 'd’Omar', 'd’Hawa': the French 'of' before a first name."""
    return ("d’" if fold(name)[:1] in "aeiouyh" else "de ") + name

# The timeline of a file: every contact, whatever its channel.
INTERACTION_CHANNELS = {
    "phone": N_("Phone"),
    "visit": N_("Visit"),
    "sms": N_("SMS"),
    "whatsapp": N_("WhatsApp"),
    "email": N_("Email"),
    "facebook": N_("Facebook"),
    "instagram": N_("Instagram"),
    "other": N_("Other"),
}
INTERACTION_DIRECTIONS = {
    "incoming": N_("From the patient"),
    "outgoing": N_("To the patient"),
    "internal": N_("Internal note"),
}

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def validate_name(value: str, required: bool = True) -> str | None:
    """The message for a bad name, or None."""
    text = (value or "").strip()
    if not text:
        return _("The name is required.") if required else None
    if len(text) > NAME_MAX_LENGTH:
        return _("A name has at most 100 characters.")
    if any(ch.isdigit() for ch in text):
        return _("A name contains no digits.")
    return None


def validate_birth_date(birth_date: dt.date | None, today: dt.date) -> str | None:
    if birth_date is None:
        return None
    if birth_date > today:
        return _("The birth date cannot be in the future.")
    if age_in_years(birth_date, today) > MAX_AGE_YEARS:
        return _("The birth date is more than 120 years ago.")
    return None


def validate_email(value: str) -> str | None:
    text = (value or "").strip()
    if text and not _EMAIL.match(text):
        return _("This email address is not valid (example: awa.diop@example.sn).")
    return None


def validate_first_visit(first_visit: dt.date | None, birth_date: dt.date | None,
                         today: dt.date) -> str | None:
    if first_visit is None:
        return None
    if first_visit > today:
        return _("The first visit cannot be in the future.")
    if birth_date and first_visit < birth_date:
        return _("The first visit cannot be before the birth date.")
    return None


@dataclass(frozen=True)
class PersonRecord:
    """What the duplicate check knows of an existing person."""

    kind: str  # "patient" (and "prospect" once prospects exist)
    record_id: int
    full_name: str
    birth_date: dt.date | None
    phones: tuple[str, ...] = ()
    parent_name: str = ""  # a child's: "Fatou Ndiaye", said as "child of Fatou Ndiaye"


ADULT_YEARS = 15  # who answers the phone herself; younger ones take a parent's number


def name_rank(wanted: str, found: str) -> int:
    """How well a name found matches the one given: 0 the same (accents, case and order
    aside), 1 similar, 2 not at all (or no name given)."""
    if not words(wanted):
        return 2
    if sorted(words(wanted)) == sorted(words(found)):
        return 0
    return 1 if similar_names(wanted, found) else 2


def is_child(birth_date: dt.date | None, today: dt.date) -> bool:
    return birth_date is not None and age_in_years(birth_date, today) < ADULT_YEARS


def person_order(wanted_name: str, found_name: str, birth_date: dt.date | None,
                 kind: str, today: dt.date) -> tuple:
    """Who is shown first among the people a number or a name may be: the one whose name
    matches exactly, then a similar one; an adult before a child (a mother's number is on
    her babies' files too); a patient before a prospect."""
    return (name_rank(wanted_name, found_name), is_child(birth_date, today),
            kind != "patient")


@dataclass(frozen=True)
class DuplicateCandidate:
    record: PersonRecord
    reasons: tuple[str, ...] = field(default_factory=tuple)  # "phone", "birth_date_and_name"


def find_duplicates(full_name: str, birth_date: dt.date | None, phones: list[str],
                    existing: list[PersonRecord],
                    junk_phones: frozenset[str] = frozenset(),
                    today: dt.date | None = None) -> list[DuplicateCandidate]:
    """Who among `existing` may already be this person (PRO-05).

    A shared phone (E.164) is enough, unless it is junk (shared by too many records, like the
    clinic's own number typed by mistake); a birth date is enough only with a similar name.
    The same name first, then a similar one; adults before children (who share a parent's
    number); patients before prospects, since an interaction goes on the patient (PRO-05).
    """
    wanted_phones = {p for p in phones if p not in junk_phones}
    candidates = []
    for record in existing:
        reasons = []
        if wanted_phones & set(record.phones):
            reasons.append("phone")
        if birth_date and record.birth_date == birth_date and similar_names(
            full_name, record.full_name
        ):
            reasons.append("birth_date_and_name")
        if reasons:
            candidates.append(DuplicateCandidate(record, tuple(reasons)))
    today = today or clock.today()
    candidates.sort(key=lambda c: (*person_order(full_name, c.record.full_name,
                                                 c.record.birth_date, c.record.kind, today),
                                   -len(c.reasons), c.record.full_name))
    return candidates
