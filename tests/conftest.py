import json
import os
import tempfile

# Qt's settings and data folders of the tests, away from the user's own.
_isolated = tempfile.mkdtemp(prefix="nest-tests-")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_isolated, "config")
os.environ["XDG_DATA_HOME"] = os.path.join(_isolated, "data")
# The windows open on the clinics' most common screen, 1366×768, less the 40 pixels of the
# Windows taskbar (Qt's offscreen platform takes its screens from a file).
DESK_SCREEN = {"width": 1366, "height": 728}
if os.environ.get("QT_QPA_PLATFORM", "offscreen") == "offscreen":
    _screens = os.path.join(_isolated, "screen-1366x768-taskbar.json")
    with open(_screens, "w", encoding="utf-8") as handle:
        json.dump({"screens": [{"name": "desk", "x": 0, "y": 0, **DESK_SCREEN,
                                "logicalDpi": 96, "dpr": 1}]}, handle)
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={_screens}"

import pytest  # noqa: E402

from nest_desktop import i18n  # noqa: E402
from nest_desktop.db.connection import close_database, open_database, sqlite_url  # noqa: E402

# The moment a test starts at when it does not set its own (`@pytest.mark.clock(...)`):
# the system's time, or NEST_TEST_NOW ('2027-01-31 23:30'), the clock running on from there;
# CI runs the suite again at awkward moments so that a test hoping for the right day fails.
TEST_NOW = os.environ.get("NEST_TEST_NOW", "")


@pytest.fixture(autouse=True)
def application_clock(request):
    """The application's clock for one test: stopped at the test's `clock` marker (the day it
    needs, e.g. "Monday 23 November 2026 09:00"), else as TEST_NOW says; reset after it."""
    from nest_desktop.domain import clock

    marker = request.node.get_closest_marker("clock")
    if marker is not None:
        clock.set_now(clock.parse_moment(marker.args[0]))
    elif TEST_NOW:
        clock.set_now(clock.parse_moment(TEST_NOW), running=True)
    else:
        clock.reset()
    yield clock
    clock.reset()


@pytest.fixture(autouse=True)
def french():
    """Every test starts in the application's default language."""
    i18n.set_language("fr")
    yield
    i18n.set_language("fr")


@pytest.fixture(autouse=True)
def no_window_outlives_its_test():
    """Every window a test opened is closed and deleted when it ends, so that no timer of
    a forgotten window (idle lock, daily backup) acts during a later test."""
    yield
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication, QMessageBox

    app = QApplication.instance()
    if app is None:
        return
    question = QMessageBox.question
    QMessageBox.question = lambda *args, **kwargs: QMessageBox.StandardButton.Discard
    try:
        for widget in app.topLevelWidgets():
            widget.close()
            widget.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    finally:
        QMessageBox.question = question


PASSWORD = "Dakar-2026!"
PASSPHRASE = "Le baobab de Mermoz garde nos copies"


@pytest.fixture(autouse=True)
def no_keyring_of_the_developer():
    """The clinic's passphrase never reaches the keyring of the machine running the tests:
    the application's own fallback (a file of the isolated data folder) keeps it."""
    import keyring
    from keyring.backends import fail

    kept = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(kept)


@pytest.fixture(autouse=True)
def recovery_codes_shown(monkeypatch):
    """The recovery code's window, modal, answered "printed": the codes it showed."""
    from nest_desktop.ui.settings import desk_dialogs

    shown: list[str] = []
    monkeypatch.setattr(desk_dialogs.RecoveryCodeDialog, "exec",
                        lambda dialog: shown.append(dialog.code) or 1)
    return shown


@pytest.fixture
def clinic_passphrase(desk):
    """The clinic's passphrase set by Clémence on this workstation."""
    from nest_desktop.services import passphrase

    passphrase.set_passphrase(PASSPHRASE, PASSPHRASE)
    return PASSPHRASE


# NEST_TEST_DATABASE_URL=postgresql://… runs the suite on that server (an empty database
# whose tables each test drops and makes anew); SQLite files in a temporary folder otherwise.
SERVER_URL = os.environ.get("NEST_TEST_DATABASE_URL", "")
ON_SERVER = SERVER_URL.startswith("postgres")


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: about the embedded SQLite file itself")
    config.addinivalue_line("markers", "clock(moment): the test starts with the application's "
                                       "clock stopped at this moment ('2026-11-23 09:00')")
    config.addinivalue_line("markers", "gui: opens windows (pytest-qt's qtbot or qapp)")
    config.addinivalue_line("markers", "confirmations: the SMS confirming a booking stays on")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if {"qtbot", "qapp"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.gui)
    if ON_SERVER:
        skip = pytest.mark.skip(reason="about the embedded SQLite file")
        for item in items:
            if "sqlite_only" in item.keywords:
                item.add_marker(skip)


def fresh_server_database() -> None:
    import psycopg2

    connection = psycopg2.connect(SERVER_URL)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    connection.close()


def database_url_for_test(tmp_path) -> str:
    if ON_SERVER:
        fresh_server_database()
        return SERVER_URL
    return sqlite_url(tmp_path / "nest.sqlite3")


@pytest.fixture
def empty_db(tmp_path):
    """A new database, before its first run: no site, no user, nobody logged in."""
    from nest_desktop.services import session
    from nest_desktop.ui.common.tasks import wait_for_background_work

    database = open_database(database_url_for_test(tmp_path))
    yield database
    wait_for_background_work()
    session._reset_for_tests()
    close_database()


@pytest.fixture
def desk(empty_db):
    """The clinic's site and its administrator, Clémence, logged in at the desk."""
    from nest_desktop.services import desk as desk_service
    from nest_desktop.services import session

    site, user = desk_service.create_first_site_and_user(
        desk_service.SiteForm("Clinique Nest Mermoz", "33 860 10 10", "Mermoz, Dakar"),
        desk_service.UserForm("Clémence Diatta", "Clémence", "administrator", None,
                              "clemence", PASSWORD, PASSWORD),
    )
    session.login("clemence", PASSWORD)
    return site, user


@pytest.fixture
def db(empty_db, desk):
    """A database with its site and a logged-in administrator."""
    return empty_db


@pytest.fixture
def as_role(desk):
    """Logs in a new user of the given role (created by the administrator)."""
    from nest_desktop.services import desk as desk_service
    from nest_desktop.services import session

    def log_in(role: str):
        session.login("clemence", PASSWORD)
        login = role.replace("_", "")
        desk_service.create_user(desk_service.UserForm(
            f"Test {role}", "Awa", role, desk[0].id, login, PASSWORD, PASSWORD))
        return session.login(login, PASSWORD)

    return log_in


@pytest.fixture
def family(desk):
    """A mother and her baby boy, born on 5 September 2026, linked."""
    from nest_desktop.services import patients

    site, _user = desk
    mother = patients.create_patient(patients.PatientForm(
        last_name="Diop", first_names="Awa", phones=["77 123 45 67"], sms_consent=True,
        site_id=site.id))
    child = patients.create_patient(patients.PatientForm(
        last_name="Fall", first_names="Moussa", sex="M", birth_date="05/09/2026",
        pathway="paediatrics", site_id=site.id))
    patients.link_family(mother.id, child.id, "mother")
    return mother, child


@pytest.fixture
def reminders_only(request, monkeypatch):
    """The SMS tests follow the reminders; the confirmation sent at booking has its own test
    (`@pytest.mark.confirmations` keeps it on)."""
    import dataclasses

    from nest_desktop.services import sms

    if request.node.get_closest_marker("confirmations") is None:
        original = sms.timing
        monkeypatch.setattr(sms, "timing", lambda: dataclasses.replace(
            original(), appointment_confirmation=False))
