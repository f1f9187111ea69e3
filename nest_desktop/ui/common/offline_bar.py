"""The bar that says the shared server cannot be reached: shown when an action or a list
met it away, checked every few seconds off the GUI thread, gone once the server answers
again (`changes().server_back`: the pages read again what they could not)."""

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel

from nest_desktop.i18n import _
from nest_desktop.services import server_reachable
from nest_desktop.ui.common.notifier import changes
from nest_desktop.ui.common.tasks import run_in_background
from nest_desktop.ui.common.widgets import ERROR_STYLE

CHECK_EVERY_MS = 5_000


class OfflineBar(QLabel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setStyleSheet(ERROR_STYLE + " font-weight: bold; padding: 4px;")
        self.setText(_("The database server cannot be reached: nothing can be saved until it "
                       "is back. What you type stays on screen; NEST connects again by itself."))
        self.hide()
        self._checking = False
        self.timer = QTimer(self, interval=CHECK_EVERY_MS)
        self.timer.timeout.connect(self.check)
        changes().server_unreachable.connect(self.server_away)

    def server_away(self) -> None:
        self.show()
        if not self.timer.isActive():
            self.timer.start()

    def check(self) -> None:
        if self._checking:
            return
        self._checking = True
        run_in_background(server_reachable, self._checked, lambda _error: self._checked(False),
                          owner=self)

    def _checked(self, reachable: bool) -> None:
        self._checking = False
        if reachable and self.isVisible():
            self.timer.stop()
            self.hide()
            changes().server_back.emit()
