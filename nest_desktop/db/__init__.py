"""Peewee models, the connection (SQLite by default, any server by URL) and migrations."""
