"""Vaccination benchmark: the printed calendar, and calendars for 100 000 children.

    QT_QPA_PLATFORM=offscreen python bench/bench_vaccination.py [--children 100000]

Targets (issue "Child follow-up"): calendar PDF <= 150 ms median; calendars for 100 000
children computed <= 5 s. Baselines from the same run: a plain ReportLab page with a table of
the same size, and the due list of the database (queries + calendars) for a generated clinic.
"""

import argparse
import datetime as dt
import io
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from timing import median_ms  # noqa: E402 (bench/ is the script's folder)


def plain_reportlab_page() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate, Table

    buffer = io.BytesIO()
    rows = [[f"cell {r}.{c}" for c in range(7)] for r in range(24)]
    SimpleDocTemplate(buffer, pagesize=A4).build([Table(rows)])
    return buffer.getvalue()



def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--children", type=int, default=100_000)
    parser.add_argument("--clinic", type=int, default=20_000,
                        help="patients of the generated clinic for the due list")
    args = parser.parse_args()

    from nest_desktop.db.connection import open_database, sqlite_url
    from nest_desktop.db.models import Patient
    from nest_desktop.domain import vaccination
    from nest_desktop.services import demo, documents, session
    from nest_desktop.services import vaccination as service

    # Calendars: children of every age with the doses a real clinic records.
    rng = random.Random(11)
    today = dt.date(2026, 11, 23)
    children = []
    for index in range(args.children):
        birth = today - dt.timedelta(days=rng.randint(0, 16 * 365))
        child = {"id": index, "birth_date": birth, "sex": rng.choice("FM"), "site": 1}
        given = {(row["vaccine"], row["dose"]): row["given_on"]
                 for row in demo._doses_given(rng, child, today, [1])}
        children.append((birth, child["sex"], given))
    started = time.perf_counter()
    for birth, sex, given in children:
        vaccination.calendar(birth, "senegal", given, sex=sex, today=today)
    calendars_s = time.perf_counter() - started

    # The printed calendar of a child of the generated clinic, and the due list.
    folder = Path(tempfile.mkdtemp(prefix="nest-bench-"))
    open_database(sqlite_url(folder / "bench.sqlite3"))
    demo.generate(args.clinic, seed=5)
    session.login("clemence", demo.DEMO_PASSWORD)
    child = (Patient.select().where(Patient.pathway == "paediatrics")
             .order_by(Patient.birth_date.desc()).first())
    pdf_ms = median_ms(lambda: documents.vaccination_calendar_pdf(child.id), 20)
    plain_ms = median_ms(plain_reportlab_page, 20)
    started = time.perf_counter()
    due = service.due_list(7)
    due_s = time.perf_counter() - started
    children_in_clinic = Patient.select().where(
        Patient.birth_date >= dt.date(today.year - service.CHILD_MAX_AGE, today.month, 1)).count()

    rows = [
        ("calendar PDF (median of 20)", f"{pdf_ms:.0f} ms",
         f"plain ReportLab table page {plain_ms:.0f} ms", "<= 150 ms", pdf_ms <= 150),
        (f"calendars for {args.children:,} children", f"{calendars_s:.2f} s",
         f"{calendars_s / args.children * 1e6:.0f} us a child", "<= 5 s", calendars_s <= 5),
        (f"due list, {children_in_clinic:,} children in the DB", f"{due_s:.2f} s",
         f"{len(due):,} children listed", "-", True),
    ]
    print(f"\nNEST Desktop vaccination benchmark — {today}")
    print(f"{'measure':<42} {'value':<10} {'baseline, same run':<36} {'target':<10} ok")
    for name, value, baseline, target, ok in rows:
        print(f"{name:<42} {value:<10} {baseline:<36} {target:<10} {'yes' if ok else 'NO'}")


if __name__ == "__main__":
    main()
