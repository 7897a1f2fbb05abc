"""Database engine behaviour the booking guarantee depends on.

SQLite: Python's sqlite3 module opens transactions lazily and only before writes, so a
check-then-insert runs its check outside any lock and concurrent requests all pass it. We take the
transaction into our own hands (the SQLAlchemy documented recipe) and let services start it with
``BEGIN IMMEDIATE``: the write lock is held from before the conflict check until commit, so the
check and the insert are one atomic step.

PostgreSQL: the exclusion constraint on ``occupancy`` is the guarantee; nothing to do here.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from booking.extensions import db

_hooked: set[int] = set()


def is_sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


def install_database_hooks(engine: Engine) -> None:
    if engine.dialect.name != "sqlite" or id(engine) in _hooked:
        return
    _hooked.add(id(engine))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # We emit BEGIN ourselves (below); stop pysqlite from doing it behind our back.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def begin_write() -> None:
    """Start the session's transaction as a write transaction before anything is read.

    On SQLite a transaction that has already read cannot safely be upgraded to a writer (another
    writer may have committed in between), so a read-only transaction left over from earlier in
    the request (loading the current user) is ended first. A transaction with pending writes is
    a programming error: it would be lost.
    """
    session = db.session()
    if not is_sqlite():
        return
    if session.in_transaction():
        if session.info.get("wrote"):
            return  # SQLite granted the write lock at the first write; it is held until commit
        connection = session.connection()
        if connection.get_execution_options().get("sqlite_begin") == "IMMEDIATE":
            return
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("begin_write() called with unflushed changes in the session")
        session.rollback()
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


@event.listens_for(Session, "after_flush")
def _mark_written(session, _flush_context) -> None:
    session.info["wrote"] = True


@event.listens_for(Session, "after_transaction_end")
def _clear_written(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop("wrote", None)
