"""session version: sessions and remember tokens carry it, so raising it signs a user out

Revision ID: 0014_session_version
Revises: 0013_touch_overrides
Create Date: 2026-12-06 15:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_session_version'
down_revision = '0013_touch_overrides'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
