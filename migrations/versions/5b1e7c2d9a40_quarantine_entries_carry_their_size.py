"""quarantine entries carry their size

The per-rep quarantine cap (SYNC_QUARANTINE_MAX_BYTES_PER_USER) sums the bytes of the pending
entries; each entry now stores its size, computed once when it is kept. Entries kept before
this migration are measured from their stored JSON. Resolved entries expire by `resolved_at`,
now indexed.

Revision ID: 5b1e7c2d9a40
Revises: c744c3840193
Create Date: 2026-12-02 04:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b1e7c2d9a40'
down_revision = 'c744c3840193'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sync_quarantine', schema=None) as batch_op:
        batch_op.add_column(sa.Column('size_bytes', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_sync_quarantine_resolved_at'), ['resolved_at'],
                              unique=False)
    # Characters of the stored JSON: close enough for entries kept before sizes were stored.
    op.execute("UPDATE sync_quarantine SET size_bytes = "
               "length(CAST(payload AS TEXT)) + length(CAST(errors AS TEXT))")
    with op.batch_alter_table('sync_quarantine', schema=None) as batch_op:
        batch_op.alter_column('size_bytes', existing_type=sa.Integer(), nullable=False)


def downgrade():
    with op.batch_alter_table('sync_quarantine', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_quarantine_resolved_at'))
        batch_op.drop_column('size_bytes')
