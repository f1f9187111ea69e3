"""The agenda's settings: the opening hours of a site (and its closed days), or of one of its
services or practitioners when they differ from the site's."""

from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
)

from nest_desktop.domain import agenda as agenda_rules
from nest_desktop.domain import clock
from nest_desktop.i18n import _, format_date
from nest_desktop.services import ValidationFailed, agenda, session
from nest_desktop.ui.common.notifier import changes
from nest_desktop.ui.common.screen import fit_on_screen
from nest_desktop.ui.common.widgets import (
    DateEdit,
    FieldWithError,
    MessageLabel,
    dialog_buttons,
    fill,
    read_only_table,
)


class OpeningHoursDialog(QDialog):
    """A week of opening hours, typed as '08:00-12:30, 15:00-18:00' (empty: closed); for a
    site, also the days it is closed (holidays)."""

    def __init__(self, site_id: int, name: str, entry_id: int | None = None, parent=None):
        super().__init__(parent)
        self.site_id, self.entry_id = site_id, entry_id
        self.setWindowTitle(_("Opening hours — {name}").format(name=name))
        week = agenda.week_hours(site_id, entry_id)
        own = agenda.has_own_hours(site_id, entry_id)
        intro = QLabel(
            (_("The hours this service or practitioner takes appointments. Leave every day "
               "empty to follow the site's hours.") if entry_id else
             _("The hours the site takes appointments; an appointment outside them needs a "
               "reason. Several periods: 08:00-12:30, 15:00-18:00. Empty: closed.")) + (
                "" if own else " " + (_("Now: the site's hours.") if entry_id
                                      else _("Now: the usual hours, as none were set."))))
        intro.setWordWrap(True)
        self.days: dict[int, QLineEdit] = {}
        self.fields: dict[str, FieldWithError] = {}
        hours_box = QGroupBox(_("Week"))
        hours = QFormLayout(hours_box)
        for weekday, label in enumerate(agenda_rules.WEEKDAYS):
            editor = QLineEdit(agenda_rules.hours_text(week[weekday]) if own or not entry_id
                               else "")
            editor.setPlaceholderText(_("closed") if own or not entry_id
                                      else agenda_rules.hours_text(week[weekday]) or _("closed"))
            editor.setMaxLength(80)
            self.days[weekday] = editor
            self.fields[f"weekday_{weekday}"] = FieldWithError(editor)
            hours.addRow(_(label), self.fields[f"weekday_{weekday}"])
        self.message = MessageLabel()
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(hours_box)
        if entry_id is None:
            layout.addWidget(self._closed_days_box())
        layout.addWidget(self.message)
        layout.addWidget(dialog_buttons(self, self._save, save=True))
        fit_on_screen(self, 560, 640 if entry_id is None else 420, "opening_hours")

    def _closed_days_box(self) -> QGroupBox:
        box = QGroupBox(_("Closed days"))
        self.closed = read_only_table([_("Day"), _("Why")])
        self.closed.setMinimumHeight(110)
        self.closed_rows: list[agenda.ClosedDayRow] = []
        self.closed_day = DateEdit()
        self.closed_reason = QLineEdit()
        self.closed_reason.setMaxLength(100)
        self.closed_reason.setPlaceholderText(_("e.g. Tabaski"))
        self.fields["closed_day"] = FieldWithError(self.closed_day)
        self.fields["closed_reason"] = FieldWithError(self.closed_reason)
        add, remove = QPushButton(_("Add")), QPushButton(_("Remove"))
        add.clicked.connect(self._add_closed_day)
        remove.clicked.connect(self._remove_closed_day)
        row = QHBoxLayout()
        row.addWidget(self.fields["closed_day"])
        row.addWidget(self.fields["closed_reason"], 1)
        row.addWidget(add)
        row.addWidget(remove)
        layout = QVBoxLayout(box)
        layout.addWidget(self.closed)
        layout.addLayout(row)
        self._show_closed_days()
        return box

    def _show_closed_days(self) -> None:
        self.closed_rows = agenda.closed_days(self.site_id, since=clock.today())
        fill(self.closed, [(format_date(row.day, "full"), row.reason)
                           for row in self.closed_rows])
        self.closed.resizeColumnsToContents()

    def _add_closed_day(self) -> None:
        for name in ("closed_day", "closed_reason"):
            self.fields[name].set_error(None)
        try:
            agenda.add_closed_day(self.site_id, self.closed_day.text(),
                                  self.closed_reason.text())
        except ValidationFailed as failed:
            for name, message in failed.errors.items():
                if name in self.fields:
                    self.fields[name].set_error(message)
            return
        except session.PermissionDenied as refused:
            self.message.say(str(refused), error=True)
            return
        self.closed_day.clear()
        self.closed_reason.clear()
        self._show_closed_days()
        changes().appointments.emit()

    def _remove_closed_day(self) -> None:
        row = self.closed.currentRow()
        if not 0 <= row < len(self.closed_rows):
            self.message.say(_("Choose a day in the list."), error=True)
            return
        try:
            agenda.remove_closed_day(self.closed_rows[row].id)
        except session.PermissionDenied as refused:
            self.message.say(str(refused), error=True)
            return
        self._show_closed_days()
        changes().appointments.emit()

    def _save(self) -> None:
        for name, field in self.fields.items():
            if name.startswith("weekday_"):
                field.set_error(None)
        try:
            agenda.save_week_hours(self.site_id, self.entry_id,
                                   {weekday: editor.text() for weekday, editor in
                                    self.days.items()})
        except ValidationFailed as failed:
            for name, message in failed.errors.items():
                if name in self.fields:
                    self.fields[name].set_error(message)
            self.message.say(_("Check the fields marked."), error=True)
            return
        except session.PermissionDenied as refused:
            QMessageBox.warning(self, _("Not allowed"), str(refused))
            return
        changes().appointments.emit()
        self.accept()
