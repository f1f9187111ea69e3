"""The shared PostgreSQL server stopped in the middle of a session (as a restart or a cut
cable does) and started again: nothing saved while it is away, nothing lost from the
window, and every desk connected again by itself, windows and background work alike. On a
private throw-away cluster of Debian's PostgreSQL, stopped with `pg_ctl stop -m fast`."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from nest_desktop.db.connection import close_database, open_database
from nest_desktop.db.models import AuditEntry, Patient
from nest_desktop.services import ServerUnreachable, database_problem, server_reachable
from nest_desktop.services import patients as patient_service
from tests.kannel_gateway import free_port

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "postgres_test_cluster.sh"


class Cluster:
    def __init__(self, folder: Path, port: int):
        self.environment = {**os.environ, "NEST_PG_FOLDER": str(folder),
                            "NEST_PG_PORT": str(port)}
        self.url = ""

    def _script(self, command: str) -> str:
        return subprocess.run([str(SCRIPT), command], env=self.environment, check=True,
                              capture_output=True, text=True, timeout=120).stdout.strip()

    def start(self) -> str:
        self.url = self._script("start")
        return self.url

    def pause(self) -> None:
        self._script("pause")

    def resume(self) -> None:
        self._script("resume")

    def stop(self) -> None:
        self._script("stop")


@pytest.fixture
def server(tmp_path_factory):
    if not list(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")) or not shutil.which("su"):
        if os.environ.get("NEST_TEST_REAL_PEERS") == "required":  # CI: every real peer is there
            pytest.fail("PostgreSQL is not installed: scripts/bootstrap.sh test installs it")
        pytest.skip("PostgreSQL is not installed (Debian's postgresql)")
    folder = Path("/tmp") / f"nest-pg-restart-{os.getpid()}"
    cluster = Cluster(folder, free_port())
    cluster.start()
    yield cluster
    close_database()
    cluster.stop()


@pytest.fixture
def desk_on_server(server):
    """Clémence at the desk, on the private server."""
    from nest_desktop.services import desk as desk_service
    from nest_desktop.services import session
    from nest_desktop.ui.common.tasks import wait_for_background_work
    from tests.conftest import PASSWORD

    close_database()
    open_database(server.url)
    site, user = desk_service.create_first_site_and_user(
        desk_service.SiteForm("Clinique Nest Mermoz", "33 860 10 10", "Mermoz, Dakar"),
        desk_service.UserForm("Clémence Diatta", "Clémence", "administrator", None,
                              "clemence", PASSWORD, PASSWORD))
    session.login("clemence", PASSWORD)
    yield site, user
    wait_for_background_work()
    session._reset_for_tests()


def new_patient(site_id: int, first: str = "Awa"):
    return patient_service.create_patient(patient_service.PatientForm(
        last_name="Diop", first_names=first, phones=["77 123 45 67"], site_id=site_id,
        birth_date="02/05/1990"))


def test_a_save_while_the_server_is_stopped_is_refused_then_made_once(server, desk_on_server):
    site, _user = desk_on_server
    patient = new_patient(site.id)
    form = patient_service.form_of(patient)
    form.notes = "Allergie à la pénicilline"
    server.pause()
    with pytest.raises(Exception) as raised:
        patient_service.update_patient(patient.id, patient.version, form)
    problem = database_problem(raised.value)
    assert isinstance(problem, ServerUnreachable) and "serveur" in str(problem)
    assert not server_reachable()
    with pytest.raises(Exception) as raised:  # a read too, said the same way
        patient_service.count()
    assert isinstance(database_problem(raised.value), ServerUnreachable)
    server.resume()
    assert server_reachable()  # connected again, without restarting anything
    saved = patient_service.update_patient(patient.id, patient.version, form)
    assert saved.notes == "Allergie à la pénicilline" and saved.version == patient.version + 1
    assert Patient.select().count() == 1
    updates = AuditEntry.select().where((AuditEntry.table == "patient")
                                        & (AuditEntry.action == "update")).count()
    assert updates == 1  # saved once


def test_the_file_keeps_the_edit_the_bar_says_so_and_every_desk_recovers(
        qtbot, server, desk_on_server, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from nest_desktop.ui.common.notifier import changes
    from tests.test_gui import make_main_window

    site, _user = desk_on_server
    patient = new_patient(site.id)
    window = make_main_window(qtbot, desk_on_server)
    file_window = window.open_patient(patient.id)
    qtbot.addWidget(file_window)
    file_window.notes.setPlainText("Rappeler pour l’échographie du 3e trimestre")
    with qtbot.waitSignal(window.sms_sender.finished, timeout=20_000):
        window.sms_sender.run_now()  # its thread holds a connection the stop will cut
    server.pause()
    assert file_window.save() is False
    assert "injoignable" in file_window.message.text()
    qtbot.waitUntil(window.offline_bar.isVisible)
    # closing with "Save" keeps the window and the text: nothing lost without "Discard"
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *_args, **_kwargs: QMessageBox.StandardButton.Save)
    assert file_window.close() is False and file_window.isVisible()
    assert file_window.notes.toPlainText() == "Rappeler pour l’échographie du 3e trimestre"
    server.resume()
    with qtbot.waitSignal(changes().server_back, timeout=20_000):
        pass  # the bar checks the server by itself, off the GUI thread
    assert not window.offline_bar.isVisible()
    assert file_window.save() is True
    assert Patient.get_by_id(patient.id).notes.startswith("Rappeler pour l’échographie")
    assert AuditEntry.select().where((AuditEntry.table == "patient")
                                     & (AuditEntry.action == "update")).count() == 1
    # the background work connects again too: the SMS sender's round
    with qtbot.waitSignal(window.sms_sender.finished, timeout=20_000) as round_done:
        window.sms_sender.run_now()
    text, failed = round_done.args
    assert not failed, text
