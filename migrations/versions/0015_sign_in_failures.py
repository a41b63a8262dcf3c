"""sign-in failures: the failed attempts every process counts per account and address

Revision ID: 0015_sign_in_failures
Revises: 0014_session_version
Create Date: 2026-12-06 15:11:00.000000

"""
from alembic import op
import sqlalchemy as sa

import crm.models.base


# revision identifiers, used by Alembic.
revision = '0015_sign_in_failures'
down_revision = '0014_session_version'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sign_in_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=320), nullable=False),
    sa.Column('at', crm.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_failures'))
    )
    with op.batch_alter_table('sign_in_failures', schema=None) as batch_op:
        batch_op.create_index('ix_sign_in_failures_key_at', ['key', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('sign_in_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_in_failures_key_at')
    op.drop_table('sign_in_failures')
