"""Catalogue version: a value that changes with every change to sites, rooms, features or hours

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 19:45:00.000000

Nearly every request reads the room catalogue (sites, rooms and how they divide, features,
opening hours), which changes a few times a year. Each process keeps it in memory and asks this
one row whether it is still current. Triggers set a new random version on every insert, update,
delete (and, on PostgreSQL, truncate) of those tables, so writes from anywhere count, and a
version never repeats after a rollback.
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

TABLES = ("site", "room", "room_feature", "opening_window")


def upgrade():
    op.create_table('catalogue_version',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_catalogue_version_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_version'))
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION bump_catalogue_version() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO catalogue_version (id, version)
                VALUES (1, gen_random_uuid()::text)
                ON CONFLICT (id) DO UPDATE SET version = excluded.version;
                RETURN NULL;
            END
            $$
            """
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER trg_{table}_catalogue_version "
                f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_version()"
            )
    else:
        for table in TABLES:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER trg_{table}_catalogue_version_{event.lower()} "
                    f"AFTER {event} ON {table} BEGIN "
                    "INSERT INTO catalogue_version (id, version) "
                    "VALUES (1, lower(hex(randomblob(16)))) "
                    "ON CONFLICT (id) DO UPDATE SET version = excluded.version; END"
                )
    random = (
        "gen_random_uuid()::text"
        if op.get_bind().dialect.name == "postgresql"
        else "lower(hex(randomblob(16)))"
    )
    op.execute(f"INSERT INTO catalogue_version (id, version) VALUES (1, {random})")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER trg_{table}_catalogue_version ON {table}")
        op.execute("DROP FUNCTION bump_catalogue_version()")
    else:
        for table in TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER trg_{table}_catalogue_version_{event}")
    op.drop_table('catalogue_version')
