"""The phone times of a pushed row, judged by `fieldsales.phonetime` against the push's
receipt: a time that cannot be true refuses the record (the quarantine keeps it with the
reason), an odd one is stored and flagged in `time_flags`. Which columns are phone times, and
which must follow which, is the table's (`Col.when`, `SyncTable.time_order`)."""
from fieldsales import phonetime
from fieldsales.sync.tables import SyncTable


def judge(table: SyncTable, row: dict, *, current: dict | None, received_at: int,
          limits: phonetime.Limits) -> dict[str, list[str]]:
    """The reasons per column that a time of `row` (the record merged with `current`, the row
    as stored or as written earlier in the push; None for a new one) cannot be true; sets
    `row["time_flags"]` where the table keeps them.

    Only the times this record brings (new, or changed from `current`) are judged: one the
    phone sends back unchanged was judged when it came, or was set by the office (a task's
    due time). When none changed, the row keeps its flags; otherwise they are judged again
    over all its event times.
    """
    changed = {col.name for col in table.phone_times
               if current is None or row.get(col.name) != current.get(col.name)}
    errors: dict[str, list[str]] = {}
    for col in table.phone_times:
        at = row.get(col.name)
        if at is None or col.name not in changed:
            continue
        reason = phonetime.impossibility(at, when=col.when, received_at=received_at,
                                         limits=limits)
        if reason:
            errors[col.name] = [reason]
    for earlier, later, slack_ms in table.time_order:
        first, then = row.get(earlier), row.get(later)
        if (first is None or then is None or not {earlier, later} & changed
                or earlier in errors or later in errors):
            continue
        reason = phonetime.out_of_order(first, then, earlier_name=earlier, slack_ms=slack_ms)
        if reason:
            errors[later] = [reason]
    if "time_flags" in table.server_columns and (changed or current is None):
        flags: set[str] = set()
        for col in table.phone_times:
            if col.when == phonetime.EVENT and row.get(col.name) is not None:
                flags |= phonetime.oddities(row[col.name], received_at=received_at,
                                            future_tolerance_ms=limits.future_tolerance_ms,
                                            max_age_ms=limits.max_age_ms)
        row["time_flags"] = phonetime.format_flags(flags)
    return errors
