"""How many SQL statements a pull sends (issue 15: 8 or fewer for an incremental pull with
nothing new, whatever the number of tables). What a pull returns is pinned by the contract
tests (test_sync_pull.py, test_sync_concurrency.py); these pin its cost."""
import pytest
import sqlalchemy as sa

from fieldsales.customers.models import Customer
from fieldsales.extensions import db


@pytest.fixture
def statements(app):
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith("BEGIN"):  # SQLite's own BEGINs
            seen.append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", record)


def test_an_incremental_pull_with_nothing_new_reads_no_table_one_by_one(world, phone,
                                                                       statements):
    phone.pull(None)
    statements.clear()
    body = phone.pull()
    assert not any(any(table.values()) for table in body["changes"].values())
    # The token, the clock (trusts, advance), the access changes, one probe for every
    # table, the sync log.
    assert len(statements) <= 8, statements
    assert sum(s.startswith("SELECT customers.") for s in statements) == 0


def test_only_the_tables_with_changes_are_read(app, world, phone, statements):
    phone.pull(None)
    with app.app_context():
        db.session.get(Customer, world.customer2).name = "Cafe Nord am Platz"
        db.session.commit()
    statements.clear()
    body = phone.pull()
    assert [c["name"] for c in body["changes"]["customers"]["updated"]] == ["Cafe Nord am Platz"]
    assert sum(s.startswith("SELECT customers.") for s in statements) == 2  # rows, tombstones
    assert sum(s.startswith("SELECT tasks.") for s in statements) == 0
    assert len(statements) <= 10, statements
