"""location pings are partitioned by month

The key of location_pings becomes (id, recorded_at), on both databases. On PostgreSQL the
table becomes partitioned by range of recorded_at, one partition per UTC month
(fieldsales/locations/partitions.py), plus a default partition for implausible times. A
filled table is converted in place: renamed, the partitioned table created LIKE it, a month
for every month from the earliest plausible ping (flagged neither `future` nor `stale`) to
three months past the latest or past now, the default partition, one INSERT ... SELECT, the
old table dropped, then the key, the foreign key and the index built over the partitions.
It holds the table's lock for the whole copy: run it in a maintenance window on a large
table. SQLite only changes the key (a batch rebuild).

The months are worked out here, not by the app's code, so this migration does the same
whatever the app becomes later.

Revision ID: 3e288e1ce034
Revises: 9c34c3f06726
Create Date: 2026-12-02 17:20:00.000000

"""
import time
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3e288e1ce034'
down_revision = '9c34c3f06726'
branch_labels = None
depends_on = None

TABLE = "location_pings"
MONTHS_AHEAD = 3


def _month_index(ms):
    at = datetime.fromtimestamp(ms / 1000, UTC)
    return at.year * 12 + at.month - 1


def _start_ms(index):
    return int(datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC).timestamp() * 1000)


def _keys():
    op.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT pk_{TABLE} PRIMARY KEY (id, recorded_at)")


def _references_and_index():
    op.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT fk_{TABLE}_rep_id_users "
               "FOREIGN KEY (rep_id) REFERENCES users (id)")
    op.execute(f"CREATE INDEX ix_{TABLE}_rep_recorded ON {TABLE} (rep_id, recorded_at)")


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        with op.batch_alter_table(TABLE, schema=None) as batch_op:
            batch_op.drop_constraint(f"pk_{TABLE}", type_="primary")
            batch_op.create_primary_key(f"pk_{TABLE}", ["id", "recorded_at"])
        return
    old = f"{TABLE}_unpartitioned"
    op.execute(f"ALTER TABLE {TABLE} RENAME TO {old}")
    op.execute(f"CREATE TABLE {TABLE} (LIKE {old} INCLUDING DEFAULTS) "
               "PARTITION BY RANGE (recorded_at)")
    op.execute(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT")
    first, last = op.get_bind().execute(sa.text(
        f"SELECT min(recorded_at), max(recorded_at) FROM {old} "
        "WHERE flags NOT LIKE '%future%' AND flags NOT LIKE '%stale%'")).one()
    now = _month_index(int(time.time() * 1000))
    start = min(now - 1, _month_index(first)) if first is not None else now - 1
    end = max(now, _month_index(last)) if last is not None else now
    for index in range(start, end + MONTHS_AHEAD + 1):
        year, month = index // 12, index % 12 + 1
        op.execute(f"CREATE TABLE {TABLE}_{year:04d}_{month:02d} PARTITION OF {TABLE} "
                   f"FOR VALUES FROM ({_start_ms(index)}) TO ({_start_ms(index + 1)})")
    op.execute(f"INSERT INTO {TABLE} SELECT * FROM {old}")
    op.execute(f"DROP TABLE {old}")
    _keys()
    _references_and_index()


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        with op.batch_alter_table(TABLE, schema=None) as batch_op:
            batch_op.drop_constraint(f"pk_{TABLE}", type_="primary")
            batch_op.create_primary_key(f"pk_{TABLE}", ["id"])
        return
    partitioned = f"{TABLE}_partitioned"
    op.execute(f"ALTER TABLE {TABLE} RENAME TO {partitioned}")
    op.execute(f"CREATE TABLE {TABLE} (LIKE {partitioned} INCLUDING DEFAULTS)")
    op.execute(f"INSERT INTO {TABLE} SELECT * FROM {partitioned}")
    op.execute(f"DROP TABLE {partitioned}")  # and every partition with it
    op.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT pk_{TABLE} PRIMARY KEY (id)")
    _references_and_index()
