"""Every window on the clinics' 1366×768 screen (less the taskbar): inside the screen, its
own buttons visible, its content scrolling down rather than sideways or off the window."""

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import (
    QApplication,
    QHeaderView,
    QPushButton,
    QScrollArea,
    QTableView,
    QTableWidget,
)

from nest_desktop.db.models import FollowUpTask
from nest_desktop.services import documents, reception, session, vaccination
from nest_desktop.services import patients as patient_service
from nest_desktop.services import pregnancy as pregnancy_service
from nest_desktop.ui.common.desk_context import DeskContext
from nest_desktop.ui.common.tasks import wait_for_background_work
from nest_desktop.ui.main_window import MainWindow


def settle() -> None:
    for _ in range(4):
        QApplication.processEvents()
        wait_for_background_work()
    QApplication.processEvents()


def problems(window) -> list[str]:
    """What a secretary could not reach on this screen without moving the window."""
    area = QApplication.primaryScreen().availableGeometry()
    found = []
    if not area.contains(window.geometry()):
        found.append(f"the window {window.geometry()} is not inside {area}")
    for scroll in window.findChildren(QScrollArea):
        if scroll.isVisible() and scroll.widget() is not None:
            needed = scroll.widget().minimumSizeHint().width()
            if needed > scroll.viewport().width() + 1:
                found.append(f"{type(scroll.widget()).__name__} scrolls sideways ({needed} px "
                             f"in {scroll.viewport().width()})")
    for view in window.findChildren(QTableView):
        header, model = view.horizontalHeader(), view.model()
        if not view.isVisible() or model is None:
            continue
        for section in range(model.columnCount()):
            if header.isSectionHidden(section) or header.sectionResizeMode(section) != \
                    QHeaderView.ResizeMode.Interactive:
                continue
            title = str(model.headerData(section, Qt.Orientation.Horizontal) or "")
            if header.sectionSize(section) < header.fontMetrics().horizontalAdvance(title) + 4:
                found.append(f"the column “{title}” is too narrow for its title")
    for button in window.findChildren(QPushButton):
        if not button.isVisible() or _in_a_scroll_area(button, window):
            continue
        corners = (button.mapToGlobal(QPoint(0, 0)),
                   button.mapToGlobal(QPoint(button.width() - 1, button.height() - 1)))
        if not all(area.contains(c) and window.geometry().contains(c) for c in corners):
            found.append(f"the button “{button.text()}” is off the screen")
    return found


def _in_a_scroll_area(widget, window) -> bool:
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        if isinstance(parent, QScrollArea):
            return True
        parent = parent.parentWidget()
    return False


@pytest.fixture
def files(desk):
    site, _user = desk
    mother = patient_service.create_patient(patient_service.PatientForm(
        last_name="Ndiaye-Sarr Diallo", first_names="Ndèye Fatou Bintou", sex="F",
        birth_date="02/03/1994", phones=["77 123 45 67"], sms_consent=True, site_id=site.id))
    expecting, _notes = pregnancy_service.save_pregnancy(
        mother.id, pregnancy_service.PregnancyForm(ddr="01/06/2026"))
    child = patient_service.create_patient(patient_service.PatientForm(
        last_name="Ndiaye-Sarr Diallo", first_names="Aïssatou", sex="F",
        birth_date="15/07/2026", pathway="paediatrics", site_id=site.id))
    patient_service.link_family(mother.id, child.id, "mother")
    vaccination.record_dose(child.id, "BCG", 1, "15/07/2026")
    return mother, expecting, child


@pytest.fixture(autouse=True)
def no_blocking_questions(monkeypatch):
    """A call window closed at the end is left unrecorded, without a modal question."""
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setattr(QMessageBox, "question",
                        lambda *args, **kwargs: QMessageBox.StandardButton.Discard)


@pytest.mark.clock("2026-11-23 10:00")
def test_every_window_fits_the_desk_screen(qtbot, desk, files):
    area = QApplication.primaryScreen().availableGeometry()
    assert (area.width(), area.height()) == (1366, 728)
    site, user = desk
    mother, expecting, child = files
    context = DeskContext(user, site)
    window = MainWindow(context, "test")
    qtbot.addWidget(window)
    window.show()
    for row in range(window.sections.count()):
        window.sections.setCurrentRow(row)
        settle()
        assert problems(window) == [], window.sections.item(row).text()
    for person in (mother, child):
        file_window = window.open_patient(person.id)
        for index in range(file_window.tabs.count()):
            if file_window.tabs.isTabVisible(index):
                file_window.tabs.setCurrentIndex(index)
                settle()
                assert problems(file_window) == [], file_window.tabs.tabText(index)
    # Maximised, the pregnancy's milestones show more than a couple of rows.
    file_window = window.open_patient(mother.id)
    file_window.showMaximized()
    file_window.show_pregnancy()
    settle()
    table = file_window.pregnancy.table
    assert isinstance(table, QTableWidget)
    assert table.viewport().height() >= 5 * table.rowHeight(0)

    from nest_desktop.ui.common.pdf_preview import PdfPreviewDialog
    from nest_desktop.ui.followup.outbound_call import OutboundCallDialog
    from nest_desktop.ui.prospects.prospect_tools import ImportDialog, ReportDialog
    from nest_desktop.ui.prospects.prospects_page import ProspectWindow
    from nest_desktop.ui.reception.appointments import AppointmentDialog, PersonPickerDialog
    from nest_desktop.ui.reception.call_window import IncomingCallWindow
    from nest_desktop.ui.settings.agenda_dialogs import OpeningHoursDialog

    # every view of the Appointments page
    window.show_section(window.appointments_page)
    for index in range(window.appointments_page.views.count()):
        window.appointments_page.views.setCurrentIndex(index)
        settle()
        assert problems(window) == [], window.appointments_page.views.tabText(index)
    name, pdf = documents.pack_36_weeks_pdf(expecting.id, log=False)
    session.require("document.print")
    doctor = reception.save_entry(reception.DirectoryForm(
        site.id, "person", "Dr Marie-Madeleine Ndiaye-Sarr", "", "205", None, True))
    missed = reception.book(reception.AppointmentForm(mother.id, None, site.id, doctor.id,
                                                      "23/11/2026", "08:00", 30, ""))
    reception.mark(missed.id, missed.version, "missed")
    task = FollowUpTask.get(FollowUpTask.rule == "rebook_missed")
    for other in (IncomingCallWindow(context), ProspectWindow(context),
                  PdfPreviewDialog(pdf, name, window), ImportDialog(site.id, window),
                  ReportDialog(site.id, window),
                  AppointmentDialog("Ndèye Fatou Bintou Ndiaye-Sarr Diallo", site.id,
                                    mother.id, parent=window),
                  PersonPickerDialog(site.id, window), OpeningHoursDialog(site.id, site.name,
                                                                          parent=window),
                  OutboundCallDialog(context, task.id, window)):
        qtbot.addWidget(other)
        other.show()
        settle()
        assert problems(other) == [], type(other).__name__


def test_a_window_left_somewhere_opens_there_again_if_it_still_fits(qtbot, desk):
    from nest_desktop.ui.prospects.prospect_tools import ImportDialog

    site, _user = desk

    def opened() -> ImportDialog:
        dialog = ImportDialog(site.id)
        qtbot.addWidget(dialog)
        dialog.show()
        settle()
        return dialog

    first = opened()
    first.setGeometry(100, 60, 700, 500)
    first.close()
    again = opened()
    # Where it was left, give or take the frame's few pixels.
    assert abs(again.x() - 100) <= 4 and abs(again.y() - 60) <= 4
    assert (again.width(), again.height()) == (700, 500)
    again.setGeometry(900, 500, 700, 500)  # half off this screen: brought back inside
    again.close()
    third = opened()
    assert QApplication.primaryScreen().availableGeometry().contains(third.geometry())
