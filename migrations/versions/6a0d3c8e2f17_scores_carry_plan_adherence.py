"""scores carry plan adherence

Each rep's day and week score carries the journey plan's figures (`plan_visits`,
`plan_visits_done`, `plan_visits_in_order`), its adherence rate and component
(`plan_adherence`, `c_plan_adherence`). Existing rows read 0 and null: no plan then.

Revision ID: 6a0d3c8e2f17
Revises: 4f7c2b9e1d05
Create Date: 2026-12-03 15:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6a0d3c8e2f17'
down_revision = '4f7c2b9e1d05'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rep_scores', schema=None) as batch_op:
        for name in ('plan_visits', 'plan_visits_done', 'plan_visits_in_order'):
            batch_op.add_column(sa.Column(name, sa.Integer(), server_default='0',
                                          nullable=False))
        batch_op.add_column(sa.Column('plan_adherence', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('c_plan_adherence', sa.Float(), nullable=True))


def downgrade():
    with op.batch_alter_table('rep_scores', schema=None) as batch_op:
        for name in ('c_plan_adherence', 'plan_adherence', 'plan_visits_in_order',
                     'plan_visits_done', 'plan_visits'):
            batch_op.drop_column(name)
