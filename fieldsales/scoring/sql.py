"""Small SQL helpers that read the same on SQLite and PostgreSQL.

Both databases divide integers as integers and have window functions; what differs
(LEAST/GREATEST vs MIN/MAX, their NULL handling) is avoided with CASE expressions here.
"""
from fieldsales.common import DAY_MS, FIRST_MONDAY_MS, WEEK_MS


def day_start(ms: int) -> int:
    return ms // DAY_MS * DAY_MS


def week_start(ms: int) -> int:
    return (ms - FIRST_MONDAY_MS) // WEEK_MS * WEEK_MS + FIRST_MONDAY_MS


def ratio(numerator: str, denominator: str) -> str:
    """numerator / denominator as a float; NULL when the denominator is 0 or NULL."""
    return f"(CAST({numerator} AS FLOAT) / NULLIF({denominator}, 0))"


def cap(expression: str, high: str = "1.0") -> str:
    """min(expression, high), NULL stays NULL."""
    return f"(CASE WHEN ({expression}) > {high} THEN {high} ELSE ({expression}) END)"


def floor0(expression: str) -> str:
    """max(expression, 0), NULL stays NULL."""
    return f"(CASE WHEN ({expression}) < 0 THEN 0.0 ELSE ({expression}) END)"


def bucket(column: str) -> str:
    """The start of the period holding `column` (bind :off and :step: day or week)."""
    return f"((({column}) - :off) / :step * :step + :off)"


def floor_int(expression: str, dialect: str) -> str:
    """floor() of a non-negative number as an integer (SQLite truncates, PostgreSQL rounds)."""
    if dialect == "postgresql":
        return f"CAST(FLOOR({expression}) AS BIGINT)"
    return f"CAST({expression} AS INTEGER)"


def periods_cte(name: str = "periods") -> str:
    """`name(period_start)`: every period start from :first to before :end, :step apart."""
    return (f"{name}(period_start) AS (SELECT CAST(:first AS BIGINT) UNION ALL "
            f"SELECT period_start + :step FROM {name} WHERE period_start + :step < :end)")
