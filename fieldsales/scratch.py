"""Throw-away databases for tests and benchmarks: a new SQLite file, or a new PostgreSQL
schema (selected through the connection's search_path), and a function that removes it."""
import shutil
import tempfile
import uuid
from collections.abc import Callable
from urllib.parse import quote

import sqlalchemy as sa


def scratch_database(base_url: str | None, name: str, *,
                     folder: str | None = None) -> tuple[str, Callable[[], None]]:
    """A database URL nobody else uses, and a function that drops it.

    Without `base_url` (or with a SQLite one): a file `<name>.db` in `folder` (default: a new
    temporary folder, removed by the drop). With a PostgreSQL URL: a fresh schema there.
    """
    if not base_url or base_url.startswith("sqlite"):
        own_folder = folder is None
        folder = folder or tempfile.mkdtemp(prefix=f"fieldsales-{name}-")
        drop = (lambda: shutil.rmtree(folder, ignore_errors=True)) if own_folder else (lambda: None)
        return f"sqlite:///{folder}/{name}.db", drop
    schema = f"{name}_{uuid.uuid4().hex[:10]}".lower()
    engine = sa.create_engine(base_url)
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base_url else "?"
    url = f"{base_url}{separator}options={quote(f'-csearch_path={schema}')}"

    def drop_schema() -> None:
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()

    return url, drop_schema
