"""An urgent message left for the person at this desk (TEL-07): a red notice at the top of
her window and a sound, from whichever workstation took it, until it is passed on."""

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QPushButton

from nest_desktop.i18n import _, ngettext, pgettext
from nest_desktop.services import reception
from nest_desktop.ui.common.desk_context import DeskContext
from nest_desktop.ui.common.notifier import changes
from nest_desktop.ui.common.tasks import run_in_background

CHECK_MS = 30_000  # messages taken on another workstation show within half a minute


class UrgentNotice(QFrame):
    openMessages = Signal()

    def __init__(self, context: DeskContext, parent=None):
        super().__init__(parent)
        self.context = context  # whoever is at the desk now (the user may change)
        self.alerted: set[int] = set()  # sounded once each
        self.dismissed: set[int] = set()  # "seen": hidden until another one comes
        self.setStyleSheet("QFrame { background: #b00020; border-radius: 4px; } "
                           "QLabel { color: white; font-weight: bold; font-size: 11pt; }")
        self.text = QLabel()
        self.text.setWordWrap(True)
        show = QPushButton(_("See the messages"))
        show.clicked.connect(self.openMessages.emit)
        seen = QPushButton(pgettext("notice", "Seen"))
        seen.clicked.connect(self._dismiss)
        layout = QHBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(show)
        layout.addWidget(seen)
        self.hide()
        self.messages: list[reception.UrgentMessage] = []
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(CHECK_MS)
        changes().calls.connect(self.check)
        changes().desk.connect(self._someone_else)

    def _someone_else(self) -> None:
        self.alerted.clear()
        self.dismissed.clear()
        self.check()

    def check(self) -> None:
        user_id = self.context.user.id
        run_in_background(lambda: reception.urgent_messages_for(user_id), self.show_messages,
                          owner=self)

    def show_messages(self, messages: list[reception.UrgentMessage]) -> None:
        self.messages = messages
        waiting = [m for m in messages if m.id not in self.dismissed]
        if not waiting:
            self.hide()
            return
        latest = waiting[-1]
        self.text.setText(ngettext(
            "Urgent message for you ({time}) from {caller}: {text}",
            "{count} urgent messages for you; the latest ({time}) from {caller}: {text}",
            len(waiting)).format(count=len(waiting), time=latest.taken_at.strftime("%H:%M"),
                                 caller=latest.caller, text=latest.text))
        self.show()
        new = {m.id for m in waiting} - self.alerted
        if new:
            self.alerted |= new
            QApplication.beep()

    def _dismiss(self) -> None:
        self.dismissed |= {m.id for m in self.messages}
        self.hide()
