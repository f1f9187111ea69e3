"""The printing path of every handout: preview in the application, print through the system
dialog at 300 dpi (not QPrinter's 1200-dpi default, half a gigabyte a page), or save."""

from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize
from PySide6.QtGui import QPageSize, QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
)

from nest_desktop.i18n import _
from nest_desktop.ui.common.screen import fit_on_screen
from nest_desktop.ui.common.widgets import ask_save_path

PRINT_DPI = 300


def open_pdf(pdf: bytes, parent=None) -> QPdfDocument:
    """A PDF in memory as a QPdfDocument. The buffer it reads is its child, so that it is
    deleted after the document and never while the document may still read it."""
    document = QPdfDocument(parent)
    buffer = QBuffer(document)
    buffer.setData(QByteArray(pdf))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    document.load(buffer)
    return document


def print_pdf(document: QPdfDocument, printer: QPrinter) -> None:
    """Paints each page at the printer's resolution, fitted to its printable area."""
    painter = QPainter()
    if not painter.begin(printer):
        raise OSError(_("The printer could not be opened."))
    try:
        # fromPage() and toPage() are 1-based, and 0 when the whole document is asked for.
        first = printer.fromPage() or 1
        last = min(printer.toPage() or document.pageCount(), document.pageCount())
        pages = range(first - 1, last)
        for position, page in enumerate(pages):
            if position:
                printer.newPage()
            area = painter.viewport()
            points = document.pagePointSize(page)
            scale = min(area.width() / points.width(), area.height() / points.height())
            size = QSize(int(points.width() * scale), int(points.height() * scale))
            image = document.render(page, size)
            painter.drawImage(0, 0, image)
    finally:
        painter.end()


class PdfPreviewDialog(QDialog):
    def __init__(self, pdf: bytes, file_name: str, parent=None):
        super().__init__(parent)
        self.pdf = pdf
        self.file_name = file_name
        self.setWindowTitle(file_name)
        self.document = open_pdf(pdf, self)
        self.view = QPdfView(self)
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.status = QLabel()
        print_button = QPushButton(_("Print…"))
        save_button = QPushButton(_("Save as…"))
        close_button = QPushButton(_("Close"))
        print_button.setDefault(True)
        print_button.clicked.connect(self.print_document)
        save_button.clicked.connect(self.save_as)
        close_button.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(save_button)
        buttons.addWidget(close_button)
        buttons.addWidget(print_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        fit_on_screen(self, 760, 900, "pdf_preview")

    def make_printer(self) -> QPrinter:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setResolution(PRINT_DPI)
        printer.setDocName(self.file_name)
        printer.setFromTo(1, self.document.pageCount())
        if self.document.pageCount():
            # The paper of the document (A4, or A5 for a small calendar) is proposed first.
            printer.setPageSize(QPageSize(self.document.pagePointSize(0),
                                          QPageSize.Unit.Point, "", QPageSize.SizeMatchPolicy
                                          .FuzzyMatch))
        return printer

    def print_document(self) -> None:
        printer = self.make_printer()
        dialog = QPrintDialog(printer, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        try:
            print_pdf(self.document, printer)
        except OSError as error:
            QMessageBox.warning(self, _("Printing failed"), str(error))
            return
        self.status.setText(_("Sent to the printer."))

    def save_as(self) -> None:
        path = ask_save_path(self, _("Save the PDF"), self.file_name, _("PDF (*.pdf)"))
        if path is not None:
            self.save_to(path)

    def save_to(self, path: Path) -> None:
        try:
            path.write_bytes(self.pdf)
        except OSError as error:
            QMessageBox.warning(self, _("Saving failed"),
                                _("The PDF could not be saved: {error}").format(error=error))
            return
        self.status.setText(_("Saved in {path}").format(path=path))
