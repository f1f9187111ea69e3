"""A save shown as done survives the process killed at any moment (issue 24): a short loop of
`kill -9` in the middle of saves, as a power cut or a crash would stop the application; no
acknowledged save is lost, none is half-written, and the file stays whole."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nest_desktop.db import integrity

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.sqlite_only,
              pytest.mark.skipif(os.name != "posix", reason="SIGKILL")]

WRITER = """
import sys
sys.path.insert(0, {root!r})
from nest_desktop.db.connection import open_database, sqlite_url
from nest_desktop.services import desk, session
from nest_desktop.services import patients

open_database(sqlite_url({path!r}))
if desk.needs_first_run():
    desk.create_first_site_and_user(
        desk.SiteForm("Clinique Nest Mermoz", "33 860 10 10", "Mermoz"),
        desk.UserForm("Clémence Diatta", "Clémence", "administrator", None, "clemence",
                      "Baobab-Ngor-77", "Baobab-Ngor-77"))
session.login("clemence", "Baobab-Ngor-77")
start = int(sys.argv[1])
for index in range(start, start + 100000):
    name = "".join("abcdefghij"[int(d)] for d in str(index))
    patient = patients.create_patient(patients.PatientForm(
        last_name="Sow", first_names="Awa " + name, phones=["77 123 45 67"]))
    print(name, patient.id, flush=True)  # acknowledged: the transaction is committed
"""


def test_kill_9_in_the_middle_of_saves_loses_no_acknowledged_save(tmp_path):
    from nest_desktop.db.connection import close_database, open_database, sqlite_url
    from nest_desktop.db.models import Patient, PatientPhone, PatientSearchToken

    path = tmp_path / "nest.sqlite3"
    script = tmp_path / "writer.py"
    script.write_text(WRITER.format(root=str(ROOT), path=str(path)))
    acknowledged: set[str] = set()
    rng = random.Random(24)
    start = 0
    for _kill in range(24):
        writer = subprocess.Popen([sys.executable, str(script), str(start)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
        time.sleep(rng.uniform(0.5, 1.0))  # imports and a few saves, then the cut
        writer.send_signal(signal.SIGKILL)
        output, _errors = writer.communicate(timeout=30)
        # a line the kill cut before its end was not acknowledged
        lines = [line.split() for line in output.split("\n")[:-1] if line.strip()]
        acknowledged.update(fields[0] for fields in lines
                            if len(fields) == 2 and fields[1].isdigit())
        start += 100000
    assert len(acknowledged) > 24  # the loop saved something between the kills
    integrity.check(path)  # whole
    open_database(sqlite_url(path))
    try:
        stored = {p.first_names.removeprefix("Awa ") for p in Patient.select()}
        assert acknowledged <= stored  # nothing acknowledged is lost
        # and nothing half-written: each patient has her phone and her search words
        for patient in Patient.select():
            assert PatientPhone.select().where(PatientPhone.patient == patient.id).count() == 1
            assert PatientSearchToken.select().where(
                PatientSearchToken.patient == patient.id).exists()
    finally:
        close_database()
