"""Users and teams: creation rules and who may see whom."""
from sqlalchemy import Select, delete, select

from fieldsales.common import ROLES, now_ms
from fieldsales.database import UniqueKey, kept_unique, rowcount
from fieldsales.errors import ApiError
from fieldsales.extensions import db
from fieldsales.users import hours, scope, signals
from fieldsales.users.credentials import hash_password, revoke_tokens
from fieldsales.users.models import AuthToken, Team, User, UserErasure

EMAIL = UniqueKey(User.email, code="duplicate_email",
                  message="A user with email '{value}' already exists.")


def get_by_email(*, email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def get_named_team(*, team_id: str) -> Team:
    """The team a payload names; 422 by `team_id` when there is none (a field of the body,
    not a path: so not a 404)."""
    team = db.session.get(Team, team_id)
    if team is None:
        raise ApiError(422, "validation_error", "No such team.", {"team_id": ["No such team."]})
    return team


def get_named_manager(*, manager_id: str | None) -> User | None:
    """The user a new rep's `manager_id` names (None for none); an unknown id is the
    payload's fault (422). `create` checks the role."""
    if not manager_id:
        return None
    manager = db.session.get(User, manager_id)
    if manager is None:
        raise ApiError(422, "validation_error", "No such manager.",
                       {"manager_id": ["No such user."]})
    return manager


def create(*, email: str, password: str, name: str, role: str,
           manager: User | None = None, selling_style: str | None = None,
           start_latitude: float | None = None, start_longitude: float | None = None,
           rep_needs_manager: bool = True) -> User:
    """A new user; a manager gets a team of their own, a rep joins their manager's team
    (a rep without one is in no team: no manager sees them, so the API requires one; the
    CLI, whose `--manager-email` the sync contract makes optional, allows it and says so)."""
    if role not in ROLES:
        raise ApiError(422, "validation_error", f"Unknown role '{role}'.",
                       {"role": [f"Must be one of: {', '.join(ROLES)}."]})
    if get_by_email(email=email) is not None:
        raise EMAIL.error(email)
    if role == "rep" and manager is None and rep_needs_manager:
        raise ApiError(422, "validation_error", "A rep belongs to one manager's team: name "
                       "the manager.", {"manager_id": ["Required for a rep."]})
    if role != "rep" and manager is not None:
        raise ApiError(422, "validation_error", "Only reps have a manager.",
                       {"manager_id": [f"Only for reps, not for a {role}."]})
    if manager is not None and manager.role != "manager":
        raise ApiError(422, "validation_error", "The manager named is not a manager.",
                       {"manager_id": ["Must be a user with the role 'manager'."]})
    if role != "rep" and selling_style:
        raise ApiError(422, "validation_error", "Only reps have a selling style.",
                       {"selling_style": ["Only for reps."]})
    if role != "rep" and start_latitude is not None:
        raise ApiError(422, "validation_error", "Only reps have a start point.",
                       {"start_latitude": ["Only for reps."]})
    user = User(email=email.strip().lower(), password_hash=hash_password(password=password),
                name=name, role=role)
    if role == "rep":
        user.selling_style = selling_style or "farmer"
        user.start_latitude, user.start_longitude = start_latitude, start_longitude
        user.team_id = manager.team_id if manager is not None else None
    if role == "manager":
        user.team = Team(name=f"{name}'s team")
    with kept_unique((EMAIL, user.email)):
        db.session.add(user)
    return user


def update(*, user: User, changes: dict, by: User | None = None) -> User:
    """Apply a PATCH's changes. `by`: the admin making them (None from the command line);
    deactivating yourself is refused (nobody could sign in to undo it)."""
    if changes.get("active") is False and by is not None and by.id == user.id:
        raise ApiError(409, "cannot_deactivate_self", "You cannot deactivate yourself.",
                       {"active": ["You cannot deactivate yourself."]})
    if "email" in changes:
        other = get_by_email(email=changes["email"])
        if other is not None and other.id != user.id:
            raise EMAIL.error(changes["email"].strip().lower())
        with kept_unique((EMAIL, changes["email"].strip().lower())):
            user.email = changes["email"].strip().lower()
    if "password" in changes:
        user.password_hash = hash_password(password=changes["password"])
        revoke_tokens(user=user)
    if "team_id" in changes:
        if user.role != "rep":
            raise ApiError(422, "validation_error", "Only reps move between teams.",
                           {"team_id": ["Only for reps."]})
        if changes["team_id"] is None:
            raise ApiError(422, "validation_error", "A rep belongs to one manager's team.",
                           {"team_id": ["Required for a rep."]})
        get_named_team(team_id=changes["team_id"])
        if user.team_id is None:
            signals.rep_joining_team.send(user, team_id=changes["team_id"])
        elif changes["team_id"] != user.team_id:
            _refuse_leaving_with_work(rep=user, leaving="moving the rep to another team")
        user.team_id = changes["team_id"]
    if "selling_style" in changes:
        if user.role != "rep":
            raise ApiError(422, "validation_error", "Only reps have a selling style.",
                           {"selling_style": ["Only for reps."]})
        user.selling_style = changes["selling_style"]
    if "start_latitude" in changes:  # the schema sends both coordinates together
        if user.role != "rep" and changes["start_latitude"] is not None:
            raise ApiError(422, "validation_error", "Only reps have a start point.",
                           {"start_latitude": ["Only for reps."]})
        user.start_latitude = changes["start_latitude"]
        user.start_longitude = changes["start_longitude"]
    for field in ("name", "active"):
        if field in changes:
            setattr(user, field, changes[field])
    if changes.get("active") is False:
        revoke_tokens(user=user)
    return user


def _refuse_leaving_with_work(*, rep: User, leaving: str) -> None:
    """A rep leaves their team (for another, or removed) only with no customers and no open
    tasks: customers belong to the old team (its manager keeps seeing them) while tasks
    follow the rep, so a move with work in hand would split it between two managers, and a
    removal would leave it with a deleted user. The domains that own the work count it
    (`signals.rep_leaving_team`); a rep in no team brings theirs along instead
    (`signals.rep_joining_team`)."""
    work: dict[str, int] = {}
    for _receiver, counts in signals.rep_leaving_team.send(rep):
        work.update(counts)
    customers = work.get("assigned_customers", 0)
    open_tasks = work.get("open_tasks", 0)
    if customers or open_tasks:
        raise ApiError(409, "rep_has_work",
                       f"Reassign the rep's {customers} customer(s) and {open_tasks} open "
                       f"task(s) to someone else before {leaving}.",
                       {"assigned_customers": customers, "open_tasks": open_tasks})


def remove(*, user: User, by: User | None) -> None:
    """Deactivate and mark deleted; a rep's work must be someone else's first. `by`: the
    admin (None from the command line); removing yourself is refused."""
    if by is not None and by.id == user.id:
        raise ApiError(409, "cannot_remove_self", "Admins cannot remove themselves.")
    if user.role == "rep":
        _refuse_leaving_with_work(rep=user, leaving="removing the rep")
    user.active = False
    user.deleted_at = now_ms()
    revoke_tokens(user=user)


ERASED_NAME = "Erased user"


def erase(*, user: User, by: User | None) -> UserErasure:
    """Erase a person (docs/privacy.md, "Erasure"): the domains remove their positions and
    free text (`signals.user_erasing`), their tokens go, and the name and email become a
    tombstone, which frees the email. Orders, visits and the rest stay as anonymous business
    records. `by`: the admin (None from the command line). Erasing yourself is refused, and a
    rep with work in hand must hand it over first, as for a removal."""
    if by is not None and by.id == user.id:
        raise ApiError(409, "cannot_erase_self", "Admins cannot erase themselves.")
    if user.role == "rep" and user.deleted_at is None:
        _refuse_leaving_with_work(rep=user, leaving="erasing the rep")
    removed: dict[str, int] = {}
    for _receiver, counts in signals.user_erasing.send(user):
        removed.update(counts)
    removed["auth_tokens"] = rowcount(db.session.execute(
        delete(AuthToken).where(AuthToken.user_id == user.id)))
    now = now_ms()
    user.name, user.email = ERASED_NAME, f"erased-{user.id}@erased.invalid"
    user.password_hash = "!"  # no password hashes to it
    user.active, user.selling_style = False, None
    user.deleted_at, user.erased_at = user.deleted_at or now, now
    erasure = UserErasure(user_id=user.id, erased_by_id=by.id if by else None, erased_at=now,
                          removed=removed)
    db.session.add(erasure)
    return erasure


def get_erasable(*, user_id: str) -> User:
    """Any user not erased yet, removed ones included (admins erase them too); else 404."""
    user = db.session.get(User, user_id)
    if user is None or user.erased_at is not None:
        raise ApiError(404, "not_found", "No such user.")
    return user


def visible_users(*, viewer: User) -> Select:
    """Admins see everyone; managers their team; others only themselves."""
    return select(User).where(User.deleted_at.is_(None), scope.rep_clause(
        viewer=viewer, rep_column=User.id, team_column=User.team_id, procurement="own"))


def get_visible(*, viewer: User, user_id: str) -> User:
    user = db.session.scalar(visible_users(viewer=viewer).where(User.id == user_id))
    if user is None:
        raise ApiError(404, "not_found", "No such user.")
    return user



def working_hours(*, team: Team) -> dict:
    """The hours a team works by (its own, or the config's defaults)."""
    days = hours.hours_of(team)
    return {"team_id": team.id, "time_zone": hours.zone_of(team).key,
            "days": {day: days.get(day) for day in hours.WEEKDAYS},
            "keep_off_duty_positions": team.keep_off_duty_positions,
            "defaults": team.working_hours is None}


def set_working_hours(*, team: Team, time_zone: str, days: dict,
                      keep_off_duty_positions: bool) -> dict:
    team.time_zone = time_zone
    team.working_hours = {day: days[day] for day in hours.WEEKDAYS}
    team.keep_off_duty_positions = keep_off_duty_positions
    return working_hours(team=team)
