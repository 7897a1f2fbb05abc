"""Calendar feeds: hashed personal feed tokens and the feed change log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 17:05:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('feed_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_feed_token_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_feed_token_token_hash')),
    sa.UniqueConstraint('user_id', name=op.f('uq_feed_token_user_id'))
    )
    op.create_table('feed_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=40), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_change'))
    )
    with op.batch_alter_table('feed_change', schema=None) as batch_op:
        batch_op.create_index('ix_feed_change_scope_changed_at', ['scope', 'changed_at'], unique=False)


def downgrade():
    with op.batch_alter_table('feed_change', schema=None) as batch_op:
        batch_op.drop_index('ix_feed_change_scope_changed_at')

    op.drop_table('feed_change')
    op.drop_table('feed_token')
