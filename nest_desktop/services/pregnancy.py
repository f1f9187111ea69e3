"""Pregnancies (PAT-05 to PAT-10): dating, milestones, the 36-week call, birth, discharge, and
a pregnancy that ends otherwise. Each change is one transaction with its follow-up tasks."""

import datetime as dt
from array import array
from dataclasses import dataclass, field

from peewee import JOIN

from nest_desktop.db.models import (
    Call36Weeks,
    Delivery,
    DeliveryBaby,
    FollowUpTask,
    MilestoneRecord,
    Patient,
    Pregnancy,
    Site,
    database,
)
from nest_desktop.domain import clock
from nest_desktop.domain import pregnancy as rules
from nest_desktop.domain.dates import parse_date
from nest_desktop.domain.messages import N_, _
from nest_desktop.domain.text import list_name
from nest_desktop.i18n import format_date
from nest_desktop.services import (
    StaleRecordError,
    ValidationFailed,
    as_date,
    audit,
    check_characters,
    followup,
    hold_rows,
    hooks,
    mothers_group,
    pathways,
    rows_in,
    session,
    settings,
)

END_REASONS = {
    "miscarriage": N_("Miscarriage"),
    "termination": N_("Termination"),
    "transfer": N_("Followed elsewhere"),
    "lost": N_("Lost to follow-up"),
}
MOTHERS_GROUP = mothers_group.ANSWER_LABELS  # what the 36-week call hears
STATUS_LABELS = {"ongoing": N_("Ongoing"), "delivered": N_("Delivered"), "ended": N_("Ended")}


def convention() -> str:
    chosen = settings.get("pregnancy.convention")
    return chosen if chosen in rules.CONVENTIONS else rules.NAEGELE


def due_date(pregnancy: Pregnancy) -> dt.date:
    return rules.due_date_from_ddr(pregnancy.ddr, convention())


def convention_text() -> str:
    """How the due date is counted, said beside it: "40 SA, Naegele's rule"."""
    return _(rules.CONVENTIONS_SHORT[convention()])


def milestone_label(milestone: rules.Milestone, language: str) -> str:
    """A milestone's wording, marked when it is for women with risk factors only."""
    label = milestone.label_in(language)
    if milestone.risk_factors_only:
        return _("{milestone} (if risk factors)").format(milestone=label)
    return label


@dataclass
class PregnancyForm:
    """As typed: the DDR or the DPA (the other is computed), or a date of conception, and
    optionally an early scan (its date and the SA it measured)."""

    ddr: str = ""
    dpa: str = ""
    conception: str = ""
    scan_date: str = ""
    scan_weeks: str = ""
    scan_days: str = ""
    planned_place: str = ""


def _date(text: str, name: str, errors: dict) -> dt.date | None:
    if not text.strip():
        return None
    try:
        return parse_date(text)
    except ValueError as error:
        errors[name] = str(error)
        return None


def dating_of(form: PregnancyForm, patient: Patient, today: dt.date | None = None
              ) -> tuple[rules.Dating, list[str]]:
    """The DDR the pathway follows and how it was known, plus warnings that do not stop the
    save; impossible values raise ValidationFailed with a message per field."""
    today = today or clock.today()
    errors: dict[str, str] = {}
    ddr = _date(form.ddr, "ddr", errors)
    dpa = _date(form.dpa, "dpa", errors)
    conception = _date(form.conception, "conception", errors)
    scan_date = _date(form.scan_date, "scan_date", errors)
    dating, candidates = None, []
    if ddr is not None:
        dating = rules.Dating(ddr, "ddr")
    elif dpa is not None:
        dating = rules.Dating(rules.ddr_from_due_date(dpa, convention()), "dpa")
        candidates = rules.ddrs_from_due_date(dpa, convention())
    elif conception is not None:
        dating = rules.Dating(rules.ddr_from_conception(conception), "conception")
    if scan_date is not None or form.scan_weeks.strip():
        try:
            weeks = int(form.scan_weeks or "x")
            days = int(form.scan_days or 0)
            if not (4 <= weeks <= 24 and 0 <= days <= 6):
                raise ValueError
        except ValueError:
            errors["scan_weeks"] = _("Give the SA measured by the scan: 4 to 24 weeks and "
                                     "0 to 6 days.")
        else:
            if scan_date is None:
                errors["scan_date"] = _("Give the date of the scan.")
            elif scan_date > today:
                errors["scan_date"] = _("The scan cannot be in the future.")
            else:
                dating = rules.date_by_ultrasound(dating.ddr if dating else None, scan_date,
                                                  weeks, days)
    if dating is None and not errors:
        errors["ddr"] = _("Type the last menstrual period, the due date or the date of "
                          "conception.")
    if len(form.planned_place.strip()) > 100:
        errors["planned_place"] = _("At most {count} characters.").format(count=100)
    check_characters(errors, planned_place=form.planned_place)
    blocking, notes = [], []
    if dating is not None and dating.method == "dpa" and len(candidates) > 1:
        # Months have different lengths: say which DDR was chosen, for the midwife to correct.
        notes.append(_("With the French convention, this due date comes from several last "
                       "periods ({dates}): the pathway follows {ddr}. Type the DDR if it is "
                       "known.").format(dates=", ".join(format_date(d) for d in candidates),
                                        ddr=format_date(dating.ddr)))
    if dating is not None:
        # Dates and sex that cannot be are refused; an unusual age is only said.
        for warning in rules.warnings(dating.ddr, today, patient.sex, patient.birth_date):
            (blocking if warning.impossible else notes).append(warning.message)
    if blocking:
        errors.setdefault("ddr" if dating and dating.method != "dpa" else "dpa",
                          " ".join(blocking))
    if errors:
        raise ValidationFailed(errors)
    return dating, notes


def ongoing_of(patient_id: int) -> Pregnancy | None:
    return (Pregnancy.select().where((Pregnancy.patient == patient_id)
                                     & (Pregnancy.status == "ongoing"))
            .order_by(Pregnancy.id.desc()).first())


def latest_of(patient_id: int) -> Pregnancy | None:
    return (Pregnancy.select().where(Pregnancy.patient == patient_id)
            .order_by(Pregnancy.id.desc()).first())


def _schedule_36_weeks(pregnancy: Pregnancy) -> None:
    followup.schedule("call_36_weeks", "pregnancy", pregnancy.id,
                      dt.datetime.combine(pregnancy.ddr, dt.time.min), pregnancy.patient_id,
                      pregnancy.site_id)


def save_pregnancy(patient_id: int, form: PregnancyForm, expected_version: int | None = None,
                   today: dt.date | None = None) -> tuple[Pregnancy, list[str]]:
    """Starts the pregnancy, or changes its dating (the 36-week call moves with it)."""
    session.require("patient.write")
    patient = Patient.get_by_id(patient_id)
    dating, notes = dating_of(form, patient, today)
    stated = parse_date(form.ddr) if form.ddr.strip() else None
    values = {"ddr": dating.ddr, "dating_method": dating.method, "stated_ddr": stated,
              "planned_place": form.planned_place.strip(), "site": patient.site_id}
    if form.scan_date.strip():
        values.update(scan_date=parse_date(form.scan_date), scan_weeks=int(form.scan_weeks),
                      scan_days=int(form.scan_days or 0))
    else:
        values.update(scan_date=None, scan_weeks=None, scan_days=None)
    with database.atomic():
        current = ongoing_of(patient_id)
        if current is None:
            pregnancy = Pregnancy.create(patient=patient_id, **values)
            session.log("create", "pregnancy", pregnancy.id, audit.diff({}, values),
                        patient_id=patient_id)
        else:
            old = {key: getattr(current, key if key != "site" else "site_id") for key in values}
            changed = (Pregnancy.update(**values, updated_at=clock.now(),
                                        version=Pregnancy.version + 1)
                       .where((Pregnancy.id == current.id)
                              & (Pregnancy.version == (expected_version or current.version)))
                       .execute())
            if changed != 1:
                raise StaleRecordError(_("This pregnancy was changed on another workstation "
                                         "since you opened it. Close the file and open it "
                                         "again to see the changes."))
            session.log("update", "pregnancy", current.id, audit.diff(old, values),
                        patient_id=patient_id)
            pregnancy = Pregnancy.get_by_id(current.id)
        pathways.move(patient_id, "pregnancy", "pregnancy", clock.now(), pregnancy.id)
        _schedule_36_weeks(pregnancy)
        refresh_milestone_states([pregnancy.id])
    return pregnancy, notes


def milestone_period(planned: rules.PlannedMilestone) -> str:
    """A milestone's window as the screen and the printed calendar show it."""
    if planned.start is None:
        return _("after the birth")
    if planned.start == planned.end:
        return format_date(planned.start)
    return _("{start} to {end}").format(start=format_date(planned.start),
                                        end=format_date(planned.end))


def milestone_records(pregnancy_id: int) -> dict[str, MilestoneRecord]:
    return {r.milestone: r for r in MilestoneRecord.select().where(
        MilestoneRecord.pregnancy == pregnancy_id)}


def plan_of(pregnancy: Pregnancy, today: dt.date | None = None
            ) -> list[rules.PlannedMilestone]:
    records = milestone_records(pregnancy.id)
    delivery = Delivery.get_or_none(Delivery.pregnancy == pregnancy.id)
    return rules.plan(
        pregnancy.ddr, today or clock.today(),
        {key: r.done_on for key, r in records.items() if r.status == "done"},
        delivery.delivered_at.date() if delivery else None,
        {key for key, r in records.items() if r.status == "cancelled"},
        ended=pregnancy.status == "ended")


def set_milestone(pregnancy_id: int, milestone: str, status: str | None,
                  done_on: dt.date | None = None) -> None:
    """Marks a milestone done (on a date), set aside ("cancelled"), or back to its dates
    (None)."""
    user = session.require("patient.write")
    if milestone not in {m.id for m in rules.template()}:
        raise ValueError(f"unknown milestone: {milestone}")
    errors = {}
    if status not in (None, "done", "cancelled"):
        errors["status"] = _("Choose a status from the list.")
    if status == "done" and (done_on is None or done_on > clock.today()):
        errors["done_on"] = _("Give the day it was done, not in the future.")
    if errors:
        raise ValidationFailed(errors)
    pregnancy = Pregnancy.get_by_id(pregnancy_id)
    with database.atomic():
        old = MilestoneRecord.get_or_none((MilestoneRecord.pregnancy == pregnancy_id)
                                          & (MilestoneRecord.milestone == milestone))
        before = {"status": old.status if old else None, "done_on": old.done_on if old else None}
        MilestoneRecord.delete().where((MilestoneRecord.pregnancy == pregnancy_id)
                                       & (MilestoneRecord.milestone == milestone)).execute()
        if status is not None:
            MilestoneRecord.create(pregnancy=pregnancy_id, milestone=milestone, status=status,
                                   done_on=done_on if status == "done" else None,
                                   recorded_by=user.id)
        session.log("update", "pregnancy_milestone", pregnancy_id,
                    audit.diff(before, {"status": status,
                                        "done_on": done_on if status == "done" else None}),
                    details=milestone, patient_id=pregnancy.patient_id)
        refresh_milestone_states([pregnancy_id])


@dataclass
class Call36Form:
    planned_place: str = ""
    tariffs_given: bool = False
    coverage_given: bool = False
    financial_conditions_given: bool = False
    classes_proposed: bool = False
    classes_accepted: bool = False
    mothers_group: str = ""
    newsletter_wanted: bool = False
    newsletter_channel: str = ""
    child_followed_at_nest: bool = False
    notes: str = ""


def record_call_36_weeks(task_id: int, form: Call36Form,
                         when: dt.datetime | None = None) -> Call36Weeks:
    """The 36-week call reached the patient: every field of the procedure is kept, the call
    goes on her file, the task is done and the milestone marked."""
    from nest_desktop.domain.patients import CONTACT_CHANNELS

    user = session.require("followup.work")
    when = when or clock.now()
    errors = {}
    if not form.planned_place.strip():
        errors["planned_place"] = _("Ask where she plans to give birth.")
    elif len(form.planned_place.strip()) > 100:
        errors["planned_place"] = _("At most {count} characters.").format(count=100)
    if form.mothers_group not in MOTHERS_GROUP:
        errors["mothers_group"] = _("Say whether she joins the mothers' group.")
    if form.newsletter_wanted and form.newsletter_channel not in CONTACT_CHANNELS:
        errors["newsletter_channel"] = _("Choose the channel for the newsletters.")
    if form.classes_accepted and not form.classes_proposed:
        errors["classes_accepted"] = _("The classes were accepted: tick that they were "
                                       "proposed.")
    check_characters(errors, planned_place=form.planned_place, notes=form.notes)
    if errors:
        raise ValidationFailed(errors)
    task = FollowUpTask.get_by_id(task_id)
    if task.rule != "call_36_weeks" or task.source_table != "pregnancy":
        raise ValueError("not a 36-week call")
    values = {key: (value.strip() if isinstance(value, str) else value)
              for key, value in form.__dict__.items()}
    if not values["newsletter_wanted"]:
        values["newsletter_channel"] = ""
    with database.atomic():
        call = Call36Weeks.create(pregnancy=task.source_id, task=task.id, recorded_by=user.id,
                                  recorded_at=when, **values)
        session.log("create", "call_36_weeks", call.id, audit.diff({}, values),
                    patient_id=task.patient_id)
        followup.close_reached(task_id, values["notes"], when)
        Pregnancy.update(planned_place=values["planned_place"]).where(
            Pregnancy.id == task.source_id).execute()
        mothers_group.record(task.patient_id, *mothers_group.ANSWERS[values["mothers_group"]],
                             when=when)
        if values["newsletter_wanted"]:
            Patient.update(newsletter_consent=True,
                           preferred_channel=values["newsletter_channel"]).where(
                Patient.id == task.patient_id).execute()
        MilestoneRecord.delete().where((MilestoneRecord.pregnancy == task.source_id)
                                       & (MilestoneRecord.milestone == "call_36_weeks")
                                       ).execute()
        MilestoneRecord.create(pregnancy=task.source_id, milestone="call_36_weeks",
                               status="done", done_on=when.date(), recorded_by=user.id)
        refresh_milestone_states([task.source_id], when.date())
    return call


@dataclass
class Baby:
    sex: str
    first_names: str
    last_name: str = ""
    weight_grams: str = ""


@dataclass
class DeliveryForm:
    delivered_on: str = ""
    delivered_time: str = ""
    place: str = ""
    at_nest: bool = True
    babies: list[Baby] = field(default_factory=list)


def children_family_name(mother_id: int) -> str:
    """The family name of her youngest child already on file: what a new baby usually
    takes too; empty for a first child."""
    from nest_desktop.db.models import FamilyLink

    child = (Patient.select(Patient.last_name).join(FamilyLink, on=FamilyLink.child == Patient.id)
             .where(FamilyLink.parent == mother_id)
             .order_by(Patient.birth_date.desc(nulls="LAST"), Patient.id.desc()).first())
    return child.last_name if child else ""


def record_delivery(pregnancy_id: int, form: DeliveryForm,
                    today: dt.date | None = None) -> Delivery:
    """The birth: each baby becomes a patient in paediatrics, linked to her mother; the
    36-week call, if still to make, is cancelled."""
    from nest_desktop.services import patients as patient_service

    session.require("patient.write")
    today = today or clock.today()
    pregnancy = Pregnancy.get_by_id(pregnancy_id)
    mother = pregnancy.patient
    errors: dict[str, str] = {}
    delivered_on = _date(form.delivered_on, "delivered_on", errors)
    if delivered_on is None and "delivered_on" not in errors:
        errors["delivered_on"] = _("Give the day of the birth.")
    try:
        hours, minutes = (int(part) for part in (form.delivered_time or "12:00").split(":"))
        delivered_time = dt.time(hours, minutes)
    except ValueError:
        errors["delivered_time"] = _("Type the time as 14:30.")
        delivered_time = dt.time(12, 0)
    if delivered_on is not None:
        if delivered_on > today:
            errors["delivered_on"] = _("The birth cannot be in the future.")
        elif delivered_on < pregnancy.ddr + dt.timedelta(weeks=14):
            errors["delivered_on"] = _("Before 14 SA this is not a birth: end the pregnancy "
                                       "instead.")
    if pregnancy.status != "ongoing":
        errors["delivered_on"] = _("This pregnancy is no longer ongoing.")
    if not form.babies:
        errors["babies"] = _("Add the baby (or babies).")
    if not form.at_nest and not form.place.strip():
        errors["place"] = _("Say where she gave birth.")
    check_characters(errors, place=form.place)
    weights = []
    for index, baby in enumerate(form.babies):
        if baby.sex not in ("F", "M"):
            errors[f"baby_{index}_sex"] = _("Choose the baby's sex.")
        if not baby.first_names.strip():
            errors[f"baby_{index}_first_names"] = _("Give the baby's first name.")
        if not baby.last_name.strip():
            # usually the father's in Senegal: never the mother's by default
            errors[f"baby_{index}_last_name"] = _("Give the baby's family name (usually the "
                                                  "father's).")
        try:
            weight = int(baby.weight_grams) if baby.weight_grams.strip() else None
            if weight is not None and not 300 <= weight <= 7000:
                raise ValueError
        except ValueError:
            errors[f"baby_{index}_weight"] = _("The weight in grams, from 300 to 7 000.")
            weight = None
        weights.append(weight)
    if errors:
        raise ValidationFailed(errors)
    delivered_at = dt.datetime.combine(delivered_on, delivered_time)
    with database.atomic():
        delivery = Delivery.create(pregnancy=pregnancy_id, delivered_at=delivered_at,
                                   place=form.place.strip() or _("NEST"), at_nest=form.at_nest,
                                   recorded_by=session.current().id)
        for baby, weight in zip(form.babies, weights, strict=True):
            child = patient_service.create_patient(patient_service.PatientForm(
                last_name=baby.last_name.strip(),
                first_names=baby.first_names, sex=baby.sex,
                birth_date=delivered_on.strftime("%d/%m/%Y"), pathway="paediatrics",
                site_id=mother.site_id,
                phones=patient_service.phones_of(mother.id)[:1]), today)
            patient_service.link_family(mother.id, child.id, "mother")
            DeliveryBaby.create(delivery=delivery.id, child=child.id, weight_grams=weight)
        Pregnancy.update(status="delivered", updated_at=clock.now(),
                         version=Pregnancy.version + 1).where(
            Pregnancy.id == pregnancy_id).execute()
        session.log("create", "delivery", delivery.id,
                    {"delivered_at": [None, delivered_at.isoformat()],
                     "at_nest": [None, form.at_nest], "babies": [None, len(form.babies)]},
                    patient_id=mother.id)
        followup.cancel_source("pregnancy", pregnancy_id, ["call_36_weeks"])
        pathways.after_birth(mother.id, delivered_at, pregnancy_id, clock.now())
    return delivery


def record_discharge(pregnancy_id: int, discharged_at: dt.datetime,
                     when: dt.datetime | None = None) -> Delivery:
    """Going home: the discharge survey, and the call ten days later after a birth at NEST."""
    session.require("patient.write")
    when = when or clock.now()
    delivery = Delivery.get_or_none(Delivery.pregnancy == pregnancy_id)
    if delivery is None:
        raise ValidationFailed({"discharged_at": _("Record the birth first.")})
    if discharged_at > when + dt.timedelta(hours=12):
        raise ValidationFailed({"discharged_at": _("The discharge is at most today.")})
    with database.atomic():
        for rule in ("discharge_survey", "post_discharge_call"):
            if rule == "post_discharge_call" and not delivery.at_nest:
                continue
            followup.schedule(rule, "delivery", delivery.id, discharged_at,
                              delivery.pregnancy.patient_id, delivery.pregnancy.site_id, when,
                              not_before=delivery.delivered_at)
        Delivery.update(discharged_at=discharged_at).where(Delivery.id == delivery.id).execute()
        session.log("update", "delivery", delivery.id,
                    audit.diff({"discharged_at": delivery.discharged_at},
                               {"discharged_at": discharged_at}),
                    patient_id=delivery.pregnancy.patient_id)
    return Delivery.get_by_id(delivery.id)


def end_pregnancy(pregnancy_id: int, reason: str, ended_on: dt.date | None = None) -> None:
    """A pregnancy that ends otherwise than by a birth: the pathway closes, every task still
    to do for it is cancelled (no congratulation is sent)."""
    session.require("patient.write")
    ended_on = ended_on or clock.today()
    pregnancy = Pregnancy.get_by_id(pregnancy_id)
    errors = {}
    if reason not in END_REASONS:
        errors["reason"] = _("Choose why the pregnancy ended.")
    if ended_on > clock.today() or ended_on < pregnancy.ddr:
        errors["ended_on"] = _("The day must be between the DDR and today.")
    if pregnancy.status != "ongoing":
        errors["reason"] = _("This pregnancy is no longer ongoing.")
    if errors:
        raise ValidationFailed(errors)
    with database.atomic():
        Pregnancy.update(status="ended", end_reason=reason, ended_on=ended_on,
                         updated_at=clock.now(), version=Pregnancy.version + 1).where(
            Pregnancy.id == pregnancy_id).execute()
        pathways.move(pregnancy.patient_id, "none", "pregnancy_ended", clock.now(),
                      pregnancy_id)
        session.log("update", "pregnancy", pregnancy_id,
                    {"status": ["ongoing", "ended"], "end_reason": [None, reason]},
                    patient_id=pregnancy.patient_id)
        followup.cancel_source("pregnancy", pregnancy_id)


@dataclass(frozen=True)
class PregnancyRow:
    id: int
    patient_id: int
    person: str
    site: str
    ddr: dt.date
    dpa: dt.date
    weeks: int
    days: int
    next_milestone: str
    next_date: dt.date | None


def ongoing(site_id: int | None = None, min_weeks: int = 0, max_weeks: int = 44,
            due_in_month: dt.date | None = None, today: dt.date | None = None
            ) -> list[PregnancyRow]:
    """The ongoing pregnancies, the nearest term first."""
    today = today or clock.today()
    ids = ongoing_ids(site_id, min_weeks, max_weeks, due_in_month, today)
    rows = pregnancy_rows(ids, today)
    return [rows[pregnancy_id] for pregnancy_id in ids if pregnancy_id in rows]


def ongoing_ids(site_id: int | None = None, min_weeks: int = 0, max_weeks: int = 44,
                due_in_month: dt.date | None = None, today: dt.date | None = None) -> array:
    """The ongoing pregnancies' ids, the nearest term first: one query on the DDR's index
    (the page shows their rows as it scrolls, `pregnancy_rows`)."""
    today = today or clock.today()
    chosen = convention()
    # SA range as DDR range, so that the database does the filtering.
    query = (Pregnancy.select(Pregnancy.id)
             .where((Pregnancy.status == "ongoing")
                    & (Pregnancy.ddr <= today - dt.timedelta(weeks=min_weeks))
                    & (Pregnancy.ddr > today - dt.timedelta(weeks=max_weeks + 1))))
    if site_id is not None:
        query = query.where(Pregnancy.site == site_id)
    if due_in_month is not None:
        first = due_in_month.replace(day=1)
        following = (first + dt.timedelta(days=32)).replace(day=1)
        query = query.where(
            (Pregnancy.ddr >= rules.ddr_from_due_date(first, chosen))
            & (Pregnancy.ddr < rules.ddr_from_due_date(following, chosen)))
    return array("q", (row[0] for row in query.order_by(Pregnancy.ddr, Pregnancy.id)
                       .tuples().iterator()))


def pregnancy_rows(ids, today: dt.date | None = None) -> dict[int, PregnancyRow]:
    """These pregnancies' rows, by id; each next milestone read from its kept state
    (computed here, read-only, where today made it stale)."""
    from nest_desktop.i18n import current_language

    today = today or clock.today()
    chosen = convention()
    current = _milestone_state_is_current()
    language = current_language()
    labels = {m.id: milestone_label(m, language) for m in rules.template()}
    rows = {}
    ids = list(ids)
    for start in range(0, len(ids), CHUNK):
        found = list(
            Pregnancy.select(Pregnancy.id, Pregnancy.patient, Patient.last_name,
                             Patient.first_names, Site.name, Pregnancy.ddr,
                             Pregnancy.next_milestone, Pregnancy.next_milestone_on,
                             Pregnancy.milestone_computed_on, Pregnancy.milestone_recheck_on)
            .join(Patient, on=Pregnancy.patient == Patient.id).switch(Pregnancy)
            .join(Site, JOIN.LEFT_OUTER, on=Pregnancy.site == Site.id)
            .where(Pregnancy.id.in_(ids[start:start + CHUNK])).tuples())
        states = {row[0]: rules.MilestoneState(row[8], row[6], row[7], row[9])
                  for row in found if current and row[8] is not None}
        states.update(_milestone_states(
            [row[0] for row in found
             if row[0] not in states or not states[row[0]].valid_on(today)], today))
        for pregnancy_id, patient_id, last_name, first_names, site, ddr, *_kept in found:
            weeks, days = rules.gestational_age(ddr, today)
            state = states[pregnancy_id]
            rows[pregnancy_id] = PregnancyRow(
                pregnancy_id, patient_id, list_name(last_name, first_names), site or "", ddr,
                rules.due_date_from_ddr(ddr, chosen), weeks, days,
                labels.get(state.milestone, state.milestone), state.starts_on)
    return rows


# --- the kept next milestones -----------------------------------------------------------------

MILESTONE_STATE_KEY = "pregnancy.milestone_state"  # the fingerprint they were computed with
CHUNK = 2000


def _milestone_state_is_current() -> bool:
    return settings.get(MILESTONE_STATE_KEY) == rules.milestone_state_fingerprint()


def _milestone_states(ids: list[int], today: dt.date) -> dict[int, rules.MilestoneState]:
    """The next milestone of these ongoing pregnancies as of `today`, computed."""
    marks: dict[int, dict[str, tuple]] = {}
    for pregnancy_id, milestone, status, done_on in rows_in(
            MilestoneRecord.select(MilestoneRecord.pregnancy, MilestoneRecord.milestone,
                                   MilestoneRecord.status, MilestoneRecord.done_on),
            MilestoneRecord.pregnancy, ids):
        marks.setdefault(pregnancy_id, {})[milestone] = (status, as_date(done_on))
    states = {}
    for pregnancy_id, ddr in rows_in(Pregnancy.select(Pregnancy.id, Pregnancy.ddr),
                                     Pregnancy.id, ids):
        kept = marks.get(pregnancy_id, {})
        planned = rules.plan(
            as_date(ddr), today,
            {k: day for k, (status, day) in kept.items() if status == "done"},
            cancelled={k for k, (status, _day) in kept.items() if status == "cancelled"})
        states[pregnancy_id] = rules.milestone_state(planned, today)
    return states


def refresh_milestone_states(ids, today: dt.date | None = None) -> int:
    """Computes again the next milestone kept on these pregnancies (none on one that is no
    longer ongoing); inside the caller's transaction, their rows held so that a milestone
    another desk is marking is in what is read."""
    today = today or clock.today()
    ids = sorted(set(ids))
    if not ids:
        return 0
    hold_rows(Pregnancy, ids)
    ongoing_ids = [row[0] for row in Pregnancy.select(Pregnancy.id).where(
        Pregnancy.id.in_(ids) & (Pregnancy.status == "ongoing")).tuples()]
    (Pregnancy.update(next_milestone="", next_milestone_on=None, milestone_computed_on=None,
                      milestone_recheck_on=None)
     .where(Pregnancy.id.in_(ids) & (Pregnancy.status != "ongoing")).execute())
    for pregnancy_id, state in _milestone_states(ongoing_ids, today).items():
        (Pregnancy.update(next_milestone=state.milestone, next_milestone_on=state.starts_on,
                          milestone_computed_on=state.computed_on,
                          milestone_recheck_on=state.recheck_on)
         .where(Pregnancy.id == pregnancy_id).execute())
    return len(ongoing_ids)


def _ongoing_ids(condition=None) -> list[int]:
    query = Pregnancy.select(Pregnancy.id).where(Pregnancy.status == "ongoing")
    if condition is not None:
        query = query.where(condition)
    return [row[0] for row in query.order_by(Pregnancy.id).tuples()]


def rebuild_milestone_states(today: dt.date | None = None) -> int:
    """Every ongoing pregnancy's next milestone computed again, by chunks, each its own
    transaction; then the fingerprint they were computed with."""
    today = today or clock.today()
    fingerprint = rules.milestone_state_fingerprint()
    ids = _ongoing_ids()
    for start in range(0, len(ids), CHUNK):
        with database.atomic():
            refresh_milestone_states(ids[start:start + CHUNK], today)
    with database.atomic():
        settings.record_state(MILESTONE_STATE_KEY, fingerprint)
    return len(ids)


def stale_milestone_states(today: dt.date | None = None) -> int:
    """The kept next milestones that a window opening or closing made stale, computed again
    (the maintenance pass)."""
    today = today or clock.today()
    ids = _ongoing_ids(Pregnancy.milestone_computed_on.is_null()
                       | (Pregnancy.milestone_recheck_on <= today)
                       | (Pregnancy.milestone_computed_on > today))
    for start in range(0, len(ids), CHUNK):
        with database.atomic():
            refresh_milestone_states(ids[start:start + CHUNK], today)
    return len(ids)


def _milestone_states_differences(today: dt.date | None = None) -> list[int]:
    """The ongoing pregnancies whose kept next milestone is not what their plan gives as of
    the day it was computed, or that have none."""
    kept = {row[0]: rules.MilestoneState(*row[1:]) for row in Pregnancy.select(
        Pregnancy.id, Pregnancy.milestone_computed_on, Pregnancy.next_milestone,
        Pregnancy.next_milestone_on, Pregnancy.milestone_recheck_on).where(
        Pregnancy.status == "ongoing").tuples()}
    wrong = [pregnancy_id for pregnancy_id, state in kept.items() if state.computed_on is None]
    by_day: dict[dt.date, list[int]] = {}
    for pregnancy_id, state in kept.items():
        if state.computed_on is not None:
            by_day.setdefault(state.computed_on, []).append(pregnancy_id)
    for day, ids in by_day.items():
        wrong += [pregnancy_id for pregnancy_id, state in _milestone_states(ids, day).items()
                  if state != kept[pregnancy_id]]
    return sorted(wrong)


hooks.kept_states.register("pregnancy_milestones", hooks.KeptState(
    _milestone_state_is_current, rebuild_milestone_states, stale_milestone_states,
    _milestone_states_differences))


def save_pack_settings(tariffs: list[tuple[str, str]], group_link: str) -> None:
    """The tariffs (label, amount in FCFA as typed) and the mothers' group link printed in
    the 36-week pack; checked, then saved together."""
    from nest_desktop.services import settings as settings_service

    errors = {}
    cleaned = []
    for index, (label, amount) in enumerate(tariffs):
        if not label.strip() and not str(amount).strip():
            continue  # an empty line
        digits = str(amount).replace(" ", "").replace("\u202f", "").replace("\u00a0", "")
        if not label.strip():
            errors[f"tariff_{index}"] = _("Line {line}: name the service.").format(
                line=index + 1)
        elif not digits.isdigit() or len(digits) > 10:
            errors[f"tariff_{index}"] = _("Line {line}: the amount in FCFA, digits only.") \
                .format(line=index + 1)
        else:
            cleaned.append([label.strip()[:100], int(digits)])
    link = group_link.strip()
    if link and not (link.startswith("https://") and " " not in link and len(link) <= 300):
        errors["group_link"] = _("The group's link starts with https:// (copy it from the "
                                 "group's invitation).")
    if errors:
        raise ValidationFailed(errors)
    with database.atomic():
        settings_service.put("pregnancy.tariffs", cleaned)
        settings_service.put("pregnancy.mothers_group_link", link)


@hooks.task_events.register
def pregnancy_events(when: dt.datetime, window: dt.timedelta) -> list[followup.Event]:
    """Ongoing pregnancies (the 36-week call) and discharges after a birth (the discharge
    survey, and the 10-day call after a birth at NEST), recent enough."""
    events = [followup.Event("call_36_weeks", "pregnancy", pregnancy_id,
                             dt.datetime.combine(ddr, dt.time.min), patient_id, site_id)
              for pregnancy_id, ddr, patient_id, site_id in
              Pregnancy.select(Pregnancy.id, Pregnancy.ddr, Pregnancy.patient, Pregnancy.site)
              .where((Pregnancy.status == "ongoing")
                     & (Pregnancy.ddr >= (when - window - dt.timedelta(weeks=36)).date()))
              .tuples()]
    for delivery in (Delivery.select(Delivery, Pregnancy).join(Pregnancy)
                     .where(Delivery.discharged_at >= when - window - dt.timedelta(days=10))):
        for rule in ("discharge_survey", "post_discharge_call"):
            if rule == "discharge_survey" or delivery.at_nest:
                events.append(followup.Event(
                    rule, "delivery", delivery.id, delivery.discharged_at,
                    delivery.pregnancy.patient_id, delivery.pregnancy.site_id,
                    delivery.delivered_at))
    return events
