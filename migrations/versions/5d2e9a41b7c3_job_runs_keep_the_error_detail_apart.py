"""job runs keep the error detail apart

A failed run's `error` becomes a short message anyone who lists runs may read; the full
error text (with the SQL statement) moves to `error_detail`, shown to admins only.

Revision ID: 5d2e9a41b7c3
Revises: 77c19a8c370c
Create Date: 2026-12-02 04:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d2e9a41b7c3'
down_revision = '77c19a8c370c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error_detail', sa.Text(), nullable=True))
    # Old failures' text may hold SQL: it becomes the detail, and the message a short one.
    op.execute("UPDATE job_runs SET error_detail = error, "
               "error = 'The job failed; its writes were rolled back (detail for admins).' "
               "WHERE status = 'failed' AND error IS NOT NULL "
               "AND error <> 'Interrupted: its process ended before it finished.'")


def downgrade():
    op.execute("UPDATE job_runs SET error = error_detail WHERE error_detail IS NOT NULL")
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_column('error_detail')
