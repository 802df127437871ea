"""The scoring jobs' SQL: statements in `queries/*.sql` (package data), run with bind
parameters, and the period arithmetic the jobs share.

The files read the same on SQLite and PostgreSQL: both divide integers as integers and have
window functions; what differs (LEAST/GREATEST vs MIN/MAX and their NULL handling, CAST
rounding vs truncating) is written with CASE expressions. A list bound to `IN :name` is
expanded (`EXPANDING`). A file holds one statement or several, each ending with `;` at the
end of a line.
"""
from functools import cache
from importlib.resources import files

from sqlalchemy import BindParameter, TextClause, bindparam, text

from fieldsales.common import DAY_MS, FIRST_MONDAY_MS, WEEK_MS
from fieldsales.database import rowcount
from fieldsales.extensions import SessionLike

EXPANDING = ("counted_statuses", "segments")


def day_start(ms: int) -> int:
    return ms // DAY_MS * DAY_MS


def week_start(ms: int) -> int:
    return (ms - FIRST_MONDAY_MS) // WEEK_MS * WEEK_MS + FIRST_MONDAY_MS


@cache
def statements(name: str) -> tuple[TextClause, ...]:
    """The statements of `queries/<name>.sql`, parsed once."""
    source = files("fieldsales.scoring").joinpath("queries", f"{name}.sql").read_text("utf-8")
    parsed = []
    for chunk in source.split(";\n"):
        body = "\n".join(line for line in chunk.splitlines()
                         if not line.lstrip().startswith("--")).strip()
        if not body:
            continue
        statement = text(body)
        expanding: list[BindParameter] = [bindparam(bind, expanding=True)
                                          for bind in EXPANDING if f":{bind}" in body]
        parsed.append(statement.bindparams(*expanding) if expanding else statement)
    return tuple(parsed)


def execute(session: SessionLike, name: str, params: dict) -> int:
    """Run the file's statements in order; the rows its INSERTs and UPDATEs wrote."""
    written = 0
    for statement in statements(name):
        result = session.execute(statement, params)
        if statement.text.lstrip().upper().startswith(("INSERT", "UPDATE")):
            written += max(rowcount(result) or 0, 0)
    return written
