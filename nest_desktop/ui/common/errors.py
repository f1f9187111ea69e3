"""What no window caught, at one place: a French message, the error logged, the window kept
open with what was typed (a slot's exception ends the slot, never the application)."""

import logging
import sys
import traceback

from PySide6.QtCore import QCoreApplication, QThread
from PySide6.QtWidgets import QApplication, QMessageBox

from nest_desktop.i18n import _
from nest_desktop.services import DatabaseProblem, ServerUnreachable, database_problem
from nest_desktop.ui.common.notifier import changes

log = logging.getLogger("nest_desktop")


def database_trouble(error: BaseException) -> DatabaseProblem | None:
    """The database's problem behind `error` (busy, the server out of reach), told to the
    offline bar when the server is away; None for another error. On the GUI thread."""
    problem = database_problem(error)
    if isinstance(problem, ServerUnreachable):
        changes().server_unreachable.emit()
    return problem


def explanation(error: BaseException) -> str:
    problem = database_trouble(error)
    if problem is not None:
        return str(problem)
    return _("Something unexpected happened: {error}\n\nIt is written in the application's "
             "log. What you typed is still on screen.").format(error=error)


def report_uncaught(kind, error, trace) -> None:
    """sys.excepthook: Qt calls it for an exception a slot let through."""
    if issubclass(kind, KeyboardInterrupt | SystemExit):
        sys.__excepthook__(kind, error, trace)
        return
    log.error("uncaught error:\n%s", "".join(traceback.format_exception(kind, error, trace)))
    app = QCoreApplication.instance()
    if isinstance(app, QApplication) and QThread.currentThread() is app.thread():
        QMessageBox.warning(app.activeWindow(), _("The action was not done"), explanation(error))


def install() -> None:
    sys.excepthook = report_uncaught
