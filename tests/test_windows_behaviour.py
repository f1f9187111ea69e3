"""What the clinic's Windows PCs need: file names, CSV for a French Excel, one instance."""

import codecs
import csv
import datetime as dt
import uuid
from pathlib import Path

import pytest

from nest_desktop.services import documents, exports, settings
from nest_desktop.services import vaccination as vaccination_service


@pytest.mark.parametrize("text, expected", [
    ("Fiche patient Aïssatou N'Diaye 2026-11-23", "Fiche patient Aïssatou N'Diaye 2026-11-23"),
    ('RDV 10:30 / "Sacré-Cœur"?*<>|', 'RDV 10-30 - -Sacré-Cœur------'),
    ("  trailing dots... ", "trailing dots"),
    ("///", "---"),
    ("", "document"),
])
def test_safe_file_names_keep_accents_and_drop_what_windows_refuses(text, expected):
    assert exports.safe_file_name(text) == expected


@pytest.mark.parametrize("separator", [";", ","])
def test_csv_has_a_bom_and_reads_back_with_the_same_dialect(db, tmp_path, separator):
    path = tmp_path / "export.csv"
    rows = [["Aïssatou Ndiaye", "1 234,50", 'dit "bonjour"; puis part'], ["Ndèye", "", None]]
    assert exports.write_csv(path, ["Nom", "Montant", "Note"], rows, separator) == 2
    raw = path.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        read = list(csv.reader(handle, delimiter=separator))
    assert read == [["Nom", "Montant", "Note"], rows[0], ["Ndèye", "", ""]]
    assert not path.with_suffix(".partial").exists()


def test_csv_separator_setting_defaults_to_french_excel(db):
    assert exports.csv_separator() == ";"
    settings.put("export.csv_separator", ",")
    assert exports.csv_separator() == ","


def test_an_unwritable_csv_is_a_clear_error(db, tmp_path):
    with pytest.raises(exports.ExportError, match="n’a pas pu être écrit"):
        exports.write_csv(tmp_path / "missing" / "x.csv", ["a"], [])


def test_due_list_export_in_french(db, family, tmp_path):
    _mother, child = family
    rows = vaccination_service.due_list(30, today=dt.date(2026, 11, 23))
    path = tmp_path / "vaccins.csv"
    assert documents.due_list_csv(path, rows) == 1
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header, line = list(csv.reader(handle, delimiter=";"))
    assert header[:4] == ["Enfant", "Date de naissance", "Site", "Doses à faire"]
    assert line[0] == "Moussa Fall" and line[1] == "05/09/2026"
    assert "Hexavalent (DTC-HepB-Hib-VPI) 1" in line[3]
    assert line[5:] == ["oui", "77 123 45 67", "oui"]


def test_a_second_instance_wakes_the_first_and_gives_way(qtbot):
    from nest_desktop.ui.single_instance import SingleInstance

    name = f"nest-desktop-test-{uuid.uuid4().hex[:8]}"
    first, second = SingleInstance(name), SingleInstance(name)
    try:
        assert first.claim()
        with qtbot.waitSignal(first.activated, timeout=3000):
            assert not second.claim()
    finally:
        first.server.close()


def test_self_test_passes_from_the_source_tree(qtbot):
    from PySide6.QtWidgets import QApplication

    from nest_desktop.app import install_language
    from nest_desktop.ui import self_test

    app = QApplication.instance()
    install_language(app, "fr")
    lines = []
    assert self_test.run(app, lines.append), lines
    assert lines[-1] == "self-test passed"


def test_database_passwords_never_reach_logs_or_screens():
    from nest_desktop.app import without_password

    assert without_password("postgresql://nest:S3cret@10.0.0.5:5432/nest") == (
        "postgresql://nest:***@10.0.0.5:5432/nest")
    assert without_password("sqlite:///C:/NEST/nest.sqlite3") == "sqlite:///C:/NEST/nest.sqlite3"


def test_the_demo_and_the_self_test_may_move_the_clock_a_clinic_may_not(capsys):
    from nest_desktop.app import parse_arguments

    args = parse_arguments(["--self-test", "--now", "2028-02-29T09:00"])
    assert args.now == dt.datetime(2028, 2, 29, 9, 0)
    assert parse_arguments(["--demo", "--now", "2027-12-31 23:30"]).now.year == 2027
    with pytest.raises(SystemExit):
        parse_arguments(["--now", "2027-12-31 23:30"])
    assert "a clinic's records keep the real time" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_arguments(["--demo", "--now", "31/12/2027"])


def test_qts_own_file_dialog_speaks_french_and_english(qtbot):
    from PySide6.QtWidgets import QAbstractButton, QApplication, QFileDialog, QLabel

    from nest_desktop.app import install_language

    app = QApplication.instance()
    try:
        for language, expected in (("fr", {"&Regarder dans\u00a0:", "&Nom de fichier\u00a0:",
                                            "&Type de fichier\u00a0:"}),
                                   ("en", {"&Look in:", "File &name:", "Files of &type:"})):
            install_language(app, language)
            dialog = QFileDialog(None, "PDF", "", "PDF (*.pdf)")
            qtbot.addWidget(dialog)
            dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
            dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
            dialog.show()
            assert {label.text() for label in dialog.findChildren(QLabel)} >= expected
            buttons = {button.text() for button in dialog.findChildren(QAbstractButton)}
            assert ("&Enregistrer" if language == "fr" else "&Save") in buttons
            dialog.close()
    finally:
        install_language(app, "fr")


def test_a_document_is_saved_in_documents_then_where_the_last_one_went(qtbot, monkeypatch,
                                                                        tmp_path):
    from PySide6.QtCore import QSettings, QStandardPaths
    from PySide6.QtWidgets import QFileDialog, QWidget

    from nest_desktop.ui.common.widgets import ask_save_path

    QSettings().remove("exports/folder")
    asked = []

    def answer(parent, title, proposed, file_filter):
        asked.append(proposed)
        return (str(tmp_path / "chosen.pdf"), file_filter)

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(answer))
    parent = QWidget()
    qtbot.addWidget(parent)
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    assert ask_save_path(parent, "PDF", "Carte.pdf", "PDF (*.pdf)") == tmp_path / "chosen.pdf"
    assert asked[0] == str(Path(documents) / "Carte.pdf")
    ask_save_path(parent, "CSV", "Registre.csv", "CSV (*.csv)")
    assert asked[1] == str(tmp_path / "Registre.csv")
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *args: ("", "")))
    assert ask_save_path(parent, "CSV", "Registre.csv", "CSV (*.csv)") is None
    QSettings().remove("exports/folder")
