"""The phone times of a pushed row, judged by `fieldsales.phonetime` against the push's
receipt: a time that cannot be true refuses the record (the quarantine keeps it with the
reason), an odd one is stored and flagged in `time_flags`. Which columns are phone times, and
which must follow which, is the table's (`Col.when`, `SyncTable.time_order`)."""
from fieldsales import phonetime
from fieldsales.sync.tables import SyncTable


def judge(table: SyncTable, row: dict, *, received_at: int,
          limits: phonetime.Limits) -> dict[str, list[str]]:
    """The reasons per column that a time of `row` (merged with what is stored) cannot be
    true; sets `row["time_flags"]` where the table keeps them."""
    errors: dict[str, list[str]] = {}
    flags: set[str] = set()
    for col in table.phone_times:
        at = row.get(col.name)
        if at is None:
            continue
        reason = phonetime.impossibility(at, when=col.when, received_at=received_at,
                                         limits=limits)
        if reason:
            errors[col.name] = [reason]
        elif col.when == phonetime.EVENT:
            flags |= phonetime.oddities(at, received_at=received_at,
                                        future_tolerance_ms=limits.future_tolerance_ms,
                                        max_age_ms=limits.max_age_ms)
    for earlier, later, slack_ms in table.time_order:
        first, then = row.get(earlier), row.get(later)
        if first is None or then is None or earlier in errors or later in errors:
            continue
        reason = phonetime.out_of_order(first, then, earlier_name=earlier, slack_ms=slack_ms)
        if reason:
            errors[later] = [reason]
    if "time_flags" in table.server_columns:
        row["time_flags"] = phonetime.format_flags(flags)
    return errors
