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
    `_owner`."""
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
        ids = list({record.record_id for record in items if not record.errors.get("id")})
        for chunk in chunks(ids):
            for row in db.session.execute(query.where(t.c.id.in_(chunk))):
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
