"""SMS: scheduling the reminders, and opening the outbox on a large one.

    python bench/bench_sms.py [--appointments 10000] [--doses 100000] [--messages 1000000]

Targets (issue "SMS"): scheduling the reminders of 10 000 appointments and 100 000 vaccine
doses <= 10 s; the outbox view opens on 1 000 000 messages <= 300 ms.

The clinic: one consenting mother per appointment, booked over the next 30 days, and children
(linked to those mothers) born over the last 18 months, as many as make `--doses` doses in
their calendars. Scheduling is timed cold (every reminder created) and again (the idempotent
catch-up the sender runs). The outbox: `--messages` rows over two years, the view's opening
being what the page runs: the ids of its default period (a week back, a month ahead), the
counts per state, and the first block of rows.
"""

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

from nest_desktop.domain import clock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from timing import median_ms  # noqa: E402


def make_clinic(appointments: int, doses: int, rng: random.Random, now: dt.datetime) -> int:
    """Mothers with an appointment each, and children; returns the children's count."""
    from nest_desktop.db.models import (
        Appointment,
        DirectoryEntry,
        FamilyLink,
        Patient,
        PatientPhone,
        Site,
        database,
    )
    from nest_desktop.domain import vaccination
    from nest_desktop.services import demo

    site = Site.create(name="Clinique Nest Bench", phone="+221338601010")
    service = DirectoryEntry.create(site=site, kind="service", name="Gynécologie",
                                    takes_appointments=True)
    per_child = len(vaccination.calendar(now.date() - dt.timedelta(days=200), sex="F"))
    children = max(1, doses // per_child)
    first_id = (Patient.select(Patient.id).order_by(Patient.id.desc()).scalar() or 0) + 1
    mothers, phones_, booked, kids, links = [], [], [], [], []
    for index in range(appointments):
        mother_id = first_id + index
        first = rng.choice(demo.FEMALE_FIRST_NAMES)
        mothers.append({"id": mother_id, "last_name": "Diop", "first_names": first,
                        "sort_key": f"diop {first.lower()}", "sex": "F", "site": site.id,
                        "sms_consent": True, "language": rng.choice(["fr"] * 9 + ["en"])})
        phones_.append({"patient": mother_id, "e164": f"+22177{index:07d}",
                        "national_digits": f"77{index:07d}", "position": 0})
        starts = dt.datetime.combine(now.date() + dt.timedelta(days=rng.randint(1, 30)),
                                     dt.time(rng.randint(8, 17), rng.choice([0, 15, 30, 45])))
        booked.append({"patient": mother_id, "site": site.id, "service": service.id,
                       "starts_at": starts, "duration_minutes": 30, "status": "booked"})
    for index in range(children):
        child_id = first_id + appointments + index
        kids.append({"id": child_id, "last_name": "Diop", "first_names": "Moussa",
                     "sort_key": "diop moussa", "sex": rng.choice("FM"), "site": site.id,
                     "birth_date": now.date() - dt.timedelta(days=rng.randint(0, 540))})
        links.append({"parent": first_id + index % appointments, "child": child_id,
                      "relation": "mother"})
    with database.atomic():
        for model, rows in ((Patient, mothers), (Patient, kids), (PatientPhone, phones_),
                            (FamilyLink, links), (Appointment, booked)):
            for start in range(0, len(rows), 500):
                model.insert_many(rows[start:start + 500]).execute()
    return children


def fill_outbox(count: int, rng: random.Random, now: dt.datetime) -> None:
    from nest_desktop.db.models import Patient, database

    patients = [row[0] for row in Patient.select(Patient.id).limit(5000).tuples()]
    start = now - dt.timedelta(days=700)
    states = ["sent"] * 90 + ["failed"] * 3 + ["cancelled"] * 5 + ["delivered"] * 2
    columns = ("key", "kind", "patient_id", "source_table", "source_id", "occurrence",
               "phone", "language", "body", "text", "parts", "scheduled_at",
               "next_attempt_at", "state", "attempts", "last_error", "transport",
               "provider_ref", "created_at", "updated_at")
    sql = (f"INSERT INTO sms_message ({', '.join(columns)}) "
           f"VALUES ({', '.join('?' for _ in columns)})")
    rows = []
    for index in range(count):
        when = start + dt.timedelta(minutes=index * 730 * 24 * 60 // count)
        state = rng.choice(states) if when < now else "scheduled"
        rows.append((f"bench:{index}", "newsletter", rng.choice(patients), "campaign", 1,
                     "", "+221770000000", "fr", "Bonjour {prenom}", "Bonjour Awa", 1,
                     when, when, state, 1, "", "http", "", when, when))
    with database.atomic():
        cursor = database.cursor()
        for first in range(0, len(rows), 10_000):
            cursor.executemany(sql, rows[first:first + 10_000])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--appointments", type=int, default=10_000)
    parser.add_argument("--doses", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--horizon", type=int, default=None,
                        help="days ahead whose vaccine doses get reminders (Settings: 30); "
                             "540 reminds every dose of these children's next 18 months")
    args = parser.parse_args()

    from peewee import fn

    from nest_desktop.db.connection import open_database, sqlite_url
    from nest_desktop.db.models import SmsMessage
    from nest_desktop.services import sms

    if args.horizon:
        sms.settings.DEFAULTS["sms.timing"] = {"vaccine_horizon_days": args.horizon}
    rng = random.Random(8)
    open_database(sqlite_url(Path(tempfile.mkdtemp()) / "bench.sqlite3"))
    now = clock.now()
    children = make_clinic(args.appointments, args.doses, rng, now)
    print(f"clinic: {args.appointments} booked appointments, {children} children "
          f"(~{args.doses} calendar doses)")

    started = time.perf_counter()
    report = sms.schedule_reminders(now)
    cold = time.perf_counter() - started
    by_kind = dict(SmsMessage.select(SmsMessage.kind, fn.COUNT(SmsMessage.id))
                   .group_by(SmsMessage.kind).tuples())
    print(f"scheduling the reminders, cold: {cold:.2f} s (target <= 10 s) — "
          f"{report.created} created ({by_kind})")
    started = time.perf_counter()
    again = sms.schedule_reminders(now)
    print(f"scheduling again (catch-up, nothing new): {time.perf_counter() - started:.2f} s — "
          f"{again.created} created, {again.moved} moved, {again.cancelled} cancelled")

    started = time.perf_counter()
    fill_outbox(args.messages, rng, now)
    total = SmsMessage.select().count()
    print(f"outbox of {total} messages made in {time.perf_counter() - started:.0f} s")
    today = now.date()
    default = sms.OutboxFilter(today - dt.timedelta(days=7), today + dt.timedelta(days=30))
    shown: dict = {}

    def open_view(outbox_filter=default) -> None:
        ids = sms.outbox_ids(outbox_filter)
        shown["ids"] = len(ids)
        sms.outbox_counts(outbox_filter)
        sms.outbox_rows(ids[:200])

    opening = median_ms(open_view, args.runs)
    print(f"outbox view opens (a week back, a month ahead): {opening:.1f} ms median "
          f"(target <= 300 ms) — {shown['ids']} messages in the period")
    failed = sms.OutboxFilter(state="failed")
    opening = median_ms(lambda: open_view(failed), args.runs)
    print(f"outbox view, every failed message of all time: {opening:.1f} ms median — "
          f"{shown['ids']} messages")
    due = SmsMessage.select(SmsMessage.id).where(
        (SmsMessage.state == "scheduled") & (SmsMessage.next_attempt_at <= now))
    print(f"the sender's query for due messages: "
          f"{median_ms(lambda: list(due.limit(500).tuples()), args.runs):.1f} ms median")


if __name__ == "__main__":
    main()
