"""Starting the application: python main.py [--database URL] [--demo]."""

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from peewee import DatabaseError
from PySide6.QtCore import QLibraryInfo, QLocale, QSettings, QStandardPaths, QTimer, QTranslator
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from nest_desktop import APP_NAME, ORGANIZATION, __version__, i18n
from nest_desktop.db.connection import close_database, open_database, sqlite_path, sqlite_url
from nest_desktop.db.migrations import SchemaError
from nest_desktop.i18n import _

log = logging.getLogger("nest_desktop")
DEMO_PATIENTS = 600


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nest-desktop", description=APP_NAME)
    parser.add_argument("--database", metavar="URL",
                        help="database URL (default: NEST_DATABASE_URL, else the embedded "
                             "SQLite file in the user's data folder), e.g. "
                             "sqlite:///C:/NEST/nest.sqlite3 or postgresql://user@host/nest")
    parser.add_argument("--demo", action="store_true",
                        help="open a throw-away database filled with a believable clinic")
    parser.add_argument("--quit-after-start", action="store_true",
                        help="print the start-up time and quit once the main window shows "
                             "(for benchmarks)")
    parser.add_argument("--self-test", action="store_true",
                        help="check on a throw-away demo clinic that the build finds its "
                             "resources, opens a patient file and prints, then quit")
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    return parser.parse_args(argv)


def default_database_url() -> str:
    folder = Path(QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.AppDataLocation))
    folder.mkdir(parents=True, exist_ok=True)
    return sqlite_url(folder / "nest.sqlite3")


def install_language(app: QApplication, language: str) -> None:
    """Activates our catalogs and Qt's own, so standard buttons read 'Annuler' too."""
    i18n.set_language(language)
    for old in getattr(app, "_nest_translators", []):
        app.removeTranslator(old)
    translators = []
    qt_translator = QTranslator(app)
    if qt_translator.load(f"qtbase_{language}",
                          QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt_translator)
        translators.append(qt_translator)
    app._nest_translators = translators
    QLocale.setDefault(QLocale(i18n.current_locale()))


class Application:
    """Owns the database, who is at the desk and the main window (rebuilt on a language
    change, so every label is translated anew)."""

    def __init__(self, app: QApplication, database_label: str, ask_who_is_at_desk: bool = True):
        self.app = app
        self.ask_who_is_at_desk = ask_who_is_at_desk
        self.database_label = database_label
        self.window = None
        self.context = None

    def start(self) -> bool:
        from nest_desktop.services import desk
        from nest_desktop.ui.desk_context import DeskContext
        from nest_desktop.ui.desk_dialogs import DeskLoginDialog, FirstRunDialog
        from nest_desktop.ui.main_window import remember_desk

        store = QSettings()
        if desk.needs_first_run():
            dialog = FirstRunDialog()
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return False
            remember_desk(dialog.user.id, dialog.site.id)
            self.context = DeskContext(dialog.user, dialog.site)
        else:
            last_user = desk.get_user(int(store.value("desk/user_id", 0) or 0))
            site_id = int(store.value("desk/site_id", 0) or 0) or None
            users = desk.users()
            if len(users) == 1 or not self.ask_who_is_at_desk:
                user = last_user or users[0]
                site_id = site_id or user.site_id
            else:
                dialog = DeskLoginDialog(last_user.id if last_user else None,
                                         site_id or (last_user.site_id if last_user else None))
                if dialog.exec() != QDialog.DialogCode.Accepted:
                    return False
                user_id, site_id = dialog.chosen()
                user = desk.get_user(user_id)
            remember_desk(user.id, site_id)
            self.context = DeskContext(user, desk.get_site(site_id) if site_id else None)
        self.show_main_window()
        return True

    def show_main_window(self) -> None:
        from nest_desktop.ui.main_window import MainWindow

        self.window = MainWindow(self.context, self.database_label)
        self.window.languageChanged.connect(self.change_language)
        self.window.show()

    def bring_forward(self) -> None:
        if self.window is not None:
            self.window.showNormal()
            self.window.raise_()
            self.window.activateWindow()

    def change_language(self, language: str) -> None:
        QSettings().setValue("language", language)
        old = self.window
        if not old.close_patient_windows():
            return
        install_language(self.app, language)
        old.close()
        old.deleteLater()
        self.show_main_window()
        self.window.sections.setCurrentRow(self.window.sections.count() - 1)


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    if args.self_test:
        from nest_desktop.ui import self_test

        install_language(app, i18n.DEFAULT_LANGUAGE)
        return 0 if self_test.run(app) else 1
    install_language(app, QSettings().value("language", i18n.DEFAULT_LANGUAGE))

    # One instance per user on the clinic's data: a second launch brings the open window
    # forward. The demo and benchmarks run beside it.
    from nest_desktop.ui.single_instance import SingleInstance

    instance = SingleInstance(parent=app)
    if not (args.demo or args.quit_after_start) and not instance.claim():
        log.info("NEST Desktop is already open: its window is brought forward")
        return 0

    demo_folder = None
    if args.demo:
        demo_folder = Path(tempfile.mkdtemp(prefix="nest-demo-"))
        url = sqlite_url(demo_folder / "demo.sqlite3")
    else:
        url = args.database or os.environ.get("NEST_DATABASE_URL") or default_database_url()
    try:
        db = open_database(url)
        if args.demo:
            from nest_desktop.services import demo

            demo.generate(DEMO_PATIENTS)
    except (SchemaError, OSError, DatabaseError) as error:
        log.exception("cannot open the database %s", url)
        QMessageBox.critical(None, APP_NAME, _("The database cannot be opened:\n{error}").format(
            error=error))
        return 1
    path = sqlite_path(db)
    label = (_("demo (throw-away)") if args.demo else str(path) if path
             else url.split("@")[-1])
    # The demo and benchmarks start straight away; a clinic's desk says who is there.
    application = Application(app, label, ask_who_is_at_desk=not (args.demo or
                                                                  args.quit_after_start))
    try:
        if not application.start():
            return 0
        instance.activated.connect(application.bring_forward)
        if args.quit_after_start:
            def report() -> None:
                print(f"main window shown after {time.perf_counter() - started:.3f} s",
                      flush=True)
                app.quit()
            application.window.shown.connect(lambda: QTimer.singleShot(0, report))
            if application.window.isVisible():
                QTimer.singleShot(0, report)
        return app.exec()
    finally:
        from nest_desktop.ui.tasks import wait_for_background_work

        wait_for_background_work()
        close_database()
        if demo_folder is not None:
            shutil.rmtree(demo_folder, ignore_errors=True)
