"""Real peers for the SMS transports: an HTTP server on 127.0.0.1 playing Orange's SMS API
(or a bulk-SMS website's form), and a GSM modem answering AT commands on a pseudo-terminal."""

import json
import os
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeProvider:
    """Orange's OneAPI shape: POST /oauth/v3/token, then POST
    /smsmessaging/v1/outbound/tel%3A%2B…/requests. `script` lists what the next SMS
    requests get: 'ok', 'expired' (401: the token is refused), 500, 'slow' (answers after
    `slow_seconds`), 'refused' (400). A repeated clientCorrelator is answered without
    delivering twice, as OneAPI does."""

    def __init__(self):
        self.script: list = []
        self.delivered: list[tuple[str, str]] = []  # (address, text) actually delivered
        self.tokens_given = 0
        self.form_posts: list[dict] = []
        self.json_posts: list[dict] = []
        self.slow_seconds = 2.0
        self._correlators: set[str] = set()
        self._valid_tokens: set[str] = set()
        self._lock = threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep the test output quiet
                pass

            def _answer(self, status: int, body: dict | str) -> None:
                data = (json.dumps(body) if isinstance(body, dict) else body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length", 0))
                payload = self.rfile.read(length)
                if self.path == "/oauth/v3/token":
                    provider._token(self, payload)
                elif self.path.startswith("/smsmessaging/v1/outbound/"):
                    provider._sms(self, payload)
                elif self.path == "/json":
                    provider.json_posts.append(json.loads(payload))
                    self._answer(200, {"status": "queued"})
                elif self.path == "/form":
                    fields = dict(urllib.parse.parse_qsl(payload.decode()))
                    provider.form_posts.append(fields)  # taken: it will be delivered
                    with provider._lock:
                        slow = provider.script[:1] == ["slow"] and provider.script.pop(0)
                    if slow:
                        time.sleep(provider.slow_seconds)
                    self._answer(200, "OK: queued")
                else:
                    self._answer(404, {"error": "no such resource"})

            def do_GET(self):  # noqa: N802 (http.server's name): delivery reports
                if not self.path.endswith("/deliveryInfos"):
                    self._answer(404, {"error": "no such resource"})
                    return
                reference = self.path.rsplit("/", 2)[-2]
                status = provider.delivery.get(reference, "MessageWaiting")
                self._answer(200, {"deliveryInfoList": {"deliveryInfo": [
                    {"address": "tel:+221770000000", "deliveryStatus": status}]}})

        self.delivery: dict[str, str] = {}  # reference -> OneAPI delivery status
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _token(self, handler, payload: bytes) -> None:
        if handler.headers.get("Authorization", "") != "Basic aWQ6c2VjcmV0":  # id:secret
            handler._answer(401, {"error": "invalid_client"})
            return
        with self._lock:
            self.tokens_given += 1
            token = f"token-{self.tokens_given}"
            self._valid_tokens.add(token)
        handler._answer(200, {"token_type": "Bearer", "access_token": token,
                              "expires_in": 3600})

    def _sms(self, handler, payload: bytes) -> None:
        token = handler.headers.get("Authorization", "").removeprefix("Bearer ")
        with self._lock:
            step = self.script.pop(0) if self.script else "ok"
            if step == "expired":
                self._valid_tokens.discard(token)
            valid = token in self._valid_tokens
        if not valid:
            handler._answer(401, {"requestError": {"policyException": {"messageId": "POL0001",
                                                                       "text": "expired"}}})
            return
        if step == 500:
            handler._answer(500, {"error": "internal"})
            return
        if step == "refused":
            handler._answer(400, {"requestError": {"serviceException": {
                "messageId": "SVC0004", "text": "No valid addresses"}}})
            return
        request = json.loads(payload)["outboundSMSMessageRequest"]
        correlator = request.get("clientCorrelator", "")
        with self._lock:
            if correlator not in self._correlators:
                self._correlators.add(correlator)
                self.delivered.append((request["address"],
                                       request["outboundSMSTextMessage"]["message"]))
        if step == "slow":
            time.sleep(self.slow_seconds)
        handler._answer(201, {"outboundSMSMessageRequest": {
            **request, "resourceURL": f"{self.url}/smsmessaging/v1/outbound/x/requests/"
                                      f"req-{len(self.delivered)}"}})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# GSM 03.38 / 3GPP TS 23.038: the default alphabet by code, and its extension table after ESC.
GSM7_DEFAULT = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
                "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENSION = {0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[",
                  0x3D: "~", 0x3E: "]", 0x40: "|", 0x65: "€"}


def decode_sms_submit(pdu: bytes) -> dict:
    """An SMS-SUBMIT TPDU (3GPP TS 23.040 §9.2.2.2) read field by field, as the network
    would: the destination, the coding, the concatenation header, the text."""
    first = pdu[0]
    if first & 0x03 != 0x01:
        raise ValueError("not an SMS-SUBMIT")
    position = 2  # first octet, message reference
    digits = pdu[position]
    type_of_address = pdu[position + 1]
    semi = pdu[position + 2: position + 2 + (digits + 1) // 2]
    number = "".join(f"{octet & 0x0F:x}{octet >> 4:x}" for octet in semi)[:digits]
    if type_of_address & 0x70 == 0x10:
        number = "+" + number
    position += 2 + (digits + 1) // 2
    _protocol, coding = pdu[position], pdu[position + 1]
    position += 2
    validity = (first >> 3) & 0x03
    position += {0: 0, 2: 1, 1: 7, 3: 7}[validity]
    length = pdu[position]  # septets in GSM-7, octets otherwise
    data = pdu[position + 1:]
    header, concat = b"", None
    if first & 0x40:  # a user data header
        header = data[1:1 + data[0]]
        index = 0
        while index < len(header):
            element, size = header[index], header[index + 1]
            body = header[index + 2: index + 2 + size]
            if element == 0x00:
                concat = (body[0], body[1], body[2])
            elif element == 0x08:
                concat = (body[0] << 8 | body[1], body[2], body[3])
            index += 2 + size
    alphabet = (coding >> 2) & 0x03
    if alphabet == 2:  # UCS-2
        text = data[1 + len(header) if header else 0:][:length - (len(header) + 1 if header
                                                                  else 0)]
        return {"number": number, "coding": "UCS-2", "concat": concat,
                "text": text.decode("utf-16-be")}
    if alphabet != 0:
        raise ValueError("8-bit data")
    skip = ((len(header) + 1) * 8 + 6) // 7 if header else 0  # header and its fill bits
    bits = int.from_bytes(data[::-1], "big") if data else 0
    septets = [(bits >> (7 * index)) & 0x7F for index in range(length)][skip:]
    text, escape = [], False
    for septet in septets:
        if escape:
            text.append(GSM7_EXTENSION.get(septet, " "))
            escape = False
        elif septet == 0x1B:
            escape = True
        else:
            text.append(GSM7_DEFAULT[septet])
    return {"number": number, "coding": "GSM-7", "concat": concat, "text": "".join(text)}


class FakeModem:
    """A GSM modem on a pseudo-terminal answering as 3GPP TS 27.005 sets it: AT, ATE0,
    AT+CPIN, AT+CMGF=0|1, AT+CSCS; in PDU mode AT+CMGS=<TPDU length>, the `> ` prompt, the
    PDU in hexadecimal ended by Ctrl-Z (ESC cancels), `+CMS ERROR: 304` for a length that
    is not the PDU's, `+CMGS: <mr>` then OK when taken. Text mode (AT+CMGS="number") as
    well, where ESC inside the text cancels it, as on a real modem.

    Faults, each for the next SMS: `fail_next` (+CMS ERROR: 38, network out of order),
    `fail_part` (that part of a concatenated message, once), `swallow_next` (taken, never
    answered), `ok_without_reference_next` (taken, answered OK without +CMGS); and
    `unassigned` numbers, always refused (+CMS ERROR: 1)."""

    def __init__(self):
        self.master, slave = os.openpty()
        self.port = os.ttyname(slave)
        self._slave = slave
        self.received: list[dict] = []  # each SMS as the network took it
        self.commands: list[str] = []
        self.pdu_mode = False
        self.fail_next = 0
        self.fail_part: int | None = None
        self.swallow_next = 0
        self.ok_without_reference_next = 0
        self.unassigned: set[str] = set()  # numbers the network does not know (+CMS ERROR: 1)
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _write(self, text: bytes) -> None:
        os.write(self.master, text)

    def phones(self) -> list[tuple[str, str]]:
        """(number, whole text) as phones show them: a concatenated message once all its
        parts arrived, joined in order."""
        whole, parts = [], {}
        for sms in self.received:
            if sms["concat"] is None:
                whole.append((sms["number"], sms["text"]))
                continue
            reference, total, number = sms["concat"]
            key = (sms["number"], reference, total)
            parts.setdefault(key, {})[number] = sms["text"]
            if len(parts[key]) == total:
                whole.append((sms["number"], "".join(parts[key][i] for i in range(1, total + 1))))
                del parts[key]
        return whole

    def _take(self, kind: str, argument: str, body: bytes) -> None:
        """The SMS after Ctrl-Z: taken, or refused, as the faults say."""
        if kind == "pdu":
            try:
                octets = bytes.fromhex(body.decode("ascii").strip())
                smsc = octets[0]
                tpdu = octets[1 + smsc:]
                if len(tpdu) != int(argument):
                    raise ValueError("length")
                sms = decode_sms_submit(tpdu)
            except (ValueError, IndexError):
                self._write(b"\r\n+CMS ERROR: 304\r\n")
                return
        else:
            sms = {"number": argument, "coding": "text", "concat": None,
                   "text": body.decode("latin-1")}
        part = sms["concat"][2] if sms["concat"] else 1
        if sms["number"] in self.unassigned:
            self._write(b"\r\n+CMS ERROR: 1\r\n")
            return
        if self.fail_next or (self.fail_part is not None and part == self.fail_part):
            if self.fail_next:
                self.fail_next -= 1
            else:
                self.fail_part = None
            self._write(b"\r\n+CMS ERROR: 38\r\n")
            return
        self.received.append(sms)
        if self.swallow_next:
            self.swallow_next -= 1
            return
        if self.ok_without_reference_next:
            self.ok_without_reference_next -= 1
            self._write(b"\r\nOK\r\n")
            return
        self._write(f"\r\n+CMGS: {len(self.received)}\r\n\r\nOK\r\n".encode())

    def _run(self) -> None:
        buffer = b""
        waiting: tuple[str, str] | None = None  # (pdu or text, length or number) at the prompt
        while not self._stop:
            try:
                chunk = os.read(self.master, 1024)
            except OSError:
                return
            buffer += chunk
            while True:
                if waiting is not None:
                    before_end = buffer.split(b"\x1a", 1)[0]
                    if b"\x1b" in before_end:  # ESC: the message is given up, nothing sent
                        buffer = buffer.split(b"\x1b", 1)[1]
                        waiting = None
                        self._write(b"\r\nOK\r\n")
                        continue
                    if b"\x1a" not in buffer:
                        break
                    body, buffer = buffer.split(b"\x1a", 1)
                    self._take(*waiting, body)
                    waiting = None
                    continue
                if b"\r" not in buffer:
                    break
                line, buffer = buffer.split(b"\r", 1)
                command = bytes(b for b in line if b >= 32).decode("ascii", "replace").strip()
                if not command:
                    continue
                self.commands.append(command)
                if command.startswith("AT+CMGS="):
                    argument = command.split("=", 1)[1]
                    if self.pdu_mode and argument.isdigit():
                        waiting = ("pdu", argument)
                    elif not self.pdu_mode and argument.startswith('"'):
                        waiting = ("text", argument.strip('"'))
                    else:
                        self._write(b"\r\n+CMS ERROR: 304\r\n" if self.pdu_mode
                                    else b"\r\n+CMS ERROR: 305\r\n")
                        continue
                    self._write(b"\r\n> ")
                elif command in ("AT+CMGF=0", "AT+CMGF=1"):
                    self.pdu_mode = command.endswith("0")
                    self._write(b"\r\nOK\r\n")
                elif command == "AT+CPIN?":
                    self._write(b"\r\n+CPIN: READY\r\n\r\nOK\r\n")
                elif command in ("AT", "ATE0") or command.startswith("AT+CSCS"):
                    self._write(b"\r\nOK\r\n")
                else:
                    self._write(b"\r\nERROR\r\n")

    def close(self) -> None:
        self._stop = True
        for fd in (self.master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass
