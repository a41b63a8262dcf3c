"""touch overrides: a touch's own subject/body for its prospect, and first emails held for review

Revision ID: 0013_touch_overrides
Revises: 0012_deal_stages
Create Date: 2026-12-06 15:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_touch_overrides'
down_revision = '0012_deal_stages'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('touches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject_override', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('body_override', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('held_for_review', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('touches', schema=None) as batch_op:
        batch_op.drop_column('held_for_review')
        batch_op.drop_column('body_override')
        batch_op.drop_column('subject_override')
