"""SMS: GSM-7 and parts, templates in French and English, reminders scheduled from the
appointments and the children's calendars, and the outbox sent through a real local HTTP
server playing the provider and a fake modem on a pseudo-terminal."""

import csv
import datetime as dt
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from nest_desktop.db.models import AuditEntry, SmsEvent, SmsMessage
from nest_desktop.domain import sms as rules
from nest_desktop.services import (
    ValidationFailed,
    passphrase,
    reception,
    segments,
    settings,
    vaccination,
)
from nest_desktop.services import patients as patient_service
from nest_desktop.services import sms as service
from nest_desktop.sms import transports
from tests.sms_peers import FakeModem, FakeProvider

MONDAY = dt.datetime(2026, 11, 23, 10, 0)
# The reminders are scheduled ahead of the clock: every test here starts on that Monday.
pytestmark = [pytest.mark.clock("2026-11-23 10:00"),
              pytest.mark.usefixtures("reminders_only")]


# --- the domain ---------------------------------------------------------------------------------

def test_french_typography_becomes_gsm7_and_parts_are_counted():
    text = "L’échographie « urgente »… c’est à 10 h – Œuf, fête"
    assert rules.to_gsm7(text) == "L'échographie \"urgente\"... c'est à 10 h - OEuf, fete"
    assert rules.is_gsm7(rules.to_gsm7(text)) and not rules.is_gsm7(text)
    assert rules.length("a" * 160).parts == 1
    assert (rules.length("a" * 161).parts, rules.length("a" * 306).parts,
            rules.length("a" * 307).parts) == (2, 2, 3)
    assert rules.length("{" * 80).units == 160 and rules.length("€" * 81).parts == 2
    ucs2 = rules.length("’" + "a" * 69)
    assert (ucs2.encoding, ucs2.parts, ucs2.foreign) == ("UCS-2", 1, "’")
    assert rules.length("’" + "a" * 70).parts == 2 and rules.length("’" * 135).parts == 3
    assert rules.gsm7_bytes("@Aé{") == bytes([0x00, 0x41, 0x05, 0x1B, 0x28])


def test_templates_render_in_french_and_english_with_the_date_in_words():
    when = dt.datetime(2026, 11, 24, 10, 30)
    assert rules.when_in_words(when, "fr") == "mardi 24 novembre à 10 h 30"
    assert rules.when_in_words(when.replace(minute=0), "fr") == "mardi 24 novembre à 10 h"
    assert rules.when_in_words(when, "en") == "Tuesday 24 November at 10:30"
    values = {"prenom": "Awa", "date_heure": rules.when_in_words(when, "fr"), "date": "",
              "heure": "", "service": "Pédiatrie", "site": "Clinique Nest Mermoz",
              "tel_site": "33 860 10 10"}
    french = rules.render(rules.DEFAULT_TEMPLATES[rules.APPOINTMENT]["fr"], values)
    assert french == ("Bonjour Awa, rappel : rendez-vous (Pédiatrie) le mardi 24 novembre à "
                      "10 h 30, Clinique Nest Mermoz. Empechement : 33 860 10 10")
    assert rules.is_gsm7(french) and rules.length(french).parts == 1
    english = rules.render(rules.DEFAULT_TEMPLATES[rules.APPOINTMENT]["en"],
                           {**values, "service": "",
                            "date_heure": rules.when_in_words(when, "en")})
    assert "appointment on Tuesday 24 November at 10:30, Clinique" in english
    assert "()" not in english
    assert rules.template_problem("Bonjour {nom}", rules.APPOINTMENT).startswith(
        "Placeholder {nom} inconnu") or "{nom}" in rules.template_problem(
        "Bonjour {nom}", rules.APPOINTMENT)
    assert rules.template_problem("Bonjour {prenom", rules.APPOINTMENT)
    assert rules.template_problem("Vaccin {vaccin}", rules.APPOINTMENT)
    assert rules.template_problem("Vaccin {vaccin}", rules.VACCINE) is None


def test_reminder_moments():
    timing = rules.Timing(appointment_morning=True, late_hours=6)
    starts = dt.datetime(2026, 11, 25, 10, 30)
    eve, morning = rules.appointment_reminders(starts, timing)
    assert (eve.scheduled_at, eve.expires_at) == (dt.datetime(2026, 11, 24, 18, 0),
                                                  dt.datetime(2026, 11, 25, 0, 0))
    assert (morning.scheduled_at, morning.expires_at) == (dt.datetime(2026, 11, 25, 7, 30),
                                                          starts)
    assert eve.occurrence == "202611251030:eve"
    # an appointment at 7:00 gets no "morning" reminder after it started
    assert [r.occurrence for r in rules.appointment_reminders(
        dt.datetime(2026, 11, 25, 7, 0), timing)] == ["202611250700:eve"]
    before, day = rules.vaccine_reminders(dt.date(2026, 12, 1), rules.Timing())
    assert before.scheduled_at == dt.datetime(2026, 11, 29, 9, 0)
    assert day.expires_at == dt.datetime(2026, 12, 1, 15, 0)
    assert not rules.may_send_at(dt.datetime(2026, 11, 23, 21, 0), timing)
    assert rules.next_opening(dt.datetime(2026, 11, 23, 21, 0), timing) == dt.datetime(
        2026, 11, 24, 7, 0)
    assert rules.retry_at(1, MONDAY) == MONDAY + dt.timedelta(minutes=1)
    assert rules.retry_at(len(rules.RETRY_MINUTES) + 1, MONDAY) is None
    assert "closes_at" in rules.timing_problems(rules.Timing(closes_at=dt.time(7, 0)))


# --- scheduling ---------------------------------------------------------------------------------

def woman(site_id: int, consent: bool = True, language: str = "fr", phone="77 123 45 67",
          first="Awa", last="Diop"):
    return patient_service.create_patient(patient_service.PatientForm(
        last_name=last, first_names=first, phones=[phone], sms_consent=consent,
        newsletter_consent=consent, language=language, site_id=site_id,
        birth_date="02/05/1990"), today=MONDAY.date())


def book(patient_id: int, site_id: int, starts: dt.datetime, service_id=None):
    if service_id is None:
        entry = next((e for e in reception.directory(site_id) if e.name == "Gynécologie"), None)
        service_id = entry.id if entry else reception.save_entry(reception.DirectoryForm(
            site_id=site_id, kind="service", name="Gynécologie", extension="211",
            takes_appointments=True)).id
    return reception.book(reception.AppointmentForm(
        patient_id, None, site_id, service_id, starts.strftime("%d/%m/%Y"),
        starts.strftime("%H:%M"), 30, "Consultation"), when=MONDAY)


def pending(kind: str = "") -> list[SmsMessage]:
    query = SmsMessage.select().where(SmsMessage.state == rules.SCHEDULED)
    if kind:
        query = query.where(SmsMessage.kind == kind)
    return list(query.order_by(SmsMessage.scheduled_at))


def test_an_appointment_is_reminded_moved_with_it_and_cancelled_with_it(desk):
    site, _user = desk
    awa = woman(site.id)
    paediatrics = reception.save_entry(reception.DirectoryForm(
        site_id=site.id, kind="service", name="Pédiatrie", extension="212",
        takes_appointments=True))
    appointment = book(awa.id, site.id, dt.datetime(2026, 11, 25, 10, 30), paediatrics.id)
    [eve] = pending()
    assert (eve.kind, eve.patient_id, eve.phone, eve.scheduled_at) == (
        "appointment", awa.id, "+221771234567", dt.datetime(2026, 11, 24, 18, 0))
    # the clinic turns on the morning reminder: the catch-up adds it, once
    service.save_timing(rules.Timing(appointment_morning=True))
    assert service.schedule_reminders(MONDAY).created == 1
    assert service.schedule_reminders(MONDAY).created == 0
    assert len(pending()) == 2
    moved = reception.move(appointment.id, appointment.version, reception.AppointmentForm(
        awa.id, None, site.id, paediatrics.id, "27/11/2026", "09:00", 30, "Consultation"),
        when=MONDAY)
    assert [m.scheduled_at for m in pending()] == [dt.datetime(2026, 11, 26, 18, 0),
                                                   dt.datetime(2026, 11, 27, 7, 30)]
    assert SmsMessage.select().where(SmsMessage.state == rules.CANCELLED).count() == 2
    reception.cancel(moved.id, moved.version, "Elle a accouché", when=MONDAY)
    assert pending() == []
    event = SmsEvent.select().order_by(SmsEvent.id.desc()).first()
    assert event.state == "cancelled" and "annul" in event.detail.lower()


@pytest.mark.confirmations
def test_a_booking_is_confirmed_by_sms_at_once_if_she_agreed_and_again_when_moved(desk):
    site, _user = desk
    awa = woman(site.id)
    refuses = woman(site.id, consent=False, phone="70 111 22 33", first="Rama")
    paediatrics = reception.save_entry(reception.DirectoryForm(
        site_id=site.id, kind="service", name="Pédiatrie", extension="212",
        takes_appointments=True))
    appointment = book(awa.id, site.id, dt.datetime(2026, 11, 25, 10, 30), paediatrics.id)
    book(refuses.id, site.id, dt.datetime(2026, 11, 25, 11, 30), paediatrics.id)
    [confirmation] = pending(rules.CONFIRMATION)
    assert (confirmation.patient_id, confirmation.scheduled_at) == (awa.id, MONDAY)
    assert service.compose(confirmation).text == (
        "Bonjour Awa, votre rendez-vous (Pédiatrie) est pris pour le mercredi 25 novembre à "
        "10 h 30, Clinique Nest Mermoz. Empechement : 33 860 10 10")
    assert [m.kind for m in pending()] == ["confirmation", "appointment"]
    # Moved in the evening: the new time is confirmed the next morning, the old one is not.
    evening = dt.datetime(2026, 11, 23, 21, 15)
    reception.move(appointment.id, appointment.version, reception.AppointmentForm(
        awa.id, None, site.id, paediatrics.id, "27/11/2026", "09:00", 30, "Consultation"),
        when=evening)
    [confirmation] = pending(rules.CONFIRMATION)
    assert confirmation.scheduled_at == dt.datetime(2026, 11, 24, 7, 0)
    assert confirmation.occurrence == "202611270900:booked"
    # Booked for within the hour: no confirmation, she is on her way.
    soon = book(awa.id, site.id, dt.datetime(2026, 11, 23, 10, 15), paediatrics.id)
    assert not [m for m in pending(rules.CONFIRMATION) if m.source_id == soon.id]
    # The clinic may turn it off.
    service.save_timing(rules.Timing(appointment_confirmation=False))
    service.schedule_reminders(evening)
    assert pending(rules.CONFIRMATION) == []


def test_booking_says_whether_a_reminder_will_go_and_consent_given_schedules_it(desk):
    site, _user = desk
    rama = woman(site.id, consent=False, phone="70 111 22 33", first="Rama")
    starts = dt.datetime(2026, 11, 25, 10, 30)
    assert service.appointment_outlook(rama.id, None, starts, MONDAY).text == (
        "Pas de rappel SMS : elle n’a pas accepté les SMS.")
    appointment = book(rama.id, site.id, starts)
    assert pending() == []
    # She agrees on the phone: her file saved, the reminder is in the outbox at once.
    form = patient_service.form_of(rama)
    form.sms_consent = True
    patient_service.update_patient(rama.id, rama.version, form, today=MONDAY.date())
    [reminder] = pending()
    assert (reminder.source_id, reminder.scheduled_at) == (
        appointment.id, dt.datetime(2026, 11, 24, 18, 0))
    assert service.appointment_outlook(rama.id, None, starts, MONDAY).text == (
        "Pas de rappel SMS : l’envoi des SMS n’est pas configuré (Paramètres).")
    service.save_transport("http", {"url": "http://127.0.0.1:9/send", "phone_field": "to",
                                    "text_field": "text"})
    outlook = service.appointment_outlook(rama.id, None, starts, MONDAY)
    assert outlook.will_send and outlook.text.startswith("SMS : un rappel le ")
    assert service.appointment_outlook(rama.id, None, MONDAY + dt.timedelta(minutes=30),
                                       MONDAY).text == (
        "Pas de rappel SMS : le rendez-vous est trop proche pour un rappel.")
    # She withdraws it: the reminder goes.
    rama = patient_service.get_patient(rama.id)
    form.sms_consent = False
    patient_service.update_patient(rama.id, rama.version, form, today=MONDAY.date())
    assert pending() == []


def test_no_reminder_without_consent_and_none_sent_late(desk):
    site, _user = desk
    refuses = woman(site.id, consent=False, phone="70 111 22 33")
    book(refuses.id, site.id, dt.datetime(2026, 11, 25, 10, 30))
    assert pending() == []
    # booked at 10:00 for this afternoon: yesterday's 18:00 reminder is too late already
    awa = woman(site.id)
    book(awa.id, site.id, dt.datetime(2026, 11, 23, 16, 0))
    assert pending() == []


def test_vaccine_reminders_go_to_the_parent_and_stop_when_the_dose_is_given(desk, family):
    mother, child = family
    # Moussa, born 5 September 2026, had his 6- and 10-week doses on their days: his 14-week
    # doses are due on 12 December.
    for dose, day in ((1, "17/10/2026"), (2, "14/11/2026")):
        vaccination.record_visit(child.id, [vaccination.GivenDose(vaccine, dose) for vaccine in
                                            ("Hexa", "PCV", "Rota", "VPO")],
                                 day, today=dt.date(2026, 11, 23))
    when = dt.datetime(2026, 11, 23, 10, 0)
    service.schedule_reminders(when)
    reminders = pending("vaccine")
    assert {m.patient_id for m in reminders} == {mother.id}
    days = sorted({m.event_at.date() for m in reminders})
    assert days and all(day >= when.date() for day in days)
    first_day = days[0]
    calendar = vaccination.child_calendar(child.id, today=when.date())
    on_that_day = [d for d in calendar.doses if d.due == first_day and d.given is None]
    composed = service.compose(reminders[0])
    assert composed.phone == "+221771234567"
    assert composed.text.startswith("Bonjour Awa, vaccination de Moussa prévue le ")
    for dose in on_that_day:
        vaccination.record_dose(child.id, dose.vaccine, dose.dose,
                                first_day.strftime("%d/%m/%Y"), today=first_day)
    assert not [m for m in pending("vaccine") if m.event_at.date() == first_day]
    cancelled = SmsMessage.select().where((SmsMessage.state == rules.CANCELLED)
                                          & (SmsMessage.kind == "vaccine")).count()
    assert cancelled >= 1


def test_a_late_child_gets_no_daily_reminder_and_the_next_doses_follow_the_catch_up(desk,
                                                                                  family):
    _mother, child = family
    # Moussa, born 5/9/2026, nothing given: Hexa 1, PCV 1, Rota 1, VPO 1 were due on 17/10
    # (still in their window until 14/11, then overdue). Once their day has passed they are to
    # give "today" every day until they are: a call, not an SMS each morning. The next doses
    # come 28 days after that today, a day that moves with every day they wait: no reminder
    # names it (it would move each day and never go) until the late doses are given.
    for today in (dt.date(2026, 10, 20), dt.date(2026, 10, 21), dt.date(2026, 11, 23),
                  dt.date(2026, 11, 24)):
        service.schedule_reminders(dt.datetime.combine(today, dt.time(10, 0)))
        assert pending("vaccine") == [], today
    given = dt.date(2026, 11, 25)
    for vaccine in ("Hexa", "PCV", "Rota", "VPO"):
        vaccination.record_dose(child.id, vaccine, 1, "25/11/2026", today=given)
    service.schedule_reminders(dt.datetime(2026, 11, 25, 11, 0))
    assert {m.event_at.date() for m in pending("vaccine")} == {dt.date(2026, 12, 23)}


def test_one_desk_catches_everything_up_each_day_the_others_only_the_new_days(desk, family,
                                                                              application_clock):
    """The full catch-up is done once a day, by the desk holding its lease; a pass on
    another desk (or later the same day) only writes the reminders of the children whose
    vaccination day came within the horizon since."""
    from nest_desktop.db.models import Setting
    from nest_desktop.services import leases

    _mother, child = family
    service.save_timing(rules.Timing(vaccine_horizon_days=7))
    application_clock.set_now(dt.datetime(2026, 10, 20, 10, 0))
    vaccination.record_visit(child.id, [vaccination.GivenDose(vaccine, 1) for vaccine in
                                        ("Hexa", "PCV", "Rota", "VPO")], "17/10/2026")
    # His 10-week doses come on 14 November, beyond the week ahead.
    full = service.schedule_reminders(dt.datetime(2026, 10, 20, 10, 0))
    assert pending("vaccine") == [] and full.created == 0
    assert settings.get(service.CAUGHT_UP_KEY)["horizon"] == "2026-10-27"
    # 7 November: another desk holds the day's full catch-up; this one writes the new days.
    november = dt.datetime(2026, 11, 7, 10, 0)
    application_clock.set_now(november)
    assert leases.take(service.CATCH_UP_LEASE, holder="accueil-2:4242")
    caught = service.schedule_reminders(november)
    assert {m.event_at.date() for m in pending("vaccine")} == {dt.date(2026, 11, 14)}
    assert caught.created == len(pending("vaccine")) > 0
    assert settings.get(service.CAUGHT_UP_KEY)["day"] == "2026-10-20"  # not its full pass
    assert service.schedule_reminders(november).created == 0  # nothing new since
    # Once the lease is free, the next pass of the day is the full one.
    Setting.delete().where(Setting.key == "lease." + service.CATCH_UP_LEASE).execute()
    service.schedule_reminders(november + dt.timedelta(minutes=15))
    assert settings.get(service.CAUGHT_UP_KEY)["day"] == "2026-11-07"


def test_a_lease_is_held_by_one_desk_until_it_lets_go_or_its_time_is_over(desk,
                                                                         application_clock):
    from nest_desktop.services import leases

    application_clock.set_now(dt.datetime(2026, 11, 23, 10, 0))
    assert leases.take("rebuild", 10, holder="a")
    assert not leases.take("rebuild", 10, holder="b")
    assert leases.take("rebuild", 10, holder="a")  # its holder extends it
    application_clock.set_now(dt.datetime(2026, 11, 23, 10, 11))
    assert leases.take("rebuild", 10, holder="b")  # a's time is over
    leases.release("rebuild", holder="a")  # not a's any more: nothing happens
    assert not leases.take("rebuild", 10, holder="a")
    leases.release("rebuild", holder="b")
    assert leases.take("rebuild", 10, holder="a")


# --- sending ------------------------------------------------------------------------------------

@pytest.fixture
def provider():
    fake = FakeProvider()
    yield fake
    fake.close()


def orange(provider: FakeProvider, timeout: float = 5.0) -> transports.OrangeSms:
    return transports.OrangeSms(f"{provider.url}/oauth/v3/token",
                                f"{provider.url}/smsmessaging/v1", "id", "secret",
                                "+221338601010", timeout=timeout)


def three_reminders(site_id: int) -> list[SmsMessage]:
    for index, (phone, first) in enumerate((("77 100 00 01", "Aminata"),
                                            ("77 100 00 02", "Binta"),
                                            ("77 100 00 03", "Coumba"))):
        person = woman(site_id, phone=phone, first=first)
        book(person.id, site_id, dt.datetime(2026, 11, 25, 9 + index, 0))
    return pending()


EVE = dt.datetime(2026, 11, 24, 18, 5)


def test_orange_success_401_refresh_and_server_errors(desk, provider):
    site, _user = desk
    first, second, third = three_reminders(site.id)
    provider.script = ["ok", "expired", "ok", 500]
    transport = orange(provider)
    report = service.send_due(transport, EVE)
    assert (report.sent, report.retried) == (2, 1)
    assert provider.tokens_given == 2  # the refused token was replaced once
    assert [address for address, _text in provider.delivered] == [
        "tel:+221771000001", "tel:+221771000002"]
    assert provider.delivered[0][1].startswith(
        "Bonjour Aminata, rappel : rendez-vous (Gynécologie)")
    sent = SmsMessage.get_by_id(first.id)
    assert (sent.state, sent.parts, sent.provider_ref) == ("sent", 1, "req-1")
    waiting = SmsMessage.get_by_id(third.id)
    assert waiting.state == "scheduled" and "HTTP 500" in waiting.last_error
    assert waiting.next_attempt_at == EVE + dt.timedelta(minutes=1)
    # not before its next try; then it goes, and nothing goes twice
    assert service.send_due(transport, EVE).sent == 0
    assert service.send_due(transport, EVE + dt.timedelta(minutes=2)).sent == 1
    assert service.send_due(transport, EVE + dt.timedelta(minutes=30)).sent == 0
    assert len(provider.delivered) == 3
    states = [e.state for e in service.history(third.id)]
    assert states == ["sending", "scheduled", "sending", "sent"]
    # the delivery reports: one reached the phone, one could not, one is not known yet
    provider.delivery = {"req-1": "DeliveredToTerminal", "req-2": "DeliveryImpossible"}
    assert service.check_deliveries(transport, EVE + dt.timedelta(minutes=40)) == 1
    assert [SmsMessage.get_by_id(m.id).state for m in (first, second, third)] == [
        "delivered", "failed", "sent"]
    assert SmsMessage.get_by_id(first.id).delivered_at == EVE + dt.timedelta(minutes=40)


def test_a_provider_that_keeps_failing_ends_in_failed_with_the_reason(desk, provider):
    site, _user = desk
    person = woman(site.id)
    book(person.id, site.id, dt.datetime(2026, 11, 26, 10, 0))
    [message] = pending()
    provider.script = [500] * 10
    transport = orange(provider)
    service.save_timing(rules.Timing(closes_at=dt.time(23, 0)))
    moment = dt.datetime(2026, 11, 25, 18, 0)
    for _attempt in range(len(rules.RETRY_MINUTES) + 1):
        service.send_due(transport, moment)
        moment = SmsMessage.get_by_id(message.id).next_attempt_at
    message = SmsMessage.get_by_id(message.id)
    assert message.state == "failed" and message.attempts == len(rules.RETRY_MINUTES) + 1
    assert "HTTP 500" in message.last_error and provider.delivered == []
    provider.script = ["refused"]
    other = woman(site.id, phone="70 200 00 00", first="Binta")
    book(other.id, site.id, dt.datetime(2026, 11, 27, 10, 0))
    report = service.send_due(transport, dt.datetime(2026, 11, 26, 18, 0))
    assert report.failed == 1
    refused = SmsMessage.select().where(SmsMessage.patient == other.id).get()
    assert refused.state == "failed" and "SVC0004" in refused.last_error


def test_a_time_out_is_retried_without_sending_twice(desk, provider):
    site, _user = desk
    [message, *_others] = three_reminders(site.id)
    provider.script = ["slow"]
    provider.slow_seconds = 1.5
    transport = orange(provider, timeout=0.5)
    report = service.send_due(transport, EVE)
    assert report.retried == 1 and report.sent == 0  # the others wait for the next round
    assert "Pas de réponse" in SmsMessage.get_by_id(message.id).last_error
    report = service.send_due(transport, EVE + dt.timedelta(minutes=2))
    assert report.sent == 3
    # the provider took the first request: the repeat carried the same reference
    assert len(provider.delivered) == 3
    # a slow answer within the time-out is simply waited for
    person = woman(site.id, phone="70 700 00 00", first="Dieynaba")
    book(person.id, site.id, dt.datetime(2026, 11, 26, 10, 0))
    provider.script, provider.slow_seconds = ["slow"], 0.3
    assert service.send_due(transport, dt.datetime(2026, 11, 25, 18, 0)).sent == 1
    assert len(provider.delivered) == 4


def test_a_form_gateway_that_answers_late_is_not_sent_twice(desk, provider):
    """The defect: the provider took the message and answered after the time-out; the form
    transport retried and the patient got it twice. A form carries no key the gateway
    deduplicates on: the message is failed as interrupted, for a person to check."""
    site, _user = desk
    [message, *_others] = three_reminders(site.id)
    provider.script, provider.slow_seconds = ["slow"], 1.5
    form = transports.HttpGateway(f"{provider.url}/form", "numero", "message", timeout=0.5)
    report = service.send_due(form, EVE)
    assert (report.sent, report.failed) == (0, 1)
    message = SmsMessage.get_by_id(message.id)
    assert message.state == "failed" and message.last_error == "Interrompu pendant l’envoi"
    assert "a peut-être été envoyé" in service.history(message.id)[-1].detail
    report = service.send_due(form, EVE + dt.timedelta(minutes=2))
    assert report.sent == 2  # the two others; the first is not sent again
    numbers = [post["numero"] for post in provider.form_posts]
    assert len(numbers) == 3 == len(set(numbers))


def test_no_network_the_messages_wait_and_go_when_it_returns(desk, provider):
    site, _user = desk
    three_reminders(site.id)
    unreachable = transports.OrangeSms("http://127.0.0.1:9/oauth", "http://127.0.0.1:9/sms",
                                       "id", "secret", "+221338601010", timeout=1)
    for minutes in range(0, 100, 10):  # no network for a while: nothing is used up
        report = service.send_due(unreachable, EVE + dt.timedelta(minutes=minutes))
        assert report.retried == 0 and report.sent == 0 and "réseau" in report.note
    waiting = list(SmsMessage.select())
    assert [(m.state, m.attempts) for m in waiting] == [("scheduled", 0)] * 3
    assert all(e.state != "sending" for e in SmsEvent.select())
    assert service.send_due(orange(provider), EVE + dt.timedelta(minutes=110)).sent == 3


class Crash(BaseException):
    """The process stops in the middle of a send."""


def test_a_restart_in_the_middle_of_sending_sends_nothing_twice(desk, provider):
    site, _user = desk
    first, second, third = three_reminders(site.id)
    real = orange(provider)

    class CrashesOnSecond:
        name = "orange"

        def send(self, phone, text, reference):
            if reference == second.key:
                real.send(phone, text, reference)  # it went, then the computer stopped
                raise Crash()
            return real.send(phone, text, reference)

        def close(self):
            pass

    with pytest.raises(Crash):
        service.send_due(CrashesOnSecond(), EVE)
    states = {m.id: m.state for m in SmsMessage.select()}
    assert states == {first.id: "sent", second.id: "sending", third.id: "scheduled"}
    # The application starts again a few minutes later: the third goes, the second is not
    # sent again blindly but failed with the reason, for a person to check.
    service.send_due(orange(provider), EVE + dt.timedelta(minutes=20))
    states = {m.id: m.state for m in SmsMessage.select()}
    assert states == {first.id: "sent", second.id: "failed", third.id: "sent"}
    assert "interrompu" in SmsMessage.get_by_id(second.id).last_error.lower()
    assert len(provider.delivered) == 3
    assert sorted(address for address, _t in provider.delivered) == [
        "tel:+221771000001", "tel:+221771000002", "tel:+221771000003"]
    service.retry([second.id], EVE + dt.timedelta(minutes=21))
    assert SmsMessage.get_by_id(second.id).state == "scheduled"


def test_nothing_at_night_nothing_late_nothing_after_consent_is_withdrawn(desk, provider):
    site, _user = desk
    first, second, third = three_reminders(site.id)
    report = service.send_due(orange(provider), dt.datetime(2026, 11, 24, 21, 30))
    assert report.sent == 0 and "07:00" in report.note
    form = patient_service.form_of(first.patient)
    form.sms_consent = False
    patient_service.update_patient(first.patient_id, first.patient.version, form)
    # her reminder leaves the outbox with her consent, at once
    assert SmsMessage.get_by_id(first.id).state == "cancelled"
    # the next morning, the eve reminders are too late (their appointment is this morning)
    report = service.send_due(orange(provider), dt.datetime(2026, 11, 25, 8, 0))
    assert report.cancelled == 2 and provider.delivered == []
    assert "Trop tard" in service.history(third.id)[-1].detail


def test_a_gsm_modem_sends_pdus_the_phone_joins_and_retries_after_an_error(desk):
    site, _user = desk
    modem = FakeModem()
    try:
        first, second, third = three_reminders(site.id)
        long_one = service.send_one(woman(site.id, phone="77 500 00 01", first="Binta").id,
                                    "Bonjour {prenom}, le carnet [jaune] coûte 5 € ; "
                                    + "le rendez-vous de contrôle est à la maternité. " * 4,
                                    EVE - dt.timedelta(hours=1))
        wolof = service.send_one(woman(site.id, phone="77 500 00 02", first="Ŋoné").id,
                                 "Bonjour {prenom}, " + "votre enfant est à jour. " * 4,
                                 EVE - dt.timedelta(hours=1))
        modem.fail_next = 1
        transport = transports.GsmModem(modem.port, timeout=3)
        report = service.send_due(transport, EVE)
        assert report.retried == 1
        failed_first = SmsMessage.select().where(SmsMessage.state == "scheduled").order_by(
            SmsMessage.next_attempt_at.desc()).first()
        assert "+CMS ERROR: 38" in failed_first.last_error
        report = service.send_due(transport, EVE + dt.timedelta(minutes=2))
        assert report.sent == 5 and report.failed == 0
        transport.close()
        assert "AT+CMGF=0" in modem.commands  # PDU mode
        got = modem.phones()
        assert sorted(number for number, _text in got) == [
            "+221771000001", "+221771000002", "+221771000003", "+221775000001",
            "+221775000002"]
        texts = dict(got)
        for message in (first, long_one, wolof):
            message = SmsMessage.get_by_id(message.id)
            assert texts[message.phone] == message.text  # whole, as composed
        # the extension table's characters inside a GSM-7 message, one message in parts
        assert "[jaune]" in texts["+221775000001"] and "5 €" in texts["+221775000001"]
        parts = [sms for sms in modem.received if sms["number"] == "+221775000001"]
        count = SmsMessage.get_by_id(long_one.id).parts
        assert count >= 2 and [sms["concat"][1:] for sms in parts] == [
            (count, number) for number in range(1, count + 1)]
        assert {sms["coding"] for sms in parts} == {"GSM-7"}
        wolof_parts = [sms for sms in modem.received if sms["number"] == "+221775000002"]
        assert {sms["coding"] for sms in wolof_parts} == {"UCS-2"}
        assert texts["+221775000002"].startswith("Bonjour Ŋoné, votre enfant est à jour.")
        assert SmsMessage.get_by_id(long_one.id).provider_ref.count(",") == count - 1
    finally:
        modem.close()
    # no modem plugged in: the messages wait
    person = woman(site.id, phone="70 300 00 00")
    book(person.id, site.id, dt.datetime(2026, 11, 28, 9, 0))
    report = service.send_due(transports.GsmModem("/dev/nonexistent-modem"),
                              dt.datetime(2026, 11, 27, 18, 0))
    assert report.retried == 0 and "ne peut pas être ouvert" in report.note
    assert SmsMessage.select().where(SmsMessage.patient == person.id).get().attempts == 0


def test_a_long_message_whose_second_part_failed_goes_on_from_that_part(desk):
    """The defect: part 2 failed, the retry sent part 1 again and she got it twice."""
    site, _user = desk
    modem = FakeModem()
    try:
        message = service.send_one(woman(site.id, phone="77 600 00 01").id,
                                   "Bonjour {prenom}, " + "rappel de la vaccination. " * 12,
                                   EVE - dt.timedelta(hours=1))
        modem.fail_part = 2
        transport = transports.GsmModem(modem.port, timeout=3)
        report = service.send_due(transport, EVE)
        assert report.retried == 1
        waiting = SmsMessage.get_by_id(message.id)
        assert waiting.state == "scheduled" and "1 SMS sur 3" in waiting.last_error
        assert [sms["concat"][2] for sms in modem.received] == [1]
        assert service.send_due(transport, EVE + dt.timedelta(minutes=2)).sent == 1
        transport.close()
        assert [sms["concat"][2] for sms in modem.received] == [1, 2, 3]  # none twice
        [(number, text)] = modem.phones()
        sent = SmsMessage.get_by_id(message.id)
        assert (number, text) == (sent.phone, sent.text)
        assert sent.provider_ref == "1,2,3"
    finally:
        modem.close()


def test_a_modem_that_does_not_confirm_is_not_tried_again_blindly(desk):
    """A time-out after Ctrl-Z, or an OK without +CMGS: the network may have the message."""
    site, _user = desk
    modem = FakeModem()
    try:
        first, second, third = three_reminders(site.id)
        modem.swallow_next = 1
        transport = transports.GsmModem(modem.port, timeout=1)
        report = service.send_due(transport, EVE)
        assert (report.sent, report.failed) == (0, 1)
        cut = SmsMessage.get_by_id(first.id)
        assert cut.state == "failed" and cut.last_error == "Interrompu pendant l’envoi"
        assert "peut-être" in service.history(first.id)[-1].detail
        modem.ok_without_reference_next = 1
        report = service.send_due(transport, EVE + dt.timedelta(minutes=1))
        assert (report.sent, report.failed) == (0, 1)
        assert SmsMessage.get_by_id(second.id).last_error == "Interrompu pendant l’envoi"
        assert service.send_due(transport, EVE + dt.timedelta(minutes=2)).sent == 1
        assert [number for number, _text in modem.phones()] == [
            "+221771000001", "+221771000002", "+221771000003"]  # each once
        # a number the network does not know fails alone; the next one goes
        modem.unassigned.add("+221776000001")
        unknown = service.send_one(woman(site.id, phone="77 600 00 01").id, "Bonjour {prenom}",
                                   EVE)
        known = service.send_one(woman(site.id, phone="77 600 00 02", first="Binta").id,
                                 "Bonjour {prenom}", EVE)
        report = service.send_due(transport, EVE + dt.timedelta(minutes=3))
        transport.close()
        assert (report.sent, report.failed) == (1, 1)
        refused = SmsMessage.get_by_id(unknown.id)
        assert refused.state == "failed" and "numéro non attribué" in refused.last_error
        assert SmsMessage.get_by_id(known.id).state == "sent"
    finally:
        modem.close()


def test_the_emulated_modem_refuses_what_a_real_one_refuses():
    """The emulation's own rules, checked apart: a wrong length, ESC in the prompt."""
    import serial

    modem = FakeModem()
    try:
        port = serial.serial_for_url(modem.port, timeout=0.5)
        port.write(b"AT+CMGF=0\r")
        time.sleep(0.2)
        [(pdu, length)] = transports.GsmModem.pdus("+221771234567", "Bonjour", "k")
        port.write(f"AT+CMGS={length + 1}\r".encode() + pdu.encode() + b"\x1a")
        time.sleep(0.3)
        port.write(f"AT+CMGS={length}\r".encode() + pdu[:10].encode() + b"\x1b")
        time.sleep(0.3)
        answer = port.read(500)
        port.close()
        assert b"+CMS ERROR: 304" in answer and modem.received == []
    finally:
        modem.close()


def test_the_http_form_and_the_csv_export(desk, provider, tmp_path):
    site, _user = desk
    three_reminders(site.id)
    form = transports.HttpGateway(f"{provider.url}/form", "numero", "message",
                               {"api_key": "k-123"}, phone_without_plus=True,
                               success_text="OK")
    assert service.send_due(form, EVE).sent == 3
    assert provider.form_posts[0]["numero"] == "221771000001"
    assert provider.form_posts[0]["api_key"] == "k-123"
    other = woman(site.id, phone="70 400 00 00", first="Coumba")
    book(other.id, site.id, dt.datetime(2026, 11, 26, 11, 0))
    path = tmp_path / "sms.csv"
    assert service.export_due_csv(path, dt.datetime(2026, 11, 25, 18, 0)) == 1
    with path.open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    assert rows[0] == ["numero", "message"] and rows[1][0] == "+221704000000"
    assert service.export_due_csv(path, dt.datetime(2026, 11, 25, 18, 5)) == 0


def test_transport_settings_keep_the_secret_out_of_sight(desk, clinic_passphrase):
    service.save_transport("orange", {"client_id": "id", "client_secret": "s3cret",
                                      "sender": "33 860 10 10"})
    shown = service.transport_settings("orange")
    assert shown["client_secret"] is True and shown["sender"] == "+221338601010"
    service.save_transport("orange", {"client_id": "id2", "client_secret": ""})  # kept
    stored = settings.get("sms.orange")["client_secret"]
    assert stored.startswith("sealed:") and passphrase.open_secret(stored) == "s3cret"
    transport = service.make_transport()
    assert isinstance(transport, transports.OrangeSms) and transport.client_secret == "s3cret"
    trail = " ".join(e.changes for e in AuditEntry.select().where(AuditEntry.table == "setting"))
    assert "s3cret" not in trail and "***" in trail
    with pytest.raises(ValidationFailed) as refused:
        service.save_transport("http", {"url": "ftp://x", "fixed_fields": "no equals sign"})
    assert set(refused.value.errors) == {"url", "fixed_fields"}


def test_templates_are_saved_in_gsm7_and_checked(desk):
    service.save_templates({"appointment": {"fr": "Bonjour {prenom}, RDV le {date_heure} « "
                                                  "{site} »"}})
    assert service.template("appointment", "fr") == 'Bonjour {prenom}, RDV le {date_heure} "{site}"'
    assert service.template("appointment", "en") == rules.DEFAULT_TEMPLATES["appointment"]["en"]
    with pytest.raises(ValidationFailed) as refused:
        service.save_templates({"vaccine": {"fr": "Vaccin le {date_heure}"}})
    assert "vaccine.fr" in refused.value.errors


def test_a_newsletter_to_a_segment_with_its_cost_in_parts(desk, provider):
    site, _user = desk
    for index, first in enumerate(("Mariama", "Ndeye", "Oumou")):
        woman(site.id, phone=f"77 500 00 0{index}", first=first)
    woman(site.id, consent=False, phone="77 600 00 00")
    segment = segments.SegmentFilter()
    body = "Bonjour {prenom}, l’atelier allaitement a lieu samedi à la {site}. " * 3
    preview = service.preview_newsletter(segment, body, MONDAY.date())
    assert (preview.recipients, preview.left_out, preview.parts) == (3, 1, 2)
    assert preview.cost == 3 * 2 * 20 and "l'atelier" in preview.sample
    campaign = service.schedule_newsletter("Atelier de décembre", segment, body,
                                           dt.datetime(2026, 11, 23, 22, 0), MONDAY.date())
    messages = list(SmsMessage.select().where(SmsMessage.campaign == campaign.id))
    assert len(messages) == 3
    assert messages[0].scheduled_at == dt.datetime(2026, 11, 24, 7, 0)  # not at night
    assert service.send_due(orange(provider), dt.datetime(2026, 11, 24, 8, 1)).sent == 3
    assert provider.delivered[0][1].startswith("Bonjour Mariama, l'atelier")
    assert json.loads(AuditEntry.select().where(AuditEntry.table == "campaign").get().changes)


def test_the_outbox_filters_counts_and_actions(desk):
    site, _user = desk
    first, second, third = three_reminders(site.id)
    counts = service.outbox_counts(service.OutboxFilter())
    assert counts == {"scheduled": 3}
    assert service.cancel([first.id]) == 1
    assert service.cancel([first.id]) == 0  # once
    ids = service.outbox_ids(service.OutboxFilter(state="scheduled"))
    assert set(ids) == {second.id, third.id}
    rows = service.outbox_rows(ids)
    assert rows[second.id].recipient == "DIOP Binta" and rows[second.id].phone == "77 100 00 02"
    assert rows[second.id].about.startswith("Rendez-vous 25/11/2026")
    assert service.send_now([second.id], MONDAY) == 1
    assert SmsMessage.get_by_id(second.id).next_attempt_at == MONDAY
    mine = service.outbox_ids(service.OutboxFilter(patient_id=first.patient_id))
    assert mine == [first.id]
    message = service.send_one(first.patient_id, "Vos résultats sont prêts.", MONDAY)
    assert message.kind == "other" and message.body == "Vos résultats sont prets."  # GSM-7
    # What needs a person first: the failed, then the next to go, then the rest.
    SmsMessage.update(state="failed", last_error="Numéro invalide").where(
        SmsMessage.id == third.id).execute()
    assert service.outbox_ids(service.OutboxFilter()) == [
        third.id, second.id, message.id, first.id]


@pytest.mark.sqlite_only
def test_the_send_sms_command_sends_what_is_due_and_quits(qapp, desk, provider):
    """`nest-desktop send-sms`, as the Windows Task Scheduler runs it."""
    from nest_desktop.app import main
    from nest_desktop.db.connection import sqlite_path, sqlite_url
    from nest_desktop.db.models import database

    site, _user = desk
    person = woman(site.id)
    service.save_transport("http", {"url": f"{provider.url}/form", "phone_field": "to",
                                    "text_field": "text"})
    service.save_timing(rules.Timing(opens_at=dt.time(0, 0), closes_at=dt.time(23, 59)))
    message = service.send_one(person.id, "Bonjour {prenom}, vos résultats sont prêts.")
    assert main(["send-sms", "--database", sqlite_url(sqlite_path(database.obj))]) == 0
    assert [post["to"] for post in provider.form_posts] == ["+221771234567"]
    assert provider.form_posts[0]["text"] == "Bonjour Awa, vos résultats sont prets."
    assert SmsMessage.get_by_id(message.id).state == "sent"


def test_a_prospects_appointment_is_reminded_if_she_agreed_and_follows_her_conversion(desk):
    from nest_desktop.services import prospects

    site, _user = desk
    agrees = prospects.create_prospect(prospects.ProspectForm(
        last_name="Sarr", first_names="Aïda", phones=["70 555 12 12"], channel="phone",
        site_id=site.id, sms_consent=True), prospects.RequestForm("appointment"), MONDAY)
    declines = prospects.create_prospect(prospects.ProspectForm(
        last_name="Faye", first_names="Rama", phones=["70 555 34 34"], channel="phone",
        site_id=site.id), prospects.RequestForm("appointment"), MONDAY)
    entry = reception.save_entry(reception.DirectoryForm(
        site_id=site.id, kind="service", name="Gynécologie", extension="211",
        takes_appointments=True))
    for person, at in ((agrees, "10:00"), (declines, "10:30")):
        reception.book(reception.AppointmentForm(None, person.id, site.id, entry.id,
                                                 "25/11/2026", at, 30, ""), when=MONDAY)
    [reminder] = pending()
    assert (reminder.prospect_id, reminder.patient_id, reminder.phone) == (
        agrees.id, None, "+221705551212")
    # ï is not in GSM-7: the name is written "Aida" rather than halving the SMS
    assert service.compose(reminder).text.startswith("Bonjour Aida, rappel : rendez-vous")
    assert service.outbox_rows([reminder.id])[reminder.id].recipient == "SARR Aïda"
    # She becomes a patient (with her own consent on her file): the reminder follows her.
    patient = woman(site.id, phone="70 555 12 12", first="Aïda", last="Sarr")
    prospects.convert(agrees.id, patient.id, MONDAY)
    [reminder] = pending()
    assert (reminder.patient_id, reminder.prospect_id, reminder.key) == (
        patient.id, None, f"appointment:{reminder.source_id}:202611251000:eve")


def test_delivery_reports_need_the_token_and_may_come_before_the_answer(
        desk, provider, clinic_passphrase):
    from tests.kannel_gateway import free_port

    site, _user = desk
    [message, *_others] = three_reminders(site.id)
    address = f"http://127.0.0.1:{free_port()}"
    service.save_transport("http", {"url": f"{provider.url}/form", "fixed_fields": "k=v",
                                    "delivery_address": address})
    assert service.keep_delivery_listener() == ""
    try:
        token = settings.get(service.DELIVERY_TOKEN_KEY)
        transport = service.make_transport()
        fields = transport.fields("+221771000001", "Bonjour Ŋoné", "appointment:1:eve")
        assert (fields["to"], fields["k"]) == ("+221771000001", "v")
        assert transport.delivery_url == f"{address}/dlr/{token}?ref={{reference}}&status=%d"

        def report(path: str) -> tuple[int, str]:
            try:
                with urllib.request.urlopen(address + path, timeout=5) as answer:
                    return answer.status, answer.read().decode()
            except urllib.error.HTTPError as error:
                return error.code, error.read().decode()

        reference = urllib.parse.quote(message.key, safe="")
        assert report(f"/dlr/wrong?ref={reference}&status=1")[0] == 404
        assert report(f"/dlr/{token}?ref=test%3A1&status=1") == (200, "unknown message")
        # the report arrives while the send is still being recorded: it waits for it
        SmsMessage.update(state=rules.SENDING).where(SmsMessage.id == message.id).execute()
        answered = []
        waiting = threading.Thread(target=lambda: answered.append(
            report(f"/dlr/{token}?ref={reference}&status=2")))
        waiting.start()
        time.sleep(0.5)
        SmsMessage.update(state=rules.SENT).where(SmsMessage.id == message.id).execute()
        waiting.join(timeout=15)
        assert answered == [(200, "recorded")]
        failed = SmsMessage.get_by_id(message.id)
        assert failed.state == "failed" and failed.last_error == "Non remis au téléphone"
        # moved elsewhere by Settings: the listener follows
        service.save_transport("http", {"delivery_address": ""})
        assert service.keep_delivery_listener() == "" and service._listener is None
    finally:
        service.stop_delivery_listener()


def test_a_json_gateway_gets_the_message_values(desk, provider):
    site, _user = desk
    three_reminders(site.id)
    gateway = transports.HttpGateway(f"{provider.url}/json", "msisdn", "message",
                                     {"api_key": "k"}, True, method="json",
                                     message_fields={"unicode": "{unicode}",
                                                     "ref": "{reference}"})
    assert service.send_due(gateway, EVE).sent == 3
    first = provider.json_posts[0]
    assert (first["msisdn"], first["api_key"], first["unicode"]) == ("221771000001", "k", "0")
    assert first["ref"].startswith("appointment:") and first["message"].startswith("Bonjour")
