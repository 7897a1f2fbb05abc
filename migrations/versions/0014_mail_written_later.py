"""Mails written after the answer: the outbox keeps the notice

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 01:30:00.000000

- outbox_message.notice: what a mail is about (JSON: its kind, the recipient's id, the booking's
  id, the dates with their status and reason at the change, the values the text needs), kept
  until the mail is written: once the request's answer has been sent, or by the mail worker
  before it sends. Rendering a booking's mail (52 dates in two formats) no longer delays the
  answer. Emptied once subject and body are written; rows written before hold none.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_message") as batch_op:
        batch_op.add_column(sa.Column("notice", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("outbox_message") as batch_op:
        batch_op.drop_column("notice")
