"""The duplicate check (PRO-05), one function for every creation and every import row:
is this person already a patient or a prospect?"""

import datetime as dt
from collections.abc import Iterable

from nest_desktop.db.models import FamilyLink, Patient, PatientPhone, Prospect, ProspectPhone
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


_SOURCES = {PATIENT: (Patient, PatientPhone, PatientPhone.patient),
            PROSPECT: (Prospect, ProspectPhone, ProspectPhone.prospect)}
_CHUNK = 500


def _chunks(values: list, size: int = _CHUNK):
    for start in range(0, len(values), size):
        yield values[start:start + size]


class KnownPeople:
    """The patients and prospects that people may be (PRO-05), read at once for all of
    them by their phones and birth dates: one person typed in a form, or every row of an
    import (a few queries instead of a few per row)."""

    def __init__(self, e164_numbers: Iterable[str], birth_dates: Iterable[dt.date | None],
                 kinds: tuple[str, ...] = (PATIENT, PROSPECT),
                 exclude: tuple[str, int] | None = None):
        numbers = sorted(set(e164_numbers))
        dates = sorted({day for day in birth_dates if day})
        self._by_number: dict[str, list[rules.PersonRecord]] = {}
        self._by_birth: dict[dt.date, list[rules.PersonRecord]] = {}
        uses: dict[str, int] = {}
        for kind in kinds:
            model, phone_model, owner_field = _SOURCES[kind]
            owners: set[int] = set()
            for chunk in _chunks(numbers):
                for number, owner in (phone_model.select(phone_model.e164, owner_field)
                                      .where(phone_model.e164.in_(chunk)).tuples()):
                    owners.add(owner)
                    uses[number] = uses.get(number, 0) + 1
            for chunk in _chunks(dates):
                owners.update(row[0] for row in model.select(model.id)
                              .where(model.birth_date.in_(chunk)).limit(_FOUND_LIMIT * len(chunk))
                              .tuples())
            if exclude and exclude[0] == kind:
                owners.discard(exclude[1])
            self._index(kind, model, phone_model, owner_field, sorted(owners), set(numbers),
                        set(dates))
        self.junk = frozenset(n for n, count in uses.items() if count > JUNK_PHONE_THRESHOLD)

    def _index(self, kind, model, phone_model, owner_field, owners: list[int],
               numbers: set[str], dates: set[dt.date]) -> None:
        for chunk in _chunks(owners):
            phones_of: dict[int, list[str]] = {}
            for owner, e164 in (phone_model.select(owner_field, phone_model.e164)
                                .where(owner_field.in_(chunk)).tuples()):
                phones_of.setdefault(owner, []).append(e164)
            parents = parent_names(chunk) if kind == PATIENT else {}
            for record_id, first, last, born in (
                    model.select(model.id, model.first_names, model.last_name,
                                 model.birth_date).where(model.id.in_(chunk)).tuples()):
                record = rules.PersonRecord(kind, record_id, f"{first} {last}".strip(), born,
                                            tuple(phones_of.get(record_id, ())),
                                            parents.get(record_id, ""))
                for number in numbers & set(record.phones):
                    self._by_number.setdefault(number, []).append(record)
                if born in dates:
                    self._by_birth.setdefault(born, []).append(record)

    def candidates(self, full_name: str, birth_date: dt.date | None, e164_numbers: list[str],
                   also: Iterable[rules.PersonRecord] = ()) -> list[rules.DuplicateCandidate]:
        """Who may already be this person: patients first, then prospects. `also`: people
        not stored yet (earlier rows of an import)."""
        existing: list[rules.PersonRecord] = list(also)
        seen: set[tuple[str, int]] = set()
        found = [record for number in e164_numbers for record in self._by_number.get(number, ())]
        found += self._by_birth.get(birth_date, []) if birth_date else []
        for record in found:
            if (record.kind, record.record_id) not in seen:
                seen.add((record.kind, record.record_id))
                existing.append(record)
        return rules.find_duplicates(full_name, birth_date, e164_numbers, existing, self.junk)


def parent_names(patient_ids: Iterable[int]) -> dict[int, str]:
    """child -> her first parent's name ('Fatou Ndiaye'), for the children among these."""
    found: dict[int, str] = {}
    ids = list(patient_ids)
    for chunk in _chunks(ids):
        for child_id, first, last in (
                FamilyLink.select(FamilyLink.child, Patient.first_names, Patient.last_name)
                .join(Patient, on=FamilyLink.parent == Patient.id)
                .where(FamilyLink.child.in_(chunk)).order_by(FamilyLink.id).tuples()):
            found.setdefault(child_id, f"{first} {last}".strip())
    return found


def existing_people(full_name: str, birth_date: dt.date | None, e164_numbers: list[str],
                    kinds: tuple[str, ...] = (PATIENT, PROSPECT),
                    exclude: tuple[str, int] | None = None,
                    also: Iterable[rules.PersonRecord] = ()
                    ) -> list[rules.DuplicateCandidate]:
    """Who may already be this person: patients first, then prospects (PRO-05).

    Found by a shared phone, or by the birth date with a similar name. `also`: people not
    stored yet (earlier rows of an import)."""
    return KnownPeople(e164_numbers, [birth_date], kinds, exclude).candidates(
        full_name, birth_date, e164_numbers, also)
