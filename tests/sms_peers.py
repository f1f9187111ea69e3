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


class FakeModem:
    """A GSM modem on a pseudo-terminal: AT, ATE0, AT+CMGF=1, AT+CSCS, AT+CMGS="…" then the
    text and Ctrl-Z. `fail_next` makes the next message end in '+CMS ERROR: 38' (network out
    of order)."""

    def __init__(self):
        self.master, slave = os.openpty()
        self.port = os.ttyname(slave)
        self._slave = slave
        self.messages: list[tuple[str, bytes]] = []  # (number as sent, body bytes)
        self.commands: list[str] = []
        self.fail_next = 0
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _write(self, text: bytes) -> None:
        os.write(self.master, text)

    def _run(self) -> None:
        buffer = b""
        number = None
        while not self._stop:
            try:
                chunk = os.read(self.master, 1024)
            except OSError:
                return
            buffer += chunk
            while True:
                if number is not None:
                    if b"\x1b" in buffer.split(b"\x1a", 1)[0]:  # ESC: no message after all
                        buffer = buffer.split(b"\x1b", 1)[1]
                        number = None
                        continue
                    if b"\x1a" not in buffer:
                        break
                    body, buffer = buffer.split(b"\x1a", 1)
                    if self.fail_next:
                        self.fail_next -= 1
                        self._write(b"\r\n+CMS ERROR: 38\r\n")
                    else:
                        self.messages.append((number, body))
                        self._write(f"\r\n+CMGS: {len(self.messages)}\r\n\r\nOK\r\n".encode())
                    number = None
                    continue
                if b"\r" not in buffer:
                    break
                line, buffer = buffer.split(b"\r", 1)
                command = bytes(b for b in line if b >= 32).decode("ascii", "replace").strip()
                if not command:
                    continue
                self.commands.append(command)
                if command.startswith("AT+CMGS="):
                    number = command.split("=", 1)[1].strip('"')
                    self._write(b"\r\n> ")
                elif command in ("AT", "ATE0", "AT+CMGF=1") or command.startswith("AT+CSCS"):
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
