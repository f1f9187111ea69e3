"""Windows that fit the desk's screen. The clinics' PCs mostly have 1366×768 screens with
the Windows taskbar at the bottom: a window opens inside the screen's available area (its
title bar and its buttons visible), at the size it asks for when there is room, and where
the secretary last left it."""

from PySide6.QtCore import QByteArray, QEvent, QObject, QRect, QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QWidget

# Around a window's content: its frame and title bar (Windows 10/11 at 100 %).
FRAME_WIDTH, FRAME_HEIGHT = 16, 40


def available_area(widget: QWidget | None = None) -> QRect:
    """The screen's room for windows (the taskbar left out), the widget's screen if shown."""
    screen = widget.screen() if widget is not None else None
    screen = screen or QGuiApplication.primaryScreen()
    return screen.availableGeometry()


class _GeometryKeeper(QObject):
    """Writes down where a window was left when it closes or hides."""

    def __init__(self, window: QWidget, key: str):
        super().__init__(window)
        self.key = key

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        if event.type() in (QEvent.Type.Close, QEvent.Type.Hide):
            QSettings().setValue(self.key, watched.saveGeometry())
        return False


def fit_on_screen(window: QWidget, width: int, height: int, remember: str = "") -> None:
    """Sizes a window (or dialog) at `width`×`height` when the screen has room, smaller
    otherwise, and places it wholly inside the available area. With `remember` (a name),
    it opens where it was left, if that still fits this screen, and remembers it again."""
    area = available_area(window.parentWidget() or window)
    room_width, room_height = area.width() - FRAME_WIDTH, area.height() - FRAME_HEIGHT
    key = f"geometry/{remember}" if remember else ""
    saved = QSettings().value(key) if key else None
    restored = isinstance(saved, QByteArray) and window.restoreGeometry(saved)
    if restored:
        window.resize(min(window.width(), room_width), min(window.height(), room_height))
    else:
        window.resize(min(width, room_width), min(height, room_height))
    inside = area.contains(window.geometry().adjusted(0, 0, FRAME_WIDTH, FRAME_HEIGHT))
    # A dialog is centred on its window by Qt, inside the screen; a window is placed here.
    if not (restored and inside) and (restored or not isinstance(window, QDialog)):
        window.move(area.left() + max(0, (area.width() - window.width() - FRAME_WIDTH) // 2),
                    area.top() + max(0, (area.height() - window.height() - FRAME_HEIGHT) // 2))
    if key:
        window.installEventFilter(_GeometryKeeper(window, key))
