"""Durability benchmark: what a save costs when it must survive a power cut (issue 24).

    python bench/bench_durability.py [--saves 300]

SQLite in WAL mode with `synchronous=NORMAL` may lose the last transactions on a power cut
(the database stays whole); with `synchronous=FULL` the WAL is synced at each commit, so a
save shown as done is on the disk. This measures a patient file's save (one transaction:
the file, its phones, its search words, its audit entry) both ways on the same disk, and
checks the application opens its database with FULL. Target: a save at most 50 ms (the GUI
thread's budget), median.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def measure(folder: Path, synchronous: str, saves: int) -> list[float]:
    from nest_desktop.db import connection
    from nest_desktop.db.connection import close_database, open_database, sqlite_url
    from nest_desktop.db.models import database
    from nest_desktop.services import desk, session
    from nest_desktop.services import patients as patient_service

    connection.SQLITE_PRAGMAS = {**connection.SQLITE_PRAGMAS, "synchronous": synchronous}
    open_database(sqlite_url(folder / f"{synchronous}.sqlite3"))
    desk.create_first_site_and_user(
        desk.SiteForm("Clinique Nest Mermoz", "33 860 10 10", "Mermoz"),
        desk.UserForm("Clémence Diatta", "Clémence", "administrator", None, "clemence",
                      "Bench-2026!", "Bench-2026!"))
    session.login("clemence", "Bench-2026!")
    assert database.execute_sql("PRAGMA synchronous").fetchone()[0] == (
        2 if synchronous == "full" else 1)
    timings = []
    for index in range(saves):
        started = time.perf_counter()
        patient_service.create_patient(patient_service.PatientForm(
            last_name="Ndiaye", first_names="Fatou " + "abcdefghij"[index % 10] * (1 + index // 10),
            phones=["77 123 45 67"]))
        timings.append((time.perf_counter() - started) * 1000)
    session.logout()
    close_database()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--saves", type=int, default=300)
    args = parser.parse_args()
    from nest_desktop.db.connection import SQLITE_PRAGMAS

    print(f"the application opens SQLite with synchronous={SQLITE_PRAGMAS['synchronous']}, "
          f"journal_mode={SQLITE_PRAGMAS['journal_mode']}")
    with tempfile.TemporaryDirectory() as folder:
        results = {mode: measure(Path(folder), mode, args.saves) for mode in ("normal", "full")}
    for mode, timings in results.items():
        ordered = sorted(timings)
        print(f"patient file save, synchronous={mode}: median "
              f"{statistics.median(timings):.1f} ms, p90 {ordered[int(len(ordered) * 0.9)]:.1f} "
              f"ms ({len(timings)} saves)")
    print("target: median <= 50 ms with synchronous=full")


if __name__ == "__main__":
    main()
