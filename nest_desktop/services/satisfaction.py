"""Satisfaction over time (PAT-03, PAT-08): survey answers month by month, the remarks left,
and the guestbook."""

import datetime as dt
import json
from dataclasses import dataclass

from nest_desktop.db.models import GuestbookEntry, Patient, Site, SurveyResponse, database
from nest_desktop.domain import clock
from nest_desktop.domain.dates import add_months
from nest_desktop.domain.messages import _
from nest_desktop.services import ValidationFailed, audit, check_characters, session

GUESTBOOK_TEXT_MAX = 2000


@dataclass(frozen=True)
class Month:
    start: dt.date
    answers: int
    mean_score: int | None  # 0-100
    recommend_share: int | None  # % of "yes" among those who answered the question


def _responses(survey: str | None, site_id: int | None, since: dt.datetime):
    query = SurveyResponse.select(SurveyResponse.answered_at, SurveyResponse.score,
                                  SurveyResponse.answers, SurveyResponse.survey,
                                  SurveyResponse.patient, SurveyResponse.id).where(
        SurveyResponse.answered_at >= since)
    if survey:
        query = query.where(SurveyResponse.survey == survey)
    if site_id is not None:
        query = query.where(SurveyResponse.site == site_id)
    return query


def monthly(survey: str | None = None, site_id: int | None = None, months: int = 12,
            today: dt.date | None = None) -> list[Month]:
    """The last `months` months, the current one last."""
    today = today or clock.today()
    first = add_months(today.replace(day=1), -(months - 1))
    buckets: dict[dt.date, list] = {add_months(first, i): [] for i in range(months)}
    for answered_at, score, answers, _survey, _patient, _id in _responses(
            survey, site_id, dt.datetime.combine(first, dt.time.min)).tuples():
        buckets.setdefault(answered_at.date().replace(day=1), []).append(
            (score, json.loads(answers).get("recommend")))
    result = []
    for start, rows in sorted(buckets.items()):
        scores = [score for score, _r in rows if score is not None]
        votes = [vote for _s, vote in rows if isinstance(vote, bool)]
        result.append(Month(start, len(rows),
                            round(sum(scores) / len(scores)) if scores else None,
                            round(100 * sum(votes) / len(votes)) if votes else None))
    return result


@dataclass(frozen=True)
class Remark:
    answered_at: dt.datetime
    survey: str
    text: str
    who: str  # empty when anonymous
    response_id: int


def remarks(survey: str | None = None, site_id: int | None = None, limit: int = 100
            ) -> list[Remark]:
    """The latest written remarks, newest first."""
    found = []
    query = (_responses(survey, site_id, dt.datetime(2000, 1, 1))
             .order_by(SurveyResponse.answered_at.desc()))
    for response in query.limit(limit * 5):
        text = json.loads(response.answers).get("comment", "")
        if text:
            who = ""
            if response.patient_id:
                patient = Patient.get_or_none(Patient.id == response.patient_id)
                who = f"{patient.first_names} {patient.last_name}" if patient else ""
            found.append(Remark(response.answered_at, response.survey, text, who,
                                response.id))
            if len(found) == limit:
                break
    return found


def add_guestbook_entry(text: str, author: str = "", site_id: int | None = None,
                        written_on: dt.date | None = None) -> GuestbookEntry:
    user = session.require("followup.work")
    written_on = written_on or clock.today()
    errors = {}
    if not text.strip():
        errors["text"] = _("Copy the words written in the guestbook.")
    elif len(text) > GUESTBOOK_TEXT_MAX:
        errors["text"] = _("At most {count} characters.").format(count=GUESTBOOK_TEXT_MAX)
    if len(author.strip()) > 100:
        errors["author"] = _("At most {count} characters.").format(count=100)
    if written_on > clock.today():
        errors["written_on"] = _("This date is in the future.")
    check_characters(errors, text=text, author=author)
    if site_id is not None and not Site.select().where(Site.id == site_id).exists():
        errors["site"] = _("Choose a site from the list.")
    if errors:
        raise ValidationFailed(errors)
    values = {"text": text.strip(), "author": author.strip(), "site": site_id,
              "written_on": written_on}
    with database.atomic():
        entry = GuestbookEntry.create(**values, recorded_by=user.id, recorded_at=clock.now())
        session.log("create", "guestbook_entry", entry.id, audit.diff({}, values))
    return entry


def guestbook(site_id: int | None = None, limit: int = 200) -> list[GuestbookEntry]:
    query = GuestbookEntry.select().order_by(GuestbookEntry.written_on.desc(),
                                             GuestbookEntry.id.desc())
    if site_id is not None:
        query = query.where(GuestbookEntry.site == site_id)
    return list(query.limit(limit))
