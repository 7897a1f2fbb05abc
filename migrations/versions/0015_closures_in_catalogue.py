"""Closures and site managers in the catalogue: their changes give a new catalogue version

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 03:45:00.000000

Every conflict check, search, availability and booking read the closures of the sites in
question, and every request or approval asked whether its user manages the site: two round
trips per request for data that changes a few times a year. Each process now keeps both in its
catalogue (booking/services/catalogue.py), and the triggers of migration 0006 set a new version
on every change to ``closure`` and ``site_manager`` as well, whoever makes it.

On SQLite a later migration that rebuilds one of these tables (``batch_alter_table``) drops its
triggers and must create them again (as 0009 does for ``room_feature``).
"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TABLES = ("closure", "site_manager")


def upgrade():
    for table in TABLES:
        if op.get_bind().dialect.name == "postgresql":
            op.execute(
                f"CREATE TRIGGER trg_{table}_catalogue_version "
                f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_version()"
            )
            continue
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER trg_{table}_catalogue_version_{event.lower()} "
                f"AFTER {event} ON {table} BEGIN "
                "INSERT INTO catalogue_version (id, version) "
                "VALUES (1, lower(hex(randomblob(16)))) "
                "ON CONFLICT (id) DO UPDATE SET version = excluded.version; END"
            )


def downgrade():
    for table in TABLES:
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER trg_{table}_catalogue_version ON {table}")
            continue
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER trg_{table}_catalogue_version_{event}")
