"""Prospects benchmark: the duplicate check and a lead import with its preview.

    python bench/bench_prospects.py [--patients 200000] [--prospects 50000] [--rows 5000]

Targets (issue "Prospects"): duplicate check <= 10 ms median against 200 000 patients and
50 000 prospects; importing 5 000 rows with the preview <= 10 s.
"""

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from clinic import large_clinic  # noqa: E402
from timing import median_ms  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=200_000)
    parser.add_argument("--prospects", type=int, default=50_000)
    parser.add_argument("--rows", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    from nest_desktop.services import demo, people, session
    from nest_desktop.services import prospects as service

    rng = random.Random(7)
    work, rows, phone_rows = large_clinic(args.patients, args.prospects, rng)
    known = [row["e164"] for row in phone_rows[:: max(1, len(phone_rows) // 50)]]
    checks = [(f"Awa {rng.choice(demo.LAST_NAMES)}", rng.choice(rows)["birth_date"],
               [rng.choice(known) if i % 2 else f"+22177{rng.randint(0, 9_999_999):07d}"])
              for i in range(args.runs)]
    position = iter(range(10**9))

    def check() -> None:
        name, born, numbers = checks[next(position) % len(checks)]
        people.existing_people(name, born, numbers)

    print(f"duplicate check, patients and prospects: median {median_ms(check, args.runs):.2f} "
          f"ms (target <= 10 ms)")

    export = work / "leads.csv"
    lines = ["full_name;phone_number;email;message"]
    for index in range(args.rows):
        number = (rng.choice(known) if index % 10 == 0
                  else f"+22176{rng.randint(0, 9_999_999):07d}")
        lines.append(f"{rng.choice(demo.FEMALE_FIRST_NAMES)} {rng.choice(demo.LAST_NAMES)};"
                     f"{number};;Tarifs de l'accouchement")
    export.write_text("\n".join(lines), encoding="utf-8")
    session.login("clemence", demo.DEMO_PASSWORD)
    from nest_desktop.db.models import User

    User.update(role="prospect_manager").where(User.login == "clemence").execute()
    session.login("clemence", demo.DEMO_PASSWORD)
    started = time.perf_counter()
    preview = service.preview_import(service.read_leads(export, "website", "quote", None))
    previewed = time.perf_counter() - started
    result = service.import_leads(preview)
    total = time.perf_counter() - started
    print(f"import of {args.rows} rows: preview {previewed:.1f} s, preview and import "
          f"{total:.1f} s (target <= 10 s); {result.created} created, "
          f"{result.on_prospects + result.on_patients} requests on known people")


if __name__ == "__main__":
    main()
