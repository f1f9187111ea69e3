"""Her pathway and its history (PAT-04): a pregnancy puts her in the pregnancy pathway, a
birth in the post-natal one for the weeks after it, then she is without a pathway (and in
the segments of those); a pregnancy that ends otherwise closes it. Each change is kept
("historique parcours") with when and why."""

import datetime as dt
from dataclasses import dataclass

from peewee import JOIN

from nest_desktop.db.models import PathwayChange, Patient, User, database
from nest_desktop.domain import patients as rules
from nest_desktop.services import hooks, session


def recorded(patient_id: int, old: str, new: str, reason: str, when: dt.datetime,
             pregnancy_id: int | None = None) -> None:
    """Keeps a change already written on the file (the file's own save); inside the caller's
    transaction."""
    if old == new:
        return
    user = session.current()
    change = PathwayChange.create(patient=patient_id, from_pathway=old, to_pathway=new,
                                  changed_at=when, reason=reason, pregnancy_id=pregnancy_id,
                                  changed_by=user.id if user else None)
    hooks.pathway_changed.call(patient_id, old, new, reason, when, change.id)


def move(patient_id: int, new: str, reason: str, when: dt.datetime,
         pregnancy_id: int | None = None, ends_on: dt.date | None = None) -> bool:
    """Puts her in `new` (until `ends_on` for a pathway that ends), with the change kept and
    audited; inside the caller's transaction. False when she was in it already."""
    old, old_end = (Patient.select(Patient.pathway, Patient.pathway_ends_on)
                    .where(Patient.id == patient_id).tuples().get())
    if old == new and old_end == ends_on:
        return False
    Patient.update(pathway=new, pathway_ends_on=ends_on, version=Patient.version + 1).where(
        Patient.id == patient_id).execute()
    changes = {"pathway": [old, new]}
    if old_end != ends_on:
        changes["pathway_ends_on"] = [old_end.isoformat() if old_end else None,
                                      ends_on.isoformat() if ends_on else None]
    session.log("update", "patient", patient_id, changes, details=reason,
                patient_id=patient_id)
    recorded(patient_id, old, new, reason, when, pregnancy_id)
    return old != new


def after_birth(patient_id: int, delivered_at: dt.datetime, pregnancy_id: int,
                when: dt.datetime) -> None:
    """The mother is post-natal for the weeks after the birth, then without a pathway."""
    ends_on = delivered_at.date() + dt.timedelta(weeks=rules.POSTNATAL_WEEKS)
    move(patient_id, "postnatal", "birth", when, pregnancy_id, ends_on)
    if ends_on <= when.date():  # a birth recorded long after
        move(patient_id, "none", "postnatal_over", when)


def end_of_file_pathway(pathway: str, today: dt.date) -> dt.date | None:
    """The end of a pathway chosen on the file by hand: post-natal lasts its weeks."""
    return today + dt.timedelta(weeks=rules.POSTNATAL_WEEKS) if pathway == "postnatal" else None


@hooks.time_passes.register
def close_ended_pathways(when: dt.datetime) -> int:
    """Those whose post-natal weeks are over are without a pathway from that day; one indexed
    query, run with the follow-up engine's pass."""
    ids = [row[0] for row in Patient.select(Patient.id).where(
        Patient.pathway_ends_on.is_null(False) & (Patient.pathway_ends_on <= when.date()))
        .tuples()]
    for start in range(0, len(ids), 200):
        with database.atomic():
            for patient_id in ids[start:start + 200]:
                move(patient_id, "none", "postnatal_over", when)
    return len(ids)


@dataclass(frozen=True)
class HistoryRow:
    changed_at: dt.datetime
    from_pathway: str
    to_pathway: str
    reason: str
    by: str


def history_of(patient_id: int) -> list[HistoryRow]:
    """Her pathway's history, the latest first."""
    query = (PathwayChange.select(PathwayChange.changed_at, PathwayChange.from_pathway,
                                  PathwayChange.to_pathway, PathwayChange.reason,
                                  User.full_name)
             .join(User, JOIN.LEFT_OUTER, on=PathwayChange.changed_by == User.id)
             .where(PathwayChange.patient == patient_id)
             .order_by(PathwayChange.changed_at.desc(), PathwayChange.id.desc()))
    return [HistoryRow(at, old, new, reason, by or "")
            for at, old, new, reason, by in query.tuples()]

