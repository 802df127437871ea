"""events: the transactional outbox

The `events` table (fieldsales/events): one row per event, written in the transaction of the
change that caused it (issue 16).

Revision ID: a7e1c0de5b01
Revises: 6a0d3c8e2f17
Create Date: 2026-12-03 15:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7e1c0de5b01'
down_revision = '6a0d3c8e2f17'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('team_id', sa.String(length=64), nullable=True),
    sa.Column('subject_id', sa.String(length=80), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('occurred_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_events_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_team_id'), ['team_id'], unique=False)
        batch_op.create_index('ix_events_type_subject_id', ['type', 'subject_id'], unique=False)


def downgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_type_subject_id')
        batch_op.drop_index(batch_op.f('ix_events_team_id'))
        batch_op.drop_index(batch_op.f('ix_events_occurred_at'))

    op.drop_table('events')
