"""Extension singletons (Superset's shape). The AppBuilder is created per app in
create_app(): a module-global AppBuilder serves only one app per process (STACK_NOTES §1.1)."""

from __future__ import annotations

from flask_appbuilder.utils.legacy import get_sqla_class
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

db = get_sqla_class()()
csrf = CSRFProtect()
migrate = Migrate()


def _sqlite_pragmas(dbapi_connection: object, connection_record: object) -> None:
    """Every SQLite connection: enforce foreign keys (off by default in SQLite), and use WAL
    with synchronous=NORMAL so readers do not block the writer and each commit does not wait
    for an fsync (safe against application crashes; the last commits may be lost on power loss)."""
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.close()


def install_sqlite_pragmas() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if not event.contains(Engine, "connect", _sqlite_pragmas):
        event.listen(Engine, "connect", _sqlite_pragmas)
