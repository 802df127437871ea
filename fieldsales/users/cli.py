"""The `flask users` commands: users created by an operator (the first admin, say)."""
import click
import marshmallow as ma
from flask.cli import AppGroup

from fieldsales.common import ROLES
from fieldsales.errors import ApiError
from fieldsales.extensions import db
from fieldsales.users import service
from fieldsales.users.models import SELLING_STYLES
from fieldsales.users.schemas import CliUserCreateSchema

users_cli = AppGroup("users", help="Manage users.")

# Fields of the API's errors, as the CLI's options name them.
_CLI_OPTIONS = {"manager_id": "--manager-email", "selling_style": "--selling-style"}


def _cli_problems(details) -> str:
    return "; ".join(f"{_CLI_OPTIONS.get(field, '--' + field)}: {' '.join(map(str, problems))}"
                     for field, problems in details.items())


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, help=f"One of: {', '.join(ROLES)}.")
@click.option("--manager-email", default=None,
              help="For a rep: the manager whose team they join (without it, no team); "
                   "only for reps.")
@click.option("--selling-style", type=click.Choice(SELLING_STYLES), default=None)
def create_user_command(email, password, name, role, manager_email, selling_style):
    """Create a user (checked by the rules of POST /api/v1/users, but any password)."""
    try:
        data = CliUserCreateSchema().load({"email": email, "password": password, "name": name,
                                           "role": role, "selling_style": selling_style})
    except ma.ValidationError as error:
        raise click.ClickException(f"The user is invalid: {_cli_problems(error.messages)}") \
            from None
    manager = None
    if manager_email:
        manager = service.get_by_email(email=manager_email)
        if manager is None:
            raise click.ClickException(f"No user with email '{manager_email}'.")
    try:
        user = service.create(email=data["email"], password=data["password"], name=data["name"],
                              role=data["role"], manager=manager,
                              selling_style=data["selling_style"], rep_needs_manager=False)
    except ApiError as error:
        problems = _cli_problems(error.details)
        raise click.ClickException(error.message + (f" ({problems})" if problems else "")) \
            from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.email} (id {user.id}).")
    if user.role == "rep" and user.team_id is None:
        click.echo("Warning: this rep is in no team (no --manager-email): only admins see "
                   "them until an admin sets their team_id.", err=True)



@users_cli.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase_user_command(email, yes):
    """Erase a person (docs/privacy.md): positions and free text removed, name and email
    replaced by a tombstone (the email is free again); orders and visits stay, anonymous."""
    user = service.get_by_email(email=email)
    if user is None or user.erased_at is not None:
        raise click.ClickException(f"No user with email '{email}'.")
    if not yes:
        click.confirm(f"Erase {user.role} {user.email} (id {user.id})? This cannot be undone",
                      abort=True)
    try:
        erasure = service.erase(user=user, by=None)
    except ApiError as error:
        raise click.ClickException(error.message) from None
    db.session.commit()
    removed = ", ".join(f"{kind} {count}" for kind, count in sorted(erasure.removed.items()))
    click.echo(f"Erased user {user.id}; removed: {removed}.")
