"""The `flask demo` commands: a demo company to look at. No HTTP routes."""
import time

import click
from flask.cli import AppGroup

from fieldsales.demo import seed as demo
from fieldsales.extensions import db

blp = None

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("seed")
@click.option("--reset", is_flag=True,
              help="Delete ALL rows of every table first (the sync clock keeps running).")
def seed_command(reset: bool) -> None:
    """Fill the database with a demo company in Lisbon (password: demo-password)."""
    started = time.monotonic()
    if demo.has_data() and not reset:
        raise click.ClickException(
            "The database already has users; not seeding. "
            "Run 'flask --app wsgi demo seed --reset' to DELETE ALL DATA and seed afresh.")
    if reset:
        demo.reset()
    result = demo.seed()
    db.session.commit()
    counts = ", ".join(f"{count} {name}" for name, count in result["counts"].items())
    click.echo(f"Demo company seeded in {time.monotonic() - started:.1f} s: {counts}.")
    click.echo(f"Demo logins (password '{demo.PASSWORD}'):")
    for role, email, name in result["logins"]:
        click.echo(f"  {role:<12} {email:<36} {name}")


commands = (demo_cli,)
