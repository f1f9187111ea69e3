"""One NEST Desktop per user: a second launch brings the open window forward and quits."""

import getpass
import hashlib

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

TIMEOUT_MS = 1000


def server_name(user: str | None = None) -> str:
    """A local socket name per user (a named pipe on Windows), with no characters to escape."""
    who = user or getpass.getuser()
    return "nest-desktop-" + hashlib.sha1(who.encode("utf-8")).hexdigest()[:16]


class SingleInstance(QObject):
    """`claim()` is True for the first instance; later ones wake it up instead."""

    activated = Signal()  # another launch asked for the window

    def __init__(self, name: str | None = None, parent=None):
        super().__init__(parent)
        self.name = name or server_name()
        self.server: QLocalServer | None = None

    def claim(self) -> bool:
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if socket.waitForConnected(TIMEOUT_MS):
            socket.write(b"show\n")
            socket.waitForBytesWritten(TIMEOUT_MS)
            socket.disconnectFromServer()
            return False
        # No answer: a server left by a crashed instance is removed, then ours listens.
        QLocalServer.removeServer(self.name)
        self.server = QLocalServer(self)
        self.server.newConnection.connect(self._wake_up)
        return self.server.listen(self.name)

    def _wake_up(self) -> None:
        while self.server.hasPendingConnections():
            connection = self.server.nextPendingConnection()
            # The other launch writes its few bytes at once: a short wait, rare, is simpler
            # than tracking the socket's life across signals.
            if connection.bytesAvailable() or connection.waitForReadyRead(TIMEOUT_MS):
                message = bytes(connection.readAll().data())
            else:
                message = b""
            connection.close()
            connection.deleteLater()
            if b"show" in message:
                self.activated.emit()
