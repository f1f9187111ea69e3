"""The benchmarks' large clinic: prospects added in bulk to a demo clinic's patients."""

import datetime as dt
import random


def add_prospects(count: int, rng: random.Random) -> tuple[list[dict], list[dict]]:
    """`count` answered prospects with a mobile number each; returns their rows and phones."""
    from nest_desktop.db.models import Prospect, ProspectPhone, ProspectSearchToken, database
    from nest_desktop.domain import phones
    from nest_desktop.domain.text import fold, words
    from nest_desktop.services import demo

    rows, phone_rows, token_rows = [], [], []
    first_id = (Prospect.select(Prospect.id).order_by(Prospect.id.desc()).scalar() or 0) + 1
    for index in range(count):
        last, first = rng.choice(demo.LAST_NAMES), rng.choice(demo.FEMALE_FIRST_NAMES)
        prospect_id = first_id + index
        rows.append({"id": prospect_id, "last_name": last, "first_names": first,
                     "sort_key": f"{fold(last)} {fold(first)}", "channel": "phone",
                     "qualification": "quote", "status": "answered",
                     "birth_date": dt.date(1980, 1, 1) + dt.timedelta(days=rng.randint(0, 9000)),
                     "created_at": dt.datetime(2026, 1, 1) + dt.timedelta(minutes=index)})
        number = f"+2217{rng.choice('05678')}{rng.randint(0, 9_999_999):07d}"
        phone_rows.append({"prospect": prospect_id, "e164": number,
                           "national_digits": phones.national_digits(number)})
        token_rows += [{"prospect": prospect_id, "token": t} for t in words(f"{last} {first}")]
    with database.atomic():
        for model, batch in ((Prospect, rows), (ProspectPhone, phone_rows),
                             (ProspectSearchToken, token_rows)):
            for start in range(0, len(batch), 500):
                model.insert_many(batch[start:start + 500]).execute()
    return rows, phone_rows


def large_clinic(patients: int, prospects: int, rng: random.Random):
    """A demo clinic of `patients` patients and `prospects` prospects in a fresh SQLite file,
    Clémence logged in. Returns the folder, the prospects' rows and their phones."""
    import tempfile
    import time
    from pathlib import Path

    from nest_desktop.db.connection import open_database, sqlite_url
    from nest_desktop.services import demo, session

    work = Path(tempfile.mkdtemp())
    open_database(sqlite_url(work / "bench.sqlite3"))
    started = time.perf_counter()
    demo.generate(patients, interactions_per_patient=0.5)
    rows, phone_rows = add_prospects(prospects, rng)
    print(f"clinic of {patients} patients and {prospects} prospects made in "
          f"{time.perf_counter() - started:.0f} s")
    session.login("clemence", demo.DEMO_PASSWORD)
    return work, rows, phone_rows
