"""Registration without address enumeration: confirmed addresses

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 01:10:00.000000

- user_account.email_confirmed_at: when the owner of the address proved it by opening a link
  mailed to it. Registration no longer tells whether an address has an account: it always
  answers "we sent you a mail"; a new address gets a confirmation link, a known one a note that
  it is registered already. An account can be used once its address is confirmed. Accounts that
  exist already (made by an admin, the CLI, an invitation or registered before) count as
  confirmed from their creation.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.add_column(sa.Column("email_confirmed_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE user_account SET email_confirmed_at = created_at")


def downgrade():
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.drop_column("email_confirmed_at")
