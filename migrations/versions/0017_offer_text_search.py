"""Full-text search over the open offers' titles and descriptions

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 07:45:00.000000

The public offers page, the embeddable list and the API find offers by words (issue #15):

- PostgreSQL: a GIN index on the German text-search vector of a booking's title and description
  (``booking.search.text_vector``); words are matched by their German stem ("Kinder" finds
  "Kind", "Chöre" finds "Chor").
- SQLite: an FTS5 index ``booking_text`` over the same two columns, an external-content table
  kept in step with ``booking`` by triggers (insert, update of either column, delete), filled
  from the existing rows once here. Words are matched by their beginning ("Kind" finds
  "Kinder"), letter case and accents aside; SQLite has no German stemmer.

On SQLite a later migration that rebuilds ``booking`` (``batch_alter_table``) drops these
triggers and must create them again; use plain ``op.add_column``/``op.drop_column`` instead
(as 0018 does). ``tests/integration/test_migrations.py`` checks that they are there.
"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

VECTOR = "to_tsvector('german', (coalesce(title, '') || ' ') || coalesce(description, ''))"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_booking_text_search ON booking USING gin ({VECTOR})")
        return
    op.execute(
        "CREATE VIRTUAL TABLE booking_text USING fts5(title, description, content='booking', "
        "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
    )
    op.execute(
        "CREATE TRIGGER booking_text_insert AFTER INSERT ON booking BEGIN "
        "INSERT INTO booking_text(rowid, title, description) "
        "VALUES (new.id, new.title, new.description); END"
    )
    op.execute(
        "CREATE TRIGGER booking_text_delete AFTER DELETE ON booking BEGIN "
        "INSERT INTO booking_text(booking_text, rowid, title, description) "
        "VALUES ('delete', old.id, old.title, old.description); END"
    )
    op.execute(
        "CREATE TRIGGER booking_text_update AFTER UPDATE OF title, description ON booking BEGIN "
        "INSERT INTO booking_text(booking_text, rowid, title, description) "
        "VALUES ('delete', old.id, old.title, old.description); "
        "INSERT INTO booking_text(rowid, title, description) "
        "VALUES (new.id, new.title, new.description); END"
    )
    op.execute("INSERT INTO booking_text(booking_text) VALUES ('rebuild')")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_booking_text_search")
        return
    for trigger in ("booking_text_insert", "booking_text_delete", "booking_text_update"):
        op.execute(f"DROP TRIGGER {trigger}")
    op.execute("DROP TABLE booking_text")
