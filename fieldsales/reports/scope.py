"""Who sees whose work in reports: the one place the role rules are written down.

- admin: everyone; procurement: company-wide figures (demand, stock, backlog, feedback), but
  never a rep's locations or day (the routes refuse those with 403);
- manager: the reps of their own team; a rep or team outside it is "not found" (404);
- rep: only themselves.
"""
from sqlalchemy import and_, false, select, true

from fieldsales.errors import ApiError
from fieldsales.extensions import db
from fieldsales.users.models import Team, User


def rep_clause(viewer: User, rep_column):
    """WHERE clause limiting rows with a rep column to the viewer's scope."""
    if viewer.role in ("admin", "procurement"):
        return true()
    if viewer.role == "manager":
        if viewer.team_id is None:
            return false()
        return rep_column.in_(select(User.id).where(User.team_id == viewer.team_id,
                                                    User.role == "rep"))
    return rep_column == viewer.id


def visible_rep(*, viewer: User, rep_id: str) -> User:
    """A rep the viewer may look at; anyone else is 404, so ids reveal nothing."""
    rep = db.session.get(User, rep_id)
    allowed = rep is not None and rep.role == "rep" and rep.deleted_at is None and (
        viewer.role == "admin"
        or (viewer.role == "manager" and viewer.team_id is not None
            and rep.team_id == viewer.team_id)
        or (viewer.role == "rep" and rep.id == viewer.id))
    if not allowed:
        raise ApiError(404, "not_found", "No such rep.")
    return rep


def visible_team(*, viewer: User, team_id: str) -> Team:
    """A team the viewer may look at: any for admins, their own for managers."""
    team = db.session.get(Team, team_id)
    if team is None or (viewer.role != "admin" and team.id != viewer.team_id):
        raise ApiError(404, "not_found", "No such team.")
    return team


def team_clause(viewer: User, team_column, team_id: str | None = None):
    """WHERE clause for rows owned by a team: managers their own, admins all or `team_id`."""
    if viewer.role == "manager":
        if team_id is not None and team_id != viewer.team_id:
            raise ApiError(404, "not_found", "No such team.")
        return team_column == viewer.team_id if viewer.team_id else false()
    if team_id is not None:
        return team_column == team_id
    return true()


def rep_filter(viewer: User, rep_column, *, team_id: str | None, rep_id: str | None):
    """The viewer's scope over a rep column, narrowed to a team and/or a rep they may see."""
    clause = rep_clause(viewer, rep_column)
    if team_id:
        if viewer.role in ("manager", "rep") and team_id != viewer.team_id:
            raise ApiError(404, "not_found", "No such team.")
        clause = and_(clause, rep_column.in_(
            select(User.id).where(User.team_id == team_id, User.role == "rep")))
    if rep_id:
        if viewer.role != "procurement":
            visible_rep(viewer=viewer, rep_id=rep_id)
        clause = and_(clause, rep_column == rep_id)
    return clause


def orders_owner(*, viewer: User, team_id: str | None,
                 rep_id: str | None) -> tuple[str | None, str | None]:
    """The team and rep whose orders a backlog figure may cover for this viewer."""
    if viewer.role == "manager":
        if team_id is not None and team_id != viewer.team_id:
            raise ApiError(404, "not_found", "No such team.")
        if rep_id is not None:
            visible_rep(viewer=viewer, rep_id=rep_id)
        return viewer.team_id, rep_id
    if viewer.role == "rep":
        if rep_id is not None and rep_id != viewer.id:
            raise ApiError(404, "not_found", "No such rep.")
        return None, viewer.id
    return team_id, rep_id
