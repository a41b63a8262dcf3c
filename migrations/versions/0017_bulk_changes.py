"""bulk changes: a bulk action on many prospects, run a batch at a time with its progress

Revision ID: 0017_bulk_changes
Revises: 0016_builtin_sequences
Create Date: 2026-12-07 11:23:01.967066

"""
from alembic import op
import sqlalchemy as sa

import crm.models.base


# revision identifiers, used by Alembic.
revision = '0017_bulk_changes'
down_revision = '0016_builtin_sequences'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bulk_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('created_at', crm.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('finished_at', crm.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('state', sa.Enum('running', 'done', 'failed', name='bulkchangestate', native_enum=False, length=24), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.Column('view', sa.JSON(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('changed', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.JSON(), nullable=False),
    sa.Column('progress_at', crm.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_bulk_changes_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_bulk_changes_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulk_changes'))
    )
    with op.batch_alter_table('bulk_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bulk_changes_campaign_id'), ['campaign_id'], unique=False)



def downgrade():
    with op.batch_alter_table('bulk_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bulk_changes_campaign_id'))

    op.drop_table('bulk_changes')
