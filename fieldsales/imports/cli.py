"""The `flask import` commands: the API's imports from a file on the server's disk."""
from pathlib import Path

import click
from flask.cli import AppGroup

from fieldsales.errors import ApiError
from fieldsales.extensions import db
from fieldsales.imports import service
from fieldsales.users import service as users_service
from fieldsales.users.models import User

import_cli = AppGroup("import", help="Import products, customers or deliveries from a file.")


def _viewer(email: str | None) -> User:
    """The account the import acts as (its scope applies), or the operator: admin's scope."""
    if email is None:
        return User(id=None, role="admin", email="operator", name="operator", active=True)
    user = users_service.get_by_email(email=email)
    if user is None:
        raise click.ClickException(f"No user with email '{email}'.")
    return user


def _command(kind: str):
    @import_cli.command(kind)
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--dry-run", is_flag=True, help="Check and report; write nothing.")
    @click.option("--as", "as_email", default=None,
                  help="The user the import acts as (their scope applies); default: admin.")
    def command(file: Path, dry_run: bool, as_email: str | None):
        file_format = "xlsx" if file.suffix.lower() == ".xlsx" else (
            "json" if file.suffix.lower() == ".json" else "csv")
        viewer = _viewer(as_email)
        if viewer.role not in service.WRITERS[kind]:
            raise click.ClickException(f"A {viewer.role} may not import {kind}.")

        shown = [0]

        def progress(rows: int) -> None:  # every 10,000 rows
            if rows // 10_000 > shown[0] // 10_000:
                click.echo(f"  {rows:,} rows checked", err=True)
                shown[0] = rows

        try:
            with file.open("rb") as source:
                report = service.run(kind=kind, viewer=viewer, dry_run=dry_run, progress=progress,
                                     rows=service.read_rows(kind=kind, source=source,
                                                            file_format=file_format))
        except ApiError as error:
            db.session.rollback()
            raise click.ClickException(error.message) from None
        if report.failed:
            db.session.rollback()
            for line, problems in report.errors.items():
                click.echo(f"line {line}: " + "; ".join(
                    f"{name}: {' '.join(map(str, texts)) if isinstance(texts, list) else texts}"
                    for name, texts in problems.items()), err=True)
            raise click.ClickException(report.refusal().message)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
        answer = report.answer()
        verb = "Would import" if dry_run else "Imported"
        counts = (f"{answer['deliveries']} deliveries" if kind == "deliveries" else
                  f"{answer['created']} created, {answer['updated']} updated, "
                  f"{answer['unchanged']} unchanged")
        click.echo(f"{verb} {answer['rows']} {kind} rows: {counts}.")

    command.__doc__ = f"Import {kind} from a CSV, XLSX or JSON file (all or nothing)."
    return command


for _kind in service.KINDS:
    _command(_kind)
