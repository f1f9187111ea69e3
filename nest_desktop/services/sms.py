"""The SMS outbox (PAT-01, PAT-11, PAT-12): reminders scheduled from the appointments and the
children's calendars, newsletters to a segment, and their sending through the transport
chosen in Settings, with every change of state kept.

A reminder's key names its record, its occurrence and its kind: it is scheduled once, and a
message is claimed (`sending`) in its own transaction before the transport gets it, so a
retry or a restart never sends it twice. The text is made at send time, from the records as
they are then.
"""

import csv
import datetime as dt
import json
import re
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from peewee import JOIN, Case, fn

from nest_desktop.db import vault
from nest_desktop.db.models import (
    Appointment,
    Campaign,
    CampaignMember,
    DirectoryEntry,
    Patient,
    PatientPhone,
    Prospect,
    ProspectPhone,
    Site,
    SmsEvent,
    SmsMessage,
    database,
)
from nest_desktop.domain import clock, phones
from nest_desktop.domain import sms as rules
from nest_desktop.domain import vaccination as vaccine_rules
from nest_desktop.domain.dates import parse_time
from nest_desktop.domain.messages import N_, _
from nest_desktop.domain.text import fill_in, list_name
from nest_desktop.i18n import format_date, format_datetime
from nest_desktop.services import (
    ValidationFailed,
    check_characters,
    hooks,
    leases,
    passphrase,
    segments,
    session,
    settings,
    vaccination,
)
from nest_desktop.services.exports import spreadsheet_safe
from nest_desktop.sms import transports
from nest_desktop.sms.delivery_reports import DeliveryReportListener
from nest_desktop.sms.transports import (
    GatewayRefused,
    MayHaveGone,
    Refused,
    Retry,
    Unreachable,
)

APPOINTMENT_SOURCE = "appointment"
CHILD_SOURCE = "patient"  # a vaccine reminder is about a child
CHUNK = 500
INTERRUPTED_AFTER = dt.timedelta(minutes=15)  # a message `sending` longer than this was cut off

# --- settings ---------------------------------------------------------------------------------

TRANSPORTS = {
    "none": N_("Not sent: the messages wait"),
    "orange": N_("Orange SMS API (Senegal)"),
    "http": N_("SMS gateway or website over HTTP (Kannel, form, JSON)"),
    "modem": N_("GSM modem on a serial port"),
    "csv": N_("Export to a file for a bulk-SMS website"),
}
# The fields of each transport's settings that are secret: kept, never shown or audited.
SECRET_FIELDS = {"orange": ("client_secret",), "http": ("fixed_fields",), "modem": ("pin",)}
TRANSPORT_DEFAULTS = {
    "orange": {"token_url": "https://api.orange.com/oauth/v3/token",
               "api_url": "https://api.orange.com/smsmessaging/v1", "client_id": "",
               "client_secret": "", "sender": ""},
    "http": {"method": "post", "url": "", "phone_field": "to", "text_field": "text",
             "fixed_fields": "", "message_fields": "", "phone_without_plus": False,
             "success_text": "", "max_parts": 0, "delivery_address": ""},
    "modem": {"port": "COM3", "baudrate": 115200, "pin": ""},
}

# Ready-made settings of the HTTP transport for the usual gateways: the administrator only
# types the address and the credentials.
HTTP_PRESETS = {
    "kannel": (N_("Kannel (sendsms)"), {
        "method": "get", "url": "http://127.0.0.1:13013/cgi-bin/sendsms",
        "phone_field": "to", "text_field": "text",
        "message_fields": "from=NEST\ncharset=UTF-8\ncoding={coding}\ndlr-mask=3\n"
                          "dlr-url={delivery_url}",
        "phone_without_plus": False,
        "success_text": "Accepted for delivery|Queued for later delivery", "max_parts": 4}),
    "form": (N_("A website's form (POST)"), {
        "method": "post", "phone_field": "to", "text_field": "text",
        "message_fields": "unicode={unicode}", "success_text": "", "max_parts": 0}),
    "json": (N_("A JSON API (POST)"), {
        "method": "json", "phone_field": "to", "text_field": "text",
        "message_fields": "reference={reference}", "success_text": "", "max_parts": 0}),
}
HTTP_METHODS = {"get": N_("GET (fields in the address)"), "post": N_("POST form"),
                "json": N_("POST JSON")}


def _stored_transport(name: str) -> dict:
    """A transport's settings as saved (secrets included), over its defaults."""
    return {**TRANSPORT_DEFAULTS[name], **(settings.get(f"sms.{name}") or {})}


def timing() -> rules.Timing:
    stored = settings.get("sms.timing") or {}
    values = {}
    for name, default in asdict(rules.Timing()).items():
        if name not in stored:
            continue
        value = stored[name]
        values[name] = dt.time.fromisoformat(value) if isinstance(default, dt.time) else value
    return replace(rules.Timing(), **values)


def save_timing(new: rules.Timing) -> None:
    problems = rules.timing_problems(new)
    if problems:
        raise ValidationFailed(problems)
    settings.put("sms.timing", {name: value.isoformat(timespec="minutes")
                                if isinstance(value, dt.time) else value
                                for name, value in asdict(new).items()})


def parse_timing(**texts: str) -> rules.Timing:
    """The Settings form's texts ("18:00", "2") as a Timing; ValidationFailed by field."""
    values, errors = {}, {}
    for name, default in asdict(rules.Timing()).items():
        if name not in texts:
            continue
        text = texts[name]
        try:
            if isinstance(default, bool):
                values[name] = bool(text)
            elif isinstance(default, dt.time):
                values[name] = parse_time(text)
            else:
                values[name] = int(str(text).strip())
        except ValueError as error:
            errors[name] = str(error) if isinstance(default, dt.time) else _("Enter a number.")
    if errors:
        raise ValidationFailed(errors)
    return replace(rules.Timing(), **values)


def template(kind: str, language: str) -> str:
    stored = settings.get("sms.templates") or {}
    return (stored.get(kind, {}).get(language)
            or rules.DEFAULT_TEMPLATES[kind].get(language)
            or rules.DEFAULT_TEMPLATES[kind][rules.DEFAULT_LANGUAGE])


def save_templates(texts: dict[str, dict[str, str]]) -> None:
    """kind -> language -> text; each checked, stored with its typography made GSM-7."""
    errors = {}
    cleaned: dict[str, dict[str, str]] = {}
    for kind, by_language in texts.items():
        for language, text in by_language.items():
            text = rules.to_gsm7(text.strip())
            problem = rules.template_problem(text, kind)
            if problem:
                errors[f"{kind}.{language}"] = problem
            check_characters(errors, **{f"{kind}.{language}": text})
            cleaned.setdefault(kind, {})[language] = text
    if errors:
        raise ValidationFailed(errors)
    settings.put("sms.templates", cleaned)


def transport_settings(name: str) -> dict:
    """A transport's settings with its secrets replaced by whether one is saved."""
    stored = _stored_transport(name)
    for secret in SECRET_FIELDS.get(name, ()):
        stored[secret] = bool(stored.get(secret))
    return stored


def secrets_in_clear() -> list[str]:
    """The transports whose saved secrets are still in clear (saved before the clinic had a
    passphrase): Settings says so until the passphrase is set."""
    return [name for name, fields in SECRET_FIELDS.items()
            if any(value and not vault.is_sealed_text(value)
                   for value in (_stored_transport(name).get(f) for f in fields))]


@hooks.secrets_resealed.register
def _reseal_transport_secrets(open_old: Callable[[str], str],
                              seal_new: Callable[[str], str]) -> None:
    for name, fields in SECRET_FIELDS.items():
        stored = settings.get(f"sms.{name}")
        if not stored or not any(stored.get(f) for f in fields):
            continue
        settings.record_state(f"sms.{name}", {
            **stored, **{f: seal_new(open_old(stored[f])) for f in fields if stored.get(f)}})


def save_transport(name: str, values: dict) -> None:
    """Chooses the transport and saves its settings. A secret left empty keeps the one saved;
    a secret typed is sealed with the clinic's passphrase, never kept in clear nor audited."""
    if name not in TRANSPORTS:
        raise ValidationFailed({"transport": _("Choose a way of sending from the list.")})
    errors = {}
    if name in TRANSPORT_DEFAULTS:
        saved = _stored_transport(name)
        merged = {**saved, **{k: v for k, v in values.items() if k in saved}}
        typed = {secret: values[secret] for secret in SECRET_FIELDS.get(name, ())
                 if values.get(secret)}
        for secret in SECRET_FIELDS.get(name, ()):
            if secret not in typed:
                merged[secret] = saved.get(secret, "")
        errors = _transport_problems(name, merged)
        for secret, text in typed.items():
            if secret in errors:
                continue
            try:
                merged[secret] = passphrase.seal_secret(text)
            except vault.Locked as locked:
                errors[secret] = str(locked)
        if errors:
            raise ValidationFailed(errors)
        settings.put(f"sms.{name}", merged, secret_fields=SECRET_FIELDS.get(name, ()))
    settings.put("sms.transport", name)
    settings.record_state(GATEWAY_PROBLEM_KEY, {})  # told again if the new settings fail


def _transport_problems(name: str, values: dict) -> dict[str, str]:
    errors: dict[str, str] = {}
    if name == "orange":
        for key in ("token_url", "api_url"):
            if not str(values[key]).startswith(("https://", "http://")):
                errors[key] = _("An address starting with https://")
        for key in ("client_id", "client_secret"):
            if not values[key]:
                errors[key] = _("Given by Orange with the application's access.")
        try:
            values["sender"] = phones.normalize(values["sender"])
        except ValueError as error:
            errors["sender"] = str(error)
    elif name == "http":
        if not str(values["url"]).startswith(("https://", "http://")):
            errors["url"] = _("An address starting with https://")
        if values["method"] not in HTTP_METHODS:
            errors["method"] = _("Choose how the gateway takes the fields.")
        for key in ("phone_field", "text_field"):
            if not str(values[key]).strip():
                errors[key] = _("The name the website gives this field.")
        try:
            if not vault.is_sealed_text(values["fixed_fields"]):  # a kept one was checked
                _fixed_fields(values["fixed_fields"])
        except ValueError as error:
            errors["fixed_fields"] = str(error)
        try:
            for value in _fixed_fields(values["message_fields"]).values():
                unknown = {name for name in re.findall(r"\{(\w*)\}", value)
                           if name not in transports.MESSAGE_PLACEHOLDERS}
                if unknown:
                    raise ValueError(_("Unknown value {name}: use {names}.").format(
                        name="{" + sorted(unknown)[0] + "}", names=", ".join(
                            "{" + known + "}" for known in transports.MESSAGE_PLACEHOLDERS)))
        except ValueError as error:
            errors["message_fields"] = str(error)
        try:
            values["max_parts"] = int(values["max_parts"] or 0)
            if not 0 <= values["max_parts"] <= 255:
                raise ValueError
        except (TypeError, ValueError):
            errors["max_parts"] = _("A number of SMS from 1 to 255, or 0 for no limit.")
        address = str(values["delivery_address"]).strip().rstrip("/")
        values["delivery_address"] = address
        if address and not _listening_address(address):
            errors["delivery_address"] = _(
                "This workstation's address as the gateway reaches it, with a port: for "
                "example http://192.168.1.20:13080.")
    elif name == "modem":
        if not str(values["port"]).strip():
            errors["port"] = _("The serial port of the modem, for example COM3.")
        try:
            values["baudrate"] = int(values["baudrate"])
        except (TypeError, ValueError):
            errors["baudrate"] = _("Enter a number.")
    return errors


def _fixed_fields(text: str) -> dict[str, str]:
    """'api_key=…' lines -> {name: value}."""
    fields = {}
    for line in str(text).splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise ValueError(_("One field a line, written name=value."))
        fields[name.strip()] = value.strip()
    return fields


def chosen_transport() -> str:
    return settings.get("sms.transport") or "none"


def make_transport(name: str | None = None) -> transports.Transport | None:
    """The transport chosen in Settings, ready to send; None when messages only wait (none,
    or a file export made by hand). vault.Locked when its secret is sealed with a
    passphrase this workstation does not have."""
    name = name or chosen_transport()
    if name not in TRANSPORT_DEFAULTS:
        return None
    values = _stored_transport(name)
    for secret in SECRET_FIELDS.get(name, ()):
        values[secret] = passphrase.open_secret(values[secret]) if values[secret] else ""
    if name == "orange":
        return transports.OrangeSms(values["token_url"], values["api_url"], values["client_id"],
                                    values["client_secret"], values["sender"])
    if name == "http":
        return transports.HttpGateway(
            values["url"], values["phone_field"], values["text_field"],
            _fixed_fields(values["fixed_fields"]), bool(values["phone_without_plus"]),
            values["success_text"], values["method"], _fixed_fields(values["message_fields"]),
            int(values["max_parts"] or 0), delivery_url(values["delivery_address"]))
    return transports.GsmModem(values["port"], int(values["baudrate"]), values["pin"])


# --- delivery reports called back by a gateway (Kannel's dlr-url) ------------------------------

DELIVERY_TOKEN_KEY = "sms.delivery_token"
DELIVERY_WAIT_S = 10.0  # a report may come before the gateway's answer to the send is recorded


def _listening_address(address: str) -> tuple[str, int] | None:
    """(host, port) of 'http://host:port', None when it is not such an address."""
    try:
        parts = urllib.parse.urlsplit(address)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme != "http" or not parts.hostname or not port or parts.path not in ("", "/"):
        return None
    return parts.hostname, port


def _delivery_token() -> str:
    token = settings.get(DELIVERY_TOKEN_KEY)
    if not token:
        token = secrets.token_urlsafe(16)
        with database.atomic():
            settings.record_state(DELIVERY_TOKEN_KEY, token)
    return token


def delivery_url(address: str) -> str:
    """The address a gateway calls with a message's delivery report ({reference}: the
    message's; %d: Kannel's report type), or "" when no report is asked for."""
    if not address:
        return ""
    return f"{address}/dlr/{_delivery_token()}?ref={{reference}}&status=%d"


def _delivery_where() -> tuple[str, int, str] | None:
    """(bind address, port, token) of the chosen gateway's delivery reports, or None."""
    if chosen_transport() != "http":
        return None
    where = _listening_address(_stored_transport("http")["delivery_address"])
    if where is None:
        return None
    host, port = where
    # on this PC only when the gateway runs here; otherwise where the network reaches it
    bind = "127.0.0.1" if host in ("127.0.0.1", "localhost") else "0.0.0.0"  # noqa: S104
    return bind, port, _delivery_token()


_listener_lock = threading.Lock()
_listener: DeliveryReportListener | None = None


def keep_delivery_listener() -> str:
    """Starts, moves or stops this process's listener of delivery reports as Settings say
    (the workstation that sends calls it before each round); what went wrong, or ""."""
    global _listener
    with _listener_lock:
        where = _delivery_where()
        current = (_listener.where if _listener is not None else None)
        if where == current:
            return ""
        if _listener is not None:
            _listener.stop()
            _listener = None
        if where is None:
            return ""
        try:
            _listener = DeliveryReportListener(*where, record_delivery,
                                                database.close).start()
        except OSError as error:
            return _("The delivery reports cannot be received on port {port}: {error}").format(
                port=where[1], error=error.strerror or error)
        return ""


def stop_delivery_listener() -> None:
    global _listener
    with _listener_lock:
        if _listener is not None:
            _listener.stop()
            _listener = None


def _delivery_known(message_id: int, delivered: bool, when: dt.datetime) -> int:
    """A sent message marked delivered to the phone, or failed as never delivered."""
    if delivered:
        return _set_state([message_id], rules.DELIVERED, "", when, (rules.SENT,),
                          delivered_at=when)
    return _set_state([message_id], rules.FAILED, _("The provider could not deliver it to "
                                                    "the phone."), when, (rules.SENT,),
                      last_error=_("Not delivered to the phone"))


def record_delivery(reference: str, code: str, when: dt.datetime | None = None) -> bool:
    """A gateway's report for the message `reference` (its key); False for a message not in
    the outbox (a test SMS)."""
    def state() -> tuple[int, str] | None:
        return SmsMessage.select(SmsMessage.id, SmsMessage.state).where(
            SmsMessage.key == reference).tuples().first()

    found = state()
    if found is None:
        return False
    outcome = rules.delivery_outcome(code)
    if outcome is None:
        return True
    deadline = time.monotonic() + DELIVERY_WAIT_S
    while found[1] == rules.SENDING and time.monotonic() < deadline:
        time.sleep(0.1)
        found = state()
    with database.atomic():
        _delivery_known(found[0], outcome, when or clock.now())
    return True


# --- a gateway refusing every message -------------------------------------------------------------

GATEWAY_PROBLEM_KEY = "sms.gateway_problem"


def gateway_problem() -> str:
    """What the gateway said when it last refused every message, until a message goes or
    the way of sending is saved again; "" when none."""
    problem = settings.get(GATEWAY_PROBLEM_KEY) or {}
    return problem.get("reason", "")


def _gateway_refused(reason: str, when: dt.datetime) -> None:
    with database.atomic():
        if gateway_problem() != reason:
            settings.record_state(GATEWAY_PROBLEM_KEY, {"reason": reason,
                                                        "at": when.isoformat()})


def _gateway_working() -> None:
    if settings.get(GATEWAY_PROBLEM_KEY):
        with database.atomic():
            settings.record_state(GATEWAY_PROBLEM_KEY, {})


# --- scheduling the reminders ---------------------------------------------------------------------

@dataclass(frozen=True)
class Wanted:
    """A message that should be in the outbox."""

    key: str
    kind: str
    patient_id: int | None  # the person it goes to: a patient…
    prospect_id: int | None  # …or a prospect (her appointment)
    source_table: str
    source_id: int
    occurrence: str
    event_at: dt.datetime
    phone: str
    language: str
    site_id: int | None
    scheduled_at: dt.datetime
    expires_at: dt.datetime

    def row(self, when: dt.datetime) -> dict:
        return {"key": self.key, "kind": self.kind, "patient": self.patient_id,
                "prospect": self.prospect_id, "source_table": self.source_table,
                "source_id": self.source_id,
                "occurrence": self.occurrence, "event_at": self.event_at, "phone": self.phone,
                "language": self.language, "site": self.site_id,
                "scheduled_at": self.scheduled_at, "next_attempt_at": self.scheduled_at,
                "expires_at": self.expires_at, "created_at": when, "updated_at": when}


@dataclass
class ScheduleReport:
    created: int = 0
    moved: int = 0
    cancelled: int = 0


def _contacts(patient_ids: Iterable[int]) -> dict[int, tuple[str, str, bool]]:
    """patient -> (main phone, language, SMS consent), for those with a main phone."""
    ids = list(set(patient_ids))
    found = {}
    for start in range(0, len(ids), CHUNK):
        for patient_id, e164, language, consent in (
                PatientPhone.select(PatientPhone.patient, PatientPhone.e164, Patient.language,
                                    Patient.sms_consent)
                .join(Patient).where(PatientPhone.patient.in_(ids[start:start + CHUNK])
                                     & PatientPhone.wrong_since.is_null())
                .order_by(PatientPhone.position.desc()).tuples()):
            # the first number not found wrong (positions descending: the lowest wins)
            found[patient_id] = (e164, language or rules.DEFAULT_LANGUAGE, bool(consent))
    return found


def _number_to_text(patient_id: int) -> str | None:
    """Her first number not found wrong on a call."""
    return (PatientPhone.select(PatientPhone.e164)
            .where((PatientPhone.patient == patient_id) & PatientPhone.wrong_since.is_null())
            .order_by(PatientPhone.position).scalar())


def _prospect_contacts(prospect_ids: Iterable[int]) -> dict[int, tuple[str, str, bool]]:
    """prospect -> (main phone, language, SMS consent), for those with a main phone."""
    ids = list(set(prospect_ids))
    found = {}
    for start in range(0, len(ids), CHUNK):
        for prospect_id, e164, consent in (
                ProspectPhone.select(ProspectPhone.prospect, ProspectPhone.e164,
                                     Prospect.sms_consent)
                .join(Prospect).where(ProspectPhone.prospect.in_(ids[start:start + CHUNK])
                                      & (ProspectPhone.position == 0)).tuples()):
            found[prospect_id] = (e164, rules.DEFAULT_LANGUAGE, bool(consent))
    return found


def _appointment_wants(appointments: list[tuple], when: dt.datetime,
                       timing_: rules.Timing) -> list[Wanted]:
    """(id, patient, prospect, site, starts_at) of booked appointments -> their reminders
    still to go, to the patient or the prospect who agreed to SMS."""
    patients = _contacts(row[1] for row in appointments if row[1])
    prospects = _prospect_contacts(row[2] for row in appointments if row[2])
    wanted = []
    for appointment_id, patient_id, prospect_id, site_id, starts_at, changed_at in appointments:
        contact = patients.get(patient_id) if patient_id else prospects.get(prospect_id)
        if contact is None or not contact[2]:
            continue  # no number, or no consent to SMS
        reminders = [(rules.APPOINTMENT, reminder)
                     for reminder in rules.appointment_reminders(starts_at, timing_)]
        confirmation = rules.appointment_confirmation(starts_at, changed_at, timing_)
        if confirmation is not None:
            reminders.append((rules.CONFIRMATION, confirmation))
        for kind, reminder in reminders:
            if reminder.expires_at <= when:
                continue
            wanted.append(Wanted(
                f"{kind}:{appointment_id}:{reminder.occurrence}", kind,
                patient_id, None if patient_id else prospect_id, APPOINTMENT_SOURCE,
                appointment_id, reminder.occurrence, starts_at,
                contact[0], contact[1], site_id, reminder.scheduled_at, reminder.expires_at))
    return wanted


def _booked_appointments(when: dt.datetime, appointment_id: int | None = None) -> list[tuple]:
    query = (Appointment.select(Appointment.id, Appointment.patient, Appointment.prospect,
                                Appointment.site, Appointment.starts_at,
                                Appointment.updated_at)
             .where((Appointment.status == "booked") & (Appointment.starts_at > when)))
    if appointment_id is not None:
        query = query.where(Appointment.id == appointment_id)
    return list(query.tuples())


def _vaccine_wants(children: list, when: dt.datetime, timing_: rules.Timing) -> list[Wanted]:
    """The due rows of children -> the reminders of their vaccination days still to go."""
    languages = {pid: contact[1] for pid, contact in
                 _contacts(row.contact_id for row in children if row.contact_id).items()}
    wanted = []
    for row in children:
        if not (row.contact_id and row.contact_phone and row.sms_consent):
            continue
        # A late dose (to give "today" every day until it is) is for a call, not a daily SMS,
        # and so are the doses counted from it (their day moves with it): only the days the
        # schedule sets are reminded.
        days = sorted({dose.due for dose in row.doses
                       if dose.status in (vaccine_rules.DUE, vaccine_rules.UPCOMING)
                       and dose.due == dose.scheduled and not dose.waits})
        for day in days:
            for reminder in rules.vaccine_reminders(day, timing_):
                if reminder.expires_at <= when:
                    continue
                wanted.append(Wanted(
                    f"{rules.VACCINE}:{row.patient_id}:{reminder.occurrence}", rules.VACCINE,
                    row.contact_id, None, CHILD_SOURCE, row.patient_id, reminder.occurrence,
                    dt.datetime.combine(day, dt.time()), row.contact_phone,
                    languages.get(row.contact_id, rules.DEFAULT_LANGUAGE), row.site_id,
                    reminder.scheduled_at, reminder.expires_at))
    return wanted


def _children_due(when: dt.datetime, timing_: rules.Timing,
                  child_ids: list[int] | None = None) -> list:
    """The due rows of these children, or of every child with a vaccination day to remind
    (the kept states name them: a few a day, whatever the number of children)."""
    if child_ids is None:
        child_ids = vaccination.reminder_children(timing_.vaccine_horizon_days, when.date())
    return vaccination.due_list(timing_.vaccine_horizon_days, today=when.date(),
                                child_ids=child_ids)


def _reconcile(kind: str, wanted: list[Wanted], when: dt.datetime,
               source_ids: list[int] | None, gone_reason: str) -> ScheduleReport:
    """Brings the scheduled messages of `kind` (for `source_ids`, or all) in line with
    `wanted`: the missing created, the moved re-timed, those no longer wanted cancelled.
    A key already sent, failed or cancelled is never scheduled again."""
    report = ScheduleReport()
    pending = SmsMessage.select(SmsMessage.id, SmsMessage.key, SmsMessage.scheduled_at,
                                SmsMessage.expires_at, SmsMessage.phone, SmsMessage.patient,
                                SmsMessage.prospect, SmsMessage.language,
                                SmsMessage.event_at).where(
        (SmsMessage.kind == kind) & (SmsMessage.state == rules.SCHEDULED))
    existing: dict[str, tuple] = {}
    if source_ids is None:
        existing = {row[1]: row for row in pending.tuples()}
    else:
        for start in range(0, len(source_ids), CHUNK):
            existing.update({row[1]: row for row in pending.where(
                SmsMessage.source_id.in_(source_ids[start:start + CHUNK])).tuples()})
    wanted_by_key = {w.key: w for w in wanted}
    new_keys = [key for key in wanted_by_key if key not in existing]
    known = set()
    for start in range(0, len(new_keys), CHUNK):
        known.update(row[0] for row in SmsMessage.select(SmsMessage.key).where(
            SmsMessage.key.in_(new_keys[start:start + CHUNK])).tuples())
    rows = [wanted_by_key[key].row(when) for key in new_keys if key not in known]
    for start in range(0, len(rows), CHUNK):
        SmsMessage.insert_many(rows[start:start + CHUNK]).execute()
    report.created = len(rows)
    for key, (message_id, _key, *stored) in existing.items():
        want = wanted_by_key.get(key)
        if want is None:
            continue
        if tuple(stored) != (want.scheduled_at, want.expires_at, want.phone, want.patient_id,
                             want.prospect_id, want.language, want.event_at):
            SmsMessage.update(scheduled_at=want.scheduled_at, next_attempt_at=want.scheduled_at,
                              expires_at=want.expires_at, phone=want.phone,
                              patient=want.patient_id, prospect=want.prospect_id,
                              language=want.language,
                              event_at=want.event_at, updated_at=when).where(
                SmsMessage.id == message_id).execute()
            report.moved += 1
    gone = [row[0] for key, row in existing.items() if key not in wanted_by_key]
    report.cancelled = _set_state(gone, rules.CANCELLED, gone_reason, when,
                                  only_from=(rules.SCHEDULED,))
    return report


def _set_state(ids: list[int], state: str, detail: str, when: dt.datetime,
               only_from: tuple[str, ...], user_id: int | None = None, **values) -> int:
    """Moves the messages still in `only_from` to `state`, with an event each."""
    changed = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        moving = [row[0] for row in SmsMessage.select(SmsMessage.id).where(
            SmsMessage.id.in_(chunk) & SmsMessage.state.in_(only_from)).tuples()]
        if not moving:
            continue
        SmsMessage.update(state=state, updated_at=when, **values).where(
            SmsMessage.id.in_(moving) & SmsMessage.state.in_(only_from)).execute()
        SmsEvent.insert_many([{"message": message_id, "at": when, "state": state,
                               "detail": detail, "user": user_id}
                              for message_id in moving]).execute()
        changed += len(moving)
    return changed


def sync_appointment(appointment_id: int, when: dt.datetime | None = None) -> ScheduleReport:
    """The reminders of one appointment after it was booked, moved, cancelled or marked; in
    the caller's transaction."""
    when = when or clock.now()
    wanted = _appointment_wants(_booked_appointments(when, appointment_id), when, timing())
    return _reconcile_appointments(wanted, when, [appointment_id])


def _reconcile_appointments(wanted: list[Wanted], when: dt.datetime,
                            appointment_ids: list[int] | None) -> ScheduleReport:
    """The reminders and the confirmations of these appointments (all when None)."""
    report = ScheduleReport()
    for kind in rules.APPOINTMENT_KINDS:
        part = _reconcile(kind, [w for w in wanted if w.kind == kind], when, appointment_ids,
                          _("The appointment was moved, cancelled or held."))
        report.created += part.created
        report.moved += part.moved
        report.cancelled += part.cancelled
    return report


@hooks.patient_contact_changed.register
def sync_contact(patient_id: int, when: dt.datetime | None = None) -> None:
    """Her appointments' reminders and her children's vaccine reminders, after her number,
    language or consent changed; in the caller's transaction."""
    from nest_desktop.db.models import FamilyLink

    when = when or clock.now()
    for (appointment_id,) in Appointment.select(Appointment.id).where(
            (Appointment.patient == patient_id) & (Appointment.status == "booked")
            & (Appointment.starts_at > when)).tuples():
        sync_appointment(appointment_id, when)
    for (child_id,) in FamilyLink.select(FamilyLink.child).where(
            FamilyLink.parent == patient_id).tuples():
        sync_child(child_id, when)


@dataclass(frozen=True)
class SmsOutlook:
    """What SMS an appointment will have, or why none: said at booking."""

    will_send: bool
    text: str


def appointment_outlook(patient_id: int | None, prospect_id: int | None,
                        starts_at: dt.datetime, when: dt.datetime | None = None) -> SmsOutlook:
    when = when or clock.now()
    contact = (_contacts([patient_id]).get(patient_id) if patient_id
               else _prospect_contacts([prospect_id]).get(prospect_id))
    if contact is None:
        return SmsOutlook(False, _("No SMS reminder: her file has no phone number."))
    if not contact[2]:
        return SmsOutlook(False, _("No SMS reminder: she has not accepted SMS."))
    if chosen_transport() == "none":
        return SmsOutlook(False, _("No SMS reminder: SMS sending is not set up (Settings)."))
    timing_ = timing()
    said = []
    if rules.appointment_confirmation(starts_at, when, timing_) is not None:
        said.append(_("a confirmation now"))
    said += [_("a reminder {when}").format(when=format_datetime(max(reminder.scheduled_at, when)))
             for reminder in rules.appointment_reminders(starts_at, timing_)
             if reminder.expires_at > when]
    if not said:
        return SmsOutlook(False, _("No SMS reminder: the appointment is too soon for one."))
    return SmsOutlook(True, _("SMS: {moments}.").format(moments=", ".join(said)))


@hooks.child_doses_changed.register
def sync_child(child_id: int, when: dt.datetime | None = None) -> ScheduleReport:
    """The vaccine reminders of one child after a dose was recorded or removed or her plan
    changed; in the caller's transaction."""
    when = when or clock.now()
    timing_ = timing()
    wanted = _vaccine_wants(_children_due(when, timing_, [child_id]), when, timing_)
    return _reconcile(rules.VACCINE, wanted, when, [child_id],
                      _("The doses were recorded or are no longer due."))


CAUGHT_UP_KEY = "sms.caught_up"  # the last full catch-up's day, horizon and timing
CATCH_UP_LEASE = "sms.catch_up"


def schedule_reminders(when: dt.datetime | None = None, full: bool | None = None
                       ) -> ScheduleReport:
    """Every reminder the records call for, idempotent: run by the sender every quarter of
    an hour and by `nest-desktop send-sms`.

    The first pass of a day (or after the SMS timing changed) is the full catch-up, done by
    the one workstation that takes its lease: every appointment and every child with a
    vaccination day ahead, so that consents, numbers and settings changed since are caught
    up. The other passes only write the reminders of the children whose vaccination day
    came within the horizon since the last pass (a few, whatever the size of the clinic):
    each change of a dose, a booking or a consent keeps its own reminders at once.
    """
    when = when or clock.now()
    timing_ = timing()
    horizon = when.date() + dt.timedelta(days=timing_.vaccine_horizon_days)
    mark = settings.get(CAUGHT_UP_KEY) or {}
    fingerprint = json.dumps(asdict(timing_), default=str, sort_keys=True)
    if full is None:
        full = (mark.get("day") != when.date().isoformat()
                or mark.get("timing") != fingerprint)
    if full:
        with leases.held(CATCH_UP_LEASE) as mine:
            if mine:
                return _full_catch_up(when, timing_, {
                    "day": when.date().isoformat(), "horizon": horizon.isoformat(),
                    "timing": fingerprint})
    if not mark.get("horizon"):
        return ScheduleReport()  # the first full catch-up is under way on another desk
    since = dt.date.fromisoformat(mark["horizon"])
    ids = vaccination.reminder_children(timing_.vaccine_horizon_days, when.date(),
                                        after=min(since, horizon))
    wanted = _vaccine_wants(_children_due(when, timing_, ids), when, timing_)
    with database.atomic():
        report = _reconcile(rules.VACCINE, wanted, when, ids, _(
            "The doses were recorded or are no longer due, or she no longer accepts SMS."))
        if horizon > since:
            settings.record_state(CAUGHT_UP_KEY, {**mark, "horizon": horizon.isoformat()})
    return report


def _full_catch_up(when: dt.datetime, timing_: rules.Timing, mark: dict) -> ScheduleReport:
    report = ScheduleReport()
    appointment_wants = _appointment_wants(_booked_appointments(when), when, timing_)
    vaccine_wants = _vaccine_wants(_children_due(when, timing_), when, timing_)
    with database.atomic():
        for part in (
                _reconcile_appointments(appointment_wants, when, None),
                _reconcile(rules.VACCINE, vaccine_wants, when, None,
                           _("The doses were recorded or are no longer due, or she no longer "
                             "accepts SMS."))):
            report.created += part.created
            report.moved += part.moved
            report.cancelled += part.cancelled
        settings.record_state(CAUGHT_UP_KEY, mark)
    return report


# --- composing and sending ----------------------------------------------------------------------

class NoLongerDue(Exception):
    """The message no longer applies (consent withdrawn, appointment cancelled…): cancelled."""


@dataclass(frozen=True)
class Composed:
    phone: str
    text: str


def site_values(site_id: int | None) -> dict[str, str]:
    """{site} and {tel_site} of a message."""
    site = Site.get_or_none(Site.id == site_id) if site_id else None
    if site is None:
        return {"site": "NEST", "tel_site": ""}
    return {"site": site.name, "tel_site": phones.display(site.phone) if site.phone else ""}


def compose(message: SmsMessage) -> Composed:
    """The message's number and text from the records as they are now."""
    if message.patient_id:
        person = Patient.get_or_none(Patient.id == message.patient_id)
        phone_model, owner = PatientPhone, PatientPhone.patient
    else:
        person = Prospect.get_or_none(Prospect.id == message.prospect_id) \
            if message.prospect_id else None
        phone_model, owner = ProspectPhone, ProspectPhone.prospect
    if person is None:
        raise NoLongerDue(_("The file was deleted."))
    if message.kind == rules.NEWSLETTER:
        if not person.newsletter_consent:
            raise NoLongerDue(_("She no longer accepts the newsletter."))
    elif not person.sms_consent:
        raise NoLongerDue(_("She no longer accepts SMS."))
    main = (_number_to_text(person.id) if phone_model is PatientPhone else
            phone_model.select(phone_model.e164)
            .where((owner == person.id) & (phone_model.position == 0)).scalar())
    if not main:
        raise NoLongerDue(_("Her file no longer has a phone number."))
    language = getattr(person, "language", rules.DEFAULT_LANGUAGE)
    if language not in rules.LANGUAGES:
        language = rules.DEFAULT_LANGUAGE
    values = {"prenom": person.first_names.split(" ")[0] if person.first_names else "",
              **site_values(message.site_id or person.site_id)}
    if message.kind in rules.APPOINTMENT_KINDS:
        appointment = Appointment.get_or_none(Appointment.id == message.source_id)
        if (appointment is None or appointment.status != "booked"
                or appointment.starts_at != message.event_at):
            raise NoLongerDue(_("The appointment was moved, cancelled or held."))
        values.update(appointment_values(appointment, language))
        body = template(message.kind, language)
    elif message.kind == rules.VACCINE:
        values.update(_vaccination_values(message, language))
        body = template(rules.VACCINE, language)
    else:
        body = message.body
    return Composed(main, rules.render(body, values))


def appointment_values(appointment: Appointment, language: str) -> dict[str, str]:
    """What an appointment's template says of it."""
    service = DirectoryEntry.get_or_none(DirectoryEntry.id == appointment.service_id)
    return {**site_values(appointment.site_id),
            "date_heure": rules.when_in_words(appointment.starts_at, language),
            "date": rules.date_in_words(appointment.starts_at.date(), language),
            "heure": rules.time_in_words(appointment.starts_at.time(), language),
            "service": service.name if service else ""}


def _vaccination_values(message: SmsMessage, language: str) -> dict[str, str]:
    child = Patient.get_or_none(Patient.id == message.source_id)
    if child is None or child.birth_date is None:
        raise NoLongerDue(_("The child's file was deleted."))
    day = message.event_at.date()
    calendar = vaccination.child_calendar(child.id, today=day)
    due = [dose for dose in calendar.doses if dose.due == day and dose.given is None
           and dose.status != vaccine_rules.EXPIRED]
    if not due:
        raise NoLongerDue(_("The doses were recorded or are no longer due."))
    labels = dict.fromkeys(vaccine_rules.vaccine_label(d.vaccine, language) for d in due)
    return {"prenom_enfant": child.first_names.split(" ")[0],
            "vaccin": ", ".join(labels), "date": rules.date_in_words(day, language)}


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    waiting: int = 0  # still scheduled, due later or outside the sending hours
    note: str = ""
    errors: list[str] = field(default_factory=list)

    def describe(self) -> str:
        text = _("{sent} sent, {retried} to try again, {failed} failed, {cancelled} "
                 "cancelled.").format(sent=self.sent, retried=self.retried, failed=self.failed,
                                      cancelled=self.cancelled)
        return f"{self.note} {text}".strip() if self.note else text


_sender = threading.Lock()  # one sender at a time in this process (timer, "send now", command)


def _event(message_id: int, state: str, detail: str, when: dt.datetime,
           user_id: int | None = None) -> None:
    SmsEvent.create(message=message_id, at=when, state=state, detail=detail, user=user_id)


def expire_late(when: dt.datetime) -> int:
    """Reminders whose moment passed too long ago are cancelled, not sent late."""
    late = [row[0] for row in SmsMessage.select(SmsMessage.id).where(
        (SmsMessage.state == rules.SCHEDULED) & (SmsMessage.expires_at < when)).tuples()]
    with database.atomic():
        return _set_state(late, rules.CANCELLED, _("Too late: its moment has passed."), when,
                          only_from=(rules.SCHEDULED,))


def recover_interrupted(when: dt.datetime) -> int:
    """A message left `sending` (the application or the computer stopped during the send) may
    have gone: it is failed with that reason, for a person to decide, never sent again
    blindly."""
    cut_off = [row[0] for row in SmsMessage.select(SmsMessage.id).where(
        (SmsMessage.state == rules.SENDING)
        & (SmsMessage.updated_at < when - INTERRUPTED_AFTER)).tuples()]
    with database.atomic():
        return _set_state(
            cut_off, rules.FAILED, _("Sending was interrupted: it may have gone. Check with "
                                     "her before sending it again."), when,
            only_from=(rules.SENDING,),
            last_error=_("Interrupted while sending"))


def send_due(transport: transports.Transport | None, when: dt.datetime | None = None,
             limit: int = 500, should_stop: Callable[[], bool] = lambda: False) -> SendReport:
    """Sends the messages due, one at a time, through `transport`."""
    report = SendReport()
    if not _sender.acquire(blocking=False):
        report.note = _("Already sending.")
        return report
    try:
        when = when or clock.now()
        report.cancelled += expire_late(when)
        report.failed += recover_interrupted(when)
        timing_ = timing()
        due = SmsMessage.select(SmsMessage.id).where(
            (SmsMessage.state == rules.SCHEDULED) & (SmsMessage.next_attempt_at <= when))
        if transport is None:
            report.note = _("No way of sending is chosen in Settings: the messages wait.")
        elif not rules.may_send_at(when, timing_):
            report.note = _("Outside the sending hours: the messages wait until {time}.").format(
                time=rules.next_opening(when, timing_).strftime("%H:%M"))
        else:
            ids = [row[0] for row in due.order_by(SmsMessage.next_attempt_at, SmsMessage.id)
                   .limit(limit).tuples()]
            _send_round(ids, transport, when, report, should_stop)
        report.waiting = SmsMessage.select().where(SmsMessage.state == rules.SCHEDULED).count()
        return report
    finally:
        _sender.release()


def _claim(message_id: int, transport_name: str, when: dt.datetime) -> SmsMessage | None:
    """Takes the message for this sender in its own transaction: another sender, or this one
    after a restart, will not take it again."""
    with database.atomic():
        claimed = SmsMessage.update(state=rules.SENDING, attempts=SmsMessage.attempts + 1,
                                    transport=transport_name, updated_at=when).where(
            (SmsMessage.id == message_id) & (SmsMessage.state == rules.SCHEDULED)).execute()
        if not claimed:
            return None
        return SmsMessage.get_by_id(message_id)


def _claim_and_compose(message_id: int, transport_name: str, when: dt.datetime,
                       report: SendReport) -> tuple[SmsMessage, Composed] | None:
    """The message taken for sending with its text; None if another sender has it, or once
    it is cancelled (no longer due) or failed (its template cannot be used)."""
    message = _claim(message_id, transport_name, when)
    if message is None:
        return None
    try:
        return message, compose(message)
    except NoLongerDue as reason:
        with database.atomic():
            _set_state([message.id], rules.CANCELLED, str(reason), when, (rules.SENDING,))
        report.cancelled += 1
    except (rules.TemplateProblem, ValueError) as problem:
        with database.atomic():
            _set_state([message.id], rules.FAILED, str(problem), when, (rules.SENDING,),
                       last_error=str(problem))
        report.failed += 1
    return None


def _send_round(ids: list[int], transport: transports.Transport, when: dt.datetime,
                report: SendReport, should_stop: Callable[[], bool]) -> None:
    """Sends `ids` in order. A gateway refusing every message (its settings are wrong) stops
    the round with nothing failed: a refusal it says is the gateway's, or the first refusal
    of a round, held back until the next message gives the same one. Only a refusal that
    is the message's own (an invalid number) fails it."""
    held: tuple[int, str] | None = None  # the round's first refusal, waiting for the next
    for message_id in ids:
        if should_stop():
            break
        outcome, reason = _send_one(message_id, transport, when, report,
                                    may_hold=held is None and report.sent == 0,
                                    held_reason=held[1] if held else None)
        if outcome == "skipped":
            continue
        if outcome == "held":
            held = (message_id, reason)
            continue
        if outcome == "gateway":
            _gateway_refused(reason, when)
            report.note = _("The SMS gateway refuses every message: {reason} The messages "
                            "wait, with no try used.").format(reason=reason)
            return  # the held one waits too
        if held is not None and outcome in ("sent", "failed"):
            _fail_held(*held, when, report)  # the next went, or failed otherwise: it was that one
            held = None
        if outcome == "sent" and report.sent == 1:
            _gateway_working()  # once a round: a message went
        if outcome == "stop":
            return
    if held is not None and not should_stop():
        _fail_held(*held, when, report)


def _fail_held(message_id: int, reason: str, when: dt.datetime, report: SendReport) -> None:
    with database.atomic():
        report.failed += _set_state([message_id], rules.FAILED, reason, when,
                                    (rules.SCHEDULED,), last_error=reason,
                                    attempts=SmsMessage.attempts + 1)


def _put_back(message_id: int, when: dt.datetime, reason: str) -> None:
    """The message did not leave: scheduled as it was, without the try counted."""
    with database.atomic():
        SmsMessage.update(state=rules.SCHEDULED, attempts=SmsMessage.attempts - 1,
                          last_error=reason).where(
            (SmsMessage.id == message_id) & (SmsMessage.state == rules.SENDING)).execute()
        SmsEvent.delete().where((SmsEvent.message == message_id)
                                & (SmsEvent.state == rules.SENDING)
                                & (SmsEvent.at == when)).execute()


def _progress(error: Retry) -> dict:
    """The parts of a long message that went before the failure, kept for the next try."""
    return {"provider_ref": error.progress} if error.progress else {}


def _send_one(message_id: int, transport: transports.Transport, when: dt.datetime,
              report: SendReport, may_hold: bool = False,
              held_reason: str | None = None) -> tuple[str, str]:
    """(outcome, reason): sent, skipped, failed, stop (the others wait for the next round),
    held (refused, put back until the next message tells), gateway (refused as set up)."""
    taken = _claim_and_compose(message_id, transport.name, when, report)
    if taken is None:
        return "skipped", ""
    message, composed = taken
    parts = rules.length(composed.text).parts
    parts_taken = getattr(transport, "parts_taken", lambda _text: parts)(composed.text)
    with database.atomic():
        SmsMessage.update(text=composed.text, phone=composed.phone, parts=parts_taken).where(
            SmsMessage.id == message.id).execute()
        _event(message.id, rules.SENDING, _("Attempt {count} by {transport}").format(
            count=message.attempts, transport=_(TRANSPORTS.get(transport.name, transport.name))),
            when)
    try:
        if getattr(transport, "resumes", False):  # a long message goes on where it stopped
            reference = transport.send(composed.phone, composed.text, message.key,
                                       progress=message.provider_ref)
        else:
            reference = transport.send(composed.phone, composed.text, message.key)
    except Unreachable as error:
        _put_back(message.id, when, str(error))  # nothing left: it waits, and the others
        report.note = str(error)
        report.errors.append(str(error))
        return "stop", str(error)
    except MayHaveGone as error:
        # as for an interrupted send: failed with the reason, for a person to check
        with database.atomic():
            _set_state([message.id], rules.FAILED, str(error), when, (rules.SENDING,),
                       last_error=_("Interrupted while sending"), **_progress(error))
        report.failed += 1
        report.errors.append(str(error))
        return "stop", str(error)  # the provider is slow: the others wait for the next round
    except Refused as error:
        reason = str(error)
        if isinstance(error, GatewayRefused) or reason == held_reason:
            _put_back(message.id, when, reason)
            report.errors.append(reason)
            return "gateway", reason
        if may_hold:
            _put_back(message.id, when, reason)
            return "held", reason
        with database.atomic():
            _set_state([message.id], rules.FAILED, reason, when, (rules.SENDING,),
                       last_error=reason)
        report.failed += 1
        report.errors.append(reason)
        return "failed", reason
    except Retry as error:
        retry = rules.retry_at(message.attempts, when)
        report.errors.append(str(error))
        if retry is not None and (message.expires_at is None or retry < message.expires_at):
            with database.atomic():
                _set_state([message.id], rules.SCHEDULED, _(
                    "{reason} Next try at {time}.").format(
                    reason=error, time=retry.strftime("%d/%m %H:%M")), when, (rules.SENDING,),
                    next_attempt_at=retry, last_error=str(error), **_progress(error))
            report.retried += 1
            return "stop", str(error)  # the provider is failing: the others wait
        with database.atomic():  # no try left before it is too late
            _set_state([message.id], rules.FAILED, str(error), when, (rules.SENDING,),
                       last_error=str(error), **_progress(error))
        report.failed += 1
        return "failed", str(error)
    if parts_taken < parts:
        detail = _("{taken} SMS of {parts}: the gateway sends at most {taken}, the end of the "
                   "text was cut.").format(taken=parts_taken, parts=parts)
    else:
        detail = _("{parts} SMS").format(parts=parts)
    with database.atomic():
        _set_state([message.id], rules.SENT, detail, when, (rules.SENDING,), sent_at=when,
                   provider_ref=reference or "",
                   last_error="" if parts_taken == parts else detail)
    report.sent += 1
    return "sent", ""


DELIVERY_WINDOW = dt.timedelta(hours=48)  # after this, a report no longer comes


def check_deliveries(transport: transports.Transport, when: dt.datetime,
                     limit: int = 100) -> int:
    """Asks the provider what became of the recent messages it took (where it can say):
    delivered to the phone, or not. Returns the messages delivered."""
    ask = getattr(transport, "delivered", None)
    if ask is None:
        return 0
    recent = list(SmsMessage.select(SmsMessage.id, SmsMessage.provider_ref).where(
        (SmsMessage.state == rules.SENT) & (SmsMessage.transport == transport.name)
        & (SmsMessage.provider_ref != "") & (SmsMessage.sent_at > when - DELIVERY_WINDOW))
        .order_by(SmsMessage.sent_at).limit(limit).tuples())
    delivered = 0
    for message_id, reference in recent:
        try:
            answer = ask(reference)
        except (Retry, Refused):
            break  # asked again on the next round
        if answer is not None:
            with database.atomic():
                changed = _delivery_known(message_id, answer, when)
            delivered += changed if answer else 0
    return delivered


def run(when: dt.datetime | None = None, should_stop: Callable[[], bool] = lambda: False,
        schedule: bool = True) -> tuple[ScheduleReport, SendReport]:
    """What the background sender and `nest-desktop send-sms` do: catch the reminders up
    (`schedule`), send what is due through the transport chosen in Settings, and collect
    the delivery reports."""
    when = when or clock.now()
    scheduled = schedule_reminders(when) if schedule else ScheduleReport()
    if schedule:
        hooks.outbox_sources.call(when)  # the monthly newsletters whose day has come
    try:
        transport = make_transport()
    except vault.Locked as locked:  # the messages wait for a workstation that can send
        sent = send_due(None, when, should_stop=should_stop)
        sent.note = str(locked)
        return scheduled, sent
    try:
        sent = send_due(transport, when, should_stop=should_stop)
        if transport is not None and not should_stop():
            check_deliveries(transport, when)
    finally:
        if transport is not None:
            transport.close()
    return scheduled, sent


def export_due_csv(path: Path, when: dt.datetime | None = None) -> int:
    """The messages due now written to a CSV file (number;text) for a bulk-SMS website; they
    are marked sent by file, so that they are not exported twice."""
    user = session.require("sms.send")
    session.require("patients.export")  # her number and her text leave the application
    when = when or clock.now()
    expire_late(when)
    ids = [row[0] for row in SmsMessage.select(SmsMessage.id).where(
        (SmsMessage.state == rules.SCHEDULED) & (SmsMessage.next_attempt_at <= when))
        .order_by(SmsMessage.next_attempt_at, SmsMessage.id).tuples()]
    report = SendReport()
    lines = [taken for taken in (_claim_and_compose(message_id, "csv", when, report)
                                 for message_id in ids) if taken is not None]
    try:
        with path.open("w", newline="", encoding="utf-8-sig") as handle:
            writer = csv.writer(handle, delimiter=settings.get("export.csv_separator") or ";")
            writer.writerow(["numero", "message"])
            for _message, composed in lines:
                writer.writerow([spreadsheet_safe(composed.phone),
                                 spreadsheet_safe(composed.text)])
    except OSError:
        with database.atomic():  # nothing was exported: they wait again
            SmsMessage.update(state=rules.SCHEDULED, attempts=SmsMessage.attempts - 1).where(
                SmsMessage.id.in_([m.id for m, _c in lines])).execute()
        raise
    with database.atomic():
        for message, composed in lines:
            SmsMessage.update(text=composed.text, phone=composed.phone,
                              parts=rules.length(composed.text).parts).where(
                SmsMessage.id == message.id).execute()
            _set_state([message.id], rules.SENT, _("Exported to {file}").format(file=path.name),
                       when, (rules.SENDING,), user_id=user.id, sent_at=when)
        session.log("export", "sms_message", None, details=f"{len(lines)} SMS -> {path}")
    return len(lines)


# --- the outbox, by hand ---------------------------------------------------------------------

def _by_hand(ids: list[int], state: str, only_from: str, detail: str,
             when: dt.datetime | None, **values) -> int:
    """A change of state asked by the person at the desk, in the history and the audit."""
    user = session.require("sms.send")
    when = when or clock.now()
    if callable(values.get("next_attempt_at")):
        values["next_attempt_at"] = values["next_attempt_at"](when)
    with database.atomic():
        count = _set_state(ids, state, detail.format(name=user.full_name), when,
                           only_from=(only_from,), user_id=user.id, **values)
        session.log("update", "sms_message", None, {"state": [only_from, state]},
                    details=f"{count} SMS")
    return count


def cancel(ids: list[int], when: dt.datetime | None = None) -> int:
    return _by_hand(ids, rules.CANCELLED, rules.SCHEDULED, _("Cancelled by {name}."), when)


def retry(ids: list[int], when: dt.datetime | None = None) -> int:
    """Failed messages scheduled again now (a person checked that the interrupted went not)."""
    return _by_hand(ids, rules.SCHEDULED, rules.FAILED, _("To send again, by {name}."), when,
                    next_attempt_at=lambda moment: moment, attempts=0, expires_at=None)


def send_now(ids: list[int], when: dt.datetime | None = None) -> int:
    """Scheduled messages brought forward to now (the sender takes them on its next round)."""
    user = session.require("sms.send")
    when = when or clock.now()
    with database.atomic():
        count = SmsMessage.update(next_attempt_at=when, updated_at=when).where(
            SmsMessage.id.in_(ids) & (SmsMessage.state == rules.SCHEDULED)).execute()
        session.log("update", "sms_message", None,
                    {"next_attempt_at": [None, when.isoformat(timespec="minutes")]},
                    details=_("{count} SMS by {name}").format(count=count, name=user.full_name))
    return count


@dataclass(frozen=True)
class OutboxFilter:
    date_from: dt.date | None = None  # of the scheduled time
    date_to: dt.date | None = None
    state: str = ""
    kind: str = ""
    patient_id: int | None = None


def _condition(outbox_filter: OutboxFilter, with_state: bool = True):
    condition = SmsMessage.id > 0
    if outbox_filter.date_from:
        condition &= SmsMessage.scheduled_at >= dt.datetime.combine(outbox_filter.date_from,
                                                                    dt.time())
    if outbox_filter.date_to:
        condition &= SmsMessage.scheduled_at < dt.datetime.combine(
            outbox_filter.date_to + dt.timedelta(days=1), dt.time())
    if outbox_filter.kind:
        condition &= SmsMessage.kind == outbox_filter.kind
    if outbox_filter.patient_id is not None:
        condition &= ((SmsMessage.patient == outbox_filter.patient_id)
                      | ((SmsMessage.source_table == CHILD_SOURCE)
                         & (SmsMessage.source_id == outbox_filter.patient_id)))
    if with_state and outbox_filter.state:
        condition &= SmsMessage.state == outbox_filter.state
    return condition


def outbox_ids(outbox_filter: OutboxFilter) -> list[int]:
    """The messages of the filter, what needs a person first: the failed, then those still
    to go (the next first), then the rest, the latest first."""
    pending = SmsMessage.state.in_(list(rules.PENDING_STATES))
    rank = Case(None, [(SmsMessage.state == rules.FAILED, 0), (pending, 1)], 2)
    next_to_go = Case(None, [(pending, SmsMessage.next_attempt_at)], None)
    return [row[0] for row in SmsMessage.select(SmsMessage.id)
            .where(_condition(outbox_filter))
            .order_by(rank, next_to_go, SmsMessage.scheduled_at.desc(), SmsMessage.id.desc())
            .tuples()]


def outbox_counts(outbox_filter: OutboxFilter) -> dict[str, int]:
    """state -> messages, the state filter aside."""
    return dict(SmsMessage.select(SmsMessage.state, fn.COUNT(SmsMessage.id))
                .where(_condition(outbox_filter, with_state=False))
                .group_by(SmsMessage.state).tuples())


@dataclass(frozen=True)
class OutboxRow:
    id: int
    kind: str
    state: str
    scheduled_at: dt.datetime
    recipient: str
    patient_id: int | None
    prospect_id: int | None
    phone: str
    about: str  # the appointment's time, the child, the newsletter
    text: str  # as sent; empty until then
    attempts: int
    last_error: str
    sent_at: dt.datetime | None


def outbox_rows(ids: Iterable[int]) -> dict[int, OutboxRow]:
    ids = list(ids)
    if not ids:
        return {}
    child = Patient.alias()
    query = (SmsMessage.select(SmsMessage, Patient.first_names, Patient.last_name,
                               Prospect.first_names.alias("prospect_first"),
                               Prospect.last_name.alias("prospect_last"),
                               child.first_names.alias("child_first"), Campaign.name)
             .join(Patient, JOIN.LEFT_OUTER, on=SmsMessage.patient == Patient.id)
             .switch(SmsMessage)
             .join(Prospect, JOIN.LEFT_OUTER, on=SmsMessage.prospect == Prospect.id)
             .switch(SmsMessage)
             .join(child, JOIN.LEFT_OUTER,
                   on=(SmsMessage.source_table == CHILD_SOURCE) & (SmsMessage.source_id
                                                                   == child.id))
             .switch(SmsMessage).join(Campaign, JOIN.LEFT_OUTER)
             .where(SmsMessage.id.in_(ids)).objects())
    rows = {}
    for message in query:
        last, first = ((message.last_name, message.first_names) if message.patient_id
                       else (message.prospect_last, message.prospect_first))
        recipient = list_name(last, first)
        if message.kind in rules.APPOINTMENT_KINDS and message.event_at:
            about = _("Appointment {when}").format(when=format_datetime(message.event_at))
        elif message.kind == rules.VACCINE and message.event_at:
            about = fill_in(_("Vaccines of {child} on {day}"), child=message.child_first or "",
                         day=format_date(message.event_at.date()))
        elif message.kind == rules.NEWSLETTER:
            about = message.name or ""
        else:
            about = ""
        rows[message.id] = OutboxRow(
            message.id, message.kind, message.state, message.scheduled_at, recipient,
            message.patient_id, message.prospect_id, phones.display(message.phone), about,
            message.text or message.body, message.attempts, message.last_error,
            message.sent_at)
    return rows


def history(message_id: int) -> list[SmsEvent]:
    return list(SmsEvent.select().where(SmsEvent.message == message_id)
                .order_by(SmsEvent.at, SmsEvent.id))


def get_message(message_id: int) -> SmsMessage:
    return SmsMessage.get_by_id(message_id)


# --- newsletters (PAT-04, PAT-06, PAT-12) -----------------------------------------------------

@dataclass(frozen=True)
class NewsletterPreview:
    recipients: int  # with a number and the newsletter consent
    left_out: int  # of the segment, without one or the other
    parts: int  # of the longest rendering
    total_parts: int
    cost: int  # FCFA
    sample: str  # the text as the first recipient gets it
    length: rules.Length


def main_numbers(person_ids: list[int], prospects: bool = False) -> dict[int, str]:
    """person -> the main number a newsletter goes to (a patient's not found wrong)."""
    if prospects:
        phone_model, owner_field, usable = ProspectPhone, ProspectPhone.prospect, True
    else:
        phone_model, owner_field = PatientPhone, PatientPhone.patient
        usable = PatientPhone.wrong_since.is_null()
    found: dict[int, str] = {}
    for start in range(0, len(person_ids), CHUNK):
        found.update(phone_model.select(owner_field, phone_model.e164).where(
            owner_field.in_(person_ids[start:start + CHUNK]) & (phone_model.position == 0)
            & usable).tuples())
    return found


def newsletter_recipients(segment, today: dt.date | None = None
                          ) -> tuple[list[tuple[int, str, str, int | None]], int]:
    """(person, phone, first names, site) of the segment's members — patients or prospects —
    who accept the newsletter and have a number (a patient's not found wrong), and how many
    of the segment are left out."""
    ids = segments.member_ids(segment, today)
    prospects = segment.audience == segments.PROSPECTS
    owner = Prospect if prospects else Patient
    numbers = main_numbers(ids, prospects)
    found = []
    for start in range(0, len(ids), CHUNK):
        found.extend((person_id, numbers[person_id], first_names, site_id)
                     for person_id, first_names, site_id in
                     owner.select(owner.id, owner.first_names, owner.site)
                     .where(owner.id.in_(ids[start:start + CHUNK])
                            & (owner.newsletter_consent == True))  # noqa: E712 (SQL)
                     .tuples() if person_id in numbers)
    return found, len(ids) - len(found)


def preview_newsletter(segment, body: str, today: dt.date | None = None) -> NewsletterPreview:
    body = rules.to_gsm7(body.strip())
    problem = rules.template_problem(body, rules.NEWSLETTER)
    if problem:
        raise ValidationFailed({"body": problem})
    recipients, left_out = newsletter_recipients(segment, today)
    longest, sample = 0, ""
    total = 0
    by_site: dict = {}
    for _person_id, _phone, first_names, site_id in recipients:
        if site_id not in by_site:
            by_site[site_id] = site_values(site_id)
        text = rules.render(body, {"prenom": first_names.split(" ")[0], **by_site[site_id]})
        parts = rules.length(text).parts
        total += parts
        if parts > longest or not sample:
            longest, sample = max(longest, parts), sample or text
    if not sample:
        sample = rules.render(body, {"prenom": "Awa", **site_values(None)})
    length = rules.length(sample)
    price = int(settings.get("sms.part_price") or 0)
    return NewsletterPreview(len(recipients), left_out, longest or length.parts, total,
                             total * price, sample, length)


def schedule_newsletter(name: str, segment, body: str, send_at: dt.datetime,
                        today: dt.date | None = None) -> Campaign:
    """A newsletter to every patient of the segment who accepts it, each SMS made for her at
    send time; the campaign and its messages in one transaction."""
    user = session.require("sms.send")
    errors = {}
    when = clock.now()
    if not name.strip():
        errors["name"] = _("Name the newsletter: it is how the outbox shows it.")
    elif len(name.strip()) > 100:
        errors["name"] = _("At most {count} characters.").format(count=100)
    body = rules.to_gsm7(body.strip())
    problem = rules.template_problem(body, rules.NEWSLETTER)
    if problem:
        errors["body"] = problem
    elif len(body) > 1000:
        errors["body"] = _("At most {count} characters.").format(count=1000)
    if send_at < when - dt.timedelta(minutes=5):
        errors["send_at"] = _("Choose a moment to come.")
    check_characters(errors, name=name, body=body)
    if errors:
        raise ValidationFailed(errors)
    recipients, _left_out = newsletter_recipients(segment, today)
    person = "prospect" if segment.audience == segments.PROSPECTS else "patient"
    if not recipients:
        raise ValidationFailed({"segment": _(
            "Nobody in this segment accepts the newsletter and has a phone number.")})
    send_at = rules.next_opening(send_at, timing())
    with database.atomic():
        campaign = Campaign.create(name=name.strip(), reason=NEWSLETTER_REASON,
                                   segment=json.dumps(asdict(segment)),
                                   site=segment.site_id, created_by=user.id, created_at=when)
        for start in range(0, len(recipients), CHUNK):
            chunk = recipients[start:start + CHUNK]
            CampaignMember.insert_many([{"campaign": campaign.id, person: person_id}
                                        for person_id, *_rest in chunk]).execute()
            SmsMessage.insert_many([{
                "key": f"{rules.NEWSLETTER}:{campaign.id}:{person[:2]}{person_id}",
                "kind": rules.NEWSLETTER, person: person_id, "source_table": "campaign",
                "source_id": campaign.id, "phone": phone, "site": site_id,
                "campaign": campaign.id, "body": body, "scheduled_at": send_at,
                "next_attempt_at": send_at, "created_by": user.id, "created_at": when,
                "updated_at": when} for person_id, phone, _first, site_id in chunk]).execute()
        session.log("create", "campaign", campaign.id,
                    {"name": [None, campaign.name], "reason": [None, NEWSLETTER_REASON],
                     "segment": [None, segment.describe()],
                     "members": [None, len(recipients)], "send_at": [None, send_at.isoformat()]})
    return campaign


NEWSLETTER_REASON = "sms_newsletter"


def send_one(patient_id: int, body: str, send_at: dt.datetime | None = None) -> SmsMessage:
    """An SMS written for one patient from her file (kind 'other'), sent with the others."""
    user = session.require("sms.send")
    when = clock.now()
    send_at = send_at or when
    body = rules.to_gsm7(body.strip())
    problem = rules.template_problem(body, rules.OTHER)
    errors = {"body": problem} if problem else {}
    if not errors and len(body) > 1000:
        errors["body"] = _("At most {count} characters.").format(count=1000)
    check_characters(errors, body=body)
    patient = Patient.get_by_id(patient_id)
    main = _number_to_text(patient_id)
    if not main:
        errors["phone"] = _("Her file has no phone number.")
    elif not patient.sms_consent:
        errors["phone"] = _("She has not agreed to receive SMS: tick it on her file first.")
    if errors:
        raise ValidationFailed(errors)
    with database.atomic():
        count = SmsMessage.select().where((SmsMessage.patient == patient_id)
                                          & (SmsMessage.kind == rules.OTHER)).count()
        message = SmsMessage.create(
            key=f"{rules.OTHER}:{patient_id}:{when:%Y%m%d%H%M%S}:{count + 1}", kind=rules.OTHER,
            patient=patient_id, phone=main, site=patient.site_id, body=body,
            language=patient.language, scheduled_at=send_at, next_attempt_at=send_at,
            created_by=user.id, created_at=when, updated_at=when)
        _event(message.id, rules.SCHEDULED, _("Written by {name}.").format(
            name=user.full_name), when, user.id)
        session.log("create", "sms_message", message.id, {"body": [None, body]},
                    patient_id=patient_id)
    return message
