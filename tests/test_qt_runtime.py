"""The Qt binding keeps Python's reference counts right.

PySide6 6.12.0 released a reference to True at every Signal.emit() and to every object
emitted through Signal(object): True ran out of references and Python aborted at exit, at
random. pyproject.toml keeps that version out; these tests say why if it comes back. Results
of background work travel in an attribute, not through Signal(object), all the same."""

import gc
import sys

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Signal

from nest_desktop.ui.common.tasks import run_in_background, wait_for_background_work
from nest_desktop.ui.common.widgets import ObjectSignal


def test_background_results_are_handed_over_then_let_go(qtbot):
    """A finished job's relay goes, and with it the result (a PDF of several hundred kB)."""
    payload = ("a result", 12345678)
    received = []
    before = sys.getrefcount(payload)
    for _ in range(30):
        run_in_background(lambda: payload, received.append)
    wait_for_background_work()
    qtbot.waitUntil(lambda: len(received) == 30)
    received.clear()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # the relays
    gc.collect()
    assert sys.getrefcount(payload) == before


def test_an_object_signal_passes_its_value_along_a_chain():
    first, second, seen = ObjectSignal(), ObjectSignal(), []
    first.connect(second)
    second.connect(seen.append)
    first.emit(True)
    assert seen == [True]


class _Emitter(QObject):
    plain = Signal()
    carried = Signal(object)


def test_emitting_a_signal_keeps_the_references_of_true_and_of_what_it_carries():
    emitter = _Emitter()
    emitter.plain.connect(lambda: None)
    emitter.carried.connect(lambda value: None)
    payload = ("a document", 87654321)
    before = sys.getrefcount(True), sys.getrefcount(payload)
    for _ in range(50):
        emitter.plain.emit()
        emitter.carried.emit(payload)
    assert (sys.getrefcount(True), sys.getrefcount(payload)) == before
