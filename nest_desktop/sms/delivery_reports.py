"""Delivery reports a gateway calls back with (Kannel's `dlr-url`): a small HTTP server on
the workstation that sends, answering `GET /dlr/<token>?ref=<message>&status=<code>`.

The token, random and kept in the settings, is in the address given to the gateway only: a
request without it is refused, so that nobody else on the network marks a message.
"""

import logging
import threading
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer

log = logging.getLogger(__name__)

Record = Callable[[str, str], bool]  # (message reference, status code) -> known message


class DeliveryReportListener:
    """Listens on (host, port) until `stop()`; each report goes to `record`, one at a
    time (one thread: one database connection)."""

    def __init__(self, host: str, port: int, token: str, record: Record,
                 finished: Callable[[], object] = lambda: None):
        self.token = token
        self.record = record
        self.where = (host, port, token)
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's)
                log.debug("delivery report: " + format, *args)

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                status, text = listener.handle(self.path)
                body = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = HTTPServer((host, port), Handler)
        self.port = self.server.server_port
        self._finished = finished  # on the listener's thread as it ends (its connection)
        self._thread = threading.Thread(target=self._serve, name="delivery-reports",
                                        daemon=True)

    def _serve(self) -> None:
        try:
            self.server.serve_forever()
        finally:
            self._finished()

    def handle(self, path: str) -> tuple[int, str]:
        parts = urllib.parse.urlsplit(path)
        if parts.path != f"/dlr/{self.token}":
            return 404, "unknown"
        query = dict(urllib.parse.parse_qsl(parts.query))
        reference, code = query.get("ref", ""), query.get("status", "")
        if not reference or not code:
            return 400, "ref and status are needed"
        try:
            known = self.record(reference, code)
        except Exception:  # the gateway calls again later; the error is for the log
            log.exception("a delivery report could not be recorded")
            return 503, "not recorded"
        return (200, "recorded") if known else (200, "unknown message")

    def start(self) -> "DeliveryReportListener":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
