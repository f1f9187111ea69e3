"""Monthly newsletters for a segment (PAT-06, PAT-12): topics prepared ahead, each given once
per person, month after month, by SMS or exported for email and WhatsApp; to patients or to
qualified prospects, only with their consent."""

import csv
import datetime as dt

import pytest

from nest_desktop.db.models import NewsletterSending, NewsletterSeries, SmsMessage
from nest_desktop.services import ValidationFailed, newsletters, segments, sms
from nest_desktop.services import patients as patient_service
from nest_desktop.services.segments import SegmentFilter

PREGNANT = SegmentFilter(pathway="pregnancy", consent="newsletter")


def woman(site, last: str, first: str, phone: str, pathway: str = "pregnancy",
          newsletter: bool = True):
    return patient_service.create_patient(patient_service.PatientForm(
        last_name=last, first_names=first, phones=[phone], site_id=site.id, pathway=pathway,
        newsletter_consent=newsletter, birth_date="01/01/1992"))


def series_form(**changes) -> newsletters.SeriesForm:
    values = dict(name="Lettre des futures mamans", segment=PREGNANT, day_of_month=5,
                  send_time="10:00", topics=[
                      newsletters.TopicForm("Nutrition", "Bonjour {prenom}, bien manger enceinte…"),
                      newsletters.TopicForm("Allaitement", "Bonjour {prenom}, l'allaitement…"),
                  ])
    values.update(changes)
    return newsletters.SeriesForm(**values)


def topics_had(patient_id: int) -> list[str]:
    return [s.topic.title for s in NewsletterSending.select().where(
        NewsletterSending.patient == patient_id).order_by(NewsletterSending.month)]


@pytest.mark.clock("2026-12-02 09:00")
def test_each_month_every_member_gets_the_first_topic_she_has_not_had(desk):
    site, _user = desk
    awa = woman(site, "Diop", "Awa", "77 123 45 67")
    woman(site, "Sow", "Binta", "77 765 43 21", newsletter=False)  # no consent: nothing
    series = newsletters.save_series(None, series_form())
    assert newsletters.series_list()[0].next_send == dt.datetime(2026, 12, 5, 10, 0)
    # the SMS pass before the day sends nothing; on the 5th at 10:00, Awa's first topic
    assert newsletters.send_due_series(dt.datetime(2026, 12, 5, 9, 59)) == 0
    sms.run(dt.datetime(2026, 12, 5, 10, 0))
    [message] = SmsMessage.select().where(SmsMessage.patient == awa.id)
    assert sms.compose(message).text == "Bonjour Awa, bien manger enceinte..."  # GSM-7
    assert message.scheduled_at == dt.datetime(2026, 12, 5, 10, 0)
    assert topics_had(awa.id) == ["Nutrition"]
    # a second pass, or a second workstation, the same month: nothing more
    assert newsletters.send_due_series(dt.datetime(2026, 12, 5, 10, 15)) == 0
    assert newsletters.send_month(series.id, dt.datetime(2026, 12, 20, 10, 0)) == 0
    # Khady enters the segment in December: in January she starts at the first topic
    khady = woman(site, "Ndiaye", "Khady", "78 111 22 33")
    assert newsletters.send_due_series(dt.datetime(2027, 1, 5, 10, 0)) == 2
    assert topics_had(awa.id) == ["Nutrition", "Allaitement"]
    assert topics_had(khady.id) == ["Nutrition"]
    # February: Awa has had every topic, Khady gets the second
    assert newsletters.send_due_series(dt.datetime(2027, 2, 5, 10, 0)) == 1
    assert topics_had(khady.id) == ["Nutrition", "Allaitement"]
    # a topic prepared ahead is given to both in March
    form = newsletters.form_of(series.id)
    form.topics.append(newsletters.TopicForm("En cas de fièvre", "Bonjour {prenom}, si fièvre…"))
    newsletters.save_series(series.id, form)
    assert newsletters.send_due_series(dt.datetime(2027, 3, 5, 10, 0)) == 2
    assert NewsletterSeries.get_by_id(series.id).last_month == "2027-03"
    assert SmsMessage.select().where(SmsMessage.kind == "newsletter").count() == 6


@pytest.mark.clock("2026-12-02 09:00")
def test_a_series_is_checked_and_a_topic_already_given_is_kept(desk):
    site, _user = desk
    woman(site, "Diop", "Awa", "77 123 45 67")
    with pytest.raises(ValidationFailed) as refused:
        newsletters.save_series(None, series_form(name=" ", day_of_month=31, send_time="25h",
                                                  topics=[]))
    assert set(refused.value.errors) == {"name", "day_of_month", "send_time", "topics"}
    with pytest.raises(ValidationFailed) as refused:
        newsletters.save_series(None, series_form(topics=[
            newsletters.TopicForm("Nutrition", "Bonjour {nom_inconnu}")]))
    assert refused.value.errors["topics"].startswith("Sujet 1")
    series = newsletters.save_series(None, series_form())
    newsletters.send_due_series(dt.datetime(2026, 12, 5, 10, 0))
    form = newsletters.form_of(series.id)
    form.topics = form.topics[1:]  # "Nutrition" was given: it stays
    with pytest.raises(ValidationFailed) as refused:
        newsletters.save_series(series.id, form)
    assert set(refused.value.errors) == {"topics"}
    # reordered and reworded: kept, with who had it
    form = newsletters.form_of(series.id)
    form.topics.reverse()
    form.topics[1].body = "Bonjour {prenom}, manger varié…"
    newsletters.save_series(series.id, form)
    assert [t.title for t in newsletters.form_of(series.id).topics] == ["Allaitement",
                                                                        "Nutrition"]
    assert NewsletterSending.select().count() == 1


@pytest.mark.clock("2026-12-10 09:00")
def test_a_series_written_after_its_day_starts_next_month(desk):
    site, _user = desk
    woman(site, "Diop", "Awa", "77 123 45 67")
    series = newsletters.save_series(None, series_form())
    assert newsletters.send_due_series(dt.datetime(2026, 12, 10, 9, 30)) == 0
    assert newsletters.series_list()[0].next_send == dt.datetime(2027, 1, 5, 10, 0)
    assert newsletters.send_due_series(dt.datetime(2027, 1, 5, 10, 0)) == 1
    assert series.id


@pytest.mark.clock("2026-12-05 09:00")
def test_an_email_or_whatsapp_series_is_exported_once_a_month_to_prospects_too(desk, tmp_path):
    from nest_desktop.services import prospects

    site, _user = desk
    lead = prospects.create_prospect(
        prospects.ProspectForm(last_name="Sarr", first_names="Mariama", phones=["77 301 11 11"],
                               email="mariama@example.sn", site_id=site.id,
                               newsletter_consent=True),
        prospects.RequestForm("programme", "Le programme NEST ?"), confirmed_new=True)
    form = series_form(name="Programme NEST", channel="export",
                       segment=SegmentFilter(audience=segments.PROSPECTS, consent="newsletter"))
    series = newsletters.save_series(None, form)
    assert newsletters.export_due() == []  # at 10:00
    assert [row.id for row in newsletters.export_due(dt.datetime(2026, 12, 5, 10, 0))] == [
        series.id]
    assert newsletters.send_due_series(dt.datetime(2026, 12, 5, 11, 0)) == 0  # not by SMS
    path = tmp_path / "lettre.csv"
    assert newsletters.export_month(series.id, path, dt.datetime(2026, 12, 5, 10, 30),
                                    ";") == 1
    with path.open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    assert rows[1][:4] == ["SARR", "Mariama", "77 301 11 11", "mariama@example.sn"]
    assert rows[1][5:] == ["Nutrition", "Bonjour Mariama, bien manger enceinte…"]
    assert NewsletterSending.get().prospect_id == lead.id
    with pytest.raises(ValidationFailed):
        newsletters.export_month(series.id, path)  # given this month already
    assert newsletters.export_due(dt.datetime(2026, 12, 5, 11, 0)) == []
    # she becomes a patient: the topic she had stays hers
    from nest_desktop.services import hooks

    patient = woman(site, "Sarr", "Mariama", "77 301 11 11", pathway="none")
    hooks.prospect_records_moved.call(lead.id, patient_id=patient.id)
    assert NewsletterSending.get().patient_id == patient.id
