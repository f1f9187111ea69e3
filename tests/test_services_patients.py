import datetime as dt

import pytest

from nest_desktop.db.models import Patient, PatientPhone
from nest_desktop.services import StaleRecordError, ValidationFailed
from nest_desktop.services import patients as service
from nest_desktop.services.patients import PatientForm


def aissatou(**changes) -> PatientForm:
    form = PatientForm(last_name="Ndiaye", first_names="Aïssatou", sex="F",
                       birth_date="12/03/1994", phones=["77 123 45 67"], pathway="pregnancy",
                       provenance="facebook", sms_consent=True)
    for key, value in changes.items():
        setattr(form, key, value)
    return form


def test_create_stores_e164_phone_and_folded_tokens(db, desk):
    from nest_desktop.services import desk as desk_service
    from tests.conftest import PASSWORD

    site, _admin = desk
    user = desk_service.create_user(desk_service.UserForm(  # a medical secretary holds it
        "Khady Sow", "Khady", "secretary", site.id, "khady", PASSWORD, PASSWORD))
    patient = service.create_patient(aissatou(site_id=site.id, intake_by_id=user.id,
                                              intake_date="20/11/2026",
                                              intake_tariffs_given=True))
    stored = Patient.get_by_id(patient.id)
    assert stored.birth_date == dt.date(1994, 3, 12)
    assert stored.intake_tariffs_given and not stored.intake_file_complete
    assert service.phones_of(patient.id) == ["+221771234567"]
    form = service.form_of(stored)
    assert form.phones == ["77 123 45 67"] and form.birth_date == "12/03/1994"


@pytest.mark.parametrize("query", [
    "aissatou", "AÏSSA", "ndiaye aiss", "77 123 45 67", "+221 77 123 45 67", "00221771234567",
    "771234567", "77 12", "12/03/1994",
])
def test_search_finds_her_however_typed(db, query):
    patient = service.create_patient(aissatou())
    service.create_patient(aissatou(last_name="Fall", first_names="Khady",
                                    phones=["78 000 00 01"], birth_date="01/01/1980"))
    assert service.search_ids(query) == [patient.id]


def test_search_orders_and_lists_everyone_on_empty_query(db):
    b = service.create_patient(aissatou(last_name="Sow", first_names="Awa", phones=[]))
    a = service.create_patient(aissatou(last_name="Ba", first_names="Ndèye", phones=[]))
    assert service.search_ids("") == [a.id, b.id]
    assert service.search_ids("", descending=True) == [b.id, a.id]
    rows = service.rows_for([a.id])
    assert rows[a.id].last_name == "Ba" and rows[a.id].phone == ""


def test_bad_input_gives_a_message_per_field_and_writes_nothing(db):
    form = aissatou(last_name=" ", birth_date="31/12/2999", phones=["77 12"],
                    email="awa@", first_visit_date="01/01/1990")
    with pytest.raises(ValidationFailed) as failed:
        service.create_patient(form)
    errors = failed.value.errors
    assert set(errors) == {"last_name", "birth_date", "phone_0", "email", "first_visit_date"}
    assert errors["birth_date"] == "La date de naissance ne peut pas être dans le futur."
    assert Patient.select().count() == 0 and PatientPhone.select().count() == 0


def test_update_is_refused_when_someone_saved_first(db):
    patient = service.create_patient(aissatou())
    service.update_patient(patient.id, patient.version, aissatou(first_names="Awa"))
    with pytest.raises(StaleRecordError):
        service.update_patient(patient.id, patient.version, aissatou(first_names="Khady"))
    assert Patient.get_by_id(patient.id).first_names == "Awa"
    assert service.search_ids("awa") == [patient.id]
    assert service.search_ids("aissatou") == []


def test_duplicates_by_phone_in_another_form_or_birth_date_and_name(db):
    patient = service.create_patient(aissatou())
    by_phone = service.find_duplicates(PatientForm(last_name="Diop", first_names="Awa",
                                                   phones=["+221771234567"]))
    assert [c.record.record_id for c in by_phone] == [patient.id]
    by_birth = service.find_duplicates(PatientForm(last_name="Ndiaye", first_names="Aissatou",
                                                   birth_date="12/03/1994"))
    assert by_birth[0].reasons == ("birth_date_and_name",)
    assert service.find_duplicates(PatientForm(last_name="Sarr", first_names="Coumba",
                                               birth_date="12/03/1994")) == []
    assert service.find_duplicates(aissatou(), exclude_id=patient.id) == []


def test_interactions_and_family_links(db, desk):
    _site, user = desk
    mother = service.create_patient(aissatou())
    child = service.create_patient(aissatou(first_names="Moussa", sex="M",
                                            birth_date="01/06/2025", pathway="paediatrics"))
    service.link_family(mother.id, child.id, "mother")
    with pytest.raises(ValidationFailed):
        service.link_family(child.id, mother.id, "mother")
    assert [(m.patient_id, m.is_parent) for m in service.family_of(child.id)] == [
        (mother.id, True)]
    assert [(m.patient_id, m.is_parent) for m in service.family_of(mother.id)] == [
        (child.id, False)]
    service.add_interaction(mother.id, user.id, "phone", "incoming", "Demande de tarifs",
                            site_id=_site.id)
    with pytest.raises(ValidationFailed):
        service.add_interaction(mother.id, user.id, "phone", "incoming", "  ")
    with pytest.raises(ValidationFailed):
        service.add_interaction(mother.id, user.id, "phone", "incoming", "x" * 201)
    timeline = service.interactions_of(mother.id)
    assert [i.subject for i in timeline] == ["Demande de tarifs"]
    assert timeline[0].user.phone_first_name == "Clémence"
    assert timeline[0].site_id == _site.id


@pytest.mark.clock("2026-11-23 10:00")
def test_the_history_names_every_field_and_value_in_french(desk):
    """What the quality pilot reads in a file's History tab: never a column name
    ("given_on"), a code ("satisfaction_72h", "mother") or an English word."""
    import re

    from nest_desktop.services import audit, documents, history, vaccination
    from nest_desktop.services import pregnancy as pregnancy_service

    site, _user = desk
    mother = service.create_patient(service.PatientForm(
        last_name="Sarr", first_names="Awa", sex="F", birth_date="02/03/1994",
        phones=["77 123 45 67"], sms_consent=True, newsletter_consent=True,
        address="Villa 12\nCité Keur Gorgui", site_id=site.id))
    form = service.form_of(service.get_patient(mother.id))
    form.visit_reason = "Suivi de grossesse"
    service.update_patient(mother.id, service.get_patient(mother.id).version, form)
    pregnancy, _warnings = pregnancy_service.save_pregnancy(
        mother.id, pregnancy_service.PregnancyForm(ddr="01/06/2026"))
    pregnancy_service.set_milestone(pregnancy.id, "ultrasound_1", "done",
                                    dt.date(2026, 8, 20))
    documents.pack_36_weeks_pdf(pregnancy.id)
    child = service.create_patient(service.PatientForm(
        last_name="Sarr", first_names="Oumar", sex="M", birth_date="01/11/2026",
        pathway="paediatrics", site_id=site.id))
    service.link_family(mother.id, child.id, "mother")
    vaccination.record_dose(child.id, "BCG", 1, "01/11/2026", lot="B123")
    documents.vaccination_calendar_pdf(child.id)

    texts = []
    for patient_id in (mother.id, child.id):
        for entry in audit.patient_history(patient_id):
            line = history.describe(entry)
            texts += [line.what, line.details]
    shown = "\n".join(texts)
    shown = shown.replace("\u00a0", " ")
    for expected in ("Vaccin — création", "Vaccin : — → BCG (tuberculose)", "Lot : — → B123",
                     "Lien : — → Mère", "Parent : — → Awa Sarr", "Sexe : — → Féminin",
                     "Date de naissance : — → 02/03/1994", "Lieu : — → À NEST",
                     "Grossesse — impression\ndossier d’information de la 36e semaine",
                     "Impression\ncalendrier vaccinal", "Échographie du 1er trimestre",
                     "Statut : — → Fait", "Langue de ses SMS : — → Français",
                     "Appel de la 36e semaine", "Adresse : — → Villa 12\nCité Keur Gorgui",
                     "Objet de la visite : — → Suivi de grossesse"):
        assert expected in shown, (expected, shown)
    assert "— → —" not in shown
    assert not re.findall(r"\b[a-z]+_[a-z_]+\b", shown), shown
    for english in ("pack", "calendar", "file", "vaccine", "mother", "True", "None"):
        assert not re.search(rf"\b{english}\b", shown), english
