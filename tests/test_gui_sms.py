"""The SMS section and settings as a secretary uses them: the outbox with its counts, a
reminder cancelled, the due messages sent from the button through a real local HTTP server;
the transport's secret never left on screen; the file's SMS tab and a hand-written SMS."""

import datetime as dt
import re

import pytest

from nest_desktop.db.models import SmsMessage
from nest_desktop.domain import clock
from nest_desktop.domain import sms as rules
from nest_desktop.services import passphrase, reception, settings
from nest_desktop.services import patients as patient_service
from nest_desktop.services import sms as service
from tests.sms_peers import FakeProvider
from tests.test_gui import make_main_window

pytestmark = pytest.mark.usefixtures("reminders_only")


def booked_woman(site_id: int, first: str, phone: str, days: int = 3):
    person = patient_service.create_patient(patient_service.PatientForm(
        last_name="Sarr", first_names=first, phones=[phone], sms_consent=True,
        site_id=site_id, birth_date="02/05/1990"))
    entry = next((e for e in reception.directory(site_id) if e.name == "Gynécologie"), None) \
        or reception.save_entry(reception.DirectoryForm(
            site_id=site_id, kind="service", name="Gynécologie", extension="211",
            takes_appointments=True))
    starts = dt.datetime.combine(clock.today() + dt.timedelta(days=days), dt.time(10, 0))
    # whatever weekday the suite runs on, and both at 10:00: confirmed past the agenda's limits
    reception.book(reception.AppointmentForm(person.id, None, site_id, entry.id,
                                             starts.strftime("%d/%m/%Y"), "10:00", 30, "",
                                             override_reason="Ouverture exceptionnelle"))
    return person


def test_the_outbox_cancels_a_reminder_and_sends_the_due_ones_through_the_website(
        qtbot, desk, clinic_passphrase):
    site, _user = desk
    booked_woman(site.id, "Aminata", "77 100 00 01")
    booked_woman(site.id, "Binta", "77 100 00 02")
    provider = FakeProvider()
    try:
        service.save_transport("http", {"url": f"{provider.url}/form", "phone_field": "to",
                                        "text_field": "text", "fixed_fields": "key=abc"})
        # sending hours that cover whenever the suite runs
        service.save_timing(rules.Timing(opens_at=dt.time(0, 0), closes_at=dt.time(23, 59)))
        window = make_main_window(qtbot, desk)
        window.show_section(window.sms_page)
        page = window.sms_page
        qtbot.waitUntil(lambda: page.model.rowCount() == 2)
        assert "2 messages" in page.counts.text() and "Programmé" in page.counts.text()
        page.table.selectRow(0)
        first = page.selected_rows()[0]
        assert page.cancel_button.isEnabled() and not page.retry_button.isEnabled()
        page.cancel_button.click()
        qtbot.waitUntil(lambda: "Annulé\u00a0: 1" in page.counts.text())
        assert SmsMessage.get_by_id(first.id).state == "cancelled"
        # the other is brought forward and sent by the background sender
        row = next(r for r in range(2) if page.model.row_of(r).id != first.id)
        sent_id = page.model.row_of(row).id
        page.table.selectRow(row)
        page.now_button.click()
        qtbot.waitUntil(lambda: len(provider.form_posts) == 1, timeout=10_000)
        qtbot.waitUntil(lambda: "Envoyé\u00a0: 1" in page.counts.text(), timeout=10_000)
        assert provider.form_posts[0]["key"] == "abc"
        assert provider.form_posts[0]["text"].startswith("Bonjour ")
        assert "1 envoyés" in page.message.text()
        # the rows move as their state changes (what needs a person first): found again
        page.table.selectRow(next(r for r in range(2) if page.model.row_of(r).id == sent_id))
        assert "Bonjour" in page.detail.text() and "Essai 1" in page.detail.text()
        # a workstation without the modem is told not to send
        window.settings_page.sms_box.sends_here.setChecked(False)
        try:
            page.run_requested()
            assert "Ce poste n’envoie pas les SMS" in page.message.text()
        finally:
            window.settings_page.sms_box.sends_here.setChecked(True)
    finally:
        provider.close()


def test_the_transport_secret_is_not_left_on_screen_and_errors_show_by_the_field(
        qtbot, desk, clinic_passphrase):
    window = make_main_window(qtbot, desk)
    box = window.settings_page.sms_box
    box.transport.setCurrentIndex(box.transport.findData("orange"))
    fields = box.transport_fields["orange"]
    fields["client_id"].setText("nest-app")
    fields["client_secret"].setText("s3cret")
    fields["sender"].setText("12")
    box.save_transport()
    assert "9\u00a0chiffres" in box.transport_errors["orange"]["sender"].error.text()
    assert service.chosen_transport() == "none"
    fields["sender"].setText("33 860 10 10")
    box.save_transport()
    assert service.chosen_transport() == "orange"
    assert fields["client_secret"].text() == ""
    assert "Enregistré" in fields["client_secret"].placeholderText()
    assert passphrase.open_secret(settings.get("sms.orange")["client_secret"]) == "s3cret"
    # a template with an unknown placeholder is refused beside it
    editor = box.templates[0]
    editor.editor.setPlainText("Bonjour {nom}")
    assert "{nom}" in editor.example.text()
    box.save_templates()
    assert "{nom}" in editor.field.error.text()
    editor.editor.setPlainText("Bonjour {prenom}, RDV le {date_heure} « {site} »")
    box.save_templates()
    assert editor.editor.toPlainText() == 'Bonjour {prenom}, RDV le {date_heure} "{site}"'


def test_the_file_shows_her_sms_and_a_hand_written_one(qtbot, desk, monkeypatch):
    from nest_desktop.ui.sms import sms_page

    site, _user = desk
    person = booked_woman(site.id, "Coumba", "77 100 00 03")
    window = make_main_window(qtbot, desk)
    file_window = window.open_patient(person.id)
    qtbot.addWidget(file_window)
    file_window.tabs.setCurrentIndex(file_window.sms_tab_index)
    tab = file_window.sms
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1)
    assert tab.model.row_of(0).kind == "appointment"

    def write(dialog):
        dialog.body.setPlainText("Vos résultats sont prêts, {prenom}.")
        dialog._accept()
        return dialog.result()

    monkeypatch.setattr(sms_page.WriteSmsDialog, "exec", write)
    tab._write()
    qtbot.waitUntil(lambda: tab.model.rowCount() == 2)
    written = SmsMessage.select().where(SmsMessage.kind == "other").get()
    assert written.body == "Vos résultats sont prets, {prenom}." and written.patient_id == person.id
    assert written.scheduled_at <= clock.now()
    # her language for the SMS is on the file
    file_window.language.setCurrentIndex(file_window.language.findData("en"))
    file_window.save()
    assert patient_service.get_patient(person.id).language == "en"


def test_a_newsletter_is_scheduled_from_its_dialog(qtbot, desk):
    from nest_desktop.services import segments
    from nest_desktop.ui.sms.sms_page import NewsletterDialog

    site, _user = desk
    person = booked_woman(site.id, "Mariama", "77 100 00 04")
    dialog = NewsletterDialog(segments.SegmentFilter(), None)
    qtbot.addWidget(dialog)
    dialog.name.setText("Atelier")
    dialog.body.setPlainText("Bonjour {prenom}, atelier samedi.")
    # she accepts SMS but not the newsletter: refused in the dialog, which stays open
    dialog._accept()
    qtbot.waitUntil(lambda: bool(dialog.error.text()))
    assert "Personne dans ce segment" in dialog.error.text() and dialog.buttons.isEnabled()
    form = patient_service.form_of(patient_service.get_patient(person.id))
    form.newsletter_consent = True
    patient_service.update_patient(person.id, patient_service.get_patient(person.id).version,
                                   form)
    dialog._accept()
    qtbot.waitUntil(lambda: dialog.result() == dialog.DialogCode.Accepted)
    [message] = SmsMessage.select().where(SmsMessage.kind == "newsletter")
    assert message.patient_id == person.id and message.campaign_id == dialog.campaign.id


def test_the_kannel_preset_fills_the_form_and_a_refusing_gateway_is_shown(
        qtbot, desk, clinic_passphrase):
    window = make_main_window(qtbot, desk)
    box = window.settings_page.sms_box
    box.transport.setCurrentIndex(box.transport.findData("http"))
    fields = box.transport_fields["http"]
    box.preset.setCurrentIndex(box.preset.findData("kannel"))
    box.preset.activated.emit(box.preset.currentIndex())
    assert fields["method"].currentData() == "get"
    assert "coding={coding}" in fields["message_fields"].toPlainText()
    assert fields["success_text"].text() == "Accepted for delivery|Queued for later delivery"
    assert fields["max_parts"].value() == 4 and "Kannel" in box.transport_message.text()
    # the longest template is said beside the limit, and when the gateway would cut it
    assert re.search(r"plus long part en [12]\sSMS", box.longest.text())
    fields["max_parts"].setValue(1)
    box.templates[0].editor.setPlainText("Bonjour {prenom}, " + "rappel " * 40)
    assert "couperait" in box.longest.text()
    fields["max_parts"].setValue(4)
    fields["url"].setText("http://127.0.0.1:13013/cgi-bin/sendsms")
    fields["fixed_fields"].setPlainText("username=nest\npassword=s3cret")
    fields["delivery_address"].setText("http://192.168.1.20")  # no port
    box.save_transport()
    assert "port" in box.transport_errors["http"]["delivery_address"].error.text()
    fields["delivery_address"].setText("http://192.168.1.20:13080")
    box.save_transport()
    assert service.chosen_transport() == "http"
    stored = settings.get("sms.http")
    assert stored["method"] == "get" and stored["fixed_fields"].startswith("sealed:")
    assert stored["delivery_address"] == "http://192.168.1.20:13080"
    transport = service.make_transport()
    assert transport.delivery_url.startswith("http://192.168.1.20:13080/dlr/")
    # a round met a gateway refusing everything: the outbox and Settings say what to fix
    service._gateway_refused("La passerelle SMS a refusé la demande (HTTP 403).", clock.now())
    window.show_section(window.sms_page)
    page = window.sms_page
    qtbot.waitUntil(lambda: page.gateway_state.isVisible())
    assert "HTTP 403" in page.gateway_state.text()
    box.refresh_secrets_state()
    qtbot.waitUntil(lambda: "HTTP 403" in box.secrets_state.text())
