"""What a push reads before its rules: the stored rows its ids name, and the rows its foreign
keys may point to (`SyncTable.referable`), each loaded once per table."""
from sqlalchemy import select

from fieldsales.extensions import db
from fieldsales.sync.push.parse import PushedRecord
from fieldsales.sync.tables import TABLES

CHUNK = 900  # ids per IN (...) list


def chunks(values: list, size: int = CHUNK):
    for start in range(0, len(values), size):
        yield values[start:start + size]


def stored_rows(*, records: dict[str, list[PushedRecord]]) -> dict[str, dict[str, dict]]:
    """Per table, id -> the stored row: the writable columns, the server's own (kept when
    an update does not change them), change stamps, creator, and the owning rep as
    `_owner`.

    A pushed record names the stored row with its table's whole key: its id, and for
    location pings its `recorded_at` too (their key; partitioned by it on PostgreSQL). Such a
    table is read in chunks of records close in time, each limited to its span of the key,
    so PostgreSQL reads only the months a push covers, not every month for each id."""
    found: dict[str, dict[str, dict]] = {}
    for name, items in records.items():
        table = TABLES[name]
        t = table.table
        columns = [t.c.id, *(t.c[c.name] for c in table.writable),
                   *(t.c[name] for name in table.server_columns)]
        if "changed_seq" in t.c:
            columns += [t.c.changed_seq, t.c.deleted_at]
        if table.creator:
            columns.append(t.c[table.creator])
        query = table.select_owned(*columns)
        rows = found[name] = {}
        more = [column.name for column in t.primary_key if column.name != "id"]
        wanted: dict[str, set[tuple]] = {}  # id -> the rest of the key, as pushed
        for record in items:
            if record.record_id is None or record.errors.get("id"):
                continue
            rest = tuple(record.values.get(column) for column in more)
            if None not in rest:  # without a usable key it names no stored row
                wanted.setdefault(record.record_id, set()).add(rest)
        ids = sorted(wanted, key=lambda i: min(wanted[i])) if more else list(wanted)
        for chunk in chunks(ids):
            select = query.where(t.c.id.in_(chunk))
            for n, column in enumerate(more):
                values = [rest[n] for i in chunk for rest in wanted[i]]
                select = select.where(t.c[column].between(min(values), max(values)))
            for row in db.session.execute(select):
                if tuple(row._mapping[column] for column in more) in wanted[row.id]:
                    rows[row.id] = dict(row._mapping)
    return found


def references(*, records: dict[str, list[PushedRecord]], stored: dict[str, dict[str, dict]],
               user_id: str, since: int) -> dict[str, dict[str, object]]:
    """Per referenced table, id -> row, for the rows the pushed foreign keys name that the
    rep may point to. `since`: the start of the sync window."""
    wanted: dict[str, set] = {kind: set() for table in TABLES.values()
                              for kind in table.refs.values()}
    for name, items in records.items():
        existing = stored[name]
        for ref_column, kind in TABLES[name].refs.items():
            for record in items:
                # An update may leave a key out: then the stored value must still hold.
                known = (existing.get(record.record_id) if record.record_id is not None
                         else None)
                value = (record.values[ref_column] if ref_column in record.values
                         else (known or {}).get(ref_column))
                if value:
                    wanted[kind].add(value)
    found: dict[str, dict[str, object]] = {}
    for kind, ids in wanted.items():
        table = TABLES[kind]
        t = table.table
        assert table.referable is not None  # every table a foreign key names says who may
        query = select(t.c.id, *(t.c[column] for column in table.ref_columns)).where(
            table.referable(user_id, since))
        rows = found[kind] = {}
        for chunk in chunks(list(ids)):
            for row in db.session.execute(query.where(t.c.id.in_(chunk))):
                rows[row.id] = row
    return found
