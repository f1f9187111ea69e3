"""The notices at the top of the main window: an urgent message left for the person at this
desk (TEL-07), a red notice and a sound, from whichever workstation took it, until it is
passed on; and, before the site closes, what is still open today (TEL-08)."""

import datetime as dt

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QPushButton

from nest_desktop.domain import clock
from nest_desktop.domain.permissions import QUALITY_COPILOT, QUALITY_PILOT
from nest_desktop.i18n import _, ngettext, pgettext
from nest_desktop.services import agenda, desk, reception
from nest_desktop.ui.common.desk_context import DeskContext
from nest_desktop.ui.common.notifier import changes
from nest_desktop.ui.common.tasks import run_in_background

CHECK_MS = 30_000  # messages taken on another workstation show within half a minute
CLOSING_CHECK_MS = 60_000
CLOSING_NOTICE_MINUTES = 30  # the notice comes this long before the site closes


class _DeskNotice(QFrame):
    """A coloured band with its text, a button to go and see, and "Seen"; checked again
    every `check_ms` and at every change of the register, off the GUI thread."""

    def __init__(self, context: DeskContext, colour: str, see_label: str, check_ms: int,
                 parent=None):
        super().__init__(parent)
        self.context = context  # whoever is at the desk now (the user may change)
        self.setStyleSheet(f"QFrame {{ background: {colour}; border-radius: 4px; }} "
                           "QLabel { color: white; font-weight: bold; font-size: 11pt; }")
        self.text = QLabel()
        self.text.setWordWrap(True)
        see = QPushButton(see_label)
        see.clicked.connect(self._see)
        seen = QPushButton(pgettext("notice", "Seen"))
        seen.clicked.connect(self._dismiss)
        layout = QHBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(see)
        layout.addWidget(seen)
        self.hide()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(check_ms)
        changes().calls.connect(self.check)

    def check(self) -> None:
        raise NotImplementedError

    def _see(self) -> None:
        raise NotImplementedError

    def _dismiss(self) -> None:
        raise NotImplementedError


class UrgentNotice(_DeskNotice):
    openMessages = Signal()

    def __init__(self, context: DeskContext, parent=None):
        self.alerted: set[int] = set()  # sounded once each
        self.dismissed: set[int] = set()  # "seen": hidden until another one comes
        self.messages: list[reception.UrgentMessage] = []
        super().__init__(context, "#b00020", _("See the messages"), CHECK_MS, parent)
        changes().desk.connect(self._someone_else)

    def _see(self) -> None:
        self.openMessages.emit()

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


def lines_open_today(site_ids: list[int] | None) -> list[tuple[str, int, dt.time | None]]:
    """Each site's (name, requests and messages still open today, closing time today);
    every site's when `site_ids` is None."""
    today = clock.today()
    found = []
    for site in desk.sites():
        if site_ids is None or site.id in site_ids:
            left = reception.end_of_day(site.id, today)
            found.append((site.name, len(left.open_calls) + len(left.open_messages),
                          agenda.closing_time(site.id, today)))
    return found


class ClosingNotice(_DeskNotice):
    """Before the site closes (its own hours, not one time for the clinic): the lines still
    open, so that nothing is left unresolved at the end of the day (TEL-08). The quality
    pilot sees every site's, each at its own closing time."""

    openEndOfDay = Signal()

    def __init__(self, context: DeskContext, parent=None):
        self.dismissed_on: dt.date | None = None
        super().__init__(context, "#8a4b00", _("See the end of the day"), CLOSING_CHECK_MS,
                         parent)

    def _see(self) -> None:
        self.openEndOfDay.emit()

    def check(self) -> None:
        if self.context.user.role in (QUALITY_PILOT, QUALITY_COPILOT):
            site_ids = None  # every site
        elif self.context.site:
            site_ids = [self.context.site.id]
        else:
            self.hide()
            return
        run_in_background(lambda: lines_open_today(site_ids), self.show_lines, owner=self)

    def show_lines(self, sites: list[tuple[str, int, dt.time | None]]) -> None:
        now = clock.now()
        due = [(name, count, closing) for name, count, closing in sites
               if count and closing is not None and now >= dt.datetime.combine(
                   now.date(), closing) - dt.timedelta(minutes=CLOSING_NOTICE_MINUTES)]
        if not due or self.dismissed_on == now.date():
            self.hide()
            return
        if len(sites) == 1:
            _name, count, closing = due[0]
            text = ngettext(
                "The site closes at {time}: {count} line is still open today.",
                "The site closes at {time}: {count} lines are still open today.",
                count).format(time=closing.strftime("%H:%M"), count=count)
        else:
            text = "; ".join(ngettext(
                "{site} closes at {time}: {count} line still open",
                "{site} closes at {time}: {count} lines still open", count).format(
                site=name, time=closing.strftime("%H:%M"), count=count)
                for name, count, closing in due) + "."
        self.text.setText(text)
        self.show()

    def _dismiss(self) -> None:
        self.dismissed_on = clock.today()
        self.hide()
