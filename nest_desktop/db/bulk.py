"""Writing thousands of rows (an import): Peewee builds each INSERT anew, which costs more
than SQLite or PostgreSQL take to run it. `RepeatedInsert` builds it once and runs it again
with each row's values."""

from peewee import Model

from nest_desktop.db.models import database


class RepeatedInsert:
    """INSERTs of one model whose rows all give the same fields; returns each new row's id.

    The statement Peewee builds for the first row is checked against the values this class
    would send; if they differ (a field Peewee treats otherwise), every row goes through
    Peewee as usual, only slower."""

    def __init__(self, model: type[Model]):
        self.model = model
        self.sql: str | None = None
        self.fields: list | None = None
        self.fallback = False

    def _params(self, values: dict) -> list:
        params = []
        for field in self.fields:
            value = values[field.name] if field.name in values else (
                field.default() if callable(field.default) else field.default)
            params.append(field.db_value(value))
        return params

    def __call__(self, **values) -> int:
        if self.fallback:
            return self.model.insert(**values).execute()
        if self.sql is None:
            query = self.model.insert(**values)
            sql, expected = query.sql()
            self.fields = [field for field in self.model._meta.sorted_fields
                           if not field.primary_key and (field.name in values
                                                         or field.default is not None)]
            mine = self._params(values)
            # A default computed at each call (now()) may differ by a tick: not compared.
            differ = len(expected) != len(mine) or any(
                theirs != ours
                for theirs, ours, field in zip(expected, mine, self.fields, strict=False)
                if field.name in values or not callable(field.default))
            if differ:
                self.fallback = True
            else:
                self.sql = sql
            return query.execute()
        cursor = database.execute_sql(self.sql, self._params(values))
        if database.returning_clause and " RETURNING " in self.sql:
            return cursor.fetchone()[0]
        return cursor.lastrowid
