"""Would SQLCipher (the live SQLite file encrypted) hold the benchmarks' targets? (issue 24 §1)

    pip install sqlcipher3-binary   # in a throw-away environment: not a dependency
    python bench/bench_sqlcipher.py [--patients 200000]

The same work on the same data with Python's sqlite3 and with sqlcipher3 (SQLCipher 4, its
defaults: AES-256, PBKDF2-SHA512 at 256 000 iterations, 4 KiB pages), both in WAL mode with
synchronous=FULL as the application runs:
- opening a connection (each worker thread opens its own: SQLCipher derives the key then);
- a patient's save (a row, its phone, its search words, one transaction), 300 times;
- the search of the patient list: the first 50 ids by a name prefix, through an index;
- a full scan: counting the patients born in a year (no index), as a report does.
Targets of the other benchmarks: a save ≤ 50 ms, a search keystroke ≤ 30 ms (median).
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

KEY = "Le baobab de Mermoz garde nos copies"
SYLLABLES = ["ba", "di", "ou", "fa", "ma", "ne", "sa", "ko", "ri", "gu", "ye", "to"]


def schema(connection) -> None:
    connection.executescript("""
        CREATE TABLE patient (id INTEGER PRIMARY KEY, last_name TEXT, first_names TEXT,
                              birth_date TEXT, notes TEXT);
        CREATE TABLE phone (id INTEGER PRIMARY KEY, patient_id INTEGER, e164 TEXT);
        CREATE TABLE token (id INTEGER PRIMARY KEY, patient_id INTEGER, token TEXT);
        CREATE INDEX phone_e164 ON phone (e164);
        CREATE INDEX token_token ON token (token, patient_id);
    """)


def name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


def fill(connection, patients: int) -> None:
    rng = random.Random(24)
    with connection:
        for number in range(1, patients + 1):
            last, first = name(rng), name(rng)
            connection.execute("INSERT INTO patient VALUES (?, ?, ?, ?, ?)",
                               (number, last, first, f"{rng.randint(1950, 2026)}-01-01",
                                "x" * rng.randint(0, 200)))
            connection.execute("INSERT INTO phone (patient_id, e164) VALUES (?, ?)",
                               (number, f"+22177{number:07d}"))
            connection.executemany("INSERT INTO token (patient_id, token) VALUES (?, ?)",
                                   [(number, last), (number, first)])


def connect(module, path: Path, encrypted: bool):
    connection = module.connect(str(path), isolation_level=None, check_same_thread=False)
    if encrypted:
        connection.execute(f"PRAGMA key = '{KEY}'")
    connection.execute("PRAGMA journal_mode = wal")
    connection.execute("PRAGMA synchronous = full")
    connection.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the key checked
    connection.isolation_level = ""
    return connection


def measure(module, folder: Path, encrypted: bool, patients: int) -> dict[str, float]:
    path = folder / ("cipher.db" if encrypted else "plain.db")
    connection = connect(module, path, encrypted)
    schema(connection)
    fill(connection, patients)
    connection.close()
    results = {}
    opened = []
    for _ in range(5):
        started = time.perf_counter()
        connect(module, path, encrypted).close()
        opened.append(time.perf_counter() - started)
    results["open a connection"] = statistics.median(opened) * 1000
    connection = connect(module, path, encrypted)
    rng = random.Random(7)
    saves = []
    for number in range(patients + 1, patients + 301):
        started = time.perf_counter()
        with connection:
            last = name(rng)
            connection.execute("INSERT INTO patient VALUES (?, ?, ?, ?, ?)",
                               (number, last, "awa", "2001-01-01", ""))
            connection.execute("INSERT INTO phone (patient_id, e164) VALUES (?, ?)",
                               (number, f"+22178{number:07d}"))
            connection.executemany("INSERT INTO token (patient_id, token) VALUES (?, ?)",
                                   [(number, last), (number, "awa")])
        saves.append(time.perf_counter() - started)
    results["save a patient (median)"] = statistics.median(saves) * 1000
    results["save a patient (p90)"] = sorted(saves)[int(len(saves) * 0.9)] * 1000
    searches = []
    for prefix in [a + b for a in SYLLABLES for b in ("", "d", "m")][:30]:
        started = time.perf_counter()
        connection.execute("SELECT DISTINCT patient_id FROM token WHERE token >= ? AND "
                           "token < ? ORDER BY token LIMIT 50",
                           (prefix, prefix + "\uffff")).fetchall()
        searches.append(time.perf_counter() - started)
    results["search a name prefix (median)"] = statistics.median(searches) * 1000
    started = time.perf_counter()
    connection.execute("SELECT count(*) FROM patient WHERE birth_date LIKE '1994%'").fetchone()
    results["scan every patient"] = (time.perf_counter() - started) * 1000
    connection.close()
    results["file size (MB)"] = path.stat().st_size / 1e6
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=200_000)
    args = parser.parse_args()
    import sqlite3

    try:
        import sqlcipher3
    except ImportError:
        print("sqlcipher3 is not installed: pip install sqlcipher3-binary (not a dependency)")
        return 1
    print("SQLCipher", sqlcipher3.connect(":memory:").execute(
        "PRAGMA cipher_version").fetchone()[0], "/ SQLite", sqlite3.sqlite_version)
    with tempfile.TemporaryDirectory(prefix="nest-sqlcipher-") as folder:
        plain = measure(sqlite3, Path(folder), False, args.patients)
        cipher = measure(sqlcipher3, Path(folder), True, args.patients)
    print(f"{args.patients} patients          sqlite3   sqlcipher   ratio")
    for label, value in plain.items():
        print(f"{label:30} {value:9.2f} {cipher[label]:11.2f} "
              f"{cipher[label] / value if value else 0:7.1f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
