"""Table models for long lists: they hold the ids of what is shown and fetch the rows by
blocks when the view first shows them (the patient list, Today)."""

from array import array

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

BLOCK = 200
_NO_PARENT = QModelIndex()


class LazyRowsModel(QAbstractTableModel):
    """Subclasses name their COLUMNS, give `headers()` and `fetch(ids) -> {id: row}`."""

    COLUMNS: tuple[str, ...] = ()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._ids = array("q")  # 8 bytes an id, not a Python object each
        self._rows: dict = {}

    def headers(self) -> list[str]:
        raise NotImplementedError

    def fetch(self, ids: list[int]) -> dict:
        raise NotImplementedError

    def set_ids(self, ids) -> None:
        self.beginResetModel()
        self._ids, self._rows = array("q", ids), {}
        self.endResetModel()

    def ids(self) -> list[int]:
        return self._ids.tolist()

    def id_at(self, row: int) -> int | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, row: int):
        """The row's record, its block fetched first if need be."""
        record_id = self._ids[row]
        if record_id not in self._rows:
            start = (row // BLOCK) * BLOCK
            self._rows.update(self.fetch(self._ids[start:start + BLOCK].tolist()))
        return self._rows.get(record_id)

    def rowCount(self, parent=_NO_PARENT) -> int:  # noqa: N802 (Qt's name)
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent=_NO_PARENT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role in (
                Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self.headers()[section]
        return None
