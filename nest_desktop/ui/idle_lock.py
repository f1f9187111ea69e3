"""The screen locks after a while without use: patient data is hidden until someone logs in.

The windows are only hidden, so that what was being typed is still there afterwards.
"""

import time

from PySide6.QtCore import QEvent, QObject, QTimer, Signal

ACTIVITY = {QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
            QEvent.Type.Wheel, QEvent.Type.TouchBegin}
CHECK_MS = 15_000


class IdleWatcher(QObject):
    idle = Signal()

    def __init__(self, minutes: float, parent=None):
        super().__init__(parent)
        self.minutes = minutes
        self.paused = False
        self.last_activity = time.monotonic()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(CHECK_MS)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        if event.type() in ACTIVITY:
            self.last_activity = time.monotonic()
        return False

    def idle_seconds(self) -> float:
        return time.monotonic() - self.last_activity

    def check(self) -> None:
        if not self.paused and self.minutes > 0 and self.idle_seconds() >= self.minutes * 60:
            self.paused = True  # until the lock is lifted
            self.idle.emit()

    def stop(self) -> None:
        """The window it watched for is closing: no lock after that."""
        self.timer.stop()
        self.paused = True

    def resume(self) -> None:
        self.last_activity = time.monotonic()
        self.paused = False
