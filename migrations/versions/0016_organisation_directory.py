"""Public directory of organisations: listed only when the organisation chooses so

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 07:00:00.000000

- organisation.listed: an organisation's admins may list it in the public directory
  (``/directory``, issue #15): its name, kind, district, description, web address and public
  contact address, with its upcoming public offers. Off for every existing organisation: being
  listed is opt-in.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "organisation",
        sa.Column("listed", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade():
    # A plain DROP COLUMN (SQLite 3.35+): a batch rebuild of ``organisation`` would drop the
    # table with foreign keys on and take memberships, join requests and invitations with it.
    op.drop_column("organisation", "listed")
