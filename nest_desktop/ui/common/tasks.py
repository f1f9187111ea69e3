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
    """Brings a result back to the GUI thread. The result travels in an attribute and the
    signal only says it is there: PySide6 6.12.0 drops a reference to any object emitted
    through Signal(object), and Python then frees objects still in use or aborts at exit."""

    finished = Signal()
    failed = Signal()
    result: Any = None
    error: Exception | None = None


class _Job(QRunnable):
    def __init__(self, work: Callable[[], Any], relay: _Relay):
        super().__init__()
        self.work = work
        self.relay = relay

    def run(self) -> None:
        try:
            self.relay.result = self.work()
        except Exception as error:  # reported to the caller on the GUI thread
            log.error("background work failed:\n%s", traceback.format_exc())
            self.relay.error = error
            self.relay.failed.emit()
        else:
            self.relay.finished.emit()


def run_in_background(work: Callable[[], Any], on_done: Callable[[Any], None],
                      on_error: Callable[[Exception], None] | None = None,
                      owner: QObject | None = None, pool: QThreadPool | None = None) -> None:
    """Runs `work()` on the pool; `on_done(result)` or `on_error(error)` on the GUI thread.

    With an `owner` (the widget that asked), the answer is dropped if the owner was closed
    and deleted in the meantime. A `pool` of its own keeps long work (sending SMS through a
    modem) from holding the threads the windows' queries need.
    """
    relay = _Relay()
    _running.add(relay)

    def owner_gone() -> bool:
        return owner is not None and not shiboken6.isValid(owner)

    def finish() -> tuple[Any, Exception | None]:
        # The relay goes with its connections, so nothing keeps the result (a PDF…) alive.
        _running.discard(relay)
        outcome = relay.result, relay.error
        relay.result = relay.error = None
        relay.deleteLater()
        return outcome

    def done() -> None:
        result, _error = finish()
        if not owner_gone():
            on_done(result)

    def failed() -> None:
        _result, error = finish()
        if on_error and not owner_gone():
            on_error(error)

    relay.finished.connect(done)
    relay.failed.connect(failed)
    (pool or QThreadPool.globalInstance()).start(_Job(work, relay))


def wait_for_background_work(timeout_ms: int = 10000) -> bool:
    return QThreadPool.globalInstance().waitForDone(timeout_ms)
