"""journey plan inputs

Customers get opening hours (`opens_at`, `closes_at`, "HH:MM" in the team's zone), reps a start
point (`start_latitude`, `start_longitude`), and job runs a summary (the plan job's planned,
overflow and unplannable counts). `customers.visit_cadence_days` was there already.

Revision ID: 4f7c2b9e1d05
Revises: 3e288e1ce034
Create Date: 2026-12-02 17:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4f7c2b9e1d05'
down_revision = '3e288e1ce034'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opens_at', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('closes_at', sa.String(length=5), nullable=True))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('start_latitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('start_longitude', sa.Float(), nullable=True))

    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('summary', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_column('summary')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('start_longitude')
        batch_op.drop_column('start_latitude')

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('closes_at')
        batch_op.drop_column('opens_at')
