"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

import os
import warnings
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from booking.extensions import db as _db

ON_POSTGRESQL = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")
NO_SQLITE_GUARD = (
    "PostgreSQL only: SQLite has no database-level overlap guard (no exclusion constraint, no "
    "trigger); there the service's BEGIN IMMEDIATE write lock (booking/database.py) keeps the "
    "check and the insert one step (tests/integration/test_concurrency.py)"
)
postgresql_only = pytest.mark.skipif(not ON_POSTGRESQL, reason=NO_SQLITE_GUARD)
INSERT_OCCUPANCY = text(
    "INSERT INTO occupancy (occurrence_id, unit_id, starts_at, ends_at) "
    "VALUES (:occurrence_id, :unit_id, :starts_at, :ends_at)"
)


def test_migrated_schema_matches_the_models(db):
    with _db.engine.connect() as connection, warnings.catch_warnings():
        # SQLite cannot reflect expression indexes; the PostgreSQL-only GiST index on the
        # occupancy period is checked on PostgreSQL (and below).
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression")
        # SQLite's full-text index of the offers (migration 0017) is a virtual table with
        # shadow tables that no model describes (migrations/env.py leaves them out likewise).
        context = MigrationContext.configure(
            connection,
            opts={
                "include_name": lambda name, type_, parents: (
                    not (type_ == "table" and (name or "").startswith("booking_text"))
                )
            },
        )
        differences = compare_metadata(context, _db.metadata)
    assert differences == []


@pytest.mark.skipif(
    not ON_POSTGRESQL, reason="PostgreSQL only: a GiST index; SQLite has no range index"
)
def test_postgresql_has_the_period_index_for_search(db):
    indexes = {i["name"] for i in inspect(_db.engine).get_indexes("occupancy")}
    assert "ix_occupancy_period" in indexes


@postgresql_only
def test_postgresql_has_the_overlap_guard(db):
    constraints = {
        row[0]
        for row in _db.session.execute(
            _db.text("SELECT conname FROM pg_constraint WHERE contype = 'x'")
        )
    }
    assert "ex_occupancy_no_overlap" in constraints
    assert "occupancy" in inspect(_db.engine).get_table_names()


@pytest.fixture
def occupied(db, make_room, make_user, make_booking):
    """An approved date and the occupancy row it holds: (occurrence id, unit id, start, end)."""
    booking = make_booking(make_user(), make_room(), datetime(2026, 3, 2, 17, tzinfo=UTC), 60)
    row = db.session.execute(
        text("SELECT occurrence_id, unit_id FROM occupancy WHERE occurrence_id = :id"),
        {"id": booking.occurrences[0].id},
    ).one()
    start = datetime(2026, 3, 2, 17, tzinfo=UTC)
    return row.occurrence_id, row.unit_id, start, start + timedelta(hours=1)


def _insert(occupied, starts_at: datetime, ends_at: datetime) -> None:
    occurrence_id, unit_id, _start, _end = occupied
    _db.session.execute(
        INSERT_OCCUPANCY,
        {
            "occurrence_id": occurrence_id,
            "unit_id": unit_id,
            "starts_at": starts_at,
            "ends_at": ends_at,
        },
    )
    _db.session.commit()


def _count_occupancy() -> int:
    return _db.session.scalar(text("SELECT count(*) FROM occupancy"))


@postgresql_only
def test_the_exclusion_constraint_refuses_an_overlap_written_past_the_application(occupied):
    """SQL straight into the table, as a buggy service or a hand-made fix would write it: the
    database itself refuses a second row over the same unit and time."""
    import psycopg.errors

    _occurrence, _unit, start, end = occupied
    with pytest.raises(IntegrityError) as refused:
        _insert(occupied, start + timedelta(minutes=30), end + timedelta(minutes=30))
    assert isinstance(refused.value.orig, psycopg.errors.ExclusionViolation)
    assert "ex_occupancy_no_overlap" in str(refused.value.orig)
    _db.session.rollback()
    assert _count_occupancy() == 1


@postgresql_only
def test_the_exclusion_constraint_lets_touching_dates_be(occupied):
    """Half-open periods: a date that starts when the other ends (or ends when it starts) does
    not overlap it."""
    _occurrence, _unit, start, end = occupied
    _insert(occupied, end, end + timedelta(hours=1))
    _insert(occupied, start - timedelta(hours=1), start)
    assert _count_occupancy() == 3


def test_a_period_that_ends_before_it_starts_is_refused_on_both_databases(occupied):
    """The one occupancy guard SQLite has in the schema too: the check constraint."""
    _occurrence, _unit, start, _end = occupied
    with pytest.raises(IntegrityError, match=r"ck_occupancy_period|CHECK constraint"):
        _insert(occupied, start + timedelta(days=1), start + timedelta(days=1))
    _db.session.rollback()
    assert _count_occupancy() == 1


def test_migrations_form_one_line(app):
    """`flask db upgrade` (to "head") needs exactly one head revision."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", app.extensions["migrate"].directory)
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


@pytest.mark.skipif(ON_POSTGRESQL, reason="SQLite only: PostgreSQL's offer search is an index")
def test_sqlite_keeps_the_offer_search_triggers(db):
    """Migration 0017's triggers keep the FTS5 index in step with ``booking``; a later table
    rebuild of ``booking`` would drop them silently (old words found, anonymised ones too)."""
    with _db.engine.connect() as connection:
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'booking'"
        triggers = set(connection.scalars(text(query)))
    assert {"booking_text_insert", "booking_text_update", "booking_text_delete"} <= triggers
