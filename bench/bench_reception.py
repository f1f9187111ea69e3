"""Answering the phone: recognising the caller as her number is typed.

    python bench/bench_reception.py [--patients 200000] [--prospects 50000] [--numbers 60]

Target (issue "Answering the phone"): recognition as the number is typed <= 20 ms median
with 200 000 patients and 50 000 prospects. Each keystroke from the third digit of a real
number, written the ways callers give it, is one measure; the raw indexed prefix query on the
patients' phones is timed in the same run for comparison, and the card shown once she is
recognised.
"""

import argparse
import random
import sys
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
    parser.add_argument("--numbers", type=int, default=60)
    args = parser.parse_args()

    from nest_desktop.db.models import PatientPhone, database
    from nest_desktop.domain import phones
    from nest_desktop.services import reception

    rng = random.Random(11)
    _work, _rows, prospect_phones = large_clinic(args.patients, args.prospects, rng)

    patient_numbers = [row[0] for row in PatientPhone.select(PatientPhone.e164)
                       .order_by(PatientPhone.id).tuples()]
    numbers = ([rng.choice(patient_numbers) for _ in range(args.numbers // 2)]
               + [rng.choice(prospect_phones)["e164"] for _ in range(args.numbers // 2)])
    # As she gives it: "77 123 45 67", "771234567", "+221 77 123 45 67", "00221771234567".
    keystrokes = []
    for index, e164 in enumerate(numbers):
        national = phones.national_digits(e164)
        written = [phones.display(e164), national, "+221 " + phones.display(e164),
                   "00221" + national][index % 4]
        keystrokes += [written[:length] for length in range(1, len(written) + 1)
                       if len(phones.search_digits(written[:length])) >= 3]
    position = iter(range(10**9))

    def recognise() -> None:
        reception.recognise(keystrokes[next(position) % len(keystrokes)])

    recognition = median_ms(recognise, len(keystrokes))
    digits = [phones.search_digits(text) for text in keystrokes]
    raw_position = iter(range(10**9))

    def raw_prefix() -> None:
        typed = digits[next(raw_position) % len(digits)]
        database.execute_sql(
            "SELECT patient_id FROM patient_phone WHERE national_digits >= ? AND "
            "national_digits < ? ORDER BY national_digits LIMIT 16",
            (typed, typed + "\uffff")).fetchall()

    raw = median_ms(raw_prefix, len(digits))
    found = [reception.recognise(e164)[0] for e164 in numbers]
    card_position = iter(range(10**9))

    def card() -> None:
        match = found[next(card_position) % len(found)]
        reception.caller_card(match.kind, match.record_id)

    print(f"caller recognition, {len(keystrokes)} keystrokes: median {recognition:.2f} ms "
          f"(target <= 20 ms); raw SQL prefix query on the patients' phones, same run: "
          f"median {raw:.2f} ms")
    print(f"caller card once recognised: median {median_ms(card, len(found)):.2f} ms")
    print(f"every number typed whole was recognised: "
          f"{all(match.phones for match in found)}")


if __name__ == "__main__":
    main()
