"""The duplicate check (PRO-05), one function for every creation and every import row:
is this person already a patient or a prospect?"""

import datetime as dt
from collections.abc import Iterable

from peewee import fn

from nest_desktop.db.models import Patient, PatientPhone, Prospect, ProspectPhone
from nest_desktop.domain import patients as rules
from nest_desktop.domain import phones
from nest_desktop.domain.dates import parse_date
from nest_desktop.domain.messages import _

PATIENT, PROSPECT = "patient", "prospect"
# A phone shared by more records than this is junk (the clinic's own number typed by
# mistake) and says nothing about who a person is.
JUNK_PHONE_THRESHOLD = 5
MAX_PHONES = 3
_FOUND_LIMIT = 200


def prefix_range(column, text: str):
    """Values starting with `text`: an index range rather than LIKE, portable and served by
    the index on every database (as-you-type searches)."""
    return (column >= text) & (column < text + "\uffff")


def clean_phones(raw_numbers: Iterable[str], errors: dict[str, str]) -> list[str]:
    """The numbers typed, in E.164 without repeats; a message per bad one ('phone_0'…)."""
    numbers: list[str] = []
    for index, raw in enumerate(raw_numbers):
        if not raw.strip():
            continue
        try:
            number = phones.normalize(raw)
        except ValueError as error:
            errors[f"phone_{index}"] = str(error)
            continue
        if number not in numbers:
            numbers.append(number)
    if len(numbers) > MAX_PHONES:
        errors["phone_0"] = _("At most three phone numbers.")
    return numbers


def typed_phones(raw_numbers: Iterable[str]) -> list[str]:
    """The numbers of a form that can be read, the others left out (for the check only)."""
    numbers = []
    for raw in raw_numbers:
        try:
            numbers.append(phones.normalize(raw))
        except ValueError:
            continue
    return numbers


def typed_date(text: str) -> dt.date | None:
    try:
        return parse_date(text) if (text or "").strip() else None
    except ValueError:
        return None


def _records(model, phone_model, owner_field, kind: str, e164_numbers: list[str],
             birth_date: dt.date | None, exclude_id: int | None):
    conditions = []
    if e164_numbers:
        conditions.append(model.id.in_(phone_model.select(owner_field)
                                       .where(phone_model.e164.in_(e164_numbers))))
    if birth_date:
        conditions.append(model.birth_date == birth_date)
    if not conditions:
        return [], {}
    where = conditions[0] if len(conditions) == 1 else conditions[0] | conditions[1]
    if exclude_id is not None:
        where &= model.id != exclude_id
    found = list(model.select(model.id, model.first_names, model.last_name, model.birth_date)
                 .where(where).limit(_FOUND_LIMIT).tuples())
    numbers: dict[int, list[str]] = {}
    if found:
        for owner_id, e164 in (phone_model.select(owner_field, phone_model.e164)
                               .where(owner_field.in_([row[0] for row in found])).tuples()):
            numbers.setdefault(owner_id, []).append(e164)
    uses = dict(phone_model.select(phone_model.e164, fn.COUNT(phone_model.id))
                .where(phone_model.e164.in_(e164_numbers)).group_by(phone_model.e164)
                .tuples()) if e164_numbers else {}
    records = [rules.PersonRecord(kind, record_id, f"{first} {last}".strip(), born,
                                  tuple(numbers.get(record_id, ())))
               for record_id, first, last, born in found]
    return records, uses


def existing_people(full_name: str, birth_date: dt.date | None, e164_numbers: list[str],
                    kinds: tuple[str, ...] = (PATIENT, PROSPECT),
                    exclude: tuple[str, int] | None = None,
                    also: Iterable[rules.PersonRecord] = ()
                    ) -> list[rules.DuplicateCandidate]:
    """Who may already be this person: patients first, then prospects (PRO-05).

    Found by a shared phone, or by the birth date with a similar name. `also`: people not
    stored yet (earlier rows of an import)."""
    existing: list[rules.PersonRecord] = list(also)
    uses: dict[str, int] = {}
    sources = {PATIENT: (Patient, PatientPhone, PatientPhone.patient),
               PROSPECT: (Prospect, ProspectPhone, ProspectPhone.prospect)}
    for kind in kinds:
        model, phone_model, owner_field = sources[kind]
        exclude_id = exclude[1] if exclude and exclude[0] == kind else None
        records, counted = _records(model, phone_model, owner_field, kind, e164_numbers,
                                    birth_date, exclude_id)
        existing += records
        for number, count in counted.items():
            uses[number] = uses.get(number, 0) + count
    junk = frozenset(number for number, count in uses.items() if count > JUNK_PHONE_THRESHOLD)
    return rules.find_duplicates(full_name, birth_date, e164_numbers, existing, junk)
