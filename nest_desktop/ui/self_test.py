"""`nest-desktop --self-test`: what a frozen build must do without its source tree, checked on
a throw-away demo clinic: catalogs, Qt's translations, schedules, the main window, a patient
file, and the handouts as PDF."""

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication

from nest_desktop import i18n
from nest_desktop.db.connection import close_database, open_database, sqlite_url
from nest_desktop.domain import clock
from nest_desktop.paths import RESOURCES_DIR, TRANSLATIONS_DIR
from nest_desktop.ui.common.pdf_preview import open_pdf


def _pdf_pages(pdf: bytes) -> int:
    document = open_pdf(pdf)
    pages = document.pageCount()
    document.close()
    return pages


def run(app: QApplication, report: Callable[[str], None] = print) -> bool:
    from nest_desktop.services import demo, desk, documents, session, vaccination
    from nest_desktop.services import patients as patient_service
    from nest_desktop.ui.common.desk_context import DeskContext
    from nest_desktop.ui.common.tasks import wait_for_background_work
    from nest_desktop.ui.main_window import MainWindow

    folder = Path(tempfile.mkdtemp(prefix="nest-self-test-"))
    results: list[tuple[str, bool]] = []

    def check(name: str, passed: bool) -> None:
        results.append((name, passed))
        report(f"{'ok  ' if passed else 'FAIL'} {name}")

    if clock.is_set():
        report(f"clock set at {clock.now():%Y-%m-%d %H:%M}")
    try:
        check(f"resources found in {RESOURCES_DIR}",
              (RESOURCES_DIR / "vaccination" / "schedules.json").is_file())
        check(f"catalogs found in {TRANSLATIONS_DIR}",
              (TRANSLATIONS_DIR / "fr" / "LC_MESSAGES" / "nest_desktop.mo").is_file())
        check("French messages", i18n._("Settings") == "Paramètres")
        check("Qt's own French translations",
              QCoreApplication.translate("QPlatformTheme", "Cancel") == "Annuler")
        open_database(sqlite_url(folder / "self-test.sqlite3"))
        demo.generate(60, seed=1)
        check("demo clinic", patient_service.count() >= 60)
        session.login("clemence", demo.DEMO_PASSWORD)
        check("login", session.may("patient.write"))
        user = desk.users()[0]
        window = MainWindow(DeskContext(user, desk.sites()[0]), "self-test")
        window.show()
        app.processEvents()
        check("main window", window.isVisible())
        child = next(r for r in vaccination.due_list(3650) if r.patient_id)
        file_window = window.open_patient(child.patient_id)
        app.processEvents()
        check("patient file", file_window.first_names.text() != "")
        check("vaccination tab", file_window.vaccination.table.rowCount() > 0)
        name, sheet = documents.patient_sheet_pdf(child.patient_id)
        check(f"patient file PDF ({name})", _pdf_pages(sheet) >= 1)
        name, calendar = documents.vaccination_calendar_pdf(child.patient_id)
        check(f"vaccination calendar PDF ({name})", _pdf_pages(calendar) == 1)
        from nest_desktop.domain import quality as quality_rules
        from nest_desktop.services import indicators, management_review

        scope = indicators.Scope(quality_rules.period_of(quality_rules.MONTH, clock.today()))
        name, review = management_review.review_pdf(scope)
        check(f"management review PDF ({name})", _pdf_pages(review) >= 1)
        window.show_section(window.quality_page)
        app.processEvents()
        wait_for_background_work()
        app.processEvents()
        check("quality indicators and their chart (QtCharts)",
              window.quality_page.indicators.table.rowCount() > 20
              and window.quality_page.indicators.chart.chart() is not None)
        from nest_desktop.sms.transports import GsmModem

        check("GSM modem's PDU encoder", len(GsmModem.pdus("+221771234567", "é" * 200,
                                                            "self-test")) == 2)
        wait_for_background_work()
        for open_window in list(window.patient_windows.values()):
            open_window.close()
        window.close()
        window.deleteLater()
        app.processEvents()
    except Exception as error:  # the self-test reports every failure, it never crashes
        check(f"unexpected error: {error!r}", False)
    finally:
        wait_for_background_work()
        session.logout()
        close_database()
        shutil.rmtree(folder, ignore_errors=True)
    passed = all(ok for _name, ok in results)
    report("self-test passed" if passed else "self-test FAILED")
    return passed
