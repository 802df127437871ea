"""Who may see whose work: the one place the role and team rules are written down.

- admin: everyone and everything, failures' full detail included (`sees_failure_detail`);
  the other roles that may read an operators' log read a failure's short message;
- procurement: company-wide figures and records (customers, orders, demand, stock, backlog),
  but nobody's tasks, locations or day; among users only themselves. What it sees of a kind
  of row is the caller's `procurement` policy: "all", "none" or "own";
- manager: their own team (the reps in it, what is assigned to them, what the team owns); a
  manager in no team sees nothing; a rep or team outside theirs is "not found" (404);
- rep: only themselves and what is assigned to them.

Domains, reports and the sync log build their queries on these clauses instead of writing
the roles out again; the phone's pull has its own, narrower rules (`sync.tables`).
"""
from typing import Literal

from sqlalchemy import ColumnElement, Select, and_, false, select, true

from fieldsales.errors import ApiError
from fieldsales.extensions import db
from fieldsales.users.models import Team, User

Procurement = Literal["all", "none", "own"]


def team_rep_ids(*, team_id: str | None) -> Select:
    """The ids of a team's reps."""
    return select(User.id).where(User.team_id == team_id, User.role == "rep")


def rep_clause(*, viewer: User, rep_column, team_column=None,
               procurement: Procurement = "all") -> ColumnElement:
    """WHERE clause limiting rows owned by a rep (`rep_column`) to the viewer's scope.

    Rows a team owns (`team_column`: customers, targets) are a manager's by that column;
    else by their rep being in the manager's team.
    """
    if viewer.role == "admin" or (viewer.role == "procurement" and procurement == "all"):
        return true()
    if viewer.role == "procurement" and procurement == "none":
        return false()
    if viewer.role == "manager":
        if viewer.team_id is None:
            return false()
        if team_column is not None:
            return team_column == viewer.team_id
        return rep_column.in_(team_rep_ids(team_id=viewer.team_id))
    return rep_column == viewer.id


def team_clause(*, viewer: User, team_column, team_id: str | None = None) -> ColumnElement:
    """WHERE clause for rows owned by a team: managers their own, admins all or `team_id`."""
    if viewer.role == "manager":
        if team_id is not None and team_id != viewer.team_id:
            raise ApiError(404, "not_found", "No such team.")
        return team_column == viewer.team_id if viewer.team_id else false()
    if team_id is not None:
        return team_column == team_id
    return true()


def manages(*, manager: User, user: User) -> bool:
    """Whether `user` is one of the reps of `manager`'s team."""
    return (manager.role == "manager" and manager.team_id is not None and user.role == "rep"
            and user.team_id == manager.team_id)


def sees_failure_detail(*, viewer: User) -> bool:
    """Whether the viewer reads a failure's full text (SQL, values): admins only."""
    return viewer.role == "admin"


def visible_rep(*, viewer: User, rep_id: str) -> User:
    """A rep the viewer may look at; anyone else is 404, so ids reveal nothing."""
    rep = db.session.get(User, rep_id)
    allowed = rep is not None and rep.role == "rep" and rep.deleted_at is None and (
        viewer.role == "admin" or manages(manager=viewer, user=rep)
        or (viewer.role == "rep" and rep.id == viewer.id))
    if rep is None or not allowed:
        raise ApiError(404, "not_found", "No such rep.")
    return rep


def visible_team(*, viewer: User, team_id: str) -> Team:
    """A team the viewer may look at: any for admins, their own for the others."""
    team = db.session.get(Team, team_id)
    if team is None or (viewer.role != "admin" and team.id != viewer.team_id):
        raise ApiError(404, "not_found", "No such team.")
    return team


def rep_filter(*, viewer: User, rep_column, team_id: str | None,
               rep_id: str | None) -> ColumnElement:
    """The viewer's scope over a rep column, narrowed to a team and/or a rep they may see."""
    clause = rep_clause(viewer=viewer, rep_column=rep_column)
    if team_id:
        if viewer.role in ("manager", "rep") and team_id != viewer.team_id:
            raise ApiError(404, "not_found", "No such team.")
        clause = and_(clause, rep_column.in_(team_rep_ids(team_id=team_id)))
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
