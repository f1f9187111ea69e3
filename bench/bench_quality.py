"""The quality indicators and the management review on a large clinic (issue 20).

    python bench/bench_quality.py --keep big.sqlite3 [--patients 200000]

The clinic is a demo clinic in a SQLite file, generated once and kept (`--keep`; 200 000
patients take about five minutes), to which a year of the desk's work is added in bulk the
first time: follow-ups of every rule (most done on time, some late, a few open), incoming
calls with their outcomes and holds, appointments with their SMS reminders, survey answers,
prospects and complaints, at the volumes of three busy sites. Each figure is the median of
5 runs.

Targets at 200 000 patients: every indicator for a year <= 1 s; the management review's
PDF <= 3 s.
"""

import argparse
import datetime as dt
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from timing import median_ms  # noqa: E402 (bench/ is the script's folder)

YEAR_MARK = "bench.quality_year"
# A year at three busy sites.
TASKS_PER_RULE = {"satisfaction_72h": 30_000, "call_36_weeks": 6_000,
                  "discharge_survey": 5_000, "post_discharge_call": 5_000,
                  "prospect_callback": 8_000, "conversion_review": 10_000, "same_day": 25_000}
CALLS, APPOINTMENTS, SURVEYS, PROSPECTS, CASES = 150_000, 100_000, 20_000, 10_000, 600


def _moment(rng: random.Random, start: dt.datetime) -> dt.datetime:
    return start + dt.timedelta(days=rng.randint(0, 364), hours=rng.randint(8, 17),
                                minutes=rng.choice([0, 10, 20, 30, 40, 50]))


def add_a_year(year: int, rng: random.Random) -> dict[str, int]:
    """A year of the desk's work, written in bulk (the services' rules are not the point
    here: the aggregates over the volumes are)."""
    from nest_desktop.db.models import (
        Appointment,
        CallRecord,
        FollowUpTask,
        Patient,
        Prospect,
        QualityCase,
        Site,
        SmsMessage,
        SurveyResponse,
        User,
        database,
    )
    from nest_desktop.services import settings

    start = dt.datetime(year, 1, 1)
    sites = [s.id for s in Site.select(Site.id)]
    users = [u.id for u in User.select(User.id)]
    top = Patient.select(Patient.id).order_by(Patient.id.desc()).scalar()
    written: dict[str, int] = {}

    def insert(model, rows):
        with database.atomic():
            for first in range(0, len(rows), 500):
                model.insert_many(rows[first:first + 500]).execute()
        written[model._meta.table_name] = written.get(model._meta.table_name, 0) + len(rows)

    tasks = []
    for rule, count in TASKS_PER_RULE.items():
        for index in range(count):
            due = _moment(rng, start)
            fate = rng.random()
            done = fate < 0.93
            closed = due - dt.timedelta(hours=rng.randint(1, 48)) if fate < 0.85 else (
                due + dt.timedelta(hours=rng.randint(1, 72)))
            tasks.append({"key": f"bench:{year}:{rule}:{index}", "rule": rule,
                          "patient": rng.randint(1, top), "source_table": "bench",
                          "source_id": index, "event_at": due - dt.timedelta(days=3),
                          "opens_at": due - dt.timedelta(days=3), "due_at": due,
                          "site": rng.choice(sites), "assignee_role": "customer_relations",
                          "assignee": rng.choice(users),
                          "status": "done" if done else rng.choice(["open", "cancelled"]),
                          "outcome": "reached" if done else "",
                          "closed_at": closed if done else None,
                          "closed_by": rng.choice(users) if done else None,
                          "created_at": due, "updated_at": due})
    insert(FollowUpTask, tasks)
    outcomes = ["answered"] * 70 + ["transferred"] * 15 + ["message"] * 6 + \
        ["call_back_later"] * 4 + ["lost"] * 5
    calls = []
    for _index in range(CALLS):
        started = _moment(rng, start)
        hold = rng.choice([0, 0, 0, 0, 15, 30, 45, 75, 120])
        calls.append({"direction": "in", "started_at": started,
                      "ended_at": started + dt.timedelta(minutes=2),
                      "duration_seconds": 120 + hold, "hold_seconds": hold,
                      "user": rng.choice(users), "site": rng.choice(sites),
                      "phone": f"+2217{rng.randint(0, 99_999_999):08d}",
                      "patient": rng.randint(1, top) if rng.random() < 0.7 else None,
                      "reason": "information", "outcome": rng.choice(outcomes)})
    insert(CallRecord, calls)
    appointments = []
    for _index in range(APPOINTMENTS):
        starts = _moment(rng, start)
        appointments.append({"patient": rng.randint(1, top), "site": rng.choice(sites),
                             "starts_at": starts, "status": rng.choices(
                                 ["attended", "missed", "cancelled"], [85, 8, 7])[0],
                             "booked_by": rng.choice(users), "booked_at": starts,
                             "updated_at": starts})
    insert(Appointment, appointments)
    first_appointment = Appointment.select(Appointment.id).order_by(
        Appointment.id.desc()).scalar() - APPOINTMENTS + 1
    reminders = []
    for offset, row in enumerate(appointments):
        if row["status"] == "cancelled" or rng.random() < 0.1:
            continue
        appointment_id = first_appointment + offset
        when = row["starts_at"] - dt.timedelta(days=1)
        reminders.append({"key": f"bench:appointment:{appointment_id}", "kind": "appointment",
                          "patient": row["patient"], "source_table": "appointment",
                          "source_id": appointment_id, "event_at": row["starts_at"],
                          "phone": "+221771234567", "site": row["site"],
                          "scheduled_at": when, "next_attempt_at": when,
                          "state": rng.choices(["delivered", "sent", "failed"], [80, 17, 3])[0],
                          "created_at": when, "updated_at": when})
    insert(SmsMessage, reminders)
    answers = []
    for _index in range(SURVEYS):
        values = {"welcome": rng.randint(1, 5), "waiting": rng.randint(2, 5),
                  "consultation": rng.randint(3, 5), "recommend": rng.random() < 0.9}
        if rng.random() < 0.3:
            values["comment"] = "Un peu d'attente à l'accueil."
        answers.append({"survey": "satisfaction_72h", "site": rng.choice(sites),
                        "channel": "phone", "answered_at": _moment(rng, start),
                        "answers": json.dumps(values, ensure_ascii=False),
                        "score": rng.randint(30, 100), "recorded_by": rng.choice(users)})
    insert(SurveyResponse, answers)
    prospects = []
    for index in range(PROSPECTS):
        created = _moment(rng, start)
        converted = rng.random() < 0.3
        prospects.append({"last_name": "Bench", "first_names": str(index),
                          "sort_key": f"bench {index}", "site": rng.choice(sites),
                          "channel": "phone", "qualification": "quote",
                          "owner": rng.choice(users),
                          "status": "converted" if converted else "answered",
                          "created_at": created, "updated_at": created,
                          "converted_at": created + dt.timedelta(days=rng.randint(1, 60))
                          if converted else None})
    insert(Prospect, prospects)
    cases = []
    for _index in range(CASES):
        recorded = _moment(rng, start)
        closed = rng.random() < 0.7
        cases.append({"kind": "complaint", "source": "survey", "occurred_on": recorded.date(),
                      "site": rng.choice(sites), "category": "waiting", "severity": "minor",
                      "description": "Attente", "status": "closed" if closed else "acting",
                      "closed_at": recorded + dt.timedelta(days=30) if closed else None,
                      "recorded_at": recorded, "updated_at": recorded,
                      "assigned_to": rng.choice(users)})
    insert(QualityCase, cases)
    with database.atomic():
        settings.record_state(YEAR_MARK, year)
    return written


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", required=True, type=Path)
    parser.add_argument("--patients", type=int, default=200_000)
    args = parser.parse_args()
    from nest_desktop.db.connection import open_database, sqlite_url
    from nest_desktop.domain import clock
    from nest_desktop.domain import quality as rules
    from nest_desktop.services import demo, indicators, management_review, session, settings

    fresh = not args.keep.exists()
    open_database(sqlite_url(args.keep))
    if fresh:
        started = time.perf_counter()
        demo.generate(args.patients, interactions_per_patient=0.5)
        print(f"{args.patients:,} patients generated in {time.perf_counter() - started:.0f} s",
              flush=True)
    session.login("clemence", demo.DEMO_PASSWORD)
    today = clock.today()
    year = today.year - 1  # the last whole year
    if settings.get(YEAR_MARK) != year:
        started = time.perf_counter()
        written = add_a_year(year, random.Random(2026))
        print(f"a year of work added in {time.perf_counter() - started:.0f} s: "
              + ", ".join(f"{count:,} {table}" for table, count in written.items()), flush=True)
    now = clock.now()
    whole_year = indicators.Scope(rules.period_of(rules.YEAR, dt.date(year, 6, 1)))
    site_id = 1
    a_month = indicators.Scope(rules.period_of(rules.MONTH, dt.date(year, 11, 1)))
    user_id = 2
    results = [
        ("every indicator, a year, all sites", lambda: indicators.compute(whole_year, now),
         1000),
        ("every indicator, a year, one site", lambda: indicators.compute(
            indicators.Scope(whole_year.period, site_id), now), 1000),
        ("every indicator, a year, one secretary", lambda: indicators.compute(
            indicators.Scope(whole_year.period, None, user_id), now), 1000),
        ("every indicator, a month, all sites", lambda: indicators.compute(a_month, now),
         1000),
        ("the Indicators tab, a month (table + 6 months' trend)",
         lambda: indicators.table_and_trend(a_month, now), None),
        ("the Indicators tab, a year (table + 6 years' trend)",
         lambda: indicators.table_and_trend(whole_year, now), None),
        ("drill-down: 72-hour calls late in the year",
         lambda: indicators.drill_rows("task", indicators.drill(
             "on_time.satisfaction_72h", "late", whole_year, now).ids[:200]), None),
        ("management review PDF, a year", lambda: management_review.review_pdf(whole_year,
                                                                               now), 3000),
        ("management review PDF, a month", lambda: management_review.review_pdf(a_month, now),
         3000)]
    values = indicators.compute(whole_year, now)
    print(f"72-hour calls of the year: {values['on_time.satisfaction_72h'].base:,}, "
          f"calls: {values['phone.calls'].base:,}, appointments reminded over "
          f"{values['appointments.reminded'].base:,}")
    for name, function, target in results:
        function()  # warm the cache, as a pilot's second look
        elapsed = median_ms(function, 5)
        verdict = "" if target is None else ("  ok" if elapsed <= target else "  TOO SLOW")
        print(f"{name:<58} {elapsed:8.0f} ms{verdict}", flush=True)


if __name__ == "__main__":
    main()
