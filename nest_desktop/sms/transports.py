"""How an SMS leaves the clinic: a provider's HTTP API (Orange's GSMA OneAPI shape, or a
generic form) or a GSM modem on a serial port. A transport only sends; the outbox
(`services.sms`) decides what, when, and keeps the states.

`send()` returns the provider's reference, or raises `Unreachable` (no network, no modem on
this PC: nothing left, the messages wait), `Retry` (the provider or the network failed with
this message: it may go later) or `Refused` (it never will as it is: a number or a text the
provider rejects, wrong credentials).
"""

import base64
import errno
import json
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass, field
from typing import Protocol

from nest_desktop.domain import sms as rules
from nest_desktop.domain.messages import N_, _

_NO_ROUTE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.ECONNREFUSED}


class Retry(Exception):
    """The message did not go this time; trying again later may work. `progress`: the parts
    of a long message that went before (kept on the message for its next try)."""

    progress: str = ""


class Unreachable(Retry):
    """The way of sending is not there at all (no network, no modem plugged in): the message
    did not leave; it waits without counting a failed try."""


class MayHaveGone(Retry):
    """The request went and no answer came in time: the provider may have taken the message.
    Sent again blindly it could arrive twice, so a person checks (unless the provider takes
    an idempotency key, as Orange's `clientCorrelator`)."""


class Refused(Exception):
    """The message will not go as it is; the reason is for the user."""


class Transport(Protocol):
    name: str

    def send(self, phone: str, text: str, reference: str) -> str: ...

    def close(self) -> None: ...


# --- HTTP ----------------------------------------------------------------------------------------

def _http(request: urllib.request.Request, timeout: float,
          idempotent: bool = False) -> tuple[int, bytes]:
    """(status, body); a network failure raises Retry, or Unreachable when nothing could
    leave; a time-out waiting for the answer to a request that went raises MayHaveGone,
    unless the request is `idempotent` (it carries a key the provider deduplicates on)."""
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except TimeoutError as error:  # connected and sent, no answer read in time
        if idempotent:
            raise Retry(_("No answer from the SMS provider ({reason}).").format(
                reason=error)) from error
        raise MayHaveGone(_("The SMS provider did not answer in time: the message may have "
                            "gone. Check with her before sending it again.")) from error
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, ConnectionRefusedError | socket.gaierror) or (
                isinstance(reason, OSError) and reason.errno in _NO_ROUTE):
            raise Unreachable(_("The SMS provider cannot be reached: no network? ({reason})")
                              .format(reason=reason)) from error
        # a time-out connecting: the request did not leave
        raise Retry(_("No answer from the SMS provider ({reason}).").format(
            reason=reason)) from error


def _by_status(status: int, body: bytes) -> None:
    """Raises what a failed HTTP answer means for the message."""
    detail = body.decode("utf-8", "replace").strip()[:200]
    if status >= 500 or status == 429:
        raise Retry(_("The SMS provider is failing (HTTP {status}): {detail}").format(
            status=status, detail=detail))
    raise Refused(_("The SMS provider refused the message (HTTP {status}): {detail}").format(
        status=status, detail=detail))


@dataclass
class OrangeSms:
    """Orange's SMS API for Senegal (GSMA OneAPI): an OAuth2 client-credentials token, then a
    POST of an `outboundSMSMessageRequest` from the clinic's sender number.

    The message's reference goes as `clientCorrelator`, so that the provider ignores a
    repeat of a request whose answer was lost (a time-out after it was received).
    """

    token_url: str
    api_url: str  # e.g. https://api.orange.com/smsmessaging/v1
    client_id: str
    client_secret: str
    sender: str  # E.164 of the clinic's sender number
    timeout: float = 20.0
    name: str = "orange"
    _token: str = field(default="", repr=False)
    _token_expires: float = 0.0

    def _fetch_token(self) -> str:
        credentials = base64.b64encode(
            f"{self.client_id}:{self.client_secret}".encode()).decode("ascii")
        request = urllib.request.Request(
            self.token_url, data=b"grant_type=client_credentials", method="POST",
            headers={"Authorization": f"Basic {credentials}",
                     "Content-Type": "application/x-www-form-urlencoded",
                     "Accept": "application/json"})
        status, body = _http(request, self.timeout, idempotent=True)
        if status == 401 or status == 400:
            raise Refused(_("The SMS provider refused the client ID or secret: check them in "
                            "Settings."))
        if status != 200:
            _by_status(status, body)
        try:
            answer = json.loads(body)
            self._token = answer["access_token"]
        except (ValueError, KeyError) as error:
            raise Retry(_("The SMS provider's answer could not be read.")) from error
        self._token_expires = time.monotonic() + float(answer.get("expires_in", 3600)) - 60
        return self._token

    def _post(self, phone: str, text: str, reference: str, token: str) -> tuple[int, bytes]:
        sender = "tel:" + self.sender
        url = (f"{self.api_url.rstrip('/')}/outbound/"
               f"{urllib.parse.quote(sender, safe='')}/requests")
        payload = {"outboundSMSMessageRequest": {
            "address": "tel:" + phone, "senderAddress": sender,
            "outboundSMSTextMessage": {"message": text}, "clientCorrelator": reference}}
        request = urllib.request.Request(
            url, data=json.dumps(payload).encode("utf-8"), method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                     "Accept": "application/json"})
        return _http(request, self.timeout, idempotent=True)  # the clientCorrelator

    def send(self, phone: str, text: str, reference: str) -> str:
        token = self._token if time.monotonic() < self._token_expires else self._fetch_token()
        status, body = self._post(phone, text, reference, token)
        if status == 401:  # the token expired early or was revoked: a new one, once
            status, body = self._post(phone, text, reference, self._fetch_token())
        if status not in (200, 201):
            _by_status(status, body)
        try:
            url = json.loads(body)["outboundSMSMessageRequest"].get("resourceURL", "")
        except (ValueError, KeyError, AttributeError):
            url = ""
        return url.rsplit("/", 1)[-1] if url else ""

    def delivered(self, reference: str) -> bool | None:
        """Whether the provider says the message reached the phone (True), could not
        (False), or does not know yet (None): its delivery report, asked for."""
        sender = urllib.parse.quote("tel:" + self.sender, safe="")
        url = (f"{self.api_url.rstrip('/')}/outbound/{sender}/requests/"
               f"{urllib.parse.quote(reference, safe='')}/deliveryInfos")
        token = self._token if time.monotonic() < self._token_expires else self._fetch_token()
        status, body = _http(urllib.request.Request(
            url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}),
            self.timeout, idempotent=True)
        if status != 200:
            return None
        try:
            infos = json.loads(body)["deliveryInfoList"]["deliveryInfo"]
        except (ValueError, KeyError, TypeError):
            return None
        states = {info.get("deliveryStatus") for info in infos}
        if "DeliveredToTerminal" in states:
            return True
        if states & {"DeliveryImpossible", "DeliveredToNetwork"} == {"DeliveryImpossible"}:
            return False
        return None

    def close(self) -> None:
        pass


# Kannel's `coding`: the data coding of the SMS, 0 the GSM-7 alphabet, 2 UCS-2.
KANNEL_CODING = {"GSM-7": "0", "UCS-2": "2"}
# The per-message values a gateway's fields may hold, filled for each message.
MESSAGE_PLACEHOLDERS = ("coding", "unicode", "parts", "reference", "delivery_url")
METHODS = ("get", "post", "json")


class GatewayRefused(Refused):
    """The gateway refuses every message as it is set up (credentials, address, the shape
    of the request): no message is at fault; they wait while an administrator fixes the
    settings."""


# HTTP statuses that say the gateway as set up is wrong, whatever the message.
_GATEWAY_WIDE = {401: "credentials", 403: "credentials", 404: "address", 405: "method",
                 407: "credentials", 415: "method"}


@dataclass
class HttpGateway:
    """A gateway or bulk-SMS website reached over HTTP: Kannel's `sendsms` (GET with the
    fields in the query string), a website's form (POST) or a JSON API (POST JSON).

    `fixed_fields` carry the credentials (secret); `message_fields` may hold the
    message's own values: `{coding}` (Kannel's 0 for GSM-7, 2 for UCS-2), `{unicode}` (0 or
    1), `{parts}`, `{reference}` and `{delivery_url}` (the address the gateway calls back
    with the delivery report; a field left empty is not sent). A 2xx answer is a success
    when it holds one of `success_text`'s alternatives (separated by |), or always when
    none is set. `max_parts`: the most parts the gateway sends of one message (Kannel's
    `max-messages`), 0 when it takes any length."""

    url: str
    phone_field: str = "to"
    text_field: str = "text"
    fixed_fields: dict[str, str] = field(default_factory=dict)
    phone_without_plus: bool = False
    success_text: str = ""
    method: str = "post"
    message_fields: dict[str, str] = field(default_factory=dict)
    max_parts: int = 0
    delivery_url: str = ""  # with {reference}: where this gateway reports a delivery
    timeout: float = 20.0
    name: str = "http"

    def fields(self, phone: str, text: str, reference: str) -> dict[str, str]:
        """The request's fields for this message."""
        length = rules.length(text)
        values = {"coding": KANNEL_CODING[length.encoding],
                  "unicode": "1" if length.encoding == "UCS-2" else "0",
                  "parts": str(length.parts), "reference": reference,
                  "delivery_url": self.delivery_url.replace(
                      "{reference}", urllib.parse.quote(reference, safe=""))
                  if self.delivery_url else ""}
        fields = dict(self.fixed_fields)
        for name, template in self.message_fields.items():
            value = template
            for placeholder, filled in values.items():
                value = value.replace("{" + placeholder + "}", filled)
            if value:
                fields[name] = value
        fields[self.phone_field] = phone.lstrip("+") if self.phone_without_plus else phone
        fields[self.text_field] = text
        return fields

    def _request(self, fields: dict[str, str]) -> urllib.request.Request:
        if self.method == "get":
            separator = "&" if urllib.parse.urlsplit(self.url).query else "?"
            return urllib.request.Request(
                self.url + separator + urllib.parse.urlencode(fields), method="GET")
        if self.method == "json":
            return urllib.request.Request(
                self.url, data=json.dumps(fields, ensure_ascii=False).encode("utf-8"),
                method="POST", headers={"Content-Type": "application/json; charset=utf-8",
                                        "Accept": "application/json"})
        return urllib.request.Request(
            self.url, data=urllib.parse.urlencode(fields).encode("utf-8"), method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})

    def send(self, phone: str, text: str, reference: str) -> str:
        status, body = _http(self._request(self.fields(phone, text, reference)),
                             self.timeout)
        answer = body.decode("utf-8", "replace").strip()
        if status in _GATEWAY_WIDE:
            raise GatewayRefused(_("The SMS gateway refused the request (HTTP {status}: "
                                   "{detail}): check its address, user name and password "
                                   "in Settings › SMS.").format(status=status,
                                                                detail=answer[:200]))
        if not 200 <= status < 300:
            _by_status(status, body)
        accepted = [option.strip() for option in self.success_text.split("|")
                    if option.strip()]
        if accepted and not any(option in answer for option in accepted):
            raise Refused(_("The SMS gateway did not confirm the message: {answer}").format(
                answer=answer[:200]))
        return answer[:100]

    def parts_taken(self, text: str) -> int:
        """How many parts of `text` the gateway sends (it cuts what is beyond its limit)."""
        parts = rules.length(text).parts
        return min(parts, self.max_parts) if self.max_parts else parts

    def close(self) -> None:
        pass


# --- GSM modem -----------------------------------------------------------------------------------

CTRL_Z = b"\x1a"  # ends the PDU: the modem sends it
ESC = b"\x1b"  # leaves the prompt without sending
# +CMS ERROR codes (3GPP TS 27.005 §3.2.5, TS 24.011) that refuse this message as it is; the
# others (network out of order, no service…) may pass later.
_MESSAGE_REFUSED = {1: N_("number not assigned"), 8: N_("barred by the operator"),
                    10: N_("call barred"), 21: N_("short message refused"),
                    28: N_("unidentified subscriber"), 29: N_("facility refused"),
                    30: N_("unknown subscriber"), 96: N_("invalid mandatory information")}


class PartlySent(Retry):
    """The first parts of a long message went (each confirmed by `+CMGS`), a later one
    failed: the next try starts at the first part not confirmed, so that nothing arrives
    twice. `progress` is what the outbox keeps for that try."""

    def __init__(self, message: str, progress: str):
        super().__init__(message)
        self.progress = progress


@dataclass
class GsmModem:
    """A GSM modem (or a phone) on a serial port, in PDU mode (3GPP TS 27.005): `AT+CMGF=0`,
    then for each part `AT+CMGS=<length>`, the SMS-SUBMIT PDU in hexadecimal after the `> `
    prompt, Ctrl-Z. A long text goes as one concatenated SMS (a concatenation header in each
    part, joined by the phone); GSM-7 with its extension table (€ [ ] { } ~ ^ | \\) or
    UCS-2, packed by python-gsmmodem's PDU encoder. Only `+CMGS: <reference>` says a part
    went: a time-out after Ctrl-Z, or an OK without it, may have sent it and is not tried
    again blindly."""

    port: str  # COM3 on Windows; any pyserial URL in the tests
    baudrate: int = 115200
    pin: str = ""
    timeout: float = 30.0  # the network may take this long to take a message
    name: str = "modem"
    resumes = True  # send() takes the progress a PartlySent left
    _serial: object = field(default=None, repr=False)

    def _open(self):
        if self._serial is not None:
            return self._serial
        import serial

        try:
            self._serial = serial.serial_for_url(self.port, baudrate=self.baudrate, timeout=0.2,
                                                 write_timeout=5)
        except (serial.SerialException, OSError, ValueError) as error:
            raise Unreachable(_("The GSM modem on {port} cannot be opened: {error}").format(
                port=self.port, error=error)) from error
        try:
            self._serial.write(ESC + b"\r")  # out of a prompt a previous run may have left
            time.sleep(0.2)
            self._command(b"AT")
            self._command(b"ATE0")  # no echo: answers are easier to read
            if self.pin and b"READY" not in self._command(b"AT+CPIN?"):
                self._command(f'AT+CPIN="{self.pin}"'.encode("ascii"))
            self._command(b"AT+CMGF=0")
        except Retry as error:
            self.close()
            raise Unreachable(str(error)) from error
        return self._serial

    def _read_until(self, endings: tuple[bytes, ...], timeout: float) -> bytes | None:
        """What the modem said up to one of `endings`, or None when it said nothing of the
        kind in time."""
        answer = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer += self._serial.read(256)
            if any(ending in answer for ending in endings):
                # the final line may still be arriving
                answer += self._serial.read(256)
                return answer
        return None

    def _command(self, command: bytes, timeout: float = 5.0) -> bytes:
        self._serial.reset_input_buffer()
        self._serial.write(command + b"\r")
        answer = self._read_until((b"OK\r", b"ERROR"), timeout)
        if answer is None:
            raise Retry(_("The GSM modem did not answer in time."))
        if b"ERROR" in answer:
            raise Retry(_("The GSM modem refused {command}: {answer}").format(
                command=command.decode("ascii", "replace"),
                answer=answer.decode("ascii", "replace").strip()))
        return answer

    @staticmethod
    def pdus(phone: str, text: str, reference: str) -> list[tuple[str, int]]:
        """(PDU in hexadecimal, TPDU length) of each part; the concatenation reference comes
        from the message's, so that a resumed message's parts join its first ones."""
        from gsmmodem.pdu import encodeSmsSubmitPdu

        concatenation = zlib.crc32(reference.encode("utf-8")) & 0xFF
        return [(bytes(pdu.data).hex().upper(), pdu.tpduLength) for pdu in encodeSmsSubmitPdu(
            phone, text, reference=concatenation, requestStatusReport=False)]

    def _send_pdu(self, pdu: str, length: int) -> str:
        """One part: its `+CMGS` reference; Retry, Refused or MayHaveGone otherwise."""
        self._serial.reset_input_buffer()
        self._serial.write(f"AT+CMGS={length}\r".encode("ascii"))
        prompt = self._read_until((b">", b"ERROR"), 10)
        if prompt is None or b"ERROR" in prompt:
            self._serial.write(ESC)
            raise Retry(_("The GSM modem did not take the message: {answer}").format(
                answer=(prompt or b"").decode("ascii", "replace").strip()
                or _("no prompt")))
        self._serial.write(pdu.encode("ascii") + CTRL_Z)
        answer = self._read_until((b"OK\r", b"ERROR"), self.timeout)
        if answer is None:
            raise MayHaveGone(_("The GSM modem did not confirm the message: it may have gone. "
                                "Check with her before sending it again."))
        text = answer.decode("ascii", "replace")
        error = re.search(r"\+CMS ERROR:\s*(\d+)", text)
        if error and int(error.group(1)) in _MESSAGE_REFUSED:
            raise Refused(_("The GSM network refused the message ({code}: {reason}).").format(
                code=error.group(1), reason=_(_MESSAGE_REFUSED[int(error.group(1))])))
        if "ERROR" in text:
            raise Retry(_("The GSM network did not take the message: {answer}").format(
                answer=text.strip()))
        confirmed = re.search(r"\+CMGS:\s*(\d+)", text)
        if confirmed is None:
            raise MayHaveGone(_("The GSM modem answered without the message's reference: it "
                                "may have gone. Check with her before sending it again."))
        return confirmed.group(1)

    def send(self, phone: str, text: str, reference: str, progress: str = "") -> str:
        self._open()
        pdus = self.pdus(phone, text, reference)
        digest = f"{zlib.crc32(text.encode('utf-8')):08x}"
        done: list[str] = []
        kept = progress.split(":") if progress.startswith("parts:") else []
        if len(kept) == 4 and kept[1] == digest:  # the same text: its first parts went
            done = [ref for ref in kept[3].split(",") if ref][:int(kept[2])]
        for pdu, length in pdus[len(done):]:
            try:
                done.append(self._send_pdu(pdu, length))
            except Retry as error:
                self.close()  # start afresh next time: the modem may be in a prompt
                if not done:
                    raise
                progress = f"parts:{digest}:{len(done)}:{','.join(done)}"
                if isinstance(error, MayHaveGone):  # the part may have gone: a person checks
                    error.progress = progress
                    raise
                raise PartlySent(_("{reason} ({count} of {parts} SMS went; the next try "
                                   "sends the rest.)").format(
                    reason=error, count=len(done), parts=len(pdus)), progress) from error
        return ",".join(done)

    def close(self) -> None:
        if self._serial is not None:
            try:
                self._serial.write(ESC)  # leaves a half-open prompt without sending
                self._serial.close()
            except Exception:  # the port may be gone already; closing is all that is wanted
                pass
            self._serial = None
