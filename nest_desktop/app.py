"""Starting the application: python main.py [--database URL] [--demo]."""

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from peewee import DatabaseError
from PySide6.QtCore import QLibraryInfo, QLocale, QSettings, QStandardPaths, QTimer, QTranslator
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from nest_desktop import APP_NAME, ORGANIZATION, __version__, i18n
from nest_desktop.db.connection import close_database, open_database, sqlite_path, sqlite_url
from nest_desktop.db.migrations import SchemaError
from nest_desktop.domain import clock
from nest_desktop.i18n import _, ngettext

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
    parser.add_argument("--now", metavar="MOMENT", type=clock.parse_moment,
                        help="with --demo or --self-test: the application's clock starts at "
                             "this moment and runs on from it, e.g. 2027-01-31T23:30 (for "
                             "training and checks; a clinic's records keep the real time)")
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    args = parser.parse_args(argv)
    if args.now is not None and not (args.demo or args.self_test):
        parser.error("--now is only for --demo and --self-test: a clinic's records keep the "
                     "real time")
    return args


def without_password(url: str) -> str:
    """A database URL fit for a log or a screen: its password replaced by stars."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def default_database_url() -> str:
    folder = Path(QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.AppDataLocation))
    folder.mkdir(parents=True, exist_ok=True)
    return sqlite_url(folder / "nest.sqlite3")


class QtCatalogGaps(QTranslator):
    """What Qt's own catalog of the language lacks: Qt 6's file dialog names two of its
    labels with a shortcut ('&Look in:') its French catalog does not have."""

    STRINGS = {
        "fr": {("QFileDialog", "&Look in:"): "&Regarder dans\u00a0:",
               ("QFileDialog", "Files of &type:"): "&Type de fichier\u00a0:"},
    }

    def __init__(self, language: str, parent=None):
        super().__init__(parent)
        self.strings = self.STRINGS.get(language, {})

    def translate(self, context, source, disambiguation=None, n=-1):  # noqa: ARG002 (Qt's)
        return self.strings.get((context, source))  # None: Qt's catalog answers


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
    gaps = QtCatalogGaps(language, app)
    app.installTranslator(gaps)
    translators.append(gaps)
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
        self.idle_watcher = None

    def start(self) -> bool:
        """First run or login, then the main window; False when the person gave up."""
        from nest_desktop.services import demo, desk, session
        from nest_desktop.ui.common.desk_context import DeskContext
        from nest_desktop.ui.main_window import remember_desk
        from nest_desktop.ui.settings.desk_dialogs import (
            FirstRunDialog,
            LoginDialog,
            PasswordDialog,
        )

        store = QSettings()
        site_id = int(store.value("desk/site_id", 0) or 0) or None
        if desk.needs_first_run():
            dialog = FirstRunDialog()
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return False
            site_id = dialog.site.id
        elif not self.ask_who_is_at_desk:
            # The demo (and benchmarks on demo data) open as Clémence.
            session.login("clemence", demo.DEMO_PASSWORD)
            site_id = site_id or session.current().site_id
        else:
            last_user_id = int(store.value("desk/user_id", 0) or 0) or None
            dialog = LoginDialog(last_user_id, site_id)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return False
            site_id = dialog.chosen_site()
        if session.current().must_change_password:
            if PasswordDialog(required=True).exec() != QDialog.DialogCode.Accepted:
                session.logout()
                return False
        user = session.current()
        remember_desk(user.id, site_id)
        self.context = DeskContext(user, desk.get_site(site_id) if site_id else None)
        self.show_main_window()
        return True

    def show_main_window(self) -> None:
        from nest_desktop.services import settings
        from nest_desktop.ui.idle_lock import IdleWatcher
        from nest_desktop.ui.main_window import MainWindow

        self.window = MainWindow(self.context, self.database_label)
        self.window.languageChanged.connect(self.change_language)
        self.window.lockRequested.connect(lambda: self.lock(asked=True))
        self.window.show()
        # SMS go from the workstation while it is open (the tests' windows send nothing).
        self.window.sms_sender.start()
        # The watcher lives with the window: Qt removes it from the application with it.
        self.idle_watcher = IdleWatcher(float(settings.get("security.lock_minutes")),
                                        self.window)
        self.app.installEventFilter(self.idle_watcher)
        self.idle_watcher.idle.connect(self.lock)
        self.window.closing.connect(self.idle_watcher.stop)

    def lock(self, asked: bool = False) -> None:
        """Hides every window until the same or another person logs in; nothing is lost.
        `asked`: by the person at the desk ('Change user', Ctrl+L), else after a while
        without use; the lock screen says which."""
        from nest_desktop.services import desk, session
        from nest_desktop.ui.settings.desk_dialogs import LoginDialog

        if self.window is None or not self.window.isVisible():
            return  # closing, or locked already: nothing shown to hide
        hidden = [w for w in self.app.topLevelWidgets() if w.isVisible()]
        for widget in hidden:
            widget.hide()
        from nest_desktop.services import settings

        name = self.context.user.full_name
        why = (_("{name} locked the screen to leave the desk. Log in to go on: unsaved work is "
                 "kept.").format(name=name) if asked else ngettext(
            "The screen locked itself after {count} minute without use, to keep the files "
            "private. Log in to go on: unsaved work is kept.",
            "The screen locked itself after {count} minutes without use, to keep the files "
            "private. Log in to go on: unsaved work is kept.",
            int(settings.get("security.lock_minutes") or 0)).format(
            count=int(settings.get("security.lock_minutes") or 0)))
        session.log("lock", "user", self.context.user.id)
        session.logout()
        site_id = self.context.site.id if self.context.site else None
        while True:
            dialog = LoginDialog(self.context.user.id, site_id, locked=True, why_locked=why)
            if dialog.exec() == QDialog.DialogCode.Accepted:
                break
        self.context.user = session.current()
        chosen_site = dialog.chosen_site()
        self.context.site = desk.get_site(chosen_site) if chosen_site else None
        for widget in hidden:
            widget.show()
        self.window.desk_changed()
        if self.idle_watcher is not None:
            self.idle_watcher.resume()

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


def open_command_database(database: str | None, language: bool = True) -> bool:
    """For a command without windows (send-sms, rebuild-state): the database given, else the
    application's (the workstation's settings are read for it, and for the language its
    messages are printed in when `language`); False (said on stderr) when it cannot be
    opened."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    url = database or os.environ.get("NEST_DATABASE_URL")
    if language or not url:
        from PySide6.QtCore import QCoreApplication

        app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])
        app.setOrganizationName(ORGANIZATION)
        app.setApplicationName(APP_NAME)
        if language:
            i18n.set_language(QSettings().value("language", i18n.DEFAULT_LANGUAGE))
        from nest_desktop.ui.settings import workstation

        url = url or workstation.database_url() or default_database_url()
    try:
        open_database(url)
    except (SchemaError, OSError, DatabaseError) as error:
        print(f"The database {without_password(url)} cannot be opened: {error}",
              file=sys.stderr)
        return False
    return True


def send_sms_command(argv: list[str]) -> int:
    """`nest-desktop send-sms [--database URL]`: catches the reminders up and sends what is
    due, then quits; for the Windows Task Scheduler when nobody has the application open."""
    from nest_desktop.services import sms

    parser = argparse.ArgumentParser(prog="nest-desktop send-sms",
                                     description="send the SMS that are due, then quit")
    parser.add_argument("--database", metavar="URL", help="as for the application")
    args = parser.parse_args(argv)
    if not open_command_database(args.database):
        return 1
    try:
        scheduled, report = sms.run()
    finally:
        close_database()
    print(_("Reminders: {created} scheduled, {moved} moved, {cancelled} cancelled.").format(
        created=scheduled.created, moved=scheduled.moved, cancelled=scheduled.cancelled))
    print(report.describe())
    for error in dict.fromkeys(report.errors):
        print(error, file=sys.stderr)
    return 2 if report.errors and not report.sent else 0


def rebuild_state_command(argv: list[str]) -> int:
    """`nest-desktop rebuild-state [--check] [--database URL]`: computes again what the lists
    keep beside the records (each child's doses due, each pregnancy's next milestone) and
    checks it against the computation; with --check, only checks."""
    from nest_desktop.services import kept_state

    parser = argparse.ArgumentParser(prog="nest-desktop rebuild-state",
                                     description="rebuild the states the lists keep")
    parser.add_argument("--database", metavar="URL", help="as for the application")
    parser.add_argument("--check", action="store_true",
                        help="only compare the kept states with the computation")
    args = parser.parse_args(argv)
    if not open_command_database(args.database, language=False):  # it prints in English
        return 1
    try:
        if not args.check:
            for name, count in kept_state.rebuild().items():
                print(f"{name}: {count} rebuilt")
        wrong = kept_state.differences()
    finally:
        close_database()
    for name, ids in wrong.items():
        shown = ", ".join(str(record_id) for record_id in ids[:20])
        print(f"{name}: {len(ids)} differ from the computation" + (f" ({shown})" if ids else ""))
    return 1 if any(wrong.values()) else 0


def recovered_if_damaged(url: str) -> bool:
    """A damaged embedded database at start opens the recovery window instead of being
    taken for a new clinic; False when nothing usable could be put back."""
    if not url.startswith("sqlite:///"):
        return True
    from nest_desktop.services import backup

    path = Path(url[len("sqlite:///"):])
    problem = backup.startup_problem(path)
    if problem is None:
        return True
    log.error("damaged database %s: %s", path, problem)
    from nest_desktop.ui.recovery import RecoveryDialog

    dialog = RecoveryDialog(path, problem)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    try:
        open_database(url)
        backup.record_recovery(dialog.chosen.path, dialog.aside, dialog.login.text())
    finally:
        close_database()
    return True


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["send-sms"]:
        return send_sms_command(argv[1:])
    if argv[:1] == ["rebuild-state"]:
        return rebuild_state_command(argv[1:])
    args = parse_arguments(argv)
    if args.now is not None:
        clock.set_now(args.now, running=True)
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
    from nest_desktop.ui.common import errors

    errors.install()  # what no window caught: a French message, logged, the window kept

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
        from nest_desktop.ui.settings import workstation

        url = (args.database or os.environ.get("NEST_DATABASE_URL")
               or workstation.database_url() or default_database_url())
    if not args.demo and not recovered_if_damaged(url):
        return 1
    try:
        db = open_database(url)
        if args.demo:
            from nest_desktop.services import demo

            demo.generate(DEMO_PATIENTS)
    except (SchemaError, OSError, DatabaseError) as error:
        log.exception("cannot open the database %s", without_password(url))
        QMessageBox.critical(None, APP_NAME, _("The database cannot be opened:\n{error}").format(
            error=error))
        return 1
    if args.quit_after_start and not args.demo:
        from nest_desktop.services import demo

        if not demo.is_demo_database():
            # it opens as the demo's Clémence: never on a clinic's records
            log.error("--quit-after-start is for the demo's and the benchmarks' databases")
            close_database()
            return 2
    path = sqlite_path(db)
    label = (_("demo (throw-away)") if args.demo else str(path) if path
             else without_password(url))
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
        from nest_desktop.ui.common.tasks import wait_for_background_work

        wait_for_background_work()
        # Deliver the last answers of background work, then delete the windows while Qt is
        # still there, rather than leave them to Python's exit.
        app.processEvents()
        if application.window is not None:
            application.window.deleteLater()
            app.processEvents()
        close_database()
        if demo_folder is not None:
            shutil.rmtree(demo_folder, ignore_errors=True)
