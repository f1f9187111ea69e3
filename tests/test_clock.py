"""The application's one clock: nothing else in the package reads the system's date or time,
the clinic's time is Dakar's whatever the PC's time zone, and tests set the moment they need."""

import ast
import datetime as dt
import os
import re
import time
from pathlib import Path

import pytest

from nest_desktop.domain import clock

PACKAGE = Path(__file__).resolve().parent.parent / "nest_desktop"
CLOCK_MODULE = PACKAGE / "domain" / "clock.py"

# Readings of the system clock: `<base>.<attribute>`, called or passed as a default.
_READINGS = {
    "date": {"today", "fromtimestamp"},
    "datetime": {"now", "today", "utcnow", "fromtimestamp", "utcfromtimestamp"},
    "time": {"time", "time_ns", "localtime", "gmtime", "ctime", "asctime", "strftime"},
    "QDate": {"currentDate"},
    "QTime": {"currentTime"},
    "QDateTime": {"currentDateTime", "currentDateTimeUtc", "currentMSecsSinceEpoch",
                  "currentSecsSinceEpoch"},
}
_SQL_CLOCK = re.compile(r"\b(CURRENT_TIMESTAMP|CURRENT_DATE|CURRENT_TIME|LOCALTIMESTAMP|NOW\(\))",
                        re.IGNORECASE)


def system_clock_readings(source: str) -> list[tuple[int, str]]:
    """(line, text) of each reading of the system's date or time in Python `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            base = node.value
            name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", None)
            if node.attr in _READINGS.get(name, ()):
                found.append((node.lineno, f"{name}.{node.attr}"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.extend((node.lineno, sql) for sql in _SQL_CLOCK.findall(node.value))
    return sorted(found)


def test_the_guard_finds_every_way_of_reading_the_system_clock():
    source = """
import datetime as dt, time
from datetime import date, datetime
from PySide6.QtCore import QDateTime
a = dt.date.today()
b = datetime.now()
c = time.time()
d = QDateTime.currentDateTime()
e = DateTimeField(default=dt.datetime.now)
f = "SELECT CURRENT_TIMESTAMP"
g = date.fromtimestamp(0)
ok = (clock.now(), clock.today(), time.monotonic(), dt.date(2026, 11, 23), self.now_button)
"""
    assert [line for line, _text in system_clock_readings(source)] == [5, 6, 7, 8, 9, 10, 11]


def test_nothing_in_the_package_reads_the_system_clock_but_the_clock():
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {text}"
        for path in sorted(PACKAGE.rglob("*.py")) if path != CLOCK_MODULE
        for line, text in system_clock_readings(path.read_text(encoding="utf-8"))]
    assert offenders == [], "read the date and time through nest_desktop.domain.clock"


def test_a_stopped_clock_stays_and_moves_only_when_told():
    clock.set_now(dt.datetime(2027, 1, 31, 23, 59, 59, 750_000))
    assert clock.now() == dt.datetime(2027, 1, 31, 23, 59, 59)  # to the second
    time.sleep(0.01)
    assert clock.now() == dt.datetime(2027, 1, 31, 23, 59, 59)
    clock.advance(dt.timedelta(seconds=1))
    assert clock.today() == dt.date(2027, 2, 1)
    clock.set_now(dt.date(2028, 2, 29))
    assert clock.now() == dt.datetime(2028, 2, 29, 0, 0)


def test_a_running_clock_goes_on_from_its_moment():
    clock.set_now(dt.datetime(2027, 12, 31, 23, 30), running=True)
    first = clock.now()
    assert dt.datetime(2027, 12, 31, 23, 30) <= first < dt.datetime(2027, 12, 31, 23, 31)
    clock.advance(dt.timedelta(hours=1))
    assert clock.today() == dt.date(2028, 1, 1)


def test_a_moment_given_in_another_time_zone_is_read_as_the_clinics_time():
    clock.set_now(dt.datetime.fromisoformat("2027-03-28T10:00:00+02:00"))
    assert clock.now() == dt.datetime(2027, 3, 28, 8, 0)


def test_reset_goes_back_to_the_system_time():
    clock.set_now(dt.datetime(2030, 1, 1))
    clock.reset()
    assert not clock.is_set()
    assert abs(clock.now() - clock.system_now()) < dt.timedelta(seconds=2)


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="time zones are set with tzset")
def test_the_clinics_time_is_dakars_whatever_the_pcs_time_zone(monkeypatch):
    clock.reset()
    utc = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    try:
        for zone in ("Europe/Paris", "America/New_York", "Asia/Tokyo"):
            monkeypatch.setenv("TZ", zone)
            time.tzset()
            # The PC's local time is hours away from Dakar's; the clinic's clock is not.
            assert abs(clock.now() - utc) < dt.timedelta(seconds=5)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_parse_moment_reads_what_a_person_types_on_a_command_line():
    assert clock.parse_moment("2027-01-31 23:30") == dt.datetime(2027, 1, 31, 23, 30)
    assert clock.parse_moment("2028-02-29T09:00:00") == dt.datetime(2028, 2, 29, 9, 0)
    assert clock.parse_moment("2027-12-31") == dt.datetime(2027, 12, 31)
    with pytest.raises(ValueError):
        clock.parse_moment("31/12/2027")


def test_the_tests_moment_is_set_by_the_environment_or_a_marker():
    moved = os.environ.get("NEST_TEST_NOW")
    if moved:
        start = clock.parse_moment(moved)
        assert start <= clock.now() < start + dt.timedelta(minutes=5)
    else:
        assert abs(clock.now() - clock.system_now()) < dt.timedelta(seconds=2)


@pytest.mark.clock("2026-11-23 09:00")
def test_a_marked_test_starts_at_its_moment():
    assert clock.now() == dt.datetime(2026, 11, 23, 9, 0)
