"""Work off the GUI thread: database queries and PDFs run on the thread pool, and their
result comes back to the GUI thread.

A worker thread touches no Qt object that could be deleted under it, and never drops the
last reference to one. Each job's result waits in a queue; the worker then signals one
dispatcher that lives as long as the application, and the GUI thread takes the result from
the queue and runs the callbacks. The job (its work, its callbacks, the widget that asked)
is released on the GUI thread, after delivery. A relay object per job, deleted by the GUI
thread while the worker was still emitting through it, crashed the application in a pooled
thread once in a while (issue 21).
"""

import functools
import logging
import queue
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, QThreadPool, Signal, Slot

from nest_desktop.services import database_problem
from nest_desktop.ui.common.errors import database_trouble

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Job:
    work: Callable[[], Any]
    on_done: Callable[[Any], None]
    on_error: Callable[[Exception], None] | None
    owner: QObject | None
    result: Any = None
    error: Exception | None = None

    def owner_gone(self) -> bool:
        return self.owner is not None and not shiboken6.isValid(self.owner)


class _Dispatcher(QObject):
    """On the GUI thread for the application's life: delivers what the workers finished."""

    ready = Signal()

    def __init__(self):
        super().__init__()
        self.finished: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self.pending: set[_Job] = set()  # alive until delivered, on this thread
        self.ready.connect(self.deliver, Qt.ConnectionType.QueuedConnection)

    @Slot()
    def deliver(self) -> None:
        while True:
            try:
                job = self.finished.get_nowait()
            except queue.Empty:
                return
            self.pending.discard(job)
            if job.owner_gone():
                continue
            try:
                if job.error is not None:
                    database_trouble(job.error)  # the offline bar, if the server is away
                if job.error is None:
                    job.on_done(job.result)
                elif job.on_error is not None:
                    job.on_error(job.error)
            except Exception:  # a callback's error must not stop the other deliveries
                log.error("delivering background work failed:\n%s", traceback.format_exc())


_dispatcher: _Dispatcher | None = None


def _the_dispatcher() -> _Dispatcher:
    global _dispatcher
    app = QCoreApplication.instance()
    if app is not None and QThread.currentThread() is not app.thread():
        raise RuntimeError("background work is asked for from the GUI thread only")
    if _dispatcher is None:
        _dispatcher = _Dispatcher()
    return _dispatcher


def _execute(dispatcher: _Dispatcher, job: _Job) -> None:
    """On a worker thread: only the job's own Python values are touched here."""
    try:
        job.result = job.work()
    except Exception as error:  # reported to the caller on the GUI thread
        log.error("background work failed:\n%s", traceback.format_exc())
        job.error = database_problem(error) or error  # never a raw "database is locked"
    dispatcher.finished.put(job)
    try:
        dispatcher.ready.emit()
    except RuntimeError:  # the application is closing: nobody is left to deliver to
        log.info("background work finished after the application closed: not delivered")


def run_in_background(work: Callable[[], Any], on_done: Callable[[Any], None],
                      on_error: Callable[[Exception], None] | None = None,
                      owner: QObject | None = None, pool: QThreadPool | None = None) -> None:
    """Runs `work()` on the pool; `on_done(result)` or `on_error(error)` on the GUI thread.

    With an `owner` (the widget that asked), the answer is dropped if the owner was closed
    and deleted in the meantime. A `pool` of its own keeps long work (sending SMS through a
    modem) from holding the threads the windows' queries need.
    """
    dispatcher = _the_dispatcher()
    job = _Job(work, on_done, on_error, owner)
    dispatcher.pending.add(job)
    (pool or QThreadPool.globalInstance()).start(functools.partial(_execute, dispatcher, job))


def pending_jobs() -> int:
    """Jobs asked for and not delivered yet (finished or not)."""
    return len(_dispatcher.pending) if _dispatcher is not None else 0


def wait_for_background_work(timeout_ms: int = 10000) -> bool:
    return QThreadPool.globalInstance().waitForDone(timeout_ms)
