"""Background work, hammered: results always come back on the GUI thread, whatever happens
to the widget that asked, and the lead import runs again and again without a crash."""

import random

import pytest
from PySide6.QtCore import QObject, Qt, QThread
from PySide6.QtWidgets import QApplication, QWidget

from nest_desktop.ui.common import tasks


def settle(qtbot, condition, timeout=20000):
    def check():
        tasks.wait_for_background_work()
        assert condition()

    qtbot.waitUntil(check, timeout=timeout)


def test_every_job_is_answered_on_the_gui_thread_even_when_its_widget_is_gone(qtbot):
    gui = QApplication.instance().thread()
    answered, failed, wrong_thread = [], [], []
    owners = []
    rng = random.Random(21)

    def work(number: int):
        if number % 7 == 0:
            raise ValueError(f"job {number}")
        widget_free = QObject()  # a Qt object made and dropped in the worker: its own
        del widget_free
        return bytes(1000) * (number % 50)  # a PDF-sized answer, now and then

    def on_done(number, result):
        if QThread.currentThread() is not gui:
            wrong_thread.append(number)
        answered.append(number)

    def on_error(number, error):
        if QThread.currentThread() is not gui:
            wrong_thread.append(number)
        failed.append(number)

    dropped = set()
    for number in range(600):
        owner = QWidget()
        owners.append(owner)
        tasks.run_in_background(lambda n=number: work(n),
                                lambda result, n=number: on_done(n, result),
                                lambda error, n=number: on_error(n, error), owner=owner)
        if rng.random() < 0.2:  # the window that asked is closed meanwhile
            dropped.add(number)
            owners.pop().deleteLater()
        if number % 50 == 0:
            QApplication.processEvents()
    settle(qtbot, lambda: tasks.pending_jobs() == 0)
    QApplication.processEvents()
    assert wrong_thread == []
    expected_failed = {n for n in range(600) if n % 7 == 0}
    # Each job answered once, and only the ones whose widget is still there.
    assert sorted(answered + failed) == sorted(set(answered) | set(failed))
    assert set(failed) <= expected_failed
    assert set(answered) | set(failed) >= set(range(600)) - dropped
    for owner in owners:
        owner.deleteLater()


def test_background_work_is_asked_for_from_the_gui_thread_only(qtbot):
    from threading import Thread

    errors = []

    def from_a_thread():
        try:
            tasks.run_in_background(lambda: 1, lambda _result: None)
        except RuntimeError as error:
            errors.append(error)

    thread = Thread(target=from_a_thread)
    thread.start()
    thread.join()
    assert errors and "GUI thread" in str(errors[0])


def test_ctrl_l_asks_to_lock(qtbot, desk):
    from tests.test_gui import make_main_window

    window = make_main_window(qtbot, desk)
    with qtbot.waitSignal(window.lockRequested, timeout=2000):
        qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)


@pytest.mark.clock("2026-11-23 09:00")
def test_the_lead_import_runs_again_and_again(qtbot, desk, as_role, tmp_path):
    from nest_desktop.db.models import Prospect
    from nest_desktop.ui.common.notifier import changes
    from nest_desktop.ui.prospects.prospect_tools import ImportDialog

    site, _user = desk
    as_role("prospect_manager")
    heard = []
    changes().prospect.connect(heard.append)
    first = ["Awa", "Fatou", "Coumba", "Aminata", "Ndèye", "Mariama", "Khady", "Astou"]
    last = ["Diop", "Sarr", "Ndiaye", "Fall", "Sow", "Ba", "Gueye", "Faye", "Cissé"]
    rng = random.Random(8)
    total = 0
    for round_ in range(8):
        export = tmp_path / f"leads-{round_}.csv"
        lines = ["created_time\tfull_name\tphone_number\temail\tmessage"]
        numbers = rng.sample(range(10**6, 10**7), 40)
        for index, number in enumerate(numbers):
            lines.append(f"2026-11-2{index % 3}T10:{index:02d}:00+0000\t"
                         f"{rng.choice(first)} {rng.choice(last)} {chr(65 + round_)}"
                         f"\t+22177{number}\t\tTarifs accouchement ?")
        export.write_text("\n".join(lines) + "\n", encoding="utf-16")  # as Meta writes it
        dialog = ImportDialog(site.id)
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.load(export)
        dialog.qualification.setCurrentIndex(1)  # a second preview while the first runs
        settle(qtbot, lambda d=dialog: d.import_button.isEnabled())
        dialog._import()
        if round_ % 2:  # closed before the answer: nothing crashes, the lists still hear
            dialog.close()
            dialog.deleteLater()
        else:
            settle(qtbot, lambda d=dialog: "créés" in d.message.text())
        total += 40
        settle(qtbot, lambda t=total: Prospect.select().count() >= t)
    assert Prospect.select().count() == total
    settle(qtbot, lambda: tasks.pending_jobs() == 0 and len(heard) == 8)
    changes().prospect.disconnect(heard.append)
