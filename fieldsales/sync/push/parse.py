"""Reading a push: the body as a changes object (or 400 saying why not), then every record
as a `PushedRecord`, cleaned against its table's columns."""
import json
from typing import NamedTuple

from fieldsales.common import ID_MESSAGE, is_valid_id
from fieldsales.errors import ApiError
from fieldsales.sync.tables import TABLES, HugeInt, Invalid, SyncTable, tables_of

OPERATIONS = ("created", "updated", "deleted")


class PushedRecord(NamedTuple):
    """One record of a push as read. Refused, it is kept with the refusal's reasons."""

    table: SyncTable
    operation: str  # created, updated or deleted
    record_id: str | None  # None when the pushed id is no string (nothing to look up)
    raw: object  # exactly as pushed: the record object, or the id of a deletion
    values: dict  # the cleaned writable columns the record carries
    errors: dict  # column -> reasons


def bad_request(message: str, details: dict | None = None) -> ApiError:
    return ApiError(400, "bad_request", message, details)


def parse_body(*, body: bytes, schema_version: int | None = None) -> dict:
    """The changes object from a raw body, whatever its content type, or 400 saying why not.
    With a `schema_version`, only that version's tables are known (a stock client sends
    none: then every table is)."""
    known = TABLES if schema_version is None else tables_of(schema_version)
    try:
        try:
            data = json.loads(body, parse_constant=_not_json)
        except json.JSONDecodeError:
            raise
        except ValueError:  # maybe an integer past int()'s digit limit: parse it as text
            data = json.loads(body, parse_constant=_not_json, parse_int=_parse_int)
    except (ValueError, RecursionError) as error:
        raise bad_request(f"The body is not valid JSON: {error}.") from None
    if not isinstance(data, dict):
        raise bad_request("The body must be a changes object: "
                          '{"<table>": {"created": [...], "updated": [...], "deleted": [...]}}.')
    for name, table_changes in data.items():
        if name not in known:
            raise bad_request(f"Unknown table '{name}'.",
                              {"table": name, "known_tables": list(known)})
        if not isinstance(table_changes, dict):
            raise bad_request(f"'{name}' must be an object of created, updated and deleted lists.",
                              {"table": name})
        unknown = sorted(set(table_changes) - set(OPERATIONS))
        if unknown:
            raise bad_request(f"'{name}' has unknown keys: {', '.join(unknown)}; "
                              "expected created, updated and deleted.", {"table": name})
        for operation in OPERATIONS:
            items = table_changes.get(operation, [])
            where = f"{name}.{operation}"
            if not isinstance(items, list):
                raise bad_request(f"'{where}' must be a list.", {"path": where})
            wanted = str if operation == "deleted" else dict
            for index, item in enumerate(items):
                if not isinstance(item, wanted):
                    kind = "an id string" if wanted is str else "a record object"
                    raise bad_request(f"'{where}[{index}]' must be {kind}.",
                                      {"path": f"{where}[{index}]"})
    return data


def _not_json(name: str):
    raise ValueError(f"{name} is not a JSON value")


def _parse_int(text: str):
    try:
        return int(text)
    except ValueError:
        return HugeInt(text)


def read_records(*, changes: dict) -> dict[str, list[PushedRecord]]:
    """The records of a parsed changes object per table (tables with none left out), in the
    order they are applied: tables as in `TABLES`, then created, updated, deleted."""
    records: dict[str, list[PushedRecord]] = {}
    for name, table in TABLES.items():
        table_changes = changes.get(name) or {}
        items = []
        for operation in OPERATIONS:
            for raw in table_changes.get(operation, ()):
                if operation == "deleted":
                    errors = {} if is_valid_id(raw) else {"id": [ID_MESSAGE]}
                    items.append(PushedRecord(table, operation, raw, raw, {}, errors))
                    continue
                record_id = raw.get("id")
                errors = {}
                if not is_valid_id(record_id):
                    errors["id"] = [ID_MESSAGE]
                    if not isinstance(record_id, str):
                        record_id = None  # a list or object is no key to look up
                values = {}
                for column, clean in table.cleaners:
                    if column in raw:
                        try:
                            values[column] = clean(raw[column])
                        except Invalid as error:
                            errors[column] = [str(error)]
                items.append(PushedRecord(table, operation, record_id, raw, values, errors))
        if items:
            records[name] = items
    return records
