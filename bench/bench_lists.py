"""The lists and passes that must not grow with the database (issue 25), on large clinics.

    python bench/bench_lists.py --keep big.sqlite3 [--patients 200000]
                                [--small small.sqlite3 [--small-patients 20000]]
                                [--postgres postgresql://nest@127.0.0.1:55432/nest_test]

Each clinic is a demo clinic in a SQLite file, generated once and kept (`--keep`; generating
200 000 patients takes about five minutes). Every figure is the median of 5 runs (3 for the
passes), printed beside the same figure on the `--small` clinic and a raw sqlite3 query of
the same run. The passes that write (the engine, the SMS catch-up) run on a copy.

With --postgres (an empty database: `scripts/postgres_test_cluster.sh start` gives one),
the large clinic is copied there and measured again, and the lists' queries are explained:
a sequential scan of a large table is printed as a problem.

Targets at 200 000 patients: Pregnancies page <= 300 ms; Children & vaccines, due in 7
days, all sites <= 500 ms and one site <= 300 ms; segment "adults" <= 300 ms; the engine's
pass <= 200 ms; the SMS catch-up <= 1 s when little changed.
"""

import argparse
import datetime as dt
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from timing import median_ms  # noqa: E402 (bench/ is the script's folder)

FIRST_SCREEN = 200  # the rows a page fetches to show its first screen (LazyRowsModel.BLOCK)


def clinic(path: Path, patients: int) -> None:
    """Opens the kept clinic, generating it first if the file does not exist."""
    from nest_desktop.db.connection import close_database, open_database, sqlite_url
    from nest_desktop.services import demo, session

    close_database()
    fresh = not path.exists()
    open_database(sqlite_url(path))
    if fresh:
        started = time.perf_counter()
        demo.generate(patients, interactions_per_patient=0.5)
        print(f"{path.name}: {patients:,} patients generated in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
    session.login("clemence", demo.DEMO_PASSWORD)


def measure(path: Path, patients: int, today: dt.date,
            url: str | None = None) -> dict[str, tuple[float, str]]:
    """name -> (milliseconds, what it found); on the server at `url` if given."""
    from nest_desktop.db.connection import close_database, open_database
    from nest_desktop.db.models import Patient
    from nest_desktop.services import (
        demo,
        followup,
        kept_state,
        pregnancy,
        segments,
        session,
        sms,
        vaccination,
    )

    if url is None:
        clinic(path, patients)
        connection = sqlite3.connect(path)

        def raw(sql, params=()):
            return connection.execute(sql, params).fetchall()
    else:
        close_database()
        server = open_database(url)
        session.login("clemence", demo.DEMO_PASSWORD)

        def raw(sql, params=()):
            return server.execute_sql(sql, params).fetchall()
    found: dict[str, tuple[float, str]] = {}
    found["patients"] = (0.0, f"{Patient.select().count():,}")
    started = time.perf_counter()
    rebuilt = kept_state.rebuild(today)
    found["kept states rebuilt (once)"] = ((time.perf_counter() - started) * 1000,
                                           ", ".join(f"{v:,} {k}" for k, v in rebuilt.items()))

    def pregnancies_page():
        ids = pregnancy.ongoing_ids(today=today)
        pregnancy.pregnancy_rows(ids[:FIRST_SCREEN], today)
        return ids

    def vaccines_page(site_id):
        due = vaccination.due_children(7, site_id, today)
        vaccination.due_rows(due.ids[:FIRST_SCREEN], 7, today)
        return due.ids

    site_id = raw("SELECT MIN(id) FROM site")[0][0]
    adults = segments.SegmentFilter()
    for name, function in (("Pregnancies page (ids + first screen)", pregnancies_page),
                           ("Children & vaccines, 7 days, all sites",
                            lambda: vaccines_page(None)),
                           ("Children & vaccines, 7 days, one site",
                            lambda: vaccines_page(site_id)),
                           ("segment 'adults'", lambda: segments.patient_ids(adults, today))):
        count = len(function())
        found[name] = (median_ms(function, 5), f"{count:,} listed")
    horizon = today + dt.timedelta(days=7)
    mark = "?" if url is None else "%s"
    found["raw: ongoing pregnancies' ids"] = (median_ms(lambda: raw(
        "SELECT id FROM pregnancy WHERE status = 'ongoing' ORDER BY ddr, id"), 5),
        "driver's cursor")
    due_sql = ("SELECT s.patient_id FROM child_due_state s JOIN patient p ON p.id = "
               f"s.patient_id WHERE s.next_scheduled <= {mark} AND p.birth_date >= {mark}")
    due_params = (horizon, vaccination.youngest_birth(today))
    found["raw: children due in 7 days' ids"] = (median_ms(lambda: raw(due_sql, due_params),
                                                          5), "driver's cursor")
    if url is not None:
        found.update(explained(today, site_id))
    else:
        close_database()

    # The passes write: on a copy, as at a start, then again with nothing changed.
    copy = Path(tempfile.mkdtemp(prefix="nest-bench-")) / "copy.sqlite3"
    if url is None:
        shutil.copy(path, copy)
        clinic(copy, patients)
    when = dt.datetime.combine(today, dt.time(9))
    for name, function in (("engine pass", lambda: followup.run(when)),
                           ("SMS catch-up (schedule_reminders)",
                            lambda: sms.schedule_reminders(when))):
        function()  # the first brings the copy up to date
        found[name + ", nothing changed"] = (median_ms(function, 3), "")
    found["engine pass, the day's full catch-up (one desk)"] = (median_ms(
        lambda: followup.run(when, full=True), 3), "")
    found["SMS catch-up, the day's full pass (one desk)"] = (median_ms(
        lambda: sms.schedule_reminders(when, full=True), 3), "")
    found["kept states, next day's stale ones"] = (median_ms(
        lambda: kept_state.refresh_stale(when + dt.timedelta(days=1)), 1), "")
    close_database()
    shutil.rmtree(copy.parent, ignore_errors=True)
    return found


LARGE_TABLES = ("patient", "child_due_state", "pregnancy", "vaccine_dose",
                "patient_search_token", "patient_phone", "family_link", "sms_message")


def explained(today: dt.date, site_id: int) -> dict[str, tuple[float, str]]:
    """The lists' queries as the server plans them: a sequential scan of a large table is
    a problem (the plans are read after ANALYZE, as a server's autovacuum keeps them)."""
    from nest_desktop.db.models import ChildDueState, Patient, Pregnancy, database
    from nest_desktop.services import patients, segments, vaccination

    database.execute_sql("ANALYZE")
    horizon = today + dt.timedelta(days=7)
    queries = {
        "pregnancies' ids": Pregnancy.select(Pregnancy.id).where(
            (Pregnancy.status == "ongoing") & (Pregnancy.ddr > today - dt.timedelta(weeks=45)))
        .order_by(Pregnancy.ddr),
        "children due, one site": ChildDueState.select(ChildDueState.patient)
        .join(Patient, on=ChildDueState.patient == Patient.id)
        .where((ChildDueState.next_scheduled <= horizon)
               & (Patient.birth_date >= vaccination.youngest_birth(today))
               & (Patient.site == site_id)),
        "search '77 52' (first page)": patients.search_query("77 52").limit(1001),
        "search 'ndiaye fa' (first page)": patients.search_query("ndiaye fa").limit(1001),
        "segment 'adults'": segments._query(segments.SegmentFilter(), today)
        .order_by(Patient.sort_key, Patient.id),
    }
    found = {}
    for name, query in queries.items():
        sql, params = query.sql()
        plan = [row[0] for row in database.execute_sql("EXPLAIN " + sql, params)]
        scans = sorted({table for line in plan for table in LARGE_TABLES
                        if f"Seq Scan on {table} " in line + " "})
        found[f"plan: {name}"] = (0.0, "sequential scan of " + ", ".join(scans) if scans
                                  else "indexes only")
    return found


TARGETS = {
    "Pregnancies page (ids + first screen)": 300,
    "Children & vaccines, 7 days, all sites": 500,
    "Children & vaccines, 7 days, one site": 300,
    "segment 'adults'": 300,
    "engine pass, nothing changed": 200,
    "SMS catch-up (schedule_reminders), nothing changed": 1000,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", type=Path, required=True, help="the large clinic's file")
    parser.add_argument("--patients", type=int, default=200_000)
    parser.add_argument("--small", type=Path, help="the small clinic's file, for comparison")
    parser.add_argument("--small-patients", type=int, default=20_000)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--postgres", metavar="URL", help="an empty PostgreSQL database")
    args = parser.parse_args()

    from nest_desktop.domain import clock

    today = args.today or clock.today()
    clock.set_now(dt.datetime.combine(today, dt.time(9)))
    large = measure(args.keep, args.patients, today)
    small = measure(args.small, args.small_patients, today) if args.small else {}
    report(today, large, small)
    if args.postgres:
        from nest_desktop.db import transfer
        from nest_desktop.db.connection import sqlite_url

        target = transfer.connect(args.postgres)
        if not target.get_tables():  # a database filled by an earlier run is measured again
            started = time.perf_counter()
            source = transfer.connect(sqlite_url(args.keep))
            transfer.copy_database(source, target)
            source.close()
            print(f"copied to the server in {time.perf_counter() - started:.0f} s", flush=True)
        target.close()
        served = measure(args.keep, args.patients, today, args.postgres)
        report(today, {f"PostgreSQL: {name}": value for name, value in served.items()}, {})


def report(today: dt.date, large: dict, small: dict) -> None:
    print(f"\nNEST Desktop lists benchmark — {today}, median of 5 (passes: 3)", flush=True)
    print(f"{'measure':<52} {'large':>10} {'small':>10} {'target':>8} ok  found (large)")
    for name, (value, detail) in large.items():
        small_value = f"{small[name][0]:.0f} ms" if name in small else ""
        target = TARGETS.get(name.removeprefix("PostgreSQL: "))
        verdict = "" if target is None else ("yes" if value <= target else "NO")
        shown = detail if name.endswith("patients") else f"{value:.0f} ms"
        if name.startswith("plan: ") or name.startswith("PostgreSQL: plan: "):
            shown, detail = "", detail
        if name == "patients":
            small_value = small[name][1] if small else ""
            detail = ""
        print(f"{name:<52} {shown:>10} {small_value:>10} "
              f"{(f'{target} ms' if target else ''):>8} {verdict:<3} {detail}")


if __name__ == "__main__":
    main()
