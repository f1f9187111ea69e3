"""Random input thrown at the services: a clear error or a valid record, never a crash, never
a half-written record."""

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nest_desktop.db.models import (
    AuditEntry,
    Interaction,
    Patient,
    PatientPhone,
    PatientSearchToken,
    Site,
    VaccineDose,
)
from nest_desktop.domain import phones
from nest_desktop.domain.dates import parse_date
from nest_desktop.services import ValidationFailed, desk, vaccination
from nest_desktop.services import patients as patient_service

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
text = st.text(max_size=120)
date_text = st.one_of(
    text,
    st.dates(min_value=dt.date(1850, 1, 1), max_value=dt.date(2200, 1, 1)).map(
        lambda d: d.strftime("%d/%m/%Y")),
    st.from_regex(r"\A\d{1,2}/\d{1,2}/\d{2,4}\Z"),
)
phone_text = st.one_of(text, st.from_regex(r"\A(\+221 ?|00221)?7[05678] ?\d{3} ?\d{2} ?\d{2}\Z"))


def counts(*models):
    return [model.select().count() for model in models]


def check_clear_error(failed: ValidationFailed) -> None:
    assert failed.errors and all(isinstance(m, str) and m for m in failed.errors.values())


@SETTINGS
@given(last_name=text, first_names=text, sex=st.sampled_from(["F", "M", "X", ""]),
       birth_date=date_text, phone_list=st.lists(phone_text, max_size=4), email=text,
       first_visit=date_text, pathway=st.sampled_from(["none", "pregnancy", "mars"]))
def test_create_patient(db, last_name, first_names, sex, birth_date, phone_list, email,
                        first_visit, pathway):
    models = (Patient, PatientPhone, PatientSearchToken, AuditEntry)
    before = counts(*models)
    form = patient_service.PatientForm(
        last_name=last_name, first_names=first_names, sex=sex, birth_date=birth_date,
        phones=phone_list, email=email, first_visit_date=first_visit, pathway=pathway)
    try:
        patient = patient_service.create_patient(form)
    except ValidationFailed as failed:
        check_clear_error(failed)
        assert counts(*models) == before
        return
    stored = Patient.get_by_id(patient.id)
    assert stored.last_name == " ".join(last_name.split())
    assert counts(*models)[0] == before[0] + 1
    # her creation audited once (a pregnancy also makes the mothers' group offer, audited)
    assert AuditEntry.select().where((AuditEntry.table == "patient")
                                     & (AuditEntry.record_id == patient.id)
                                     & (AuditEntry.action == "create")).count() == 1
    for number in patient_service.phones_of(patient.id):
        assert phones.normalize(number) == number


@SETTINGS
@given(subject=text, outcome=text, channel=st.sampled_from(["phone", "sms", "pigeon"]),
       direction=st.sampled_from(["incoming", "outgoing", "sideways"]))
def test_add_interaction(db, family, subject, outcome, channel, direction):
    mother, _child = family
    before = counts(Interaction, AuditEntry)
    try:
        patient_service.add_interaction(mother.id, None, channel, direction, subject,
                                        outcome=outcome)
    except ValidationFailed as failed:
        check_clear_error(failed)
        assert counts(Interaction, AuditEntry) == before
        return
    assert counts(Interaction, AuditEntry) == [before[0] + 1, before[1] + 1]


@SETTINGS
@given(vaccine=st.sampled_from(["BCG", "Hexa", "RR", "Nope", ""]),
       dose=st.integers(min_value=-3, max_value=6), given_on=date_text, lot=text,
       place=st.sampled_from(["nest", "elsewhere", "moon"]))
def test_record_dose(db, family, vaccine, dose, given_on, lot, place):
    _mother, child = family
    before = counts(VaccineDose, AuditEntry)
    try:
        record = vaccination.record_dose(child.id, vaccine, dose, given_on, lot=lot,
                                         place=place, today=dt.date(2026, 11, 23))
    except ValidationFailed as failed:
        check_clear_error(failed)
        assert counts(VaccineDose, AuditEntry) == before
        return
    assert dt.date(2026, 9, 5) <= record.given_on <= dt.date(2026, 11, 23)
    vaccination.remove_dose(record.id)


@SETTINGS
@given(name=text, phone=phone_text, address=text)
def test_create_site(db, name, phone, address):
    before = counts(Site, AuditEntry)
    try:
        desk.create_site(desk.SiteForm(name, phone, address))
    except ValidationFailed as failed:
        check_clear_error(failed)
        assert counts(Site, AuditEntry) == before
        return
    assert counts(Site, AuditEntry) == [before[0] + 1, before[1] + 1]


@settings(max_examples=300, deadline=None)
@given(value=text)
def test_dates_and_phones_parse_or_explain(value):
    for parse in (parse_date, phones.normalize):
        try:
            parse(value)
        except ValueError as error:
            assert str(error)


def test_control_characters_are_refused_with_a_message(db):
    form = patient_service.PatientForm(last_name="Diop\x00", first_names="Awa")
    try:
        patient_service.create_patient(form)
    except ValidationFailed as failed:
        assert "caractère de contrôle" in failed.errors["last_name"]
    else:
        raise AssertionError("a NUL character was stored")
