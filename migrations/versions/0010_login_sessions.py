"""Revocable sessions: a per-user session generation

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 23:00:00.000000

- user_account.session_generation: a counter every login session and remember-me cookie
  carries. Logging out, "log out on all devices", a password change or reset and deactivation
  bump it, and every session and remember-me cookie with the old value stops working on its
  next request.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.add_column(
            sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.drop_column("session_generation")
