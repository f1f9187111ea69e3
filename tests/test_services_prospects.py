"""Prospects: qualified requests, the duplicate check across patients and prospects, the
role rule, callbacks a week after the answer, conversion and its review, merge, import."""

import datetime as dt

import pytest

from nest_desktop.db.models import (
    AuditEntry,
    FollowUpTask,
    Interaction,
    Prospect,
    ProspectInteraction,
    ProspectRequest,
)
from nest_desktop.domain import clock
from nest_desktop.services import ValidationFailed, followup, people, reception
from nest_desktop.services import patients as patient_service
from nest_desktop.services import prospects as service
from nest_desktop.services.session import PermissionDenied


def awa(**changes) -> service.ProspectForm:
    values = {"last_name": "Diop", "first_names": "Awa", "phones": ["77 123 45 67"],
              "birth_date": "12/03/1994", "channel": "phone"}
    values.update(changes)
    return service.ProspectForm(**values)


def quote(answer: str = "") -> service.RequestForm:
    return service.RequestForm("quote", "Prix d'un accouchement", answer)


def tasks_of(prospect_id: int, rule: str | None = None) -> list[FollowUpTask]:
    query = FollowUpTask.select().where(FollowUpTask.prospect == prospect_id)
    if rule:
        query = query.where(FollowUpTask.rule == rule)
    return list(query.order_by(FollowUpTask.id))


def test_a_prospect_from_a_call_has_her_request_and_a_review_a_month_later(desk):
    site, _user = desk
    when = dt.datetime(2026, 1, 31, 10, 0)
    prospect = service.create_prospect(awa(site_id=site.id), quote(), when)
    assert prospect.status == "new" and prospect.qualification == "quote"
    [request] = service.requests_of(prospect.id)
    assert request.text == "Prix d'un accouchement" and request.answered_at is None
    [contact] = service.interactions_of(prospect.id)
    assert contact.subject.startswith("Devis ou tarifs")
    # PRO-07: reviewed one calendar month after she was added (31 January -> 28 February).
    [review] = tasks_of(prospect.id)
    assert review.rule == "conversion_review" and review.patient_id is None
    assert review.due_at.date() == dt.date(2026, 2, 28)


def test_only_qualified_requests_and_reachable_people_are_recorded(desk):
    with pytest.raises(ValidationFailed) as failed:
        service.create_prospect(awa(phones=[], email=""), service.RequestForm("", "Horaires ?"))
    assert "qualifiés" in failed.value.errors["qualification"]
    assert "téléphone ou un email" in failed.value.errors["phone_0"]
    with pytest.raises(ValidationFailed) as failed:
        service.create_prospect(awa(phones=["12"], channel="pigeon"), quote())
    assert set(failed.value.errors) == {"phone_0", "channel"}
    assert Prospect.select().count() == 0 and ProspectRequest.select().count() == 0


def test_the_same_person_typed_another_way_is_found_and_never_created_twice(desk):
    first = service.create_prospect(awa(), quote())
    # Same phone written another way, name misspelt, no birth date.
    again = awa(first_names="Awa", last_name="Diope", phones=["+221 77-123-45-67"],
                birth_date="")
    with pytest.raises(service.DuplicateFound) as found:
        service.create_prospect(again, service.RequestForm("programme", ""))
    [candidate] = found.value.candidates
    assert (candidate.record.kind, candidate.record.record_id) == ("prospect", first.id)
    # By birth date and a similar name, with another phone.
    with pytest.raises(service.DuplicateFound):
        service.create_prospect(awa(phones=["76 000 11 22"]), quote())
    # The request goes on the existing prospect.
    service.add_request("prospect", first.id, service.RequestForm("programme", "Le programme"),
                        "phone")
    assert Prospect.select().count() == 1
    assert len(service.requests_of(first.id)) == 2


def test_a_patient_wins_over_a_prospect_and_gets_the_request_on_her_file(desk):
    patient = patient_service.create_patient(patient_service.PatientForm(
        last_name="Diop", first_names="Awa", phones=["77 123 45 67"]))
    with pytest.raises(service.DuplicateFound) as found:
        service.create_prospect(awa(), quote())
    assert [c.record.kind for c in found.value.candidates] == ["patient"]
    # Both a patient and a prospect: the patient comes first (PRO-05).
    service.create_prospect(awa(phones=["70 999 88 77"], birth_date=""), quote(),
                            confirmed_new=True)
    both = people.existing_people("Awa Diop", dt.date(1994, 3, 12),
                                  ["+221771234567", "+221709998877"])
    assert [c.record.kind for c in both] == ["patient", "prospect"]
    request = service.add_request("patient", patient.id, quote(), "phone")
    assert request.patient_id == patient.id and request.prospect_id is None
    assert Interaction.select().where(Interaction.patient == patient.id).count() == 1


def test_written_requests_are_for_the_prospect_manager(as_role):
    as_role("secretary")
    with pytest.raises(PermissionDenied) as refused:
        service.create_prospect(awa(channel="email"), quote())
    assert "Responsable du suivi des prospects" in str(refused.value)
    service.create_prospect(awa(channel="phone"), quote())  # a call: any secretary
    as_role("prospect_manager")
    service.create_prospect(awa(channel="website", phones=["70 111 22 33"], birth_date=""),
                            quote(), confirmed_new=True)
    as_role("quality_pilot")
    with pytest.raises(PermissionDenied):
        service.create_prospect(awa(phones=["70 222 33 44"], birth_date=""), quote(),
                                confirmed_new=True)


def test_an_answer_to_a_quote_is_called_back_a_week_later_an_appointment_never(desk):
    answered = dt.datetime(2026, 11, 2, 11, 0)
    prospect = service.create_prospect(awa(), quote(), answered - dt.timedelta(hours=1))
    [request] = service.requests_of(prospect.id)
    service.answer_request(request.id, "Forfait envoyé par WhatsApp", answered)
    [callback] = tasks_of(prospect.id, "prospect_callback")
    assert callback.due_at.date() == dt.date(2026, 11, 9)
    assert service.get_prospect(prospect.id).status == "to_call_back"
    # Answering again later moves the callback, never a second one.
    service.answer_request(request.id, "Forfait corrigé", answered + dt.timedelta(days=1))
    [callback] = tasks_of(prospect.id, "prospect_callback")
    assert callback.due_at.date() == dt.date(2026, 11, 10)
    # An appointment request answered: nothing to call back.
    other = service.create_prospect(awa(last_name="Sarr", first_names="Coumba",
                                        phones=["70 555 66 77"], birth_date=""),
                                    service.RequestForm("appointment", "RDV gynéco",
                                                        "RDV donné mardi"))
    assert tasks_of(other.id, "prospect_callback") == []
    assert service.get_prospect(other.id).status == "answered"
    with pytest.raises(ValidationFailed):
        service.answer_request(request.id, "   ")


def test_the_callback_outcome_updates_the_status(desk):
    prospect = service.create_prospect(awa(), quote("Tarifs donnés"))
    [callback] = tasks_of(prospect.id, "prospect_callback")
    followup.record_attempt(callback.id, "no_answer")
    assert service.get_prospect(prospect.id).status == "to_call_back"
    service.complete_call(callback.id, "lost", "price", "Trop cher pour elle")
    prospect = service.get_prospect(prospect.id)
    assert (prospect.status, prospect.lost_reason) == ("lost", "price")
    # Every task of a lost prospect is settled: the review too.
    assert {t.status for t in tasks_of(prospect.id)} == {"done"}
    assert ProspectInteraction.select().where(
        ProspectInteraction.subject == "Rappel du prospect (1\u00a0semaine)").count() == 2
    with pytest.raises(ValidationFailed):
        service.complete_call(callback.id, "lost", "")


def test_a_declined_callback_means_no_longer_interested(desk):
    prospect = service.create_prospect(awa(), quote("Tarifs donnés"))
    [callback] = tasks_of(prospect.id, "prospect_callback")
    followup.record_attempt(callback.id, "declined")
    assert service.get_prospect(prospect.id).status == "not_interested"


def test_a_new_patient_who_was_a_prospect_converts_her(desk):
    prospect = service.create_prospect(awa(), quote("Tarifs donnés"))
    patient = patient_service.create_patient(patient_service.PatientForm(
        last_name="Diop", first_names="Awa", phones=["77 123 45 67"]))
    prospect = service.get_prospect(prospect.id)
    assert prospect.status == "converted" and prospect.patient_id == patient.id
    assert prospect.converted_at is not None
    assert {(t.rule, t.outcome) for t in tasks_of(prospect.id)} == {
        ("conversion_review", "converted"), ("prospect_callback", "converted")}
    assert "Ancien(ne) prospect" in Interaction.get(Interaction.patient == patient.id).subject


def test_converting_from_the_file_prefills_the_patient_and_links_her(desk):
    site, _user = desk
    prospect = service.create_prospect(awa(channel="facebook", site_id=site.id), quote())
    form = service.patient_form_from(prospect.id)
    assert (form.last_name, form.birth_date, form.provenance) == ("Diop", "12/03/1994",
                                                                  "facebook")
    assert form.phones == ["77 123 45 67"] and form.site_id == site.id
    patient = patient_service.create_patient(form)  # detected as she is created
    assert service.get_prospect(prospect.id).patient_id == patient.id
    other = service.create_prospect(awa(last_name="Sarr", first_names="Coumba",
                                        phones=["70 555 66 77"], birth_date=""), quote())
    service.convert(other.id, patient.id)
    with pytest.raises(ValidationFailed):
        service.convert(other.id, patient.id + 99)


def test_the_review_can_ask_for_a_new_callback(desk):
    created = clock.now() - dt.timedelta(days=32)
    prospect = service.create_prospect(awa(), quote(), created)
    [review] = tasks_of(prospect.id, "conversion_review")
    service.complete_call(review.id, "call_back")
    [callback] = tasks_of(prospect.id, "prospect_callback")
    assert callback.status == "open" and service.get_prospect(prospect.id).status == \
        "to_call_back"
    assert FollowUpTask.get_by_id(review.id).status == "done"


def test_two_prospects_merged_keep_everything_and_the_merge_is_recorded(desk):
    first = service.create_prospect(awa(birth_date=""), quote(),
                                    clock.now() - dt.timedelta(days=3))
    second = service.create_prospect(
        awa(last_name="Diop", first_names="Awa Marie", phones=["70 444 55 66", "76 111 22 33"],
            email="awa@example.sn", channel="facebook"),
        service.RequestForm("programme", "Le programme"), confirmed_new=True)
    kept = service.merge(first.id, second.id)
    assert Prospect.select().count() == 1
    assert service.phones_of(kept.id) == ["+221771234567", "+221704445566", "+221761112233"]
    assert kept.email == "awa@example.sn" and kept.birth_date == dt.date(1994, 3, 12)
    assert len(service.requests_of(kept.id)) == 2
    reviews = tasks_of(kept.id, "conversion_review")
    assert sorted(t.status for t in reviews) == ["done", "open"]
    entry = AuditEntry.get((AuditEntry.action == "merge") & (AuditEntry.record_id == first.id))
    assert "Awa Marie" in entry.changes
    assert service.interactions_of(kept.id)[0].subject.startswith("Fiche d’Awa Marie Diop")


def test_the_engine_catches_up_prospect_events_without_duplicates(desk):
    prospect = service.create_prospect(awa(), quote("Tarifs donnés"))
    FollowUpTask.delete().execute()
    assert followup.run() == 2
    assert followup.run() == 0
    assert {t.rule for t in tasks_of(prospect.id)} == {"conversion_review",
                                                         "prospect_callback"}
    rows = followup.rows_for([t.id for t in tasks_of(prospect.id)])
    assert {row.person for row in rows.values()} == {"DIOP Awa"}
    assert {row.phone for row in rows.values()} == {"77 123 45 67"}
    sheet = followup.call_sheet(tasks_of(prospect.id)[0].id, "Clémence", "Mermoz")
    assert sheet.person == "Awa Diop" and sheet.phones == ["77 123 45 67"]


def test_the_list_searches_filters_and_counts(desk):
    service.create_prospect(awa(), quote())
    service.create_prospect(awa(last_name="Sarr", first_names="Coumba",
                                phones=["70 555 66 77"], birth_date="", channel="visit"),
                            service.RequestForm("appointment", "", "RDV donné"))
    everyone = service.ProspectFilter()
    assert len(service.search_ids(everyone)) == 2
    assert service.search_ids(service.ProspectFilter(query="70 555")) == \
        service.search_ids(service.ProspectFilter(query="sarr"))
    assert len(service.search_ids(service.ProspectFilter(status="answered"))) == 1
    assert service.counts_by_status(service.ProspectFilter(channel="phone")) == {"new": 1}
    [row] = service.rows_for(service.search_ids(service.ProspectFilter(query="diop"))).values()
    assert row.name == "DIOP Awa" and row.next_call is not None


@pytest.mark.clock("2026-11-23 09:00")  # the leads came in on the 20th and 21st
def test_the_import_preview_says_row_by_row_what_will_happen(desk, as_role, tmp_path):
    site, _user = desk
    patient_service.create_patient(patient_service.PatientForm(
        last_name="Ndiaye", first_names="Mame", phones=["76 222 33 44"]))
    service.create_prospect(awa(), quote())
    export = tmp_path / "leads.csv"
    # Facebook writes UTF-16 with tabs.
    export.write_text(
        "created_time\tfull_name\tphone_number\temail\tmessage\n"
        "2026-11-20T10:15:00+0000\tCoumba Sarr\t+221705556677\t\tTarifs accouchement ?\n"
        "2026-11-20T11:00:00+0000\tAwa Diop\t771234567\t\tLe programme NEST\n"
        "2026-11-20T12:00:00+0000\tMame Ndiaye\t76 222 33 44\t\tRDV pédiatre\n"
        "2026-11-21T08:00:00+0000\tCoumba Sarr\t70 555 66 77\t\tEt le devis ?\n"
        "2026-11-21T09:00:00+0000\tXX\t12\tpas-un-email\t\n", encoding="utf-16")
    rows = service.preview_import(service.read_leads(export, "facebook", "programme",
                                                     site.id))
    assert [row.verdict for row in rows] == ["new", "prospect", "patient", "repeated",
                                             "error"]
    assert [row.request.qualification for row in rows[:4]] == ["quote", "programme",
                                                               "appointment", "quote"]
    assert rows[0].received_at == dt.datetime(2026, 11, 20, 10, 15)
    assert rows[4].message
    assert Prospect.select().count() == 1  # the preview wrote nothing
    with pytest.raises(PermissionDenied):
        service.import_leads(rows)
    as_role("prospect_manager")
    result = service.import_leads(rows)
    assert result == service.ImportResult(created=1, on_prospects=2, on_patients=1, skipped=1)
    assert Prospect.select().count() == 2
    coumba = Prospect.get(Prospect.last_name == "Sarr")
    assert coumba.channel == "facebook" and len(service.requests_of(coumba.id)) == 2
    # Written in bulk, she is made as one by one: found by name and phone, her first
    # contact, her review a month later, each creation in the audit trail.
    assert service.search_ids(service.ProspectFilter(query="coumba")) == [coumba.id]
    assert [m.record_id for m in reception.recognise(service.phones_of(coumba.id)[0])] == [
        coumba.id]
    assert len(service.interactions_of(coumba.id)) == 2
    [review] = tasks_of(coumba.id, "conversion_review")
    assert review.event_at == coumba.created_at
    assert AuditEntry.select().where((AuditEntry.table == "prospect")
                                     & (AuditEntry.record_id == coumba.id)
                                     & (AuditEntry.action == "create")).count() == 1
    assert AuditEntry.select().where((AuditEntry.table == "follow_up_task")
                                     & (AuditEntry.record_id == review.id)).count() == 1


def test_the_conversion_report_counts_by_channel_qualification_and_month(desk):
    now = clock.now()
    start = now - dt.timedelta(days=20)
    first = service.create_prospect(awa(), quote("Tarifs"), start)
    service.create_prospect(awa(last_name="Sarr", first_names="Coumba", phones=["70 555 66 77"],
                                birth_date="", channel="facebook"),
                            service.RequestForm("programme", ""), start)
    patient = patient_service.create_patient(patient_service.PatientForm(
        last_name="Gueye", first_names="Astou", phones=["76 999 00 11"]))
    service.convert(first.id, patient.id, start + dt.timedelta(days=4))
    report = service.conversion_report(start.date(), now.date())
    assert (report.prospects, report.converted, report.rate) == (2, 1, 0.5)
    assert [(line.group, line.prospects, line.converted) for line in report.by_channel] == [
        ("facebook", 1, 0), ("phone", 1, 1)]
    assert report.median_days == 4
    # The callback of the converted prospect was settled: nothing was due.
    assert (report.callbacks_due, report.callbacks_on_time) == (0, 0)
    with pytest.raises(ValidationFailed):
        service.conversion_report(now.date(), start.date())


@pytest.mark.clock("2026-11-23 09:00")
def test_an_import_goes_in_short_transactions_and_resumes_where_it_was_cut(
        desk, as_role, tmp_path, monkeypatch):
    """Issue 24 §2: 20 000 rows in one transaction held the write lock 32 s. Each batch is
    its own transaction with the import's progress: cut in the middle (a power cut, here the
    third batch failing), the batches before it stay whole, the one cut leaves nothing, the
    dialog says where it stopped, and importing the same file again goes on from there
    without making anyone twice."""
    site, _user = desk
    export = tmp_path / "leads.csv"
    export.write_text(
        "full_name;phone_number;message\n"
        "Coumba Sarr;70 555 66 77;Tarifs accouchement ?\n"
        "Awa Diallo;77 100 00 01;Le programme NEST\n"
        "Fatou Ba;77 100 00 02;RDV pédiatre\n"
        "Ndeye Gaye;77 100 00 03;Devis\n"
        "Coumba Sarr;70 555 66 77;Et le devis ?\n"  # her second request, in another batch
        "Aminata Faye;77 100 00 05;RDV\n"
        "Khady Ndour;77 100 00 06;Le programme\n", encoding="utf-8")
    as_role("prospect_manager")

    def read():
        return service.preview_import(service.read_leads(export, "website", "programme",
                                                         site.id))

    rows = read()
    assert service.unfinished_import(rows) is None
    monkeypatch.setattr(service, "IMPORT_BATCH", 2)
    real_create_many, calls = service._create_many, []

    def power_cut_at_the_third_batch(batch, when):
        calls.append(len(batch))
        if len(calls) == 3:
            raise OSError("power cut")
        return real_create_many(batch, when)

    monkeypatch.setattr(service, "_create_many", power_cut_at_the_third_batch)
    progress = []
    with pytest.raises(OSError):
        service.import_leads(rows, on_progress=lambda done, total: progress.append(done))
    assert progress == [2, 4]
    assert sorted(p.first_names for p in Prospect.select()) == [
        "Awa", "Coumba", "Fatou", "Ndeye"]  # two whole batches, nothing of the third
    rows = read()  # the same file, read again the next morning
    assert service.unfinished_import(rows) == {**service.unfinished_import(rows),
                                               "done": 4, "total": 7}
    monkeypatch.setattr(service, "_create_many", real_create_many)
    result = service.import_leads(rows)
    assert result == service.ImportResult(created=6, on_prospects=1, on_patients=0, skipped=0)
    assert Prospect.select().count() == 6
    coumba = Prospect.get(Prospect.last_name == "Sarr")
    assert len(service.requests_of(coumba.id)) == 2
    assert service.unfinished_import(rows) is None
    assert AuditEntry.select().where((AuditEntry.table == "prospect")
                                     & (AuditEntry.action == "import")).count() == 1
