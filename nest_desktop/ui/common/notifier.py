"""The application's changes, told to every page and window that wants to know.

A page or a dialog that changed something emits here (`changes().tasks.emit()`); each page
subscribes, in its own constructor, to what it shows. Pages never call each other, and the
main window wires no refresh between them: a new page subscribes, nothing else changes.
Receivers are bound methods of Qt objects, so that a closed page is disconnected with it.
"""

from PySide6.QtCore import QObject, Signal


class Changes(QObject):
    sites = Signal()  # a site added, renamed, or a site's phone changed
    desk = Signal()  # someone else at the desk: her name, site and rights
    patient = Signal(int)  # a patient's file (her id)
    prospect = Signal(int)  # a prospect's file (her id)
    tasks = Signal()  # follow-up tasks made, moved or closed (Today)
    calls = Signal()  # the call register, messages, end of day
    appointments = Signal()
    pregnancies = Signal()
    vaccines = Signal()  # doses given or planned (lists of doses due)
    sms = Signal()  # the outbox
    quality = Signal()  # the register of complaints, its actions, the pilots' targets
    backups = Signal()  # a copy made or restored
    restored = Signal()  # the whole database replaced by a copy
    server_unreachable = Signal()  # the shared server did not answer (the bar says so)
    server_back = Signal()  # it answers again: what a page could not read, it reads now


_changes: Changes | None = None


def changes() -> Changes:
    """The one notifier of the application (made with the first window)."""
    global _changes
    if _changes is None:
        _changes = Changes()
    return _changes
