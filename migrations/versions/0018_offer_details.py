"""What an open offer is: category, audience, languages, free of charge, drop in

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 08:00:00.000000

A public booking tells the people looking for open offers (issue #15) what it is about
(``offer_category``), whom it is for (``offer_audience``), the languages spoken there
(``offer_languages``, ISO 639-1 codes as a JSON list), whether it costs nothing
(``free_of_charge``) and whether people may simply come (``drop_in``). All optional; existing
bookings have none of them.

Plain ``ADD COLUMN``s (no table rebuild on SQLite), so the triggers of migration 0017 on
``booking`` stay.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

CATEGORIES = (
    "sport", "music", "culture", "learning", "language_cafe", "counselling", "youth", "seniors",
    "families", "other",
)  # fmt: skip
AUDIENCES = ("everyone", "children", "youth", "adults", "seniors", "families")


def upgrade():
    op.add_column(
        "booking",
        sa.Column(
            "offer_category",
            sa.Enum(*CATEGORIES, name="offercategory", native_enum=False, length=32),
            nullable=True,
        ),
    )
    op.add_column(
        "booking",
        sa.Column(
            "offer_audience",
            sa.Enum(*AUDIENCES, name="offeraudience", native_enum=False, length=32),
            nullable=True,
        ),
    )
    op.add_column(
        "booking", sa.Column("offer_languages", sa.JSON(), nullable=False, server_default="[]")
    )
    op.add_column(
        "booking",
        sa.Column("free_of_charge", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "booking", sa.Column("drop_in", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade():
    # Plain DROP COLUMNs (SQLite 3.35+), so the full-text triggers of 0017 stay.
    for column in ("drop_in", "free_of_charge", "offer_languages", "offer_audience", "offer_category"):
        op.drop_column("booking", column)
