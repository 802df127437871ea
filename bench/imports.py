#!/usr/bin/env python3
"""Imports stream: peak memory and rows per second for 10,000 and 100,000 product rows.

    .venv/bin/python bench/imports.py                      # a SQLite file in a temporary folder
    .venv/bin/python bench/imports.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test   # a fresh schema

For each size, a CSV and an XLSX file of new products (sku, name, unit, unit_price,
stock_on_hand, lead_time_days) are imported through `imports.service` as `flask import
products FILE` does: every row checked by the product schemas and upserted in batches, one
transaction. Then the same file again (every sku known: all updates, one per row changed).
Peak memory is what tracemalloc saw allocated by Python during the import (its own
overhead slows the run, so the rows per second come from a run without it, on a fresh
database). The baseline, measured in the same run: reading the same file alone (csv module,
or openpyxl read-only), nothing checked or written. Flat memory: the 100k peak is about the
10k peak, not ten times it.
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
import tracemalloc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from openpyxl import Workbook, load_workbook  # noqa: E402

from config import TestingConfig  # noqa: E402
from fieldsales import create_app  # noqa: E402
from fieldsales.extensions import db  # noqa: E402
from fieldsales.imports import service  # noqa: E402
from fieldsales.scratch import scratch_database  # noqa: E402
from fieldsales.users.models import User  # noqa: E402

COLUMNS = ("sku", "name", "unit", "unit_price", "stock_on_hand", "lead_time_days")


def rows(n: int, price_step: float = 0.0):
    for i in range(n):
        yield (f"SKU-{i:07d}", f"Product {i} of the ERP", "each", round(1 + i % 500 / 4 +
               price_step, 2), i % 1000, 3 + i % 30)


def write_files(folder: str, n: int) -> dict[str, str]:
    paths = {"csv": os.path.join(folder, f"p{n}.csv"), "xlsx": os.path.join(folder, f"p{n}.xlsx")}
    with open(paths["csv"], "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        writer.writerows(rows(n))
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(COLUMNS)
    for row in rows(n):
        sheet.append(row)
    workbook.save(paths["xlsx"])
    return paths


def read_only(path: str, file_format: str) -> int:
    """The baseline: the file read row by row, nothing else."""
    count = 0
    if file_format == "csv":
        with open(path, newline="") as source:
            for _row in csv.reader(source):
                count += 1
    else:
        workbook = load_workbook(path, read_only=True)
        for _row in workbook.worksheets[0].iter_rows(values_only=True):
            count += 1
        workbook.close()
    return count - 1


def imported(app, path: str, file_format: str) -> service.Report:
    with app.app_context():
        viewer = User(id=None, role="admin", email="bench", name="bench", active=True)
        with open(path, "rb") as source:
            report = service.run(kind="products", viewer=viewer, dry_run=False,
                                 rows=service.read_rows(kind="products", source=source,
                                                        file_format=file_format))
        assert not report.failed, report.errors
        db.session.commit()
        return report


def measured(function, *args, trace: bool):
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    result = function(*args)
    seconds = time.perf_counter() - started
    peak = 0
    if trace:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return result, seconds, peak


def fresh_app(server_url: str | None, name: str):
    url, drop = scratch_database(server_url, name)
    app = create_app(type("BenchConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url}))
    with app.app_context():
        db.create_all()
    return app, drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL server URL (a fresh schema is made "
                        "and dropped); a SQLite file in a temporary folder when omitted")
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="fieldsales-bench-imports-")
    lines = []
    for n in (int(size) for size in args.sizes.split(",")):
        paths = write_files(folder, n)
        for file_format, path in paths.items():
            _count, base_s, _ = measured(read_only, path, file_format, trace=False)
            _count, _s, base_peak = measured(read_only, path, file_format, trace=True)
            results = {}
            for trace in (False, True):
                app, drop = fresh_app(args.database_url, f"bench_imports_{n}_{file_format}")
                try:
                    new, new_s, new_peak = measured(imported, app, path, file_format, trace=trace)
                    again, again_s, again_peak = measured(imported, app, path, file_format,
                                                          trace=trace)
                    assert new.created == n and again.unchanged == n
                finally:
                    with app.app_context():
                        db.session.remove()
                        db.engine.dispose()
                    drop()
                results[trace] = (new_s, new_peak, again_s, again_peak)
            (new_s, _, again_s, _), (_, new_peak, _, again_peak) = results[False], results[True]
            lines.append(f"{n:>7} {file_format:<4}  read only {n / base_s:>9,.0f} rows/s "
                         f"{base_peak / 2**20:6.1f} MB | import (new) {n / new_s:>7,.0f} rows/s "
                         f"{new_peak / 2**20:6.1f} MB | again (unchanged) {n / again_s:>7,.0f} "
                         f"rows/s {again_peak / 2**20:6.1f} MB")
            print(lines[-1], flush=True)
    print("\n== rows   file  baseline: reading the file | importing it | the same file again")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
