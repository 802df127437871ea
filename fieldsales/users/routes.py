from flask.views import MethodView
from sqlalchemy import func, select

from fieldsales.errors import ApiError, answers
from fieldsales.extensions import Blueprint, db
from fieldsales.listing import Listing
from fieldsales.replica import reads_from_replica
from fieldsales.users import scope, service
from fieldsales.users.credentials import revoke_tokens
from fieldsales.users.guard import current_user, require
from fieldsales.users.models import Team, User
from fieldsales.users.schemas import (
    RevokedSchema,
    TeamSchema,
    TeamWorkingHoursSchema,
    UserCreateSchema,
    UserDeleteArgs,
    UserListArgs,
    UserPageSchema,
    UserSchema,
    UserUpdateSchema,
)

blp = Blueprint("users", __name__, url_prefix="/api/v1", description="Users, teams and roles.")

LISTING = Listing(
    name="users",
    item_schema=UserSchema,
    sorts={"id": User.id, "name": func.lower(User.name), "email": User.email,
           "role": User.role},
    id_key=User.id,
    filters={"role": lambda v: User.role == v, "team_id": lambda v: User.team_id == v},
)


@blp.route("/users/me")
@blp.response(200, UserSchema)
@require()
def me():
    """The signed-in user."""
    return current_user()


@blp.route("/users")
class Users(MethodView):
    @require("admin", "manager")
    @blp.arguments(UserListArgs, location="query", unknown=None)
    @blp.response(200, UserPageSchema)
    @reads_from_replica
    def get(self, args):
        """Users: all for admins, their own team for managers.

        Filter by `role`, `team_id`. Sort by `id` (the default), `name` (any case), `email`
        or `role`; `-field` descending, ties on the id. Pass `next_cursor` back as `cursor`
        until it is null. `?format=csv` (or `Accept: text/csv`) exports every matching user.
        """
        return LISTING.respond(args=args, query=service.visible_users(viewer=current_user()))

    @require("admin")
    @answers(409, "`duplicate_email`: a user has this email.")
    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    def post(self, data):
        """Create a user (admin). A rep joins the team of `manager_id`, which is required
        for a rep and refused for other roles."""
        manager = service.get_named_manager(manager_id=data.get("manager_id"))
        user = service.create(email=data["email"], password=data["password"], name=data["name"],
                              role=data["role"], manager=manager,
                              selling_style=data.get("selling_style"),
                              start_latitude=data.get("start_latitude"),
                              start_longitude=data.get("start_longitude"))
        db.session.commit()
        return user


@blp.route("/users/<user_id>")
class UserById(MethodView):
    @require("admin", "manager")
    @blp.response(200, UserSchema)
    def get(self, user_id):
        """One user; managers see their own team."""
        return service.get_visible(viewer=current_user(), user_id=user_id)

    @require("admin")
    @answers(409, "`duplicate_email`: another user has this email; `rep_has_work`: a rep moving "
                  "team still has customers or open tasks; `cannot_deactivate_self`: an admin "
                  "deactivating themselves.")
    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    def patch(self, data, user_id):
        """Change a user (admin). A new password or deactivation revokes their tokens."""
        viewer = current_user()
        user = service.update(user=service.get_visible(viewer=viewer, user_id=user_id),
                              changes=data, by=viewer)
        db.session.commit()
        return user

    @require("admin")
    @answers(409, "`rep_has_work`: the rep still has customers or open tasks; "
                  "`cannot_remove_self` / `cannot_erase_self`: an admin removing or erasing "
                  "themselves.")
    @blp.arguments(UserDeleteArgs, location="query", unknown=None)
    @blp.response(204)
    def delete(self, args, user_id):
        """Deactivate a user (admin); their tokens stop working at once. A rep who still
        has customers or open tasks is 409 `rep_has_work`: reassign them first.
        `?erase=true` also erases the person, removed before or not (docs/privacy.md)."""
        viewer = current_user()
        if args["erase"]:
            service.erase(user=service.get_erasable(user_id=user_id), by=viewer)
        else:
            service.remove(user=service.get_visible(viewer=viewer, user_id=user_id),
                           by=viewer)
        db.session.commit()


@blp.route("/users/<user_id>/revoke-tokens", methods=["POST"])
@blp.response(200, RevokedSchema)
@require("admin", "manager")
def revoke(user_id):
    """Revoke all of a user's tokens (a lost phone). Admins, or the rep's manager."""
    viewer = current_user()
    user = service.get_visible(viewer=viewer, user_id=user_id)
    if viewer.role == "manager" and not scope.manages(manager=viewer, user=user):
        raise ApiError(403, "forbidden", "Managers revoke tokens of their own reps only.")
    count = revoke_tokens(user=user)
    db.session.commit()
    return {"revoked": count}


@blp.route("/teams")
@blp.response(200, TeamSchema(many=True))
@require("admin", "manager")
def teams():
    """Teams: all for admins, their own for managers."""
    query = select(Team).where(scope.team_clause(viewer=current_user(), team_column=Team.id))
    return db.session.scalars(query.order_by(Team.name)).all()


@blp.route("/teams/<team_id>/working-hours")
class TeamWorkingHours(MethodView):
    @require("admin", "manager")
    @blp.response(200, TeamWorkingHoursSchema)
    def get(self, team_id):
        """A team's working hours (admins; a manager, their own team's)."""
        return service.working_hours(team=scope.visible_team(viewer=current_user(),
                                                             team_id=team_id))

    @require("admin", "manager")
    @blp.arguments(TeamWorkingHoursSchema)
    @blp.response(200, TeamWorkingHoursSchema)
    def put(self, changes, team_id):
        """Set a team's working hours. Pings taken outside them are acknowledged to the phone
        and not kept (or kept flagged and shown only to the rep, with
        `keep_off_duty_positions`)."""
        team = scope.visible_team(viewer=current_user(), team_id=team_id)
        answer = service.set_working_hours(team=team, **changes)
        db.session.commit()
        return answer
