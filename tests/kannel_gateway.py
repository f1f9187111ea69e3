"""The real Kannel on loopback, for the HTTP transport's tests: Debian's `bearerbox` and
`smsbox` (package kannel) with the `fakesmsc` test SMS centre (package kannel-extras), on
free ports in a folder of the test's. What reached the SMS centre is read back from
fakesmsc's output, as a phone would get it: the number, the text decoded from its coding,
a long message's parts joined by their concatenation header."""

import socket
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

BEARERBOX = Path("/usr/sbin/bearerbox")
SMSBOX = Path("/usr/sbin/smsbox")
FAKESMSC = Path("/usr/lib/kannel/test/fakesmsc")
USERNAME, PASSWORD = "nest", "s3cret-kannel"
MAX_MESSAGES = 4  # the sendsms user's `max-messages`: the parts Kannel sends of one text


def installed() -> bool:
    return all(path.exists() for path in (BEARERBOX, SMSBOX, FAKESMSC))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Received:
    """One SMS as the SMS centre got it."""

    sender: str
    receiver: str
    kind: str  # text, data, ucs-2, udh
    udh: bytes
    payload: bytes

    def text(self) -> str:
        # fakesmsc writes a part with a header as "udh <header> data <bytes>" whatever its
        # coding: UCS-2 is told by its NUL bytes, which no UTF-8 text of ours holds
        if self.kind == "ucs-2" or (self.kind == "udh" and b"\x00" in self.payload):
            return self.payload.decode("utf-16-be")
        return self.payload.decode("utf-8")

    @property
    def concatenation(self) -> tuple[int, int, int] | None:
        """(reference, parts, this part) from the header (IEI 0 or 8), or None."""
        udh = self.udh
        if len(udh) >= 6 and udh[1] == 0x00:
            return udh[3], udh[4], udh[5]
        if len(udh) >= 7 and udh[1] == 0x08:
            return udh[3] << 8 | udh[4], udh[5], udh[6]
        return None


class KannelGateway:
    def __init__(self, folder: Path, refused_numbers: str = ""):
        self.folder = folder
        self.admin_port, self.box_port = free_port(), free_port()
        self.smsc_port, self.sendsms_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms"
        self.config = folder / "kannel.conf"
        self.config.write_text(f"""\
group = core
admin-port = {self.admin_port}
admin-password = admin-{PASSWORD}
admin-allow-ip = "127.0.0.1"
smsbox-port = {self.box_port}
box-allow-ip = "127.0.0.1"
log-file = "{folder}/bearerbox.log"
log-level = 0
dlr-storage = internal
store-type = file
store-location = "{folder}/kannel.store"

group = smsc
smsc = fake
smsc-id = fake
port = {self.smsc_port}
connect-allow-ip = "127.0.0.1"

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {self.box_port}
sendsms-port = {self.sendsms_port}
log-file = "{folder}/smsbox.log"
log-level = 0

group = sendsms-user
username = {USERNAME}
password = {PASSWORD}
concatenation = true
max-messages = {MAX_MESSAGES}
""" + (f"black-list-regex = \"{refused_numbers}\"\n" if refused_numbers else ""))
        self.processes: list[subprocess.Popen] = []
        self.smsc_log = folder / "fakesmsc.out"

    def _spawn(self, *command: str, log: Path, stdin=None) -> subprocess.Popen:
        process = subprocess.Popen(command, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                                   stdin=stdin if stdin is not None else subprocess.DEVNULL)
        self.processes.append(process)
        return process

    def start(self) -> "KannelGateway":
        self._spawn(str(BEARERBOX), "-v", "1", str(self.config),
                    log=self.folder / "bearerbox.out")
        self._wait_port(self.smsc_port)
        # fakesmsc reads the messages to send from its standard input: kept open, empty
        self._spawn(str(FAKESMSC), "-H", "127.0.0.1", "-r", str(self.smsc_port), "-i", "0",
                    log=self.smsc_log, stdin=subprocess.PIPE)
        self._spawn(str(SMSBOX), "-v", "1", str(self.config), log=self.folder / "smsbox.out")
        self._wait_port(self.sendsms_port)
        self._wait_connected()
        return self

    def _wait_port(self, port: int, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"Kannel did not open port {port}: see {self.folder}")

    def _wait_connected(self, timeout: float = 15.0) -> None:
        """Until bearerbox says the SMS centre is online (a message sent before would wait
        for its resend, a minute later)."""
        status = (f"http://127.0.0.1:{self.admin_port}/status.txt?"
                  f"password=admin-{PASSWORD}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(status, timeout=2) as answer:
                    if "online" in answer.read().decode("utf-8", "replace").split(
                            "SMSC connections", 1)[-1]:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"Kannel's SMS centre did not come online: see {self.folder}")

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdin:
                process.stdin.close()
        self.processes.clear()

    def received(self) -> list[Received]:
        """Every SMS fakesmsc got so far, in order."""
        messages = []
        if not self.smsc_log.exists():
            return messages
        for line in self.smsc_log.read_text("utf-8", "replace").splitlines():
            if "Got message" not in line:
                continue
            inside = line.split(": <", 1)[1].rsplit(">", 1)[0]
            sender, receiver, kind, rest = inside.split(" ", 3)
            udh = b""
            if kind == "udh":
                encoded_udh, _data, rest = rest.split(" ", 2)
                udh = urllib.parse.unquote_to_bytes(encoded_udh)
                payload = urllib.parse.unquote_to_bytes(rest.replace("+", " "))
            elif kind == "text":
                payload = rest.encode("utf-8")
            else:
                payload = urllib.parse.unquote_to_bytes(rest.replace("+", " "))
            messages.append(Received(sender, receiver, kind, udh, payload))
        return messages

    def phones_got(self, wait_for: int, timeout: float = 15.0) -> list[tuple[str, str]]:
        """(number, whole text) of each message as a phone shows it, parts joined, once
        `wait_for` messages arrived."""
        deadline = time.monotonic() + timeout
        while True:
            whole = self._joined()
            if len(whole) >= wait_for or time.monotonic() > deadline:
                return whole
            time.sleep(0.1)

    def _joined(self) -> list[tuple[str, str]]:
        whole, parts = [], {}
        for message in self.received():
            concat = message.concatenation
            if concat is None:
                whole.append((message.receiver, message.text()))
                continue
            reference, total, number = concat
            key = (message.receiver, reference, total)
            parts.setdefault(key, {})[number] = message.text()
            if len(parts[key]) == total:
                whole.append((message.receiver, "".join(
                    parts[key][index] for index in range(1, total + 1))))
        return whole
