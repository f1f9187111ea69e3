"""Several workstations on one database: the SQLite-to-server copy and concurrent saves."""

import threading

import pytest

from nest_desktop.db import transfer
from nest_desktop.db.connection import sqlite_url
from nest_desktop.db.models import FamilyLink, Patient, PatientPhone, VaccineDose
from nest_desktop.services import StaleRecordError, demo
from nest_desktop.services import patients as patient_service
from tests.conftest import database_url_for_test


def test_a_clinic_is_copied_with_its_ids_links_and_counts(tmp_path, empty_db):
    from nest_desktop.db.connection import close_database, open_database

    close_database()
    source_url = sqlite_url(tmp_path / "clinic.sqlite3")
    open_database(source_url)
    demo.generate(150, seed=9)
    from nest_desktop.db.models import FollowUpTask, Prospect

    expected = {model: model.select().count() for model in (Patient, PatientPhone, FamilyLink,
                                                            VaccineDose, Prospect,
                                                            FollowUpTask)}
    assert expected[Prospect] > 0
    link = FamilyLink.select().first()
    close_database()

    (tmp_path / "target").mkdir()
    target_url = database_url_for_test(tmp_path / "target")
    source, target = transfer.connect(source_url), transfer.connect(target_url)
    counts = transfer.copy_database(source, target)
    assert counts["patient"] == expected[Patient] and counts["vaccine_dose"] > 0
    target.close()
    open_database(target_url)
    assert {model: model.select().count() for model in expected} == expected
    copied = FamilyLink.get_by_id(link.id)
    assert (copied.parent_id, copied.child_id) == (link.parent_id, link.child_id)
    # New rows get new ids after the copied ones.
    from nest_desktop.services import session

    session.login("clemence", demo.DEMO_PASSWORD)
    new = patient_service.create_patient(patient_service.PatientForm(
        last_name="Nouvelle", first_names="Patiente"))
    assert new.id > max(p.id for p in Patient.select(Patient.id).where(Patient.id != new.id))
    # A second copy into a database that is not empty is refused.
    with pytest.raises(transfer.TransferError, match="not empty"):
        transfer.copy_database(transfer.connect(source_url), transfer.connect(target_url))


def test_two_workstations_saving_the_same_file(family):
    """Two real connections (one per thread, as two PCs would have): the second save of the
    same version is refused, nothing is silently overwritten."""
    mother, _child = family
    read_version = patient_service.get_patient(mother.id).version
    outcome = {}

    def other_workstation():
        try:
            form = patient_service.form_of(patient_service.get_patient(mother.id))
            form.first_names = "Awa Binetou"
            patient_service.update_patient(mother.id, read_version, form)
            outcome["saved"] = True
        except Exception as error:  # reported by the assertion below
            outcome["error"] = repr(error)
        finally:
            Patient._meta.database.close()

    thread = threading.Thread(target=other_workstation)
    thread.start()
    thread.join()
    assert outcome == {"saved": True}
    form = patient_service.form_of(patient_service.get_patient(mother.id))
    form.first_names = "Awa Coumba"
    with pytest.raises(StaleRecordError):
        patient_service.update_patient(mother.id, read_version, form)
    assert patient_service.get_patient(mother.id).first_names == "Awa Binetou"


def test_settings_test_and_save_the_shared_server(qtbot, db):
    from nest_desktop.ui.settings import workstation
    from nest_desktop.ui.settings.settings_page import SettingsPage
    from tests.conftest import ON_SERVER, SERVER_URL

    page = SettingsPage()
    qtbot.addWidget(page)
    page.use_server.setChecked(True)
    page.server_host.setText("serveur nest")
    page.save_server()
    assert "192.168.1.10" in page.server_fields["host"].error.text()
    assert workstation.server_address() is None
    page.server_host.setText("127.0.0.1")
    page.server_port.setValue(1)
    page.save_server()
    qtbot.waitUntil(lambda: page.server_message.text().startswith("Le serveur est injoignable"))
    assert workstation.server_address() is None
    if ON_SERVER:
        from urllib.parse import urlsplit

        parts = urlsplit(SERVER_URL)
        page.server_port.setValue(parts.port)
        page.server_name.setText(parts.path.lstrip("/"))
        page.server_user.setText(parts.username)
        page.server_password.setText("secret-1")
        page.save_server()
        qtbot.waitUntil(lambda: page.server_message.text().startswith("Enregistré"))
        assert workstation.database_url() == (
            f"postgresql://{parts.username}:secret-1@127.0.0.1:{parts.port}"
            f"/{parts.path.lstrip('/')}")
    page.use_server.setChecked(False)
    page.save_server()
    assert workstation.database_url() is None
