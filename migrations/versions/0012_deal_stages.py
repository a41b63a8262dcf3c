"""deal stages: prospects "in sequence" become "contacted", "declined" become "lost"

Revision ID: 0012_deal_stages
Revises: 0009_one_off_messages
Create Date: 2026-12-06 14:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_deal_stages'
down_revision = '0009_one_off_messages'
branch_labels = None
depends_on = None

_RENAMED = (("in_sequence", "contacted"), ("declined", "lost"))


def upgrade():
    # The status column stores the value as a plain string (no CHECK), so only the rows move.
    for old, new in _RENAMED:
        op.execute(
            sa.text("UPDATE prospects SET status = :new WHERE status = :old").bindparams(
                old=old, new=new
            )
        )


def downgrade():
    # "not a fit" did not exist before: it reads back as declined (lost stays lost).
    for old, new in (("in_sequence", "contacted"), ("declined", "not_a_fit")):
        op.execute(
            sa.text("UPDATE prospects SET status = :old WHERE status = :new").bindparams(
                old=old, new=new
            )
        )
