"""The NEST mothers' group (PAT-06): her membership on her file (invited, member, declined,
left, each with its day), offered by a call when her pregnancy pathway starts and asked
again at 36 weeks "si ce n'est déjà fait"."""

import datetime as dt

from peewee import JOIN

from nest_desktop.db.models import (
    FollowUpTask,
    MothersGroup,
    PathwayChange,
    Patient,
    Pregnancy,
    database,
)
from nest_desktop.domain import clock
from nest_desktop.domain import patients as rules
from nest_desktop.domain.messages import N_, _
from nest_desktop.services import (
    ValidationFailed,
    audit,
    check_characters,
    followup,
    hooks,
    session,
)

OFFER_RULE = "mothers_group_offer"
# What she says on the offer's call (or at 36 weeks): (status, channel)
ANSWERS = {
    "whatsapp": ("joined", "whatsapp"),
    "facebook": ("joined", "facebook"),
    "member": ("joined", ""),
    "invited": ("invited", ""),
    "declined": ("declined", ""),
}
ANSWER_LABELS = {
    "whatsapp": N_("Joins the WhatsApp group"),
    "facebook": N_("Joins the Facebook group"),
    "member": N_("Already a member"),
    "invited": N_("Link sent: she will see"),
    "declined": N_("Declined"),
}
ANSWERED = ("joined", "declined")
# A pregnancy first followed this late is asked by the 36-week call (it opens at 35 weeks).
LATE_START = dt.timedelta(weeks=34)  # the offer is not made again
_DAY_OF_STATUS = {"invited": "invited_on", "joined": "joined_on", "declined": "declined_on",
                  "left": "left_on"}


def membership(patient_id: int) -> MothersGroup | None:
    return MothersGroup.get_or_none(MothersGroup.patient == patient_id)


def record(patient_id: int, status: str, channel: str = "",
           when: dt.datetime | None = None) -> MothersGroup:
    """Her answer, with its day kept beside the earlier ones; an open offer is settled."""
    user = session.require("patient.write")
    when = when or clock.now()
    errors = {}
    if status not in rules.MOTHERS_GROUP_STATUSES:
        errors["status"] = _("Choose her answer from the list.")
    if channel and channel not in rules.MOTHERS_GROUP_CHANNELS:
        errors["channel"] = _("WhatsApp or Facebook.")
    if errors:
        raise ValidationFailed(errors)
    with database.atomic():
        current = membership(patient_id)
        before = ({} if current is None else
                  {"status": current.status, "channel": current.channel})
        values = {"status": status, "channel": channel or (
            current.channel if current is not None and status == "joined" else ""),
            _DAY_OF_STATUS[status]: when.date(), "updated_at": when, "updated_by": user.id}
        if current is None:
            current = MothersGroup.create(patient=patient_id, **values)
            action = "create"
        else:
            MothersGroup.update(**values).where(MothersGroup.id == current.id).execute()
            action = "update"
        session.log(action, "mothers_group", current.id,
                    audit.diff(before, {"status": status, "channel": values["channel"]}),
                    patient_id=patient_id)
        for change_id in _open_offer_sources(patient_id):  # the offer is made
            followup.settle_source("pathway_change", change_id, "mothers_group_answered", when,
                                   [OFFER_RULE])
    return MothersGroup.get_by_id(current.id)


def _open_offer_sources(patient_id: int) -> list[int]:
    return [row[0] for row in FollowUpTask.select(FollowUpTask.source_id).where(
        (FollowUpTask.patient == patient_id) & (FollowUpTask.rule == OFFER_RULE)
        & (FollowUpTask.status == followup.OPEN)).tuples()]


def answer_offer(task_id: int, answer: str, notes: str = "",
                 when: dt.datetime | None = None) -> MothersGroup:
    """The offer's call reached her: her answer is on her file, the call in her contacts."""
    session.require("followup.work")
    when = when or clock.now()
    if answer not in ANSWERS:
        raise ValidationFailed({"mothers_group": _("Say whether she joins the mothers' group.")})
    errors: dict[str, str] = {}
    check_characters(errors, notes=notes)
    if errors:
        raise ValidationFailed(errors)
    task = FollowUpTask.get_by_id(task_id)
    if task.rule != OFFER_RULE:
        raise ValueError("not a mothers' group offer")
    with database.atomic():
        followup.close_reached(task_id, notes, when)
        return record(task.patient_id, *ANSWERS[answer], when=when)


@hooks.pathway_changed.register
def offer_when_pregnancy_starts(patient_id: int, old: str, new: str, reason: str,
                                when: dt.datetime, change_id: int) -> None:
    """Her pregnancy pathway starts: the group is offered (not only at 36 weeks)."""
    if new != "pregnancy":
        return
    current = membership(patient_id)
    if current is not None and current.status in ANSWERED:
        return
    change = PathwayChange.get_by_id(change_id)
    ddr = (Pregnancy.select(Pregnancy.ddr).where(Pregnancy.id == change.pregnancy_id).scalar()
           if change.pregnancy_id else None)
    if ddr is not None and when.date() >= ddr + LATE_START:
        return  # followed from late on: the 36-week call, soon, asks it
    site_id = Patient.select(Patient.site).where(Patient.id == patient_id).scalar()
    followup.schedule(OFFER_RULE, "pathway_change", change_id, when, patient_id, site_id, when)


@hooks.task_events.register
def offer_events(when: dt.datetime, window: dt.timedelta) -> list[followup.Event]:
    """Recent starts of a pregnancy pathway whose offer is still to make."""
    answered = MothersGroup.select(MothersGroup.patient).where(
        MothersGroup.status.in_(ANSWERED))
    rows = (PathwayChange.select(PathwayChange.id, PathwayChange.patient,
                                 PathwayChange.changed_at, Patient.site, Pregnancy.ddr)
            .join(Patient, on=PathwayChange.patient == Patient.id)
            .join(Pregnancy, JOIN.LEFT_OUTER, on=PathwayChange.pregnancy_id == Pregnancy.id)
            .where((PathwayChange.to_pathway == "pregnancy")
                   & (PathwayChange.changed_at >= when - window)
                   & PathwayChange.patient.not_in(answered)).tuples())
    return [followup.Event(OFFER_RULE, "pathway_change", change_id, at, patient_id, site_id)
            for change_id, patient_id, at, site_id, ddr in rows
            if ddr is None or at.date() < ddr + LATE_START]
