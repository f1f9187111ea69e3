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


# Meta's lead export as its Ads Manager and the Graph API's leadgen_export_csv_url give it:
# UTF-16 with its BOM, tab-separated, ids and numbers prefixed (l:, ag:, as:, c:, f:, p:),
# the form's own questions as columns named after them; here two forms in one export.
META_EXPORT = "\t".join([
    "id", "created_time", "ad_id", "ad_name", "adset_id", "adset_name", "campaign_id",
    "campaign_name", "form_id", "form_name", "is_organic", "platform",
    "quelle_est_votre_demande_?", "quand_souhaitez-vous_être_rappelée_?", "full_name",
    "phone_number", "city", "lead_status"]) + "\n" + "\n".join("\t".join(row) for row in [
    ["l:1290011", "2026-11-20T10:15:42+00:00", "ag:2385001", "Accouchement Dakar",
     "as:2385002", "Mamans 25-35", "c:2385003", "Maternité nov. 2026", "f:811001",
     "Tarifs accouchement", "0", "fb", "Combien coûte un accouchement ?", "le_matin",
     "Coumba Sarr", "p:+221705556677", "Dakar", "CREATED"],
    ["l:1290012", "2026-11-20T18:02:10+00:00", "ag:2385004", "Pédiatre Mermoz",
     "as:2385005", "Jeunes parents", "c:2385003", "Maternité nov. 2026", "f:811002",
     "Rendez-vous pédiatre", "0", "ig", "Je veux un rendez-vous pour mon bébé",
     "l'après-midi", "", "p:+221771112233", "", "CREATED"],
    ["l:1290013", "2026-11-21T08:30:00+00:00", "ag:2385001", "Accouchement Dakar",
     "as:2385002", "Mamans 25-35", "c:2385003", "Maternité nov. 2026", "f:811001",
     "Tarifs accouchement", "0", "fb", "prix_du_suivi_de_grossesse", "le_soir",
     "Mame Ndiaye", "p:+221762223344", "Pikine", "CREATED"],
    ["l:1290014", "2026-11-21T09:45:00+00:00", "", "", "", "", "", "", "f:811003",
     "Programme NEST", "1", "ig", "programme_nest", "le_matin", "Awa Diallo",
     "p:+221778889900", "Rufisque", "CREATED"],
    ["l:1290015", "2026-11-21T11:00:00+00:00", "ag:2385004", "Pédiatre Mermoz",
     "as:2385005", "Jeunes parents", "c:2385003", "Maternité nov. 2026", "f:811002",
     "Rendez-vous pédiatre", "0", "ig", "rdv", "le_matin", "", "p:", "", "CREATED"],
]) + "\n"


@pytest.mark.clock("2026-11-23 09:00")
def test_a_meta_lead_export_is_read_as_meta_writes_it(desk, as_role, tmp_path):
    """Issue 19 §2: every row of a real export was refused (its `p:` numbers), the form's
    questions ignored, Instagram taken for Facebook."""
    site, _user = desk
    patient_service.create_patient(patient_service.PatientForm(
        last_name="Ndiaye", first_names="Mame", phones=["76 222 33 44"]))
    export = tmp_path / "leads_meta.csv"
    export.write_text(META_EXPORT, encoding="utf-16")  # with its BOM
    assert export.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    rows = service.preview_import(service.read_leads(export, "facebook", "programme",
                                                     site.id))
    assert [row.verdict for row in rows] == ["new", "new", "patient", "new", "error"]
    assert [row.form.channel for row in rows] == ["facebook", "instagram", "facebook",
                                                  "instagram", "instagram"]
    assert [row.request.qualification for row in rows[:4]] == [
        "quote", "appointment", "quote", "programme"]
    assert rows[0].request.text == ("Quelle est votre demande ? Combien coûte un "
                                    "accouchement ?\nQuand souhaitez-vous être rappelée ? "
                                    "le matin")
    assert rows[0].request.source == "formulaire «\u00a0Tarifs accouchement\u00a0» — " \
                                     "publicité «\u00a0Accouchement Dakar\u00a0»"
    assert rows[0].received_at == dt.datetime(2026, 11, 20, 10, 15, 42)
    assert rows[1].form.name_to_complete and rows[1].message == (
        "sans nom\u00a0: à demander au rappel")
    assert "Dakar" not in rows[0].request.text  # a standard field, not a question
    as_role("prospect_manager")
    result = service.import_leads(rows)
    assert result == service.ImportResult(created=3, on_prospects=0, on_patients=1, skipped=1)
    nameless = Prospect.get(Prospect.channel == "instagram", Prospect.last_name == "")
    assert nameless.name_to_complete
    [row] = service.rows_for([nameless.id]).values()
    assert row.name == "(nom à compléter)"
    [request] = service.requests_of(nameless.id)
    assert request.source == "formulaire «\u00a0Rendez-vous pédiatre\u00a0» — " \
                             "publicité «\u00a0Pédiatre Mermoz\u00a0»"
    # the desk sees her so wherever she shows: Today's calls, the caller recognised
    from nest_desktop.db.models import FollowUpTask
    from nest_desktop.services import followup

    [review] = FollowUpTask.select().where(FollowUpTask.prospect == nameless.id)
    assert followup.rows_for([review.id])[review.id].person == "(nom à compléter)"
    assert [m.name for m in reception.recognise("77 111 22 33")] == ["(nom à compléter)"]
    # the name asked at the callback and typed on her file: no longer to complete
    form = service.form_of(nameless)
    assert form.name_to_complete
    service.update_prospect(nameless.id, nameless.version, form)  # saved still without
    assert Prospect.get_by_id(nameless.id).name_to_complete
    form = service.form_of(Prospect.get_by_id(nameless.id))
    form.last_name, form.first_names = "Faye", "Aminata"
    service.update_prospect(nameless.id, Prospect.get_by_id(nameless.id).version, form)
    assert not Prospect.get_by_id(nameless.id).name_to_complete
    awa = Prospect.get(Prospect.last_name == "Diallo")
    assert awa.channel == "instagram"
    assert service.requests_of(awa.id)[0].source == "formulaire «\u00a0Programme NEST\u00a0»"


@pytest.mark.clock("2026-11-23 09:00")
def test_a_website_form_export_saved_by_excel_is_read(desk, as_role, tmp_path):
    """Excel's "CSV UTF-8" in French: a BOM, `;`, dates as dd/mm/yyyy hh:mm, a field with
    a line break and a `;` quoted."""
    site, _user = desk
    export = tmp_path / "formulaire.csv"
    export.write_bytes("\ufeffNom;Prénom;Téléphone;E-mail;Votre message;Date\r\n"
                       "Sarr;Coumba;77 555 66 77;coumba@example.sn;\"Bonjour ;\r\nquel est "
                       "le tarif d'une échographie ?\";20/11/2026 10:15\r\n"
                       "Gaye;Ndeye;;ndeye@example.sn;Je voudrais un RDV;21/11/2026 08:05\r\n"
                       .encode("utf-8"))
    rows = service.preview_import(service.read_leads(export, "website", "programme",
                                                     site.id))
    assert [row.verdict for row in rows] == ["new", "new"]
    assert [row.form.full_name for row in rows] == ["Coumba Sarr", "Ndeye Gaye"]
    assert rows[0].request.text == "Bonjour ;\nquel est le tarif d'une échographie ?"
    assert [row.request.qualification for row in rows] == ["quote", "appointment"]
    assert [row.received_at for row in rows] == [dt.datetime(2026, 11, 20, 10, 15),
                                                 dt.datetime(2026, 11, 21, 8, 5)]
    assert [row.form.channel for row in rows] == ["website", "website"]
    assert not any(row.form.name_to_complete or row.request.source for row in rows)
