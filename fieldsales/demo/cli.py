"""The `flask demo` commands: a demo company to look at."""
import time

import click
from flask.cli import AppGroup

from fieldsales.demo import seed as demo
from fieldsales.extensions import db

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("seed")
@click.option("--reset", is_flag=True,
              help="Delete ALL rows of every table first (the sync clock keeps running).")
@click.option("--if-empty", is_flag=True,
              help="On a database that already has users, seed nothing and succeed, showing "
                   "the demo logins if the demo is there (what `dev.py run` does each start).")
def seed_command(reset: bool, if_empty: bool) -> None:
    """Fill the database with a demo company in Lisbon (password: demo-password)."""
    started = time.monotonic()
    if demo.has_data() and not reset:
        logins = demo.logins_present()
        if if_empty and logins:
            click.echo("The demo company is already in the database.")
            _echo_logins(logins)
            return
        if if_empty:
            click.echo("The database has users but not the demo company: left as it is "
                       "('flask --app wsgi demo seed --reset' DELETES ALL DATA and seeds the "
                       "demo).")
            return
        raise click.ClickException(
            "The database already has users; not seeding. "
            "Run 'flask --app wsgi demo seed --reset' to DELETE ALL DATA and seed afresh.")
    if reset:
        demo.reset()
    result = demo.seed()
    db.session.commit()
    counts = ", ".join(f"{count} {name}" for name, count in result["counts"].items())
    click.echo(f"Demo company seeded in {time.monotonic() - started:.1f} s: {counts}.")
    _echo_logins(result["logins"])


def _echo_logins(logins) -> None:
    click.echo(f"Demo logins (password '{demo.PASSWORD}'):")
    for role, email, name in logins:
        click.echo(f"  {role:<12} {email:<36} {name}")

