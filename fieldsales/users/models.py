"""Accounts: teams, users and their bearer tokens."""
from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldsales.common import id_column, now_ms
from fieldsales.extensions import Model

SELLING_STYLES = ("hunter", "farmer")


class Team(Model):
    """A manager's team of reps. Its manager is the user with role manager and this team_id."""

    __tablename__ = "teams"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    # How often each customer should be visited, for territory balance.
    visit_cadence_days: Mapped[int] = mapped_column(Integer, default=14)
    # Working hours (glossary; rules in users/hours.py): an IANA zone, and per weekday
    # ("mon".."sun") ["HH:MM", "HH:MM"] or null for a day off. Null: the config's defaults.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    working_hours: Mapped[dict | None] = mapped_column(JSON)
    # Off-duty positions are acknowledged and not stored; a team that must keep them sets
    # this: they are stored flagged off duty and shown to no one but the rep.
    keep_off_duty_positions: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)


class User(Model):
    __tablename__ = "users"

    id: Mapped[str] = id_column()
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), index=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    # Reps: the team they sell in. Managers: the team they lead.
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id"), index=True)
    selling_style: Mapped[str | None] = mapped_column(String(10))
    # Reps: where their day starts and ends (home or depot), for journey plans; null takes
    # the centroid of their customers (plans/service.py).
    start_latitude: Mapped[float | None] = mapped_column(Float)
    start_longitude: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    deleted_at: Mapped[int | None] = mapped_column(BigInteger)
    # Erased (docs/privacy.md): name and email are a tombstone, positions and free text gone.
    erased_at: Mapped[int | None] = mapped_column(BigInteger)

    team: Mapped[Team | None] = relationship()


class UserErasure(Model):
    """That a person's data was erased: by whom, when, and how many of what were removed.
    It keeps nothing personal: the user row it names is a tombstone by then."""

    __tablename__ = "user_erasures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    # Null when an operator erased from the command line (`flask users erase`).
    erased_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    erased_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    removed: Mapped[dict] = mapped_column(JSON, default=dict)  # kind -> rows


class AuthToken(Model):
    """A bearer token; only its SHA-256 is stored, so a leaked table grants nothing."""

    __tablename__ = "auth_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)
