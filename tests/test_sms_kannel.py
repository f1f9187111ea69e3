"""The HTTP transport against the real Kannel (bearerbox + smsbox + fakesmsc on loopback),
set up as an administrator would from the Kannel preset: what a phone gets (accents,
UCS-2 names, long messages joined), delivery reports, a gateway refusing every message,
a number refused alone, Kannel stopped then back."""

import datetime as dt
import os
import time

import pytest

from nest_desktop.db.models import SmsEvent, SmsMessage
from nest_desktop.domain import sms as rules
from nest_desktop.services import sms as service
from tests import kannel_gateway
from tests.test_sms import woman

pytestmark = [pytest.mark.clock("2026-11-23 10:00"),
              pytest.mark.usefixtures("reminders_only")]
NOON = dt.datetime(2026, 11, 23, 12, 0)


def started_kannel(folder, **options) -> kannel_gateway.KannelGateway:
    if not kannel_gateway.installed():
        if os.environ.get("NEST_TEST_REAL_PEERS") == "required":
            pytest.fail("Kannel is not installed: scripts/bootstrap.sh test installs it")
        pytest.skip("Kannel is not installed (Debian's kannel and kannel-extras)")
    folder.mkdir()
    return kannel_gateway.KannelGateway(folder, **options).start()


@pytest.fixture
def kannel(tmp_path):
    gateway = started_kannel(tmp_path / "kannel")
    yield gateway
    gateway.stop()
    service.stop_delivery_listener()


def set_up_kannel(gateway, password=kannel_gateway.PASSWORD, reports=True, **changes):
    """Settings › SMS as the administrator fills it: the Kannel preset, then the address and
    the credentials."""
    values = dict(service.HTTP_PRESETS["kannel"][1])
    values.update(url=gateway.url, fixed_fields=f"username={kannel_gateway.USERNAME}\n"
                                                f"password={password}",
                  delivery_address=(f"http://127.0.0.1:{kannel_gateway.free_port()}"
                                    if reports else ""), **changes)
    service.save_transport("http", values)
    assert service.keep_delivery_listener() == ""
    return service.make_transport()


def written(patient, body: str) -> SmsMessage:
    return service.send_one(patient.id, body, NOON - dt.timedelta(minutes=5))


def states(*messages) -> list[str]:
    return [SmsMessage.get_by_id(m.id).state for m in messages]


def wait_for(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.1)


def test_what_the_phones_get_through_kannel_and_the_delivery_reports(
        desk, kannel, clinic_passphrase):
    site, _user = desk
    transport = set_up_kannel(kannel)
    awa = woman(site.id, phone="77 100 00 01", first="Awa")
    ngone = woman(site.id, phone="77 100 00 02", first="Ŋoné")  # Wolof's ŋ: not in GSM-7
    binta = woman(site.id, phone="77 100 00 03", first="Binta")
    ngoor = woman(site.id, phone="77 100 00 04", first="Ŋoor")
    coumba = woman(site.id, phone="77 100 00 05", first="Coumba")
    accents = written(awa, "Bonjour {prenom}, le bébé a été vu à 10 h : très bien ! "
                           "Reste 5 € [carnet]")
    wolof = written(ngone, "Bonjour {prenom}, à bientôt à la clinique.")
    long_gsm7 = written(binta, "Bonjour {prenom}, " + "le rendez-vous de contrôle est prévu "
                                                      "à la maternité. " * 6)
    long_ucs2 = written(ngoor, "Bonjour {prenom}, " + "votre enfant est à jour. " * 5)
    too_long = written(coumba, "Bonjour {prenom}, " + "a" * 700)

    report = service.send_due(transport, NOON)
    assert (report.sent, report.failed, report.errors) == (5, 0, [])
    expected = {m.id: service.get_message(m.id).text
                for m in (accents, wolof, long_gsm7, long_ucs2, too_long)}
    assert rules.length(expected[accents.id]).encoding == "GSM-7"
    assert rules.length(expected[wolof.id]).encoding == "UCS-2"
    assert rules.length(expected[long_gsm7.id]).parts == 3
    assert rules.length(expected[long_ucs2.id]).encoding == "UCS-2"
    assert rules.length(expected[long_ucs2.id]).parts == 3
    assert rules.length(expected[too_long.id]).parts == 5

    got = kannel.phones_got(wait_for=5)
    by_number = dict(got)
    assert len(got) == 5 == len(by_number)  # nothing twice
    assert by_number["+221771000001"] == expected[accents.id]
    assert "é" in by_number["+221771000001"] and "€ [carnet]" in by_number["+221771000001"]
    assert by_number["+221771000002"] == expected[wolof.id]
    assert by_number["+221771000002"].startswith("Bonjour Ŋoné, à bient")  # not "????"
    assert by_number["+221771000003"] == expected[long_gsm7.id]  # one SMS, joined
    assert by_number["+221771000004"] == expected[long_ucs2.id]
    assert kannel.received()[0].kind == "text"
    assert sum(1 for m in kannel.received() if m.receiver == "+221771000003") == 3
    # Kannel sends 4 parts at most: the outbox says the end was cut, not "sent in full"
    assert sum(1 for m in kannel.received() if m.receiver == "+221771000005") == 4
    assert expected[too_long.id].startswith(by_number["+221771000005"])
    assert len(by_number["+221771000005"]) < len(expected[too_long.id])
    cut = service.get_message(too_long.id)
    assert cut.parts == 4 and "4 SMS sur 5" in cut.last_error
    assert service.history(too_long.id)[-1].detail.startswith("4 SMS sur 5")
    assert service.get_message(long_gsm7.id).parts == 3

    # the fake SMS centre reports each as delivered: Kannel calls the workstation back
    everyone = (accents, wolof, long_gsm7, long_ucs2, too_long)
    wait_for(lambda: states(*everyone) == ["delivered"] * 5)
    assert service.get_message(accents.id).delivered_at is not None
    assert service.send_due(transport, NOON + dt.timedelta(minutes=5)).sent == 0
    assert len(kannel.received()) == 1 + 1 + 3 + 3 + 4  # and nothing went again


def test_a_gateway_refusing_every_message_stops_the_round_with_no_try_used(
        desk, kannel, clinic_passphrase):
    site, _user = desk
    messages = [written(woman(site.id, phone=f"77 200 00 0{n}", first=first), "Bonjour {prenom}")
                for n, first in ((1, "Awa"), (2, "Binta"), (3, "Coumba"))]
    # the password mistyped: Kannel's 403 "Authorization failed for sendsms"
    transport = set_up_kannel(kannel, password="typo", reports=False)
    report = service.send_due(transport, NOON)
    assert (report.sent, report.failed) == (0, 0)
    assert "Authorization failed" in report.note and "Paramètres" in report.note
    assert states(*messages) == ["scheduled"] * 3
    assert [SmsMessage.get_by_id(m.id).attempts for m in messages] == [0, 0, 0]
    assert "Authorization failed" in service.gateway_problem()
    # "POST form" where Kannel wants a GET: 400 Invalid content-type for each message —
    # not the message's fault: the second refusal alike stops the round
    transport = set_up_kannel(kannel, reports=False, method="post")
    assert service.gateway_problem() == ""  # saving the settings clears what was said
    report = service.send_due(transport, NOON + dt.timedelta(minutes=1))
    assert (report.sent, report.failed) == (0, 0)
    assert "Invalid content-type" in service.gateway_problem()
    assert states(*messages) == ["scheduled"] * 3
    assert [SmsMessage.get_by_id(m.id).attempts for m in messages] == [0, 0, 0]
    assert not SmsEvent.select().where(SmsEvent.state == rules.FAILED).exists()
    # set right: they all go, once, and the problem is no longer shown
    transport = set_up_kannel(kannel, reports=False)
    report = service.send_due(transport, NOON + dt.timedelta(minutes=2))
    assert report.sent == 3 and service.gateway_problem() == ""
    assert len(kannel.phones_got(wait_for=3)) == 3


def test_a_number_the_gateway_refuses_fails_alone(desk, tmp_path, clinic_passphrase):
    # Kannel's black list refuses the numbers of one operator's range: its 403 names them
    gateway = started_kannel(tmp_path / "kannel", refused_numbers="^\\+22170")
    try:
        site, _user = desk
        denied = written(woman(site.id, phone="70 300 00 01", first="Awa"), "Bonjour {prenom}")
        fine = [written(woman(site.id, phone=f"77 300 00 0{n}", first="Binta"),
                        "Bonjour {prenom}") for n in (2, 3)]
        transport = set_up_kannel(gateway, reports=False)
        report = service.send_due(transport, NOON)
        assert (report.sent, report.failed) == (2, 1)
        refused = SmsMessage.get_by_id(denied.id)
        assert refused.state == "failed" and "denied" in refused.last_error
        assert states(*fine) == ["sent", "sent"] and service.gateway_problem() == ""
    finally:
        gateway.stop()


def test_kannel_stopped_then_back(desk, kannel, clinic_passphrase):
    site, _user = desk
    transport = set_up_kannel(kannel, reports=False)
    first = written(woman(site.id, phone="77 400 00 01", first="Awa"), "Bonjour {prenom}")
    assert service.send_due(transport, NOON).sent == 1
    assert len(kannel.phones_got(wait_for=1)) == 1
    kannel.stop()
    second = written(woman(site.id, phone="77 400 00 02", first="Binta"), "Bonjour {prenom}")
    report = service.send_due(transport, NOON + dt.timedelta(minutes=1))
    assert (report.sent, report.failed) == (0, 0) and "injoignable" in report.note
    message = SmsMessage.get_by_id(second.id)
    assert (message.state, message.attempts) == ("scheduled", 0)
    kannel.start()
    assert service.send_due(transport, NOON + dt.timedelta(minutes=2)).sent == 1
    assert states(first, second) == ["sent", "sent"]
    got = kannel.phones_got(wait_for=2)
    assert sorted(number for number, _text in got) == ["+221774000001", "+221774000002"]
    time.sleep(1)  # nothing more comes: the first was not sent again
    assert len(kannel.received()) == 2
