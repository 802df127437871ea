"""The synced tables: columns, who may write what, and what each rep pulls.

One entry per table of the sync contract (docs/sync-contract.md, "Tables"). Everything the pull
and the push need to know about a table lives here, so the two cannot disagree:

- `columns`: the contract's columns in order (beyond `id`), with their JSON type and checks.
  `writable=False` marks read-only columns: sent in pulls, ignored in pushes.
- `ops`: what a phone may push (`create`, `update`; `delete` for none today). A table with no
  ops (customers, products) is never written by a push; one without `create` (planned
  visits) takes no `created` record, nor an `updated` one whose row does not exist.
- `append_only`: never a sync conflict (location_pings, feedback).
- `owner`: the column naming the rep who owns a row (order lines: through their order).
- `creator` / `rep_may_change`: in a row the rep did not create (tasks a manager gave them),
  the rep may change only these columns, as through REST; the rest must stay as stored.
- `refs`: foreign keys checked on push, by the kind of row they must point to.
- `visible(rep_id, since)` / `tombstones(rep_id, since)`: SQL conditions for the rows a rep
  pulls, and for the removed rows the rep could have seen; `since` is the start of the sync
  window ("the last 30 days", `SYNC_WINDOW_DAYS`).

What a push does with a table beyond its columns is a hook here too, so the push's code never
names a table:
- `owner_query`: when the owner lives on another table (order lines: their order's rep);
- `referable(rep_id, since)` / `ref_columns` / `ref_message`: the rows a pushed foreign key
  may point to, what is loaded of them, and the reason when it points elsewhere;
- `facts` / `server_columns`: the server's own values of a pushed row (fieldsales/sync/facts.py),
  written with it and rewritten by an update; `insert_values`: the server's values of a new row;
- `check(row, current=, refs=, written=, pushed_at=, config=)`: what a row must satisfy
  beyond its columns and foreign keys (order lines: the order rules of
  fieldsales/orders/rules.py; a planned visit: only a skip), as column -> reasons; `current`
  is the row as stored or written earlier in the push (None for a new one), `written` holds
  the rows this push has accepted so far, per table, and `pushed_at` is when the phone
  pushed the row (for a replay: its original push);
- `after_write(rows, user_id=)`: what else changes once the push's rows are written (a
  visit carries out the rep's planned visit: fieldsales/plans/status.py);
- `same_as(values, row)`: whether a pushed record only repeats what is stored (a retry); by
  default its columns equal the stored ones (a planned visit: also a skip the server has
  since marked done);
- `since_version` (on a table and on a `Col`): the sync schema version that brought it
  (docs/sync-contract.md, "Schema version 2"); a phone on an older version never pulls it,
  and a push names it only when the phone has it;
- `Col.when` / `time_order`: which columns are phone times (events or plans) and which must
  follow which, judged by push/times.py (fieldsales/phonetime.py); `time_flags` among the
  `server_columns` stores the odd ones.
"""
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select

from fieldsales.changes.models import AccessChange
from fieldsales.common import DAY_MS, ID_MESSAGE, is_valid_id, now_ms
from fieldsales.customers import service as customers_service
from fieldsales.customers.models import CUSTOMER_KINDS, Customer
from fieldsales.extensions import Model, db
from fieldsales.feedback.models import FEEDBACK_CATEGORIES, Feedback
from fieldsales.locations.models import LocationPing
from fieldsales.orders import rules as order_rules
from fieldsales.orders.models import ORDER_STATUSES, Order, OrderLine
from fieldsales.orders.rules import PENDING_STATUSES
from fieldsales.phonetime import EVENT, PLAN
from fieldsales.plans import status as plan_status
from fieldsales.plans.models import (
    PLAN_REASONS,
    PLAN_STATUSES,
    SYNC_DAYS_AHEAD,
    SYNC_DAYS_BEHIND,
    PlannedVisit,
)
from fieldsales.products.models import Product
from fieldsales.sync import facts as server_facts
from fieldsales.tasks.models import REP_FIELDS, TASK_CATEGORIES, TASK_STATUSES, Task
from fieldsales.users import hours
from fieldsales.users.models import User
from fieldsales.visits.models import VISIT_OUTCOMES, Visit

# Largest time accepted (ms): JavaScript's largest safe integer, far beyond any real date.
MAX_MS = 2**53 - 1
MAX_TEXT = 10_000
# Beyond any real shipment or GPS error; bounds that keep every report's sums finite (a
# requested quantity of 1e308, summed, is Infinity: not JSON).
MAX_QUANTITY = 1e9
MAX_METRES = 1e7


class Invalid(ValueError):
    """A pushed value that does not fit its column; the message goes to the quarantine."""


class HugeInt:
    """A JSON integer too long for int() (over Python's 4,300-digit limit), kept as its text:
    out of range for every column, but no reason to refuse the rest of the push."""

    __slots__ = ("digits",)

    def __init__(self, digits: str):
        self.digits = digits


@dataclass(frozen=True)
class Col:
    """One column of the contract: its JSON type (`kind`) and what a pushed value must be.

    kinds: id (a foreign key), str, enum, float, time (integer ms), int, money (2 decimals),
    bool (read-only only). A time the phone reports says `when` (an event or a plan), so the
    push judges whether it can be true (fieldsales/phonetime.py).
    """

    name: str
    kind: str
    nullable: bool = True
    writable: bool = True
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    default: Any = None  # used when a created record omits the column
    when: str = ""  # a phone time: phonetime.EVENT or phonetime.PLAN (judged by push/times.py)
    since_version: int = 1  # the sync schema version that brought the column

    @cached_property
    def cleaner(self) -> Callable:
        """`clean` with a fast path for the common, valid value (pushes carry many)."""
        clean, low, high = self.clean, self.min, self.max
        if self.kind == "float":
            low = -math.inf if low is None else low
            high = math.inf if high is None else high
            return lambda v: v if type(v) is float and low <= v <= high else clean(v)
        if self.kind == "time":
            return lambda v: v if type(v) is int and 0 <= v <= MAX_MS else clean(v)
        return clean

    def clean(self, value):
        """The value to store, or Invalid with a message a person can act on."""
        if value is None:
            if self.nullable:
                return None
            raise Invalid("Must not be null.")
        kind = self.kind
        if kind in ("id", "str", "enum"):
            if not isinstance(value, str):
                raise Invalid("Must be a string.")
            if value == "" and self.nullable and kind != "str":
                return None  # WatermelonDB's empty relation / unset choice
            if kind == "id":
                if not is_valid_id(value):
                    raise Invalid(ID_MESSAGE)
                return value
            if kind == "enum":
                if value not in self.choices:
                    raise Invalid(f"Must be one of: {', '.join(self.choices)}.")
                return value
            if len(value) > (self.max_length or MAX_TEXT):
                raise Invalid(f"Must be at most {self.max_length or MAX_TEXT} characters.")
            if "\x00" in value:
                raise Invalid("Must not contain NUL characters.")
            if not self.nullable and not value.strip():
                raise Invalid("Must not be empty.")
            return value
        if type(value) is HugeInt:
            raise Invalid("Out of range.")
        if type(value) not in (int, float):  # bool is an int subclass: refused here
            raise Invalid("Must be a number.")
        if type(value) is int and abs(value) > MAX_MS:
            raise Invalid("Out of range.")
        if not math.isfinite(value):
            raise Invalid("Must be a finite number.")
        if kind in ("time", "int"):
            if isinstance(value, float):
                if not value.is_integer():
                    raise Invalid("Must be a whole number.")
                value = int(value)
            if kind == "time" and not 0 <= value <= MAX_MS:
                raise Invalid("Must be a time in milliseconds since the Unix epoch.")
        elif kind == "money":
            if abs(round(value, 2) - value) > 1e-9:
                raise Invalid("Must have at most 2 decimal places.")
            value = round(float(value), 2)
        else:
            value = float(value)
        if self.min is not None and value < self.min:
            raise Invalid(f"Must be at least {self.min:g}.")
        if self.max is not None and value > self.max:
            raise Invalid(f"Must be at most {self.max:g}.")
        return value


def _to_json(kind: str) -> Callable:
    """Exact JSON types for pulls: WatermelonDB turns a wrong type into null."""
    if kind in ("float", "money"):
        return lambda v: None if v is None else float(v)
    if kind in ("time", "int"):
        return lambda v: None if v is None else int(v)
    if kind == "bool":
        return lambda v: None if v is None else bool(v)
    return lambda v: None if v is None else str(v)


def _lat(name, **kw):
    return Col(name, "float", min=-90, max=90, **kw)


def _lng(name, **kw):
    return Col(name, "float", min=-180, max=180, **kw)


@dataclass(frozen=True)
class SyncTable:
    name: str
    model: type[Model]
    columns: tuple[Col, ...]
    visible: Callable[[str, int], ColumnElement] | None
    tombstones: Callable[[str, int], ColumnElement] | None
    ops: frozenset = frozenset()
    append_only: bool = False
    owner: str | None = None
    refs: dict = field(default_factory=dict)
    creator: str | None = None
    rep_may_change: frozenset = frozenset()
    owner_query: Callable[..., Select] | None = None
    referable: Callable[[str, int], ColumnElement] | None = None
    ref_columns: tuple[str, ...] = ()
    ref_message: str = ""
    facts: Callable[..., list[dict]] | None = None
    server_columns: tuple[str, ...] = ()
    insert_values: dict = field(default_factory=dict)
    check: Callable[..., dict] | None = None
    after_write: Callable[..., None] | None = None
    # Phone times that must follow another: (earlier, later, slack in ms) (push/times.py).
    time_order: tuple[tuple[str, str, int], ...] = ()
    same_as: Callable[[dict, dict], bool] | None = None
    since_version: int = 1  # the sync schema version that brought the table

    @property
    def table(self):
        return self.model.__table__

    def select_owned(self, *columns) -> Select:
        """`select(*columns)` with the rep who owns each row as `_owner` (none: nobody's)."""
        if self.owner_query is not None:
            return self.owner_query(*columns)
        if self.owner:
            return select(*columns, self.table.c[self.owner].label("_owner"))
        return select(*columns)

    @cached_property
    def writable(self) -> tuple[Col, ...]:
        return tuple(c for c in self.columns if c.writable)

    def columns_of(self, version: int) -> tuple[Col, ...]:
        """The columns a phone on schema `version` has."""
        return tuple(c for c in self.columns if c.since_version <= version)

    def repeats(self, values: dict, row: dict) -> bool:
        """Whether pushed `values` only repeat what `row` holds (`same_as`)."""
        if self.same_as is not None:
            return self.same_as(values, row)
        return all(row.get(name) == value for name, value in values.items())

    @cached_property
    def record_keys(self) -> frozenset[str]:
        """The keys of a pushed record worth keeping (in the quarantine): `id`, the contract's
        columns (read-only ones too) and WatermelonDB's own `_status` and `_changed`."""
        return frozenset({"id", "_status", "_changed", *(c.name for c in self.columns)})

    @cached_property
    def phone_times(self) -> tuple[Col, ...]:
        return tuple(c for c in self.writable if c.when)

    @cached_property
    def cleaners(self) -> tuple[tuple[str, Callable], ...]:
        return tuple((c.name, c.cleaner) for c in self.writable)

    @property
    def pulled(self) -> bool:
        return self.visible is not None

    def serializer(self, version: int = 1) -> Callable[[Any], dict]:
        """Row (with `id` and the contract's columns) -> the raw record a phone on schema
        `version` gets."""
        columns = self.columns_of(version)
        names = [c.name for c in columns]
        converters = [_to_json(c.kind) for c in columns]
        pairs = list(zip(names, converters, strict=True))

        def serialize(row) -> dict:
            mapping = row._mapping
            record = {"id": str(mapping["id"])}
            for name, convert in pairs:
                record[name] = convert(mapping[name])
            return record

        return serialize


def product_active() -> ColumnElement:
    # Products are "active" while not removed (and not switched off, should a flag appear).
    condition: ColumnElement[bool] = Product.deleted_at.is_(None)
    if hasattr(Product, "active"):
        condition = and_(condition, Product.active.is_(True))
    return condition


def product_gone() -> ColumnElement:
    condition: ColumnElement[bool] = Product.deleted_at.is_not(None)
    if hasattr(Product, "active"):
        condition = or_(condition, Product.active.is_(False))
    return condition


def _customers_referable(rep_id: str, since: int) -> ColumnElement:
    # Assigned to the rep, or taken away from them within the sync window (work done offline
    # before a reassignment is still the rep's work).
    revoked = select(AccessChange.record_id).where(
        AccessChange.user_id == rep_id, AccessChange.table_name == "customers",
        AccessChange.granted.is_(False), AccessChange.stamp > since)
    return and_(Customer.deleted_at.is_(None),
                or_(Customer.assigned_rep_id == rep_id, Customer.id.in_(revoked)))


def _promote_prospects(*, rows: list[dict], user_id: str) -> None:
    customers_service.promote_prospects(customer_ids=[
        row["customer_id"] for row in rows if row["_new"]])


def _check_line(row: dict, *, current: dict | None, refs: dict, written: dict, pushed_at: int,
                config) -> dict:
    # The order is one of this push (written before its lines) or a stored one of the rep's
    # (its status and received_at loaded as references); the product's price is loaded too.
    pushed = written.get("orders", {}).get(row["order_id"])
    order = None if pushed is not None and pushed["_new"] else refs["orders"][row["order_id"]]
    return order_rules.check_new_line(
        same_push=order is None,
        order_status=None if order is None else order.status,
        order_received_at=None if order is None else order.received_at,
        list_price=refs["products"][row["product_id"]].unit_price,
        quantity=row["quantity"], unit_price=row["unit_price"], pushed_at=pushed_at,
        edit_window_minutes=config["ORDER_EDIT_WINDOW_MINUTES"],
        price_tolerance=config["ORDER_PRICE_TOLERANCE"],
        max_line_value=config["ORDER_MAX_LINE_VALUE"])


def _planned_days(rep_id: str) -> tuple[str, str]:
    """The first and last `planned_date` the rep pulls, around today in the team's zone."""
    rep = db.session.get(User, rep_id)
    today = hours.local_day(rep.team if rep is not None else None, now_ms())
    return ((today - timedelta(days=SYNC_DAYS_BEHIND)).isoformat(),
            (today + timedelta(days=SYNC_DAYS_AHEAD)).isoformat())


def _planned_visits_visible(rep_id: str, since: int) -> ColumnElement:
    first, last = _planned_days(rep_id)
    return and_(PlannedVisit.rep_id == rep_id, PlannedVisit.deleted_at.is_(None),
                PlannedVisit.planned_date.between(first, last))


def _check_plan_change(row: dict, *, current: dict | None, refs: dict, written: dict,
                       pushed_at: int, config) -> dict:
    # Only updates reach here (the table takes no creations): `current` is the stored row.
    assert current is not None
    return plan_status.skip_errors(
        stored_status=current["status"], stored_skip_reason=current["skip_reason"],
        status=row["status"], skip_reason=row["skip_reason"])


def _plan_change_repeats(values: dict, row: dict) -> bool:
    return plan_status.repeats(
        stored_status=row["status"], stored_skip_reason=row.get("skip_reason"),
        status=values.get("status", row["status"]),
        skip_reason=values.get("skip_reason", row.get("skip_reason")))


def _check_visit(row: dict, *, current: dict | None, refs: dict, written: dict,
                 pushed_at: int, config) -> dict:
    # The planned visit it names is the rep's (`refs`); it must be at the visit's customer.
    planned_id = row.get("planned_visit_id")
    planned = refs["planned_visits"].get(planned_id) if planned_id else None
    if planned is not None and planned.customer_id != row["customer_id"]:
        return {"planned_visit_id": ["This planned visit is at another customer."]}
    return {}


def _carry_out_plans(*, rows: list[dict], user_id: str) -> None:
    plan_status.carry_out(rep_id=user_id, visits=rows)


def _orders_visible(rep_id: str, since: int) -> ColumnElement:
    return and_(Order.rep_id == rep_id, Order.deleted_at.is_(None),
                or_(Order.status.in_(PENDING_STATUSES), Order.changed_seq > since))


CUSTOMERS = SyncTable(
    name="customers", model=Customer,
    columns=(
        Col("name", "str", nullable=False, max_length=200),
        Col("address", "str"),
        _lat("latitude", nullable=False), _lng("longitude", nullable=False),
        Col("geofence_radius_m", "float", nullable=False, min=0),
        Col("segment", "str", max_length=50),
        Col("phone", "str", max_length=50),
        Col("kind", "enum", nullable=False, choices=CUSTOMER_KINDS),
    ),
    visible=lambda rep, since: and_(Customer.assigned_rep_id == rep, Customer.deleted_at.is_(None)),
    tombstones=lambda rep, since: and_(Customer.assigned_rep_id == rep,
                                     Customer.deleted_at.is_not(None)),
    referable=_customers_referable,
    ref_columns=("latitude", "longitude", "geofence_radius_m"),  # what visit facts read
    ref_message="No customer with this id is assigned to you.",
)

PRODUCTS = SyncTable(
    name="products", model=Product,
    columns=(
        Col("sku", "str", nullable=False, max_length=64),
        Col("name", "str", nullable=False, max_length=200),
        Col("unit", "str", nullable=False, max_length=20),
        Col("unit_price", "money", nullable=False, min=0),
        Col("stock_on_hand", "float", nullable=False),
    ),
    visible=lambda rep, since: product_active(),
    tombstones=lambda rep, since: product_gone(),
    referable=lambda rep, since: product_active(),
    ref_columns=("unit_price",),  # the price an order line is checked against
    ref_message="No active product with this id.",
)

TASKS = SyncTable(
    name="tasks", model=Task,
    columns=(
        Col("customer_id", "id"),
        Col("title", "str", nullable=False, max_length=200),
        Col("description", "str"),
        Col("category", "enum", nullable=False, choices=TASK_CATEGORIES, default="selling"),
        Col("due_at", "time", when=PLAN),
        Col("status", "enum", nullable=False, choices=TASK_STATUSES, default="open"),
        Col("completed_at", "time", when=EVENT),
        Col("completion_note", "str"),
        _lat("latitude"), _lng("longitude"),
    ),
    visible=lambda rep, since: and_(Task.assigned_rep_id == rep, Task.deleted_at.is_(None),
                                  or_(Task.status == "open", Task.changed_seq > since)),
    tombstones=lambda rep, since: and_(Task.assigned_rep_id == rep, Task.deleted_at.is_not(None)),
    ops=frozenset({"create", "update"}),
    owner="assigned_rep_id",
    refs={"customer_id": "customers"},
    # REST's rule for reps, plus the completion place the phone records.
    creator="created_by_id",
    rep_may_change=REP_FIELDS | {"latitude", "longitude"},
    server_columns=("time_flags",),
)

VISITS = SyncTable(
    name="visits", model=Visit,
    columns=(
        Col("customer_id", "id", nullable=False),
        Col("check_in_at", "time", nullable=False, when=EVENT),
        _lat("check_in_latitude", nullable=False), _lng("check_in_longitude", nullable=False),
        Col("check_in_accuracy_m", "float", min=0, max=MAX_METRES),
        Col("check_out_at", "time", when=EVENT),
        _lat("check_out_latitude"), _lng("check_out_longitude"),
        Col("outcome", "enum", choices=VISIT_OUTCOMES),
        Col("notes", "str"),
        Col("verified", "bool", writable=False),
        Col("distance_m", "float", writable=False),
        Col("planned_visit_id", "id", since_version=2),
    ),
    visible=lambda rep, since: and_(Visit.rep_id == rep, Visit.deleted_at.is_(None),
                                  Visit.check_in_at > since),
    tombstones=lambda rep, since: and_(Visit.rep_id == rep, Visit.deleted_at.is_not(None)),
    ops=frozenset({"create", "update"}),
    owner="rep_id",
    refs={"customer_id": "customers", "planned_visit_id": "planned_visits"},
    referable=lambda rep, since: and_(Visit.rep_id == rep, Visit.deleted_at.is_(None)),
    ref_message="No visit of yours with this id.",
    facts=server_facts.verify_visits,
    server_columns=("verified", "distance_m", "time_on_site_s", "time_flags"),
    time_order=(("check_in_at", "check_out_at", 0),),
    check=_check_visit,  # its planned visit is at its customer
    after_write=_carry_out_plans,  # a verified visit carries out the rep's planned visit
)

PLANNED_VISITS = SyncTable(
    name="planned_visits", model=PlannedVisit, since_version=2,
    columns=(
        Col("customer_id", "id", writable=False),
        Col("planned_date", "str", writable=False),
        Col("sequence", "int", writable=False),
        Col("planned_arrival_at", "time", writable=False),
        Col("planned_duration_s", "int", writable=False),
        Col("reason", "enum", writable=False, choices=PLAN_REASONS),
        Col("status", "enum", nullable=False, choices=PLAN_STATUSES),
        Col("skip_reason", "str"),
        Col("visit_id", "id", writable=False),
    ),
    visible=_planned_visits_visible,
    tombstones=lambda rep, since: and_(PlannedVisit.rep_id == rep,
                                     PlannedVisit.deleted_at.is_not(None)),
    ops=frozenset({"update"}),  # made by the server; the phone may only skip them
    owner="rep_id",
    referable=lambda rep, since: and_(PlannedVisit.rep_id == rep,
                                    PlannedVisit.deleted_at.is_(None)),
    ref_columns=("customer_id",),  # a visit's planned visit is at its customer
    ref_message="No planned visit of yours with this id.",
    check=_check_plan_change,  # planned -> skipped, with a reason
    same_as=_plan_change_repeats,  # a skip carried out after all is still that skip
)

LOCATION_PINGS = SyncTable(
    name="location_pings", model=LocationPing,
    columns=(
        Col("recorded_at", "time", nullable=False),
        _lat("latitude", nullable=False), _lng("longitude", nullable=False),
        Col("accuracy_m", "float", min=0, max=MAX_METRES),
        Col("speed_mps", "float"),  # iOS reports -1 for "unknown": kept as sent
        Col("battery_pct", "float", min=0, max=100),
    ),
    visible=None, tombstones=None,  # never pulled
    ops=frozenset({"create"}),
    append_only=True,
    owner="rep_id",
    facts=server_facts.flag_pings,
    server_columns=("flags", "flagged", "distance_from_previous_m", "implied_speed_mps"),
)

FEEDBACK = SyncTable(
    name="feedback", model=Feedback,
    columns=(
        Col("customer_id", "id", nullable=False),
        Col("visit_id", "id"),
        Col("recorded_at", "time", nullable=False, when=EVENT),
        Col("rating", "int", min=1, max=5),
        Col("category", "enum", nullable=False, choices=FEEDBACK_CATEGORIES),
        Col("product_id", "id"),
        Col("requested_quantity", "float", min=0, max=MAX_QUANTITY),
        Col("comment", "str"),
    ),
    visible=lambda rep, since: and_(Feedback.rep_id == rep, Feedback.deleted_at.is_(None),
                                  Feedback.recorded_at > since),
    tombstones=lambda rep, since: and_(Feedback.rep_id == rep, Feedback.deleted_at.is_not(None)),
    ops=frozenset({"create"}),
    append_only=True,
    owner="rep_id",
    refs={"customer_id": "customers", "visit_id": "visits", "product_id": "products"},
    server_columns=("time_flags",),
)

ORDERS = SyncTable(
    name="orders", model=Order,
    columns=(
        Col("customer_id", "id", nullable=False),
        Col("visit_id", "id"),
        Col("ordered_at", "time", nullable=False, when=EVENT),
        Col("requested_delivery_at", "time", when=PLAN),
        Col("notes", "str"),
        Col("status", "enum", writable=False, choices=ORDER_STATUSES),
        Col("promised_dispatch_at", "time", writable=False),
    ),
    visible=_orders_visible,
    tombstones=lambda rep, since: and_(Order.rep_id == rep, Order.deleted_at.is_not(None)),
    ops=frozenset({"create"}),
    owner="rep_id",
    refs={"customer_id": "customers", "visit_id": "visits"},
    referable=lambda rep, since: and_(Order.rep_id == rep, Order.deleted_at.is_(None)),
    ref_columns=("status", "received_at"),  # whether a line may still join it
    ref_message="No order of yours with this id.",
    insert_values={"status": "open"},
    after_write=_promote_prospects,  # a prospect becomes an account with its first order
    server_columns=("time_flags",),
    # A delivery requested for the order's own day, picked as a date (local midnight).
    time_order=(("ordered_at", "requested_delivery_at", DAY_MS),),
)

ORDER_LINES = SyncTable(
    name="order_lines", model=OrderLine,
    columns=(
        Col("order_id", "id", nullable=False),
        Col("product_id", "id", nullable=False),
        Col("quantity", "float", nullable=False, min=0.000001,
            max=order_rules.MAX_LINE_QUANTITY),
        Col("unit_price", "money", nullable=False, min=0, max=order_rules.MAX_UNIT_PRICE),
        Col("delivered_quantity", "float", writable=False),
    ),
    visible=lambda rep, since: and_(
        OrderLine.deleted_at.is_(None),
        OrderLine.order_id.in_(select(Order.id).where(_orders_visible(rep, since)))),
    tombstones=lambda rep, since: and_(
        OrderLine.deleted_at.is_not(None),
        OrderLine.order_id.in_(select(Order.id).where(Order.rep_id == rep))),
    ops=frozenset({"create"}),
    owner=None,  # the order's rep
    owner_query=lambda *columns: select(*columns, Order.rep_id.label("_owner")).join(
        Order, Order.id == OrderLine.order_id),
    refs={"order_id": "orders", "product_id": "products"},
    insert_values={"delivered_quantity": 0.0},
    check=_check_line,  # onto which order, at what price, how big
)

# In the order a push is applied: a row's parents come before it.
TABLES: dict[str, SyncTable] = {t.name: t for t in (
    CUSTOMERS, PRODUCTS, TASKS, PLANNED_VISITS, VISITS, LOCATION_PINGS, FEEDBACK, ORDERS,
    ORDER_LINES)}
SCHEMA_VERSIONS = (1, 2)  # the sync schema versions this server speaks (pull rule 5)


def tables_of(version: int) -> dict[str, SyncTable]:
    """The tables a phone on schema `version` has, in the push's order."""
    return {name: t for name, t in TABLES.items() if t.since_version <= version}
