"""Accounts, roles and the audit trail, at the service level."""

import datetime as dt
import json

import pytest

from nest_desktop.db.models import AuditEntry, User
from nest_desktop.services import (
    ValidationFailed,
    audit,
    backup,
    desk,
    documents,
    session,
    settings,
    vaccination,
)
from nest_desktop.services import patients as patient_service
from tests.conftest import PASSWORD


def entries(action=None, table=None):
    query = AuditEntry.select().order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    if table:
        query = query.where(AuditEntry.table == table)
    return list(query)


def test_passwords_are_hashed_and_never_stored_or_audited_in_clear(db):
    user = User.get(User.login == "clemence")
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    everything = " ".join(e.changes + e.details for e in AuditEntry.select())
    assert PASSWORD not in everything and "$argon2" not in everything


def test_failed_logins_lock_the_account_for_a_while(db):
    when = dt.datetime(2026, 11, 23, 9, 0)
    for _attempt in range(4):
        with pytest.raises(session.LoginFailed, match="incorrect"):
            session.login("clemence", "not her password", when)
    with pytest.raises(session.LoginFailed, match="bloqué jusqu’à 09:15"):
        session.login("clemence", "not her password", when)
    # Even the right password is refused while the account is locked…
    with pytest.raises(session.LoginFailed, match="bloqué"):
        session.login("clemence", PASSWORD, when + dt.timedelta(minutes=10))
    # …and accepted after.
    assert session.login("clemence", PASSWORD, when + dt.timedelta(minutes=16)).login == "clemence"
    assert User.get(User.login == "clemence").failed_logins == 0
    assert [e.details for e in entries("login_failed")][-2:] == [
        "trop de tentatives\u00a0: compte verrouillé", "compte verrouillé"]
    with pytest.raises(session.LoginFailed, match="incorrect"):
        session.login("nobody", PASSWORD)


def test_owner_changes_her_password_and_the_administrator_resets_one(db, as_role):
    secretary = as_role("secretary")
    session.login("clemence", PASSWORD)
    with pytest.raises(ValidationFailed) as failed:
        session.change_own_password("wrong", "Nouveau-mot-1", "Nouveau-mot-1")
    assert "current_password" in failed.value.errors
    with pytest.raises(ValidationFailed, match="différents"):
        session.change_own_password(PASSWORD, "Nouveau-mot-1", "Nouveau-mot-2")
    session.change_own_password(PASSWORD, "Nouveau-mot-1", "Nouveau-mot-1")
    assert session.login("clemence", "Nouveau-mot-1")
    session.reset_password(secretary.id, "provisoire-9", "provisoire-9")
    assert session.login(secretary.login, "provisoire-9").must_change_password


def test_roles_are_enforced_in_the_services_and_say_who_may(db, as_role, family, tmp_path):
    _mother, child = family
    as_role("quality_pilot")
    with pytest.raises(session.PermissionDenied) as refused:
        patient_service.create_patient(patient_service.PatientForm(
            last_name="Diop", first_names="Awa"))
    assert str(refused.value) == ("Cette action est réservée à\u00a0: Secrétaire médicale, "
                                  "Secrétaire relation client (GRC), Responsable du suivi des "
                                  "prospects, Administrateur.")
    with pytest.raises(session.PermissionDenied):
        vaccination.record_dose(child.id, "BCG", 1, "05/09/2026")
    with pytest.raises(session.PermissionDenied, match="Administrateur"):
        settings.put("backup.keep_days", 3)
    # She reads everything and exports the audit trail.
    assert documents.audit_csv(tmp_path / "audit.csv", dt.datetime(2000, 1, 1)) > 0
    as_role("secretary")
    with pytest.raises(session.PermissionDenied, match="Administrateur"):
        desk.create_site(desk.SiteForm("Clinique Nest Ouakam"))
    with pytest.raises(session.PermissionDenied):
        backup.restore(tmp_path / "x.sqlite3")
    with pytest.raises(session.PermissionDenied):
        documents.audit_csv(tmp_path / "audit2.csv", dt.datetime(2000, 1, 1))
    with pytest.raises(session.PermissionDenied, match="Pilote qualité"):
        documents.due_list_csv(tmp_path / "due.csv", [])
    session.logout()
    with pytest.raises(session.PermissionDenied, match="Connectez-vous"):
        patient_service.create_patient(patient_service.PatientForm())


def test_every_change_is_in_the_audit_trail_with_old_and_new_values(db, family):
    mother, child = family
    form = patient_service.form_of(patient_service.get_patient(mother.id))
    form.first_names = "Awa Binetou"
    form.phones = ["78 000 00 01"]
    patient_service.update_patient(mother.id, 1, form)
    history = audit.history("patient", mother.id)
    assert [e.action for e in history] == ["update", "create"]
    changes = json.loads(history[0].changes)
    assert changes == {"first_names": ["Awa", "Awa Binetou"],
                       "phones": [["+221771234567"], ["+221780000001"]]}
    assert history[0].user_name == "Clémence Diatta"
    record = vaccination.record_dose(child.id, "BCG", 1, "05/09/2026", lot="L1")
    vaccination.remove_dose(record.id)
    doses = entries(table="vaccine_dose")
    assert [e.action for e in doses] == ["create", "delete"]
    assert json.loads(doses[1].changes)["lot"] == ["L1", None]
    settings.put("backup.keep_days", 60)
    assert json.loads(entries(table="setting")[-1].changes) == {"backup.keep_days": [30, 60]}
    documents.patient_sheet_pdf(mother.id)
    assert entries("print")[-1].record_id == mother.id
    # The child's file gathers what is about her: her record, her link, her doses.
    about_child = [(e.table, e.action) for e in audit.patient_history(child.id)]
    assert about_child == [("vaccine_dose", "delete"), ("vaccine_dose", "create"),
                           ("family_link", "create"), ("patient", "create")]
    assert [e.action for e in entries(table="family_link")] == ["create"]
    assert entries("login")[0].user_name == "Clémence Diatta"


def test_the_audit_trail_offers_no_way_to_change_it():
    public = [name for name in dir(audit) if not name.startswith("_")]
    assert not any(word in name for name in public for word in ("delete", "update", "edit"))
