"""Managed equipment list: a feature table that administrators extend

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 22:00:00.000000

- feature: ``key`` (the stable word the API, search links and the CSV import use, such as
  "projector"), German and English labels, ``active``, ``position`` (the lists' order) and
  ``created_at``. Seeded with the sixteen kinds of equipment that were a fixed list in the code
  until now, with the labels the pages showed.
- room_feature.feature becomes a foreign key to feature.key. A key on a room that is not in the
  seed (written by hand) is added as an inactive feature named by its key, so nothing is lost.
- Changes to the list bump the catalogue version (triggers as in 0006), so every process sees a
  new label at once. On SQLite the foreign key rebuilds room_feature, which drops its triggers;
  they are created again.
"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# key, German label, English label (the order is the lists' order).
SEED = (
    ("projector", "Beamer", "Projector"),
    ("screen", "Leinwand", "Screen"),
    ("piano", "Klavier", "Piano"),
    ("kitchen", "Küche", "Kitchen"),
    ("stage", "Bühne", "Stage"),
    ("sports_floor", "Sportboden", "Sports floor"),
    ("sound_system", "Musikanlage", "Sound system"),
    ("whiteboard", "Whiteboard", "Whiteboard"),
    ("flipchart", "Flipchart", "Flipchart"),
    ("wifi", "WLAN", "Wi-Fi"),
    ("tables_chairs", "Tische und Stühle", "Tables and chairs"),
    ("changing_rooms", "Umkleiden", "Changing rooms"),
    ("showers", "Duschen", "Showers"),
    ("darkening", "Kann verdunkelt werden", "Can be darkened"),
    ("mirrors", "Spiegel", "Mirrors"),
    ("computers", "Computer", "Computers"),
)
STEP = 10  # positions 10, 20, ...: room to put a new feature in between


def upgrade():
    feature = op.create_table('feature',
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('label_de', sa.String(length=100), nullable=False),
    sa.Column('label_en', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_feature'))
    )
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    now = datetime.now(UTC)
    if sqlite:
        now = now.replace(tzinfo=None)  # stored as naive UTC, as UTCDateTime does
    rows = [
        {"key": key, "label_de": de, "label_en": en, "active": True,
         "position": STEP * (i + 1), "created_at": now}
        for i, (key, de, en) in enumerate(SEED)
    ]
    seeded = {key for key, _, _ in SEED}
    found = bind.execute(sa.text("SELECT DISTINCT feature FROM room_feature")).scalars().all()
    for i, key in enumerate(sorted(k for k in found if k not in seeded)):
        rows.append({"key": key, "label_de": key[:100], "label_en": key[:100], "active": False,
                     "position": STEP * (len(SEED) + i + 1), "created_at": now})
    op.bulk_insert(feature, rows)

    with op.batch_alter_table('room_feature', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_room_feature_feature_feature'), 'feature', ['feature'], ['key'])

    _catalogue_triggers("feature")
    if sqlite:
        _catalogue_triggers("room_feature")  # the rebuilt table lost them


def _catalogue_triggers(table):
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE TRIGGER trg_{table}_catalogue_version "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_version()"
        )
    else:
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER IF NOT EXISTS trg_{table}_catalogue_version_{event.lower()} "
                f"AFTER {event} ON {table} BEGIN "
                "INSERT INTO catalogue_version (id, version) "
                "VALUES (1, lower(hex(randomblob(16)))) "
                "ON CONFLICT (id) DO UPDATE SET version = excluded.version; END"
            )


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER trg_feature_catalogue_version_{event}")
    else:
        op.execute("DROP TRIGGER trg_feature_catalogue_version ON feature")
    with op.batch_alter_table('room_feature', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_room_feature_feature_feature'), type_='foreignkey')
    if sqlite:
        _catalogue_triggers("room_feature")
    op.drop_table('feature')
