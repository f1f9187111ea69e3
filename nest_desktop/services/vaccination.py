"""Child follow-up: a child's vaccination plan, the doses given, her calendar, and the list of
children with doses due (PAT-11)."""

import datetime as dt
import heapq
import json
from array import array
from dataclasses import dataclass

from peewee import JOIN, Case, IntegrityError

from nest_desktop.db.models import (
    ChildDueState,
    FamilyLink,
    Patient,
    PatientPhone,
    Site,
    VaccinationPlan,
    VaccineDose,
    database,
)
from nest_desktop.domain import clock
from nest_desktop.domain import vaccination as rules
from nest_desktop.domain.dates import age_in_years, parse_date
from nest_desktop.domain.messages import N_, _
from nest_desktop.services import (
    ValidationFailed,
    as_date,
    audit,
    check_characters,
    hold_rows,
    hooks,
    ids_of,
    rows_in,
    session,
    settings,
)

CHILD_MAX_AGE = 16  # HPV ends at 15: past this age a patient is no longer followed here
PLACES = {"nest": N_("At NEST"), "elsewhere": N_("Elsewhere")}


@dataclass(frozen=True)
class ParentContact:
    patient_id: int
    full_name: str
    relation: str
    phones: tuple[str, ...]  # E.164
    sms_consent: bool
    preferred_channel: str


@dataclass(frozen=True)
class ChildCalendar:
    patient: Patient
    schedule: str
    version: rules.ScheduleVersion
    optional: tuple[str, ...]
    doses: list[rules.Dose]
    records: dict[tuple[str, int], VaccineDose]
    parents: list[ParentContact]


def is_child(patient: Patient, today: dt.date | None = None) -> bool:
    return bool(patient.birth_date) and age_in_years(
        patient.birth_date, today or clock.today()) < CHILD_MAX_AGE


def plan_of(patient_id: int) -> tuple[str, tuple[str, ...]]:
    plan = VaccinationPlan.get_or_none(VaccinationPlan.patient == patient_id)
    if plan is None:
        return rules.DEFAULT_SCHEDULE, ()
    return plan.schedule, tuple(json.loads(plan.optional_vaccines))


def set_plan(patient_id: int, schedule: str, optional: tuple[str, ...] = ()) -> None:
    session.require("vaccination.write")
    data = rules.schedules()
    errors = {}
    if schedule not in data.schedules:
        errors["schedule"] = _("Choose a schedule from the list.")
    unknown = set(optional) - set(data.optional_vaccines())
    if unknown:
        errors["optional"] = _("Unknown optional vaccine: {codes}").format(
            codes=", ".join(sorted(unknown)))
    if errors:
        raise ValidationFailed(errors)
    encoded = json.dumps(sorted(optional))
    old_schedule, old_optional = plan_of(patient_id)
    with database.atomic():
        updated = (VaccinationPlan.update(schedule=schedule, optional_vaccines=encoded,
                                          updated_at=clock.now())
                   .where(VaccinationPlan.patient == patient_id).execute())
        if not updated:
            VaccinationPlan.create(patient=patient_id, schedule=schedule,
                                   optional_vaccines=encoded)
        session.log("update", "vaccination_plan", patient_id, audit.diff(
            {"schedule": old_schedule, "optional": sorted(old_optional)},
            {"schedule": schedule, "optional": sorted(optional)}), patient_id=patient_id)
        hooks.child_doses_changed.call(patient_id)


def parents_of(patient_id: int) -> list[ParentContact]:
    parents = list(Patient.select(Patient, FamilyLink.relation)
                   .join(FamilyLink, on=FamilyLink.parent == Patient.id)
                   .where(FamilyLink.child == patient_id)
                   .order_by(FamilyLink.id).objects())  # as linked: the same on every server
    numbers: dict[int, list[str]] = {}
    for row in (PatientPhone.select(PatientPhone.patient, PatientPhone.e164)
                .where(PatientPhone.patient.in_([p.id for p in parents]))
                .order_by(PatientPhone.position)):
        numbers.setdefault(row.patient_id, []).append(row.e164)
    return [ParentContact(p.id, p.full_name, p.relation, tuple(numbers.get(p.id, ())),
                          p.sms_consent, p.preferred_channel) for p in parents]


def child_calendar(patient_id: int, today: dt.date | None = None) -> ChildCalendar:
    patient = Patient.get_by_id(patient_id)
    if patient.birth_date is None:
        raise ValidationFailed({"birth_date": _(
            "The vaccination calendar needs the child's birth date.")})
    schedule, optional = plan_of(patient_id)
    records = {(r.vaccine, r.dose): r
               for r in VaccineDose.select().where(VaccineDose.patient == patient_id)}
    given = {key: record.given_on for key, record in records.items()}
    doses = rules.calendar(patient.birth_date, schedule, given, sex=patient.sex,
                           optional=optional, today=today)
    version = rules.schedules().version_for(schedule, patient.birth_date)
    return ChildCalendar(patient, schedule, version, optional, doses, records,
                         parents_of(patient_id))


@dataclass(frozen=True)
class GivenDose:
    """One dose of a visit, with the product and the lot on its box."""

    vaccine: str
    dose: int
    product: str = ""
    lot: str = ""


def record_dose(patient_id: int, vaccine: str, dose: int, given_on: str, product: str = "",
                lot: str = "", place: str = "nest", site_id: int | None = None,
                user_id: int | None = None, today: dt.date | None = None) -> VaccineDose:
    """Records a dose given; the following doses of the vaccine move if it was late."""
    try:
        [record] = record_visit(patient_id, [GivenDose(vaccine, dose, product, lot)], given_on,
                                place, site_id, user_id, today)
    except ValidationFailed as failed:
        raise ValidationFailed({name.removeprefix("0:"): message
                                for name, message in failed.errors.items()}) from None
    return record


def record_visit(patient_id: int, doses: list[GivenDose], given_on: str,
                 place: str = "nest", site_id: int | None = None, user_id: int | None = None,
                 today: dt.date | None = None) -> list[VaccineDose]:
    """The doses given at one visit (the 6-week visit is four vaccines), all or none; the
    following doses of each vaccine move if it was late. Errors of a dose are keyed by its
    place in `doses`: '0:dose', '1:lot'."""
    session.require("vaccination.write")
    today = today or clock.today()
    calendar = child_calendar(patient_id, today)
    errors = {}
    if not doses:
        errors["doses"] = _("Tick the doses given.")
    in_calendar = {(d.vaccine, d.dose) for d in calendar.doses}
    for index, given in enumerate(doses):
        if (given.vaccine, given.dose) not in in_calendar:
            errors[f"{index}:dose"] = _("This dose is not in the child's calendar.")
        elif (given.vaccine, given.dose) in calendar.records:
            errors[f"{index}:dose"] = _("This dose is already recorded.")
        elif any(other.vaccine == given.vaccine for other in doses[:index]):
            errors[f"{index}:dose"] = _("Two doses of one vaccine are not given the same day.")
        check_characters(errors, **{f"{index}:lot": given.lot + given.product})
        if len(given.lot.strip()) > 50 or len(given.product.strip()) > 100:
            errors[f"{index}:lot"] = _("The product has at most 100 characters and the lot 50.")
    try:
        date = parse_date(given_on, today)
    except ValueError as error:
        errors["given_on"] = str(error)
    else:
        if date > today:
            errors["given_on"] = _("A dose cannot be given in the future.")
        elif date < calendar.patient.birth_date:
            errors["given_on"] = _("A dose cannot be given before the birth date.")
    if place not in PLACES:
        errors["place"] = _("Choose where the dose was given.")
    if errors:
        raise ValidationFailed(errors)
    records = []
    try:
        with database.atomic():
            records = _write_doses(patient_id, doses, date, place, site_id, user_id, today)
    except IntegrityError:  # the same dose recorded meanwhile on another desk
        raise ValidationFailed({"0:dose" if len(doses) == 1 else "doses": _(
            "This dose was recorded on another workstation at the same moment: the file "
            "shows it now.")}) from None
    return records


def _write_doses(patient_id: int, doses: list[GivenDose], date: dt.date, place: str,
                 site_id: int | None, user_id: int | None, today: dt.date) -> list[VaccineDose]:
    records = []
    for given in doses:
        values = {"patient": patient_id, "vaccine": given.vaccine, "dose": given.dose,
                  "given_on": date, "product": given.product.strip(),
                  "lot": given.lot.strip(), "place": place,
                  "site": site_id if place == "nest" else None, "recorded_by": user_id}
        record = VaccineDose.create(**values)
        session.log("create", "vaccine_dose", record.id, audit.diff({}, values),
                    patient_id=patient_id)
        records.append(record)
    # the reminders of this day go if the day's doses are all given; later ones move
    hooks.child_doses_changed.call(patient_id, dt.datetime.combine(today, clock.now().time()))
    return records


def remove_dose(record_id: int) -> None:
    session.require("vaccination.write")
    record = VaccineDose.get_or_none(VaccineDose.id == record_id)
    if record is None:
        return
    with database.atomic():
        VaccineDose.delete().where(VaccineDose.id == record_id).execute()
        session.log("delete", "vaccine_dose", record_id, audit.diff(
            {"patient": record.patient_id, "vaccine": record.vaccine, "dose": record.dose,
             "given_on": record.given_on, "lot": record.lot}, {}),
            patient_id=record.patient_id)
        hooks.child_doses_changed.call(record.patient_id)


@dataclass(frozen=True)
class DueRow:
    """A child to call or remind, with the doses to give."""

    patient_id: int
    child_name: str
    birth_date: dt.date
    site_name: str
    doses: tuple[rules.Dose, ...]  # overdue first, then by due date
    contact_phone: str  # E.164: her parent's main number, else the child's own
    sms_consent: bool  # of whoever has that number
    contact_id: int | None = None  # the patient whose number it is: the child or her parent
    site_id: int | None = None

    @property
    def first_due(self) -> dt.date:
        return min(d.due for d in self.doses)

    @property
    def overdue(self) -> bool:
        return any(d.status == rules.OVERDUE for d in self.doses)


def youngest_birth(today: dt.date) -> dt.date:
    """The earliest birth date of a child still followed here (a margin of a month)."""
    return dt.date(today.year - CHILD_MAX_AGE, today.month, 1)


def _state_is_current() -> bool:
    return settings.get(STATE_KEY) == rules.due_state_fingerprint()


# a kept state's columns, in domain.vaccination.DueState's order
_STATE_COLUMNS = (ChildDueState.computed_on, ChildDueState.next_scheduled,
                  ChildDueState.overdue_from, ChildDueState.recheck_on,
                  ChildDueState.next_reminder_on)


@dataclass(frozen=True)
class DueChildren:
    """The children of a due list in its order, without their calendars: the page shows
    them as it scrolls (`due_rows`)."""

    ids: array  # patient ids, overdue first, then by first due date and name
    overdue: int


def due_children(within_days: int = 7, site_id: int | None = None,
                 today: dt.date | None = None) -> DueChildren:
    """The children with doses overdue or due within `within_days`, in the list's order:
    one indexed query on the kept due states, whatever the number of children followed.
    A state no longer valid today (or all of them, before the first maintenance pass) is
    computed here, read-only."""
    today = today or clock.today()
    horizon = today + dt.timedelta(days=within_days)
    youngest = youngest_birth(today)
    if not _state_is_current():
        keys = _computed_keys(_children_ids(today, site_id), today, horizon)
        keys.sort()
        return DueChildren(array("q", (key[-1] for key in keys)),
                           sum(1 for key in keys if not key[0]))
    # The states valid today, ordered by the database from this table alone (a site's by
    # its index on both): the list's order is the DueRow's, computed from the state.
    valid = ((ChildDueState.computed_on <= today)
             & (ChildDueState.recheck_on.is_null() | (ChildDueState.recheck_on > today))
             & (ChildDueState.birth_date >= youngest))
    if site_id is not None:
        valid &= ChildDueState.site == site_id
    late = Case(None, [(ChildDueState.overdue_from <= today, 0)], 1)
    first_due = Case(None, [(ChildDueState.next_scheduled < today, today)],
                     ChildDueState.next_scheduled)
    fresh = list(database.execute(
        ChildDueState.select(late, first_due, ChildDueState.sort_name, ChildDueState.patient)
        .where(valid & (ChildDueState.next_scheduled <= horizon))
        .order_by(late, first_due, ChildDueState.sort_name, ChildDueState.patient)))
    # Those that today made stale (a few, after the day's pass none) are computed and
    # merged in their place.
    # (found by their own indexes, whatever the site: a site's filter would walk its index)
    stale = _computed_keys(ids_of(ChildDueState.select(ChildDueState.patient).where(
        ((ChildDueState.computed_on > today) | (ChildDueState.recheck_on <= today))
        & (ChildDueState.birth_date >= youngest))), today, horizon, site_id)
    if stale:
        stale.sort()
        fresh = list(heapq.merge(
            [(bool(overdue), as_date(day), name, patient_id)
             for overdue, day, name, patient_id in fresh], stale))
    return DueChildren(array("q", (row[-1] for row in fresh)),
                       sum(1 for row in fresh if not row[0]))


def _computed_keys(ids: list[int], today: dt.date, horizon: dt.date,
                   site_id: int | None = None) -> list[tuple]:
    """The list's order keys of these children (of a site's), from their calendars."""
    keys = []
    for start in range(0, len(ids), CHUNK):
        for child, doses in _calendars(ids[start:start + CHUNK], today):
            if site_id is not None and child[5] != site_id:
                continue
            state = rules.due_state(doses, today)
            if state.listed(horizon):
                keys.append(_order_key(child[0], state, today, _sort_name(*child[1:3])))
    return keys


def _sort_name(first_names: str, last_name: str) -> str:
    return f"{first_names} {last_name}"  # as DueRow's child_name


def reminder_children(within_days: int, today: dt.date | None = None,
                      after: dt.date | None = None) -> list[int]:
    """The children with a dose scheduled on a day from today to `within_days` ahead (whose
    SMS reminders are to write), and perhaps a few more; from the kept states. With `after`,
    only those whose next such day comes after it (and those whose state today made stale):
    the days that came within the horizon since a pass that reached `after`."""
    today = today or clock.today()
    horizon = today + dt.timedelta(days=within_days)
    if not _state_is_current():
        return _children_ids(today)
    upcoming = ChildDueState.next_reminder_on <= horizon
    if after is not None:
        upcoming &= ChildDueState.next_reminder_on > after
    found = []
    for patient_id, *columns in database.execute(
            ChildDueState.select(ChildDueState.patient, *_STATE_COLUMNS)
            .where(upcoming | (ChildDueState.computed_on > today)
                   | (ChildDueState.recheck_on <= today))
            .where(ChildDueState.birth_date >= youngest_birth(today))):
        state = rules.DueState(*map(as_date, columns))
        if not state.valid_on(today) or state.reminded(horizon):
            found.append(patient_id)
    return found


def _order_key(patient_id: int, state: rules.DueState, today: dt.date, sort_name: str
               ) -> tuple:
    # as DueRow's order: overdue first, then by the first due day and name
    return (not state.overdue(today), state.first_due(today), sort_name, patient_id)


def _children_ids(today: dt.date, site_id: int | None = None) -> list[int]:
    query = Patient.select(Patient.id).where(Patient.birth_date >= youngest_birth(today))
    if site_id is not None:
        query = query.where(Patient.site == site_id)
    return ids_of(query)


def due_rows(ids, within_days: int = 7, today: dt.date | None = None) -> dict[int, DueRow]:
    """The rows of these children (a page of `due_children`), by id."""
    today = today or clock.today()
    horizon = today + dt.timedelta(days=within_days)
    rows = {}
    ids = list(ids)
    for start in range(0, len(ids), CHUNK):
        for row in _due_rows(ids[start:start + CHUNK], today, horizon):
            rows[row.patient_id] = row
    return rows


def due_list(within_days: int = 7, site_id: int | None = None,
             today: dt.date | None = None, child_ids: list[int] | None = None
             ) -> list[DueRow]:
    """Doses overdue or due within `within_days`, for the calls and SMS of the day; of every
    child followed (the children listed by their kept states), or of `child_ids`.

    The children are read by chunks (children, plans, doses, parents, phones: a few queries a
    chunk) and only the rows to show are kept, so that memory stays flat however many
    children the clinic follows; the calendars themselves are pure computation.
    """
    today = today or clock.today()
    horizon = today + dt.timedelta(days=within_days)
    ids = due_children(within_days, site_id, today).ids if child_ids is None else child_ids
    rows = []
    for start in range(0, len(ids), CHUNK):
        rows.extend(_due_rows(list(ids[start:start + CHUNK]), today, horizon))
    # as due_children orders them: two children of one name by their file, on any server
    rows.sort(key=lambda r: (not r.overdue, r.first_due, r.child_name, r.patient_id))
    return rows


CHUNK = 2000
STATE_KEY = "vaccination.due_state"  # the fingerprint the kept states were computed with


def _calendars(ids: list[int], today: dt.date) -> list[tuple[tuple, list[rules.Dose]]]:
    """Each child's (id, first names, last name, birth, site name, site id) and calendar."""
    children = list(rows_in(
        Patient.select(Patient.id, Patient.first_names, Patient.last_name, Patient.birth_date,
                       Patient.sex, Site.name, Patient.site)
        .join(Site, JOIN.LEFT_OUTER, on=Patient.site == Site.id)
        .where(Patient.birth_date.is_null(False)), Patient.id, ids))
    plans = {patient_id: (schedule, tuple(json.loads(optional)))
             for patient_id, schedule, optional in rows_in(
                 VaccinationPlan.select(VaccinationPlan.patient, VaccinationPlan.schedule,
                                        VaccinationPlan.optional_vaccines),
                 VaccinationPlan.patient, ids)}
    given: dict[int, dict] = {}
    for patient_id, vaccine, dose, given_on in rows_in(
            VaccineDose.select(VaccineDose.patient, VaccineDose.vaccine, VaccineDose.dose,
                               VaccineDose.given_on), VaccineDose.patient, ids):
        given.setdefault(patient_id, {})[(vaccine, dose)] = as_date(given_on)
    result = []
    for patient_id, first_names, last_name, birth, sex, site_name, site_id in children:
        schedule, optional = plans.get(patient_id, (rules.DEFAULT_SCHEDULE, ()))
        birth = as_date(birth)
        result.append(((patient_id, first_names, last_name, birth, site_name, site_id),
                       rules.calendar(birth, schedule, given.get(patient_id), sex=sex,
                                      optional=optional, today=today)))
    return result


def _due_rows(ids: list[int], today: dt.date, horizon: dt.date) -> list[DueRow]:
    calendars = _calendars(ids, today)
    parent_of: dict[int, int] = {}
    for child_id, parent_id in rows_in(
            FamilyLink.select(FamilyLink.child, FamilyLink.parent).order_by(FamilyLink.id),
            FamilyLink.child, ids):
        parent_of.setdefault(child_id, parent_id)
    # Whom to call or text: her (first linked) parent, with the parent's consent to SMS, as
    # her file shows; the child's own number only without a parent to reach. (A newborn's
    # file takes her mother's number, never her consent.)
    contact_ids = list(set(ids) | set(parent_of.values()))
    phones = dict(rows_in(PatientPhone.select(PatientPhone.patient, PatientPhone.e164)
                          .where((PatientPhone.position == 0)
                                 & PatientPhone.wrong_since.is_null()),
                          PatientPhone.patient, contact_ids))
    consent = dict(rows_in(Patient.select(Patient.id, Patient.sms_consent), Patient.id,
                           contact_ids))
    rows = []
    for (patient_id, first_names, last_name, birth, site_name, site_id), calendar in calendars:
        doses = tuple(
            entry for entry in calendar
            if entry.status == rules.OVERDUE
            or (entry.status in (rules.DUE, rules.UPCOMING) and entry.due <= horizon))
        if doses:
            parent = parent_of.get(patient_id)
            contact = parent if parent in phones else (
                patient_id if patient_id in phones else parent)
            rows.append(DueRow(patient_id, f"{first_names} {last_name}", birth,
                               site_name or "", doses, phones.get(contact, ""),
                               bool(consent.get(contact, False)), contact, site_id))
    return rows


# --- the kept due states ----------------------------------------------------------------------

def refresh_due_states(ids, today: dt.date | None = None) -> int:
    """Computes again the due states of these patients (a child's; none for an adult or a
    file without a birth date); inside the caller's transaction, the children's rows held
    so that a dose another desk is recording is in what is read."""
    today = today or clock.today()
    ids = sorted(set(ids))
    if not ids:
        return 0
    hold_rows(Patient, ids)
    youngest = youngest_birth(today)
    states = [(child, rules.due_state(doses, today))
              for child, doses in _calendars(ids, today) if child[3] >= youngest]
    ChildDueState.delete().where(ChildDueState.patient.in_(ids)).execute()
    if states:
        ChildDueState.insert_many([
            {"patient": child[0], "site": child[5], "birth_date": child[3],
             "sort_name": _sort_name(child[1], child[2])[:210],
             "computed_on": state.computed_on, "next_scheduled": state.next_scheduled,
             "overdue_from": state.overdue_from, "recheck_on": state.recheck_on,
             "next_reminder_on": state.next_reminder_on}
            for child, state in states]).execute()
    return len(states)


@hooks.child_doses_changed.register
def _child_changed(child_id: int, when: dt.datetime | None = None) -> None:
    refresh_due_states([child_id], (when or clock.now()).date())


@hooks.patient_created.register
def _patient_created(patient, e164_numbers) -> None:
    if patient.birth_date is not None:
        refresh_due_states([patient.id])


def rebuild_due_states(today: dt.date | None = None) -> int:
    """Every child's due state computed again (after an upgrade, a corrected schedules file,
    or by `nest-desktop rebuild-state`); by chunks, each its own transaction. Returns the
    number of children."""
    today = today or clock.today()
    fingerprint = rules.due_state_fingerprint()
    ids = _children_ids(today)
    count = 0
    with database.atomic():
        # the adults' states and those of files gone
        ChildDueState.delete().where(ChildDueState.patient.not_in(
            Patient.select(Patient.id).where(Patient.birth_date >= youngest_birth(today)))
        ).execute()
    for start in range(0, len(ids), CHUNK):
        with database.atomic():
            count += refresh_due_states(ids[start:start + CHUNK], today)
    with database.atomic():
        settings.record_state(STATE_KEY, fingerprint)
    return count


def stale_due_states(today: dt.date | None = None) -> int:
    """The kept states that are no longer valid today computed again (a dose that passed its
    limit age…); by the maintenance pass. Returns how many."""
    today = today or clock.today()
    ids = [row[0] for row in ChildDueState.select(ChildDueState.patient).where(
        (ChildDueState.recheck_on <= today) | (ChildDueState.computed_on > today)).tuples()]
    for start in range(0, len(ids), CHUNK):
        with database.atomic():
            refresh_due_states(ids[start:start + CHUNK], today)
    return len(ids)


def _due_states_differences(today: dt.date | None = None) -> list[int]:
    """The children whose kept state is not what their calendar gives as of the day it was
    computed (none, unless a writer forgot to keep it), or who have none."""
    today = today or clock.today()
    kept, copied = {}, {}
    for patient_id, site_id, birth, sort_name, *columns in ChildDueState.select(
            ChildDueState.patient, ChildDueState.site, ChildDueState.birth_date,
            ChildDueState.sort_name, *_STATE_COLUMNS).tuples():
        kept[patient_id] = rules.DueState(*columns)
        copied[patient_id] = (site_id, birth, sort_name)
    wrong = [patient_id for patient_id in _children_ids(today) if patient_id not in kept]
    by_day: dict[dt.date, list[int]] = {}
    for patient_id, state in kept.items():
        by_day.setdefault(state.computed_on, []).append(patient_id)
    for day, ids in by_day.items():
        for start in range(0, len(ids), CHUNK):
            for child, doses in _calendars(ids[start:start + CHUNK], day):
                if rules.due_state(doses, day) != kept[child[0]] or copied[child[0]] != (
                        child[5], child[3], _sort_name(child[1], child[2])[:210]):
                    wrong.append(child[0])
    return sorted(wrong)


hooks.kept_states.register("children_due", hooks.KeptState(
    _state_is_current, rebuild_due_states, stale_due_states, _due_states_differences))
