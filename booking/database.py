"""Database engine behaviour the booking guarantee depends on.

SQLite: Python's sqlite3 module opens transactions lazily and only before writes, so a
check-then-insert runs its check outside any lock and concurrent requests all pass it. We take the
transaction into our own hands (the SQLAlchemy documented recipe) and let services start it with
``BEGIN IMMEDIATE``: the write lock is held from before the conflict check until commit, so the
check and the insert are one atomic step.

PostgreSQL: the exclusion constraint on ``occupancy`` is the guarantee; nothing to do here.

Both: a database that is gone or stuck must not hold a worker until gunicorn kills it. Every
connection gets short limits from the config: SQLite waits ``SQLITE_BUSY_TIMEOUT`` for the write
lock; PostgreSQL gets ``DATABASE_CONNECT_TIMEOUT`` to connect, ``DATABASE_STATEMENT_TIMEOUT`` per
statement on the server and, for a connection whose answers stop arriving at all (a frozen
network path: the server's timeout never gets the chance), a deadline on the client a little
longer than that. The resulting ``OperationalError`` is answered with 503 (``booking/errors.py``).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Mapping
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from booking.extensions import db

log = logging.getLogger(__name__)

# Defaults of the limits (seconds); the config (booking/config.py) sets them per deployment.
SQLITE_BUSY_TIMEOUT = 5.0
CONNECT_TIMEOUT = 5.0
STATEMENT_TIMEOUT = 15.0
# How much longer than the statement timeout the client waits for an answer before it gives the
# connection up: the server's own timeout, where it can act, answers well within this.
CLIENT_DEADLINE_MARGIN = 2.0

# A pooled PostgreSQL connection unused for longer than this is tried with a round trip before a
# request gets it (a database restarted meanwhile has closed it); one in steady use is not.
PING_AFTER = 10.0

# Engines already set up. Weak, so that a new engine is never mistaken for a collected one
# (a set of ``id()`` values can: ids are reused).
_hooked: weakref.WeakSet[Engine] = weakref.WeakSet()


def is_sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


def install_database_hooks(engine: Engine, config: Mapping[str, Any] | None = None) -> None:
    """Set up every connection ``engine`` opens (call before it opens the first)."""
    if engine in _hooked:
        return
    _hooked.add(engine)
    if engine.dialect.name == "sqlite":
        _install_sqlite_hooks(engine, _seconds(config, "SQLITE_BUSY_TIMEOUT", SQLITE_BUSY_TIMEOUT))
    elif engine.dialect.name == "postgresql":
        _install_idle_ping(engine, _seconds(config, "DATABASE_PING_AFTER", PING_AFTER))
        if engine.dialect.driver == "psycopg":
            _install_postgresql_limits(
                engine,
                _seconds(config, "DATABASE_CONNECT_TIMEOUT", CONNECT_TIMEOUT),
                _seconds(config, "DATABASE_STATEMENT_TIMEOUT", STATEMENT_TIMEOUT),
            )


def _seconds(config: Mapping[str, Any] | None, key: str, default: float) -> float:
    value = (config or {}).get(key)
    return float(default if value is None or value == "" else value)


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def _install_sqlite_hooks(engine: Engine, busy_timeout: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # We emit BEGIN ourselves (below); stop pysqlite from doing it behind our back.
        dbapi_connection.isolation_level = None
        # SQLite's own lower() folds A-Z only; searches by name (the directory, organisations,
        # people) compare lower(column) with what was typed, lowered by Python, as PostgreSQL's
        # lower() does for every letter ("Über" is found by "über").
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # How long a writer waits for the write lock before "database is locked"; the unit of
        # work then retries the request (booking/unit_of_work.py), at last it is a 503.
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def _install_idle_ping(engine: Engine, ping_after: float) -> None:
    """Try a pooled connection before handing it out, if it has been idle for ``ping_after``
    seconds (0: every time, as SQLAlchemy's ``pool_pre_ping``).

    A connection the server closed (a restart, a failover, an idle timeout on the way) would
    fail the next request's first statement; tried first, it is replaced unnoticed (the pool
    opens a new one when the check raises ``DisconnectionError``). ``pool_pre_ping`` does that
    for every checkout, one round trip per request; a connection back in the pool a moment ago
    is very rarely dead, and if it is, the error invalidates the whole pool, so only that one
    request sees it (answered with 503 and ``Retry-After``).
    """
    from time import monotonic

    from sqlalchemy.exc import DisconnectionError

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record) -> None:
        record.info["checked_in_at"] = monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, record, _proxy) -> None:
        returned = record.info.pop("checked_in_at", None)
        if returned is None or monotonic() - returned < ping_after:
            return  # new, or in use a moment ago
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
        except Exception as exc:
            raise DisconnectionError("the pooled connection is gone") from exc


def _install_postgresql_limits(engine: Engine, connect_timeout: float, statement_timeout: float):
    """Open each connection with a connect timeout, the server's statement timeout (0 turns
    either off; a value given in the URL or the ``connect_args`` wins) and the client's deadline
    for each answer."""
    deadline = statement_timeout + CLIENT_DEADLINE_MARGIN if statement_timeout > 0 else None
    connection_class = _deadline_connection_class()

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect, _record, cargs, cparams):
        if connect_timeout > 0:
            cparams.setdefault("connect_timeout", max(1, round(connect_timeout)))
        options = str(cparams.get("options") or "")
        # Just-in-time compilation pays off for long analytical queries; for this application's
        # short statements it only adds compile time (a search once spent 0.35 s compiling a
        # plan that runs in 5 ms because of a rough row estimate).
        if "jit" not in options:
            options = f"{options} -c jit=off".strip()
        if statement_timeout > 0 and "statement_timeout" not in options:
            options = f"{options} -c statement_timeout={int(statement_timeout * 1000)}"
        cparams["options"] = options
        if connection_class is None or deadline is None:
            return None  # SQLAlchemy connects as usual
        connection = connection_class.connect(*cargs, **cparams)
        connection.answer_deadline = deadline
        return connection


def _deadline_connection_class():
    """A psycopg connection that stops waiting for an answer after ``answer_deadline`` seconds.

    The server's statement timeout cannot help when nothing reaches the server (a frozen
    network path or proxy: the operating system accepts the bytes, nobody forwards them); then
    the client would wait for ever. After the deadline the connection is closed, so the pool
    throws it away, and the statement fails with ``OperationalError``. Needs psycopg's ``wait``
    with a timeout (3.2 and later); with an older psycopg the server's timeout is all there is.
    """
    import inspect

    import psycopg

    wait_timeout = getattr(psycopg.errors, "_WaitTimeout", None)
    waits = inspect.signature(psycopg.Connection.wait).parameters
    if wait_timeout is None or "timeout" not in waits:
        log.warning("psycopg %s has no wait timeout: no client deadline", psycopg.__version__)
        return None

    class DeadlineConnection(psycopg.Connection):
        answer_deadline: float | None = None

        def wait(self, gen, interval=0.1, timeout=None):
            if timeout is None and self.answer_deadline is not None:
                try:
                    return super().wait(gen, interval=interval, timeout=self.answer_deadline)
                except wait_timeout:
                    self.pgconn.finish()  # its state is unknown: nobody may use it again
                    raise psycopg.OperationalError(
                        f"no answer from the database within {self.answer_deadline:g} s; "
                        "the connection is closed"
                    ) from None
            return super().wait(gen, interval=interval, timeout=timeout)

    return DeadlineConnection


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
