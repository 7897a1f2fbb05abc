"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

import warnings

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from booking.extensions import db as _db


def test_migrated_schema_matches_the_models(db):
    with _db.engine.connect() as connection, warnings.catch_warnings():
        # SQLite cannot reflect expression indexes; the PostgreSQL-only GiST index on the
        # occupancy period is checked on PostgreSQL (and below).
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression")
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, _db.metadata)
    assert differences == []


def test_postgresql_has_the_period_index_for_search(db):
    if _db.engine.dialect.name != "postgresql":
        return
    indexes = {i["name"] for i in inspect(_db.engine).get_indexes("occupancy")}
    assert "ix_occupancy_period" in indexes


def test_postgresql_has_the_overlap_guard(db):
    if _db.engine.dialect.name != "postgresql":
        return
    constraints = {
        row[0]
        for row in _db.session.execute(
            _db.text("SELECT conname FROM pg_constraint WHERE contype = 'x'")
        )
    }
    assert "ex_occupancy_no_overlap" in constraints
    assert "occupancy" in inspect(_db.engine).get_table_names()


def test_migrations_form_one_line(app):
    """`flask db upgrade` (to "head") needs exactly one head revision."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", app.extensions["migrate"].directory)
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1
