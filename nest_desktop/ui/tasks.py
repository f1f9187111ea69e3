"""Work off the GUI thread: database queries and PDFs run on the thread pool, and their
result comes back to the GUI thread through a queued signal."""

import logging
import traceback
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)
_running: set["_Relay"] = set()  # keeps each relay alive until its result is delivered


class _Relay(QObject):
    finished = Signal(object)
    failed = Signal(object)


class _Job(QRunnable):
    def __init__(self, work: Callable[[], Any], relay: _Relay):
        super().__init__()
        self.work = work
        self.relay = relay

    def run(self) -> None:
        try:
            result = self.work()
        except Exception as error:  # reported to the caller on the GUI thread
            log.error("background work failed:\n%s", traceback.format_exc())
            self.relay.failed.emit(error)
        else:
            self.relay.finished.emit(result)


def run_in_background(work: Callable[[], Any], on_done: Callable[[Any], None],
                      on_error: Callable[[Exception], None] | None = None,
                      owner: QObject | None = None) -> None:
    """Runs `work()` on the pool; `on_done(result)` or `on_error(error)` on the GUI thread.

    With an `owner` (the widget that asked), the answer is dropped if the owner was closed
    and deleted in the meantime.
    """
    relay = _Relay()
    _running.add(relay)

    def owner_gone() -> bool:
        return owner is not None and not shiboken6.isValid(owner)

    def done(result: Any) -> None:
        _running.discard(relay)
        if not owner_gone():
            on_done(result)

    def failed(error: Exception) -> None:
        _running.discard(relay)
        if on_error and not owner_gone():
            on_error(error)

    relay.finished.connect(done)
    relay.failed.connect(failed)
    QThreadPool.globalInstance().start(_Job(work, relay))


def wait_for_background_work(timeout_ms: int = 10000) -> bool:
    return QThreadPool.globalInstance().waitForDone(timeout_ms)
