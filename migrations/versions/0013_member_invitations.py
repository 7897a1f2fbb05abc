"""Members join by invitation, with their consent

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 01:00:00.000000

- member_invitation: an organisation's admin invites an e-mail address; the mail carries a
  secret link (only its SHA-256 is stored) where the person accepts or declines. Adding a
  member by address no longer makes them a member at once, nor tells the inviter whether the
  address has an account. At most one pending invitation per address and organisation (partial
  unique index).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "member_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column(
            "role",
            sa.Enum("member", "admin", name="memberrole", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "accepted",
                "declined",
                "withdrawn",
                name="joinstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_member_invitation_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["user_account.id"],
            name=op.f("fk_member_invitation_invited_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["answered_by_id"],
            ["user_account.id"],
            name=op.f("fk_member_invitation_answered_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_invitation")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_member_invitation_token_hash")),
    )
    with op.batch_alter_table("member_invitation") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_member_invitation_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            "uq_member_invitation_pending",
            ["organisation_id", "email"],
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )


def downgrade():
    with op.batch_alter_table("member_invitation") as batch_op:
        batch_op.drop_index("uq_member_invitation_pending")
        batch_op.drop_index(batch_op.f("ix_member_invitation_organisation_id"))
    op.drop_table("member_invitation")
