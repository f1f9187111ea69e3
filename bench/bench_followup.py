"""Follow-up benchmark: building Today for a site of a large clinic.

    QT_QPA_PLATFORM=offscreen python bench/bench_followup.py [--patients 200000] [--tasks 20000]

Target (issue "Follow-up engine"): Today for one site, with 200 000 patients and 20 000 open
tasks, <= 150 ms median: the ids of the tasks shown, the count per type and the first block
of rows the list displays. Printed beside the raw SQL count of the due tasks, timed in the
same run, and the engine's start-up pass when nothing has changed.
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

from timing import median_ms  # noqa: E402 (bench/ is the script's folder)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=200_000)
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--keep", metavar="FILE",
                        help="keep the generated clinic in FILE and reuse it on the next run")
    args = parser.parse_args()

    from nest_desktop.db.connection import open_database, sqlite_url
    from nest_desktop.db.models import FollowUpTask, Patient, Site, database
    from nest_desktop.domain import followup as rules
    from nest_desktop.services import demo, session
    from nest_desktop.services import followup as service
    from nest_desktop.ui.common.lazy_model import BLOCK

    path = Path(args.keep) if args.keep else Path(
        tempfile.mkdtemp(prefix="nest-bench-followup-")) / "bench.sqlite3"
    open_database(sqlite_url(path))
    if Patient.select().count() < args.patients:
        started = time.perf_counter()
        demo.generate(args.patients - Patient.select().count(), seed=5)
        print(f"generated {args.patients} patients in {time.perf_counter() - started:.1f} s")
    session.login("clemence", demo.DEMO_PASSWORD)

    # Open tasks of every type, due from a month ago to a month ahead, on every site.
    rng = random.Random(5)
    when = clock.now()
    site_ids = [s.id for s in Site.select(Site.id)]
    max_patient = Patient.select(Patient.id).order_by(Patient.id.desc()).scalar()
    names = list(rules.rules())
    # the benchmark's own tasks, whatever the demo made (it may have made more: they were
    # once counted in, and the benchmark then added none)
    existing = FollowUpTask.select().where(FollowUpTask.source_table == "bench").count()
    rows = []
    for index in range(existing, args.tasks):
        rule = rng.choice(names)
        due = when + dt.timedelta(minutes=rng.randint(-30 * 24 * 60, 30 * 24 * 60))
        rows.append({"key": f"{rule}:bench:{index}", "rule": rule,
                     "patient": rng.randint(1, max_patient), "source_table": "bench",
                     "source_id": index, "event_at": due, "opens_at": due, "due_at": due,
                     "site": rng.choice(site_ids),
                     "assignee_role": rules.rules()[rule].assignee_role})
    with database.atomic():
        for start in range(0, len(rows), 1000):
            FollowUpTask.insert_many(rows[start:start + 1000]).execute()
    open_tasks = FollowUpTask.select().where(FollowUpTask.status == "open").count()
    print(f"open tasks: {open_tasks}, of which {args.tasks} the benchmark's "
          f"({len(rows)} added now)")

    task_filter = service.TaskFilter(site_id=site_ids[0], horizon_days=7)

    def build_today():
        ids = service.task_ids(task_filter, when)
        service.counts(task_filter, when)
        service.rows_for(ids[:BLOCK])
        return ids

    shown = len(build_today())
    end = dt.datetime.combine(when.date() + dt.timedelta(days=7), dt.time.max)
    today_ms = median_ms(build_today, args.runs)
    raw_ms = median_ms(lambda: database.execute_sql(
        "SELECT COUNT(*) FROM follow_up_task WHERE status = 'open' "
        "AND (due_at <= ? OR opens_at <= ?) AND site_id = ?",
        (end, when, site_ids[0])).fetchone(), args.runs)
    engine_ms = median_ms(lambda: service.run(when), 5)
    print(f"Today for one site ({shown} tasks shown): {today_ms:.1f} ms median "
          f"(target <= 150 ms)")
    print(f"raw SQL count of the site's due tasks: {raw_ms:.1f} ms median")
    print(f"engine pass at start-up, nothing changed: {engine_ms:.1f} ms median")


if __name__ == "__main__":
    main()
