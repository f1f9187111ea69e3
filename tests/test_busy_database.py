"""A database another desk holds (issue 24 §2): nobody sees "database is locked"; the action
is waited for, then said not done with nothing lost, and done when tried again."""

import sqlite3

import pytest

from nest_desktop.db.connection import sqlite_path
from nest_desktop.db.models import Patient, database
from nest_desktop.services import DatabaseBusy, database_problem
from nest_desktop.services import patients as patient_service

pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def other_desk_writing(db):
    """Another desk's long transaction: a real second connection holding the write lock."""
    database.execute_sql("PRAGMA busy_timeout = 300")  # the wait, shortened for the test
    other = sqlite3.connect(sqlite_path(database.obj), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    yield other
    if other.in_transaction:
        other.execute("ROLLBACK")
    other.close()


def new_file() -> patient_service.PatientForm:
    return patient_service.PatientForm(last_name="Sarr", first_names="Coumba",
                                       phones=["70 555 66 77"])


def test_a_save_while_another_desk_writes_is_said_busy_in_french_and_done_after(
        other_desk_writing):
    with pytest.raises(Exception) as raised:
        patient_service.create_patient(new_file())
    busy = database_problem(raised.value)
    assert isinstance(busy, DatabaseBusy)
    assert str(busy).startswith("La base de données est occupée")
    assert "locked" not in str(busy)
    other_desk_writing.execute("COMMIT")
    patient_service.create_patient(new_file())
    assert Patient.select().count() == 1
    assert database_problem(ValueError("database is locked")) is None  # only the database's own


def test_background_work_and_a_slot_get_the_french_message_and_keep_the_window(
        qtbot, other_desk_writing, monkeypatch):
    from PySide6.QtWidgets import QLineEdit, QMessageBox, QPushButton, QWidget

    from nest_desktop.ui.common import errors
    from nest_desktop.ui.common.tasks import run_in_background
    from tests.test_gui import settle

    answers = []
    run_in_background(lambda: patient_service.create_patient(new_file()), answers.append,
                      answers.append)
    settle(qtbot, lambda: answers != [], timeout=15000)  # its thread waits 5 s
    assert isinstance(answers[0], DatabaseBusy)

    shown = []
    monkeypatch.setattr(QMessageBox, "warning",
                        lambda parent, title, text, *rest: shown.append((title, text)))
    monkeypatch.setattr("sys.excepthook", errors.report_uncaught)
    window = QWidget()
    qtbot.addWidget(window)
    name = QLineEdit("Coumba", window)
    save = QPushButton("Enregistrer", window)
    save.clicked.connect(lambda: patient_service.create_patient(new_file()))
    window.show()
    save.click()  # the slot's exception reaches the one place
    assert shown and shown[0][0] == "L’action n’a pas été faite"
    assert shown[0][1].startswith("La base de données est occupée")
    assert window.isVisible() and name.text() == "Coumba"
