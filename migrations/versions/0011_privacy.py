"""Privacy (#13): marks for the retention rule

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 01:00:00.000000

- booking.anonymised_at: when ``flask purge`` took the personal data out of a booking whose last
  date is older than the retention period (``RETENTION_MONTHS``): the requester, the description,
  the reasons on its dates, who decided them, and the title of a private booking. None while the
  booking still holds them. The mark makes the daily run idempotent: a booking is done once and
  counted once.
- audit_event.anonymised_at: the same for audit events older than the period, which lose their
  actor, subject person, reason and details but keep the action and what it was about.

A deleted account needs no schema change: booking.requested_by_id, occurrence.decided_by_id and
the audit event's actor and person are nullable already; the account's own rows are deleted.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.add_column(sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_column("anonymised_at")
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_column("anonymised_at")
