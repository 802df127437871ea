"""A realistic demo company in Lisbon, so a newcomer has something to look at.

Deterministic (one `random.Random(42)`; times are relative to the day it runs) and fast:
volume goes in with bulk inserts, a month of field activity in a few seconds. Nothing here
commits; the `demo seed` command does, once.

What it makes: an admin, a procurement user, two managers with four reps each (two hunters,
two farmers per team), ~200 customers around Lisbon (a few deliberate duplicates for the
merge tools), ~50 products, open tasks for the coming working days, journey plans for the
coming week (the plan job's service, from each rep's home) and for the last five days as they
ended (done, missed, one skipped with its reason), and for the last 30 days
each rep's visits (mostly verified), location pings every 2-5 minutes of the working day,
feedback, and orders with deliveries: most delivered, some partially, some open and late.
Seeded rows look like pushed ones because they go through the rules the sync ingest applies:
visits' `distance_m`/`verified`/`time_on_site_s` (fieldsales.visits.facts), pings' flags,
distances and implied speeds (fieldsales.locations.flags), a prospect with an order becoming an
account (fieldsales.customers.service); distances are fieldsales.geo's.
"""
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from flask import current_app
from sqlalchemy import insert, inspect, select

from fieldsales.changes.clock import take_stamp
from fieldsales.common import DAY_MS, HOUR_MS, MINUTE_MS, new_id, now_ms
from fieldsales.customers import service as customers
from fieldsales.customers.models import Customer
from fieldsales.extensions import db
from fieldsales.feedback.models import Feedback
from fieldsales.geo import geodesic_m
from fieldsales.locations import flags as ping_flags
from fieldsales.locations.models import LocationPing
from fieldsales.orders import service as orders
from fieldsales.orders.models import Delivery, DeliveryLine, Order, OrderLine
from fieldsales.plans import service as plans
from fieldsales.plans.models import PlannedVisit
from fieldsales.products.models import Product
from fieldsales.targets.models import Target
from fieldsales.targets.periods import bounds_ms, ms_date
from fieldsales.tasks.models import Task
from fieldsales.users.credentials import hash_password
from fieldsales.users.models import Team, User
from fieldsales.visits import facts as visit_facts
from fieldsales.visits.models import Visit

PASSWORD = "demo-password"
DOMAIN = "demo.fieldsales.dev"
CITY = (38.7223, -9.1393)  # Lisbon
CITY_RADIUS_M = 15_000
HISTORY_DAYS = 30  # of field activity before today (dev.py scores all of it on start)
PLAN_DAYS = 7  # journey plans for the coming week (every day is a working day by default)
PAST_PLAN_DAYS = 5  # the last days of the month kept their journey plans: done, missed, a skip
SKIP_REASON = "Shop closed for stocktaking"

# (name, selling style, home base): the reps' territories are the customers nearest home.
TEAMS = (
    ("Lisboa Ocidental", ("Marta Lopes", "manager1"), (
        ("Rui Almeida", "hunter", (38.6979, -9.2064)),    # Belém
        ("Ines Carvalho", "farmer", (38.7510, -9.2020)),  # Benfica
        ("Tiago Ramos", "hunter", (38.7538, -9.2308)),    # Amadora
        ("Sofia Nunes", "farmer", (38.7180, -9.1660)),    # Campo de Ourique
    )),
    ("Lisboa Oriental", ("Pedro Santos", "manager2"), (
        ("Joana Ferreira", "farmer", (38.7530, -9.1440)),  # Alvalade
        ("Miguel Costa", "hunter", (38.7700, -9.1200)),    # Olivais
        ("Beatriz Sousa", "farmer", (38.7300, -9.1350)),   # Arroios
        ("Andre Pereira", "hunter", (38.6790, -9.1569)),   # Almada
    )),
)

# Reps on a fresh-goods round visit their customers every few days, not the team's 14: one
# territory more than a rep can visit, one just right (the territory balance report's flags).
ROUND_CADENCE_DAYS = {"Ines Carvalho": 2, "Sofia Nunes": 3}

SEGMENTS = (("grocery", 35), ("horeca", 35), ("pharmacy", 15), ("kiosk", 15))
OUTLET_WORDS = {
    "grocery": ("Mercearia", "Minimercado", "Supermercado", "Frutaria"),
    "horeca": ("Cafe", "Pastelaria", "Restaurante", "Snack-Bar", "Tasca", "Hotel"),
    "pharmacy": ("Farmacia", "Parafarmacia"),
    "kiosk": ("Quiosque", "Tabacaria", "Papelaria"),
}
NAME_WORDS = (
    "Alfama", "Graca", "Estrela", "Central", "do Rossio", "Bela Vista", "Lusitana", "Santos",
    "Oriente", "Benfica", "Alvalade", "Areeiro", "Ajuda", "Belem", "Marvila", "Lumiar",
    "Carnide", "Olivais", "Arroios", "Sao Bento", "Chiado", "Martim Moniz", "Silva", "Ferreira",
    "Costa", "Oliveira", "Martins", "Sousa", "Pereira", "Tejo", "Atlantico", "Avenida",
    "Primavera", "Aurora", "Moderna", "Popular", "do Bairro", "da Esquina", "Nova", "Imperial",
)
STREETS = (
    "Rua Augusta", "Rua do Ouro", "Avenida da Liberdade", "Rua da Prata", "Avenida de Roma",
    "Rua de Sao Bento", "Rua Ferreira Borges", "Avenida Almirante Reis", "Rua dos Remedios",
    "Avenida da Republica", "Rua Morais Soares", "Estrada de Benfica", "Rua de Belem",
    "Avenida de Berlim", "Rua Marques de Fronteira", "Avenida Infante Santo", "Rua da Junqueira",
    "Avenida Gago Coutinho", "Rua Capitao Leitao", "Avenida D. Joao II",
)

# (sku prefix, category, segments that buy it, [(name, unit, price)])
CATALOGUE = (
    ("COF", "coffee", ("horeca", "grocery"), (
        ("Espresso beans 1 kg", "kg", 18.90), ("Ground coffee 250 g", "pack", 3.49),
        ("Coffee capsules x10", "box", 2.99), ("Decaf ground coffee 250 g", "pack", 3.79),
        ("Instant coffee 200 g", "each", 5.49), ("Sugar sachets x1000", "box", 11.50))),
    ("BEV", "beverages", ("horeca", "grocery", "kiosk"), (
        ("Mineral water 1.5 l x6", "pack", 2.40), ("Sparkling water 0.5 l x24", "case", 9.60),
        ("Orange juice 1 l", "each", 1.89), ("Cola 0.33 l x24", "case", 14.40),
        ("Iced tea lemon 1.5 l", "each", 1.59), ("Beer 0.33 l x24", "case", 16.80),
        ("Red wine Douro 0.75 l", "each", 6.90), ("White wine Vinho Verde 0.75 l", "each", 4.50),
        ("Tawny port 0.75 l", "each", 12.90))),
    ("SNK", "snacks", ("horeca", "grocery", "kiosk"), (
        ("Potato chips 150 g", "each", 1.65), ("Salted peanuts 200 g", "each", 1.45),
        ("Milk chocolate bar 100 g", "each", 1.19), ("Butter biscuits 200 g", "pack", 1.35),
        ("Cereal bars x6", "pack", 2.29), ("Pastel de nata x12 frozen", "box", 7.20),
        ("Chewing gum x20 packs", "box", 12.00))),
    ("DAI", "dairy", ("horeca", "grocery"), (
        ("UHT milk 1 l x6", "pack", 4.74), ("Natural yogurt x4", "pack", 1.79),
        ("Butter 250 g", "each", 2.49), ("Flamengo cheese sliced 200 g", "pack", 2.29))),
    ("GRO", "grocery", ("grocery",), (
        ("Extra virgin olive oil 0.75 l", "each", 6.99), ("Carolino rice 1 kg", "kg", 1.29),
        ("Spaghetti 500 g", "pack", 0.89), ("Tuna in olive oil x3", "pack", 3.49),
        ("Sardines in tomato 120 g", "each", 1.39), ("Sugar 1 kg", "kg", 0.99),
        ("Sea salt 1 kg", "kg", 0.59), ("Tomato passata 500 g", "each", 0.99),
        ("Cooked chickpeas 540 g", "each", 0.89))),
    ("PHA", "pharmacy", ("pharmacy",), (
        ("Sunscreen SPF50 200 ml", "each", 14.90), ("Hand sanitiser 500 ml", "each", 3.99),
        ("Vitamin C effervescent x20", "each", 4.99), ("Plasters assorted x40", "box", 2.79),
        ("Face masks x50", "box", 4.50), ("Thermometer digital", "each", 8.90),
        ("Baby wipes x72", "pack", 2.19))),
    ("CLN", "cleaning", ("grocery", "pharmacy"), (
        ("Dishwashing liquid 1 l", "each", 1.79), ("Laundry detergent 40 washes", "each", 9.90),
        ("Bleach 2 l", "each", 1.29), ("Paper towels x4", "pack", 3.29),
        ("Toilet paper x12", "pack", 4.99), ("Glass cleaner 750 ml", "each", 2.19),
        ("Toothpaste 75 ml", "each", 1.99), ("Shampoo 400 ml", "each", 3.49))),
)

SELLING_TITLES = ("Present the summer range", "Follow up on last quote", "Collect reorder",
                  "Introduce the new coffee line", "Check shelf placement",
                  "Negotiate volume price")
PROSPECT_TITLES = ("First visit: present the catalogue", "Leave samples and price list",
                   "Meet the owner", "Follow up on tasting")
ADMIN_TITLES = ("Submit expense report", "Team meeting", "Update customer notes",
                "Weekly pipeline review", "Training: new products")
FEEDBACK_COMMENTS = {
    "product": ("Asks for a bigger pack", "Customers ask for this every week",
                "Would stock it if available", "Sells out before the next delivery"),
    "delivery": ("Last delivery came a day late", "Driver arrived before opening",
                 "Missing one case in the last delivery"),
    "service": ("Very happy with the visits", "Wants visits every week",
                "Prefers visits in the afternoon"),
    "price": ("Competitor is 5% cheaper", "Asks for a volume discount", "Price is fine"),
    "other": ("Renovating the shop next month", "New manager from next week",
              "Opening a second outlet"),
}


@dataclass
class _Rep:
    user_id: str
    team_id: str
    name: str
    style: str
    home: tuple[float, float]
    customers: list = field(default_factory=list)
    pings: list = field(default_factory=list)


def has_data() -> bool:
    return db.session.scalar(select(User.id).limit(1)) is not None


def logins_present() -> list[tuple[str, str, str]]:
    """(role, email, name) of the demo company's live users already in the database."""
    return [tuple(row) for row in db.session.execute(
        select(User.role, User.email, User.name)
        .where(User.email.like(f"%@{DOMAIN}"), User.deleted_at.is_(None))
        .order_by(User.email))]


def reset() -> None:
    """Delete every row (the sync clock keeps running, so phones never see time go back)."""
    existing = set(inspect(db.session.connection()).get_table_names())
    for table in reversed(db.metadata.sorted_tables):
        if table.name != "sync_clock" and table.name in existing:
            db.session.execute(table.delete())


def seed(*, seed_value: int = 42, now: int | None = None) -> dict:
    """Fill an empty database with the demo company; returns the logins and row counts."""
    rng = random.Random(seed_value)
    now = now if now is not None else now_ms()
    builder = _Builder(rng, now)
    builder.people()
    builder.catalogue()
    builder.customers()
    builder.field_month()
    builder.open_tasks()
    builder.targets()
    builder.write()
    counts = {k: len(v) for k, v in builder.rows.items()}
    counts["planned_visits"] += builder.journey_plans()["planned"]
    return {"logins": builder.logins, "counts": counts}


def _offset(point, distance_m: float, bearing_rad: float) -> tuple[float, float]:
    """A point `distance_m` from `point` (flat-earth step; exact enough within a city)."""
    lat, lon = point
    dlat = distance_m * math.cos(bearing_rad) / 111_320
    dlon = distance_m * math.sin(bearing_rad) / (111_320 * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


def _on_land(lat: float, lon: float) -> bool:
    """A crude mask of the Tagus estuary and the sea around Lisbon."""
    if -9.10 < lon < -8.95 and 38.62 < lat < 38.77:
        return False  # the estuary east of the city
    if -9.25 <= lon <= -9.10 and 38.675 < lat < 38.700:
        return False  # the river between Lisbon and Almada
    if lon < -9.25 and lat < 38.69:
        return False  # the sea off Oeiras
    return True


def _delivered(lines: list[dict], shipped: list[dict]) -> list[float]:
    by_line = {row["order_line_id"]: row["quantity"] for row in shipped}
    return [by_line.get(line["id"], 0.0) for line in lines]


def _weekday(ms: int) -> int:
    return datetime.fromtimestamp(ms / 1000, UTC).weekday()


class _Builder:
    def __init__(self, rng: random.Random, now: int):
        self.rng, self.now = rng, now
        # The same rules the sync ingest applies, so seeded rows look like pushed ones.
        self.accuracy_cap_m = current_app.config["GEOFENCE_ACCURACY_CAP_M"]
        self.ping_limits = ping_flags.Limits.from_config(current_app.config)
        self.today = now - now % DAY_MS  # midnight UTC
        self.rows: dict[str, list[dict]] = {name: [] for name in (
            "customers", "products", "tasks", "visits", "location_pings", "feedback", "orders",
            "order_lines", "deliveries", "delivery_lines", "planned_visits")}
        self.logins: list[tuple[str, str, str]] = []
        self.reps: list[_Rep] = []
        self.ordered_from: set[str] = set()  # customers with an order
        self.skipped_one = False  # the demo's one skipped planned visit

    def new_id(self) -> str:
        return new_id(rng=self.rng)  # from the seeded generator, so reruns match

    # --- people ---------------------------------------------------------------------------

    def _user(self, *, email: str, name: str, role: str, **extra) -> User:
        user = User(id=self.new_id(), email=f"{email}@{DOMAIN}", name=name, role=role,
                    password_hash=self.password_hash, **extra)
        db.session.add(user)
        self.logins.append((role, user.email, name))
        return user

    def people(self) -> None:
        # One hash for everyone: they share the demo password, and strong hashing is slow.
        self.password_hash = hash_password(password=PASSWORD)
        self._user(email="admin", name="Ana Admin", role="admin")
        self.procurement = self._user(email="procurement", name="Paulo Compras",
                                      role="procurement")
        rep_number = 0
        for team_name, (manager_name, manager_email), reps in TEAMS:
            team = Team(id=self.new_id(), name=team_name)
            db.session.add(team)
            self._user(email=manager_email, name=manager_name, role="manager", team_id=team.id)
            for rep_name, style, home in reps:
                rep_number += 1
                rep = self._user(email=f"rep{rep_number}", name=rep_name, role="rep",
                                 team_id=team.id, selling_style=style,
                                 start_latitude=home[0], start_longitude=home[1])
                self.reps.append(_Rep(user_id=rep.id, team_id=team.id, name=rep_name,
                                      style=style, home=home))
        db.session.flush()

    # --- products -------------------------------------------------------------------------

    def catalogue(self) -> None:
        rng = self.rng
        self.products_by_segment: dict[str, list[dict]] = {s: [] for s, _ in SEGMENTS}
        for prefix, _category, segments, items in CATALOGUE:
            for n, (name, unit, price) in enumerate(items, start=1):
                # A few products run low, so cover and reorder suggestions have something to say.
                stock = rng.choice((0, 5, 12)) if rng.random() < 0.12 else rng.randint(40, 900)
                product = {"id": self.new_id(), "sku": f"{prefix}-{n:03d}", "name": name,
                           "unit": unit, "unit_price": price, "stock_on_hand": float(stock),
                           "lead_time_days": rng.choice((2, 3, 5, 7, 7, 10, 14, 21, 30))}
                self.rows["products"].append(product)
                for segment in segments:
                    self.products_by_segment[segment].append(product)

    # --- customers ------------------------------------------------------------------------

    def _position_near(self, home) -> tuple[float, float]:
        while True:
            point = _offset(home, abs(self.rng.gauss(0, 2200)), self.rng.uniform(0, 2 * math.pi))
            if _on_land(*point) and geodesic_m(*point, *CITY) <= CITY_RADIUS_M:
                return point

    def _customer(self, rep: _Rep, *, assigned: bool = True) -> dict:
        rng = self.rng
        segment = rng.choices([s for s, _ in SEGMENTS], [w for _, w in SEGMENTS])[0]
        lat, lon = self._position_near(rep.home)
        prospect_share = 0.55 if rep.style == "hunter" else 0.15
        phone = (f"+351 21 {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
                 if rng.random() < 0.7 else
                 f"+351 9{rng.choice('1236')}{rng.randint(0, 9)} {rng.randint(100, 999)} "
                 f"{rng.randint(100, 999)}")
        return {
            "id": self.new_id(),
            "name": f"{rng.choice(OUTLET_WORDS[segment])} {rng.choice(NAME_WORDS)}",
            "address": f"{rng.choice(STREETS)} {rng.randint(1, 250)}, "
                       f"1{rng.randint(0, 9)}{rng.randint(0, 9)}0-{rng.randint(100, 999)} Lisboa",
            "latitude": round(lat, 6), "longitude": round(lon, 6),
            "geofence_radius_m": float(rng.choice((50, 75, 100, 100, 150))),
            "segment": segment, "phone": phone,
            "kind": "prospect" if rng.random() < prospect_share else "account",
            "team_id": rep.team_id,
            "assigned_rep_id": rep.user_id if assigned else None,
            "merged_into_id": None, "visit_cadence_days": None, "deleted_at": None,
        }

    def customers(self) -> None:
        rng = self.rng
        names = set()
        for index in range(196):
            rep = self.reps[index % len(self.reps)]
            customer = self._customer(rep, assigned=index < 190)  # a few wait for a rep
            while customer["name"] in names:
                customer["name"] = f"{customer['name'].split(' ')[0]} {rng.choice(NAME_WORDS)}" \
                                   f" {rng.choice(('II', 'Nova', 'da Praca', 'do Largo'))}"
            names.add(customer["name"])
            self.rows["customers"].append(customer)
            if customer["assigned_rep_id"]:
                customer["visit_cadence_days"] = ROUND_CADENCE_DAYS.get(rep.name)
                rep.customers.append(customer)
        # One real shop entered twice, four times over: similar name, a few metres apart or
        # the same phone. Material for the duplicate-customer tools.
        for original in rng.sample([c for c in self.rows["customers"] if c["assigned_rep_id"]], 4):
            twin = dict(original, id=self.new_id(), name=original["name"].upper() + ".",
                        kind="prospect")
            twin["latitude"], twin["longitude"] = (round(v, 6) for v in _offset(
                (original["latitude"], original["longitude"]), rng.uniform(5, 30),
                rng.uniform(0, 2 * math.pi)))
            self.rows["customers"].append(twin)

    # --- a month in the field -------------------------------------------------------------

    def field_month(self) -> None:
        days = [self.today - n * DAY_MS for n in range(HISTORY_DAYS, 0, -1)]
        working_days = [day for day in days if _weekday(day) < 5]
        for rep in self.reps:
            for day in working_days:
                self._rep_day(rep, day)

    def _rep_day(self, rep: _Rep, day: int) -> None:
        rng = self.rng
        start = day + 8 * HOUR_MS + rng.randint(-15, 20) * MINUTE_MS
        end = day + 17 * HOUR_MS + rng.randint(0, 50) * MINUTE_MS
        # Today's round: nearest customer next, from home.
        todo = rng.sample(rep.customers, min(len(rep.customers), rng.randint(5, 8)))
        route, here = [], rep.home
        while todo:
            nxt = min(todo, key=lambda c: geodesic_m(*here, c["latitude"], c["longitude"]))
            todo.remove(nxt)
            route.append(nxt)
            here = (nxt["latitude"], nxt["longitude"])
        # The day as moves and stays: (from, to, start point, end point).
        legs, t, here = [], start, rep.home
        carried: dict[str, dict] = {}  # customer id -> the visit made there
        for customer in route:
            site = (customer["latitude"], customer["longitude"])
            verified_visit = rng.random() < 0.88
            if verified_visit:
                spot = _offset(site, rng.uniform(0, customer["geofence_radius_m"] * 0.7),
                               rng.uniform(0, 2 * math.pi))
            else:  # checked in down the road, or from the car park across the avenue
                spot = _offset(site, rng.uniform(250, 1500), rng.uniform(0, 2 * math.pi))
            travel_ms = int(geodesic_m(*here, *spot) / rng.uniform(6, 11) * 1000) + \
                rng.randint(2, 10) * MINUTE_MS
            arrive = t + travel_ms
            stay_ms = rng.randint(10, 45) * MINUTE_MS
            if arrive + stay_ms > end - 20 * MINUTE_MS:
                break
            legs.append((t, arrive, here, spot))
            legs.append((arrive, arrive + stay_ms, spot, spot))
            carried[customer["id"]] = self._visit(rep, customer, day, arrive, arrive + stay_ms,
                                                  spot)
            t, here = arrive + stay_ms, spot
        back = t + int(geodesic_m(*here, *rep.home) / 9 * 1000)
        legs.append((t, back, here, rep.home))
        legs.append((back, max(back, end), rep.home, rep.home))
        self._admin_task(rep, day, end)
        self._pings(rep, start, end, legs)
        if day >= self.today - PAST_PLAN_DAYS * DAY_MS:
            self._past_plan(rep, day, route, carried)

    def _past_plan(self, rep: _Rep, day: int, route: list[dict],
                   carried: dict[str, dict]) -> None:
        """The day's round as a journey plan, as the day left it: a stop is done where a
        verified visit carried it out, missed where none did (not reached before the day's
        end, or checked in outside the geofence); the demo's first missed stop is a skip."""
        for sequence, customer in enumerate(route, start=1):
            visit = carried.get(customer["id"])
            done = visit if visit is not None and visit["verified"] else None
            status, skip_reason = ("done", None) if done else ("missed", None)
            if not done and not self.skipped_one:
                status, skip_reason, self.skipped_one = "skipped", SKIP_REASON, True
            planned = {
                "id": self.new_id(), "rep_id": rep.user_id, "customer_id": customer["id"],
                "planned_date": ms_date(day).isoformat(), "sequence": sequence,
                "planned_arrival_at": None, "planned_duration_s": None, "reason": "cadence",
                "status": status, "skip_reason": skip_reason,
                "visit_id": done["id"] if done else None, "locked": False,
                "created_by_id": None, "deleted_at": None}
            if done:
                done["planned_visit_id"] = planned["id"]
            self.rows["planned_visits"].append(planned)

    def _visit(self, rep: _Rep, customer: dict, day: int, check_in: int, check_out: int,
               spot) -> dict:
        rng = self.rng
        accuracy = round(rng.uniform(4, 35), 1)
        is_prospect = self._treated_as_prospect(customer)
        weights = (0.15, 0.35, 0.45, 0.05) if is_prospect else (0.5, 0.3, 0.17, 0.03)
        outcome = rng.choices(("order", "no_order", "follow_up", "closed"), weights)[0]
        forgot_checkout = rng.random() < 0.03
        visit = {
            "id": self.new_id(), "rep_id": rep.user_id, "customer_id": customer["id"],
            "check_in_at": check_in, "check_in_latitude": round(spot[0], 6),
            "check_in_longitude": round(spot[1], 6), "check_in_accuracy_m": accuracy,
            "check_out_at": None if forgot_checkout else check_out,
            "check_out_latitude": None if forgot_checkout else round(spot[0], 6),
            "check_out_longitude": None if forgot_checkout else round(spot[1], 6),
            "outcome": outcome,
            "notes": rng.choice((None, None, "Owner not in", "Good chat about the new range",
                                 "Asked for a call next week", "Shelves half empty")),
            "received_at": check_out + rng.randint(1, 90) * MINUTE_MS, "deleted_at": None,
            "planned_visit_id": None,
        }
        visit.update(visit_facts.compute(visit=visit, customer=SimpleNamespace(**customer),
                                         accuracy_cap_m=self.accuracy_cap_m))
        self.rows["visits"].append(visit)
        if rng.random() < 0.8:  # most visits were planned as a selling task
            self._task(rep, customer, due_at=day + 18 * HOUR_MS, status="done",
                       completed_at=visit["check_out_at"] or check_in,
                       title=rng.choice(PROSPECT_TITLES if is_prospect else SELLING_TITLES))
        if rng.random() < 0.3:
            self._feedback(rep, customer, visit)
        if outcome == "order":
            self.ordered_from.add(customer["id"])
            self._order(rep, customer, visit)
        return visit

    def _treated_as_prospect(self, customer: dict) -> bool:
        """How reps see a customer on their round: a prospect until it has ordered (the stored
        kind is the customers service's, set in `write`)."""
        return customer["kind"] == "prospect" and customer["id"] not in self.ordered_from

    def _task(self, rep: _Rep, customer: dict | None, *, due_at: int, status: str,
              title: str, completed_at: int | None = None) -> None:
        self.rows["tasks"].append({
            "id": self.new_id(), "assigned_rep_id": rep.user_id,
            "customer_id": customer["id"] if customer else None, "title": title,
            "description": None, "category": "selling" if customer else "admin",
            "due_at": due_at, "status": status, "completed_at": completed_at,
            "completion_note": "Done" if status == "done" and self.rng.random() < 0.3 else None,
            "latitude": customer["latitude"] if customer else None,
            "longitude": customer["longitude"] if customer else None,
            "created_by_id": None, "deleted_at": None,
        })

    def _admin_task(self, rep: _Rep, day: int, end: int) -> None:
        rng = self.rng
        if rng.random() < 0.6:
            self._task(rep, None, due_at=day + 18 * HOUR_MS, status="done",
                       completed_at=end - rng.randint(10, 60) * MINUTE_MS,
                       title=rng.choice(ADMIN_TITLES))
        if rng.random() < 0.25:  # a planned visit that did not happen
            customer = rng.choice(rep.customers)
            self._task(rep, customer, due_at=day + 18 * HOUR_MS,
                       status=rng.choice(("open", "cancelled")),
                       title=rng.choice(SELLING_TITLES))

    def _pings(self, rep: _Rep, start: int, end: int, legs) -> None:
        """The day's fixes, flagged as the sync ingest flags a push of them after the rep's
        earlier ones."""
        rng = self.rng
        pings: list[dict[str, Any]] = []
        leg, t = 0, start
        battery = rng.uniform(85, 100)
        while t <= end:
            while leg < len(legs) - 1 and legs[leg][1] < t:
                leg += 1
            t0, t1, a, b = legs[leg]
            share = 0.0 if t1 <= t0 else min(1.0, max(0.0, (t - t0) / (t1 - t0)))
            moving = a != b and 0 < share < 1
            accuracy = (rng.uniform(120, 400) if rng.random() < 0.02
                        else rng.uniform(3, 12) if moving else rng.uniform(5, 30))
            point = _offset((a[0] + (b[0] - a[0]) * share, a[1] + (b[1] - a[1]) * share),
                            abs(rng.gauss(0, min(accuracy, 40) / 2)), rng.uniform(0, 2 * math.pi))
            pings.append({
                "id": self.new_id(), "rep_id": rep.user_id, "recorded_at": t,
                "received_at": t + rng.randint(0, 40) * MINUTE_MS,
                "latitude": round(point[0], 6), "longitude": round(point[1], 6),
                "accuracy_m": round(accuracy, 1),
                "speed_mps": (round(rng.uniform(4, 13), 1) if moving
                              else round(rng.uniform(0, 0.8), 1)),
                "battery_pct": round(battery, 1),
            })
            battery = max(5.0, battery - rng.uniform(0.1, 0.6))
            t += rng.randint(120, 300) * 1000
        if pings:
            # Every earlier fix of the rep was recorded before these: flag() finds the previous.
            ping_flags.flag(new=pings, stored_around=lambda _first, _last: rep.pings,
                            received_at=max(p["received_at"] for p in pings),
                            limits=self.ping_limits)
            rep.pings += pings
            self.rows["location_pings"] += pings

    def _feedback(self, rep: _Rep, customer: dict, visit: dict) -> None:
        rng = self.rng
        category = rng.choices(("product", "delivery", "service", "price", "other"),
                               (40, 15, 20, 15, 10))[0]
        product = (rng.choice(self.products_by_segment[customer["segment"]])
                   if category in ("product", "price") else None)
        self.rows["feedback"].append({
            "id": self.new_id(), "rep_id": rep.user_id, "customer_id": customer["id"],
            "visit_id": visit["id"], "recorded_at": visit["check_in_at"] + 5 * MINUTE_MS,
            "received_at": visit["received_at"],
            "rating": rng.choices((1, 2, 3, 4, 5), (5, 8, 20, 37, 30))[0],
            "category": category, "product_id": product["id"] if product else None,
            "requested_quantity": (float(rng.randint(2, 30))
                                   if category == "product" and rng.random() < 0.7 else None),
            "comment": rng.choice(FEEDBACK_COMMENTS[category]), "deleted_at": None,
        })

    def _order(self, rep: _Rep, customer: dict, visit: dict) -> None:
        rng, now = self.rng, self.now
        ordered_at = visit["check_in_at"] + rng.randint(5, 15) * MINUTE_MS
        requested = ordered_at - ordered_at % DAY_MS + rng.randint(2, 7) * DAY_MS + 10 * HOUR_MS
        order = {
            "id": self.new_id(), "rep_id": rep.user_id, "customer_id": customer["id"],
            "visit_id": visit["id"], "ordered_at": ordered_at, "requested_delivery_at": requested,
            "notes": rng.choice((None, None, "Deliver before 11:00", "Call on arrival")),
            "status": "open", "promised_dispatch_at": None, "delivered_at": None,
            "received_at": visit["received_at"], "deleted_at": None,
        }
        self.rows["orders"].append(order)
        lines = []
        for product in rng.sample(self.products_by_segment[customer["segment"]], rng.randint(1, 5)):
            price = product["unit_price"]
            line = {"id": self.new_id(), "order_id": order["id"], "product_id": product["id"],
                    "quantity": float(rng.randint(1, 24)),
                    "unit_price": round(price * 0.95, 2) if rng.random() < 0.2 else price,
                    "delivered_quantity": 0.0, "received_at": order["received_at"],
                    "deleted_at": None}
            lines.append(line)
        self.rows["order_lines"] += lines

        # What became of it: most arrive, some only in part, some are late and still open.
        roll = rng.random()
        if roll < 0.02:
            order["status"] = "cancelled"
            return
        if requested < now:
            fate = "delivered" if roll < 0.82 else "partial" if roll < 0.9 else "open"
        else:
            fate = "delivered" if roll < 0.3 else "partial" if roll < 0.45 else "open"
        if fate != "open":
            on_time = rng.random() < 0.8
            delivered_at = (rng.randint(ordered_at + DAY_MS, requested) if on_time
                            else requested + rng.randint(1, 4) * DAY_MS)
            if delivered_at >= now:
                fate = "open"
        if fate == "open":
            if rng.random() < 0.7:
                order["promised_dispatch_at"] = min(requested,
                                                    ordered_at + rng.randint(1, 3) * DAY_MS)
            return
        delivery = {"id": self.new_id(), "order_id": order["id"], "delivered_at": delivered_at,
                    "created_by_id": self.procurement.id}
        partial_line = rng.randrange(len(lines)) if fate == "partial" else None
        shipped = []
        for index, line in enumerate(lines):
            quantity = line["quantity"]
            if fate == "partial" and (index == partial_line or rng.random() < 0.3):
                quantity = float(rng.randint(0, int(line["quantity"]) - 1))
            if quantity:
                shipped.append({"delivery_id": delivery["id"], "order_line_id": line["id"],
                                "quantity": quantity})
        order["promised_dispatch_at"] = ordered_at + rng.randint(1, 2) * DAY_MS
        if not shipped:  # nothing of it left the warehouse after all
            return
        self.rows["deliveries"].append(delivery)
        self.rows["delivery_lines"] += shipped
        for line, delivered in zip(lines, _delivered(lines, shipped), strict=True):
            line["delivered_quantity"] = delivered
        order["status"] = orders.status_after_delivery(
            quantities=[(line["delivered_quantity"], line["quantity"]) for line in lines])
        if order["status"] == "delivered":
            order["delivered_at"] = delivered_at

    # --- the coming days ------------------------------------------------------------------

    def open_tasks(self) -> None:
        rng = self.rng
        days = [self.today + n * DAY_MS for n in range(0, 10)]
        working_days = [day for day in days if _weekday(day) < 5][:6]
        for rep in self.reps:
            for day in working_days:
                for customer in rng.sample(rep.customers, rng.randint(3, 5)):
                    titles = (PROSPECT_TITLES if self._treated_as_prospect(customer)
                              else SELLING_TITLES)
                    self._task(rep, customer, due_at=day + 18 * HOUR_MS, status="open",
                               title=rng.choice(titles))
                if rng.random() < 0.5:
                    self._task(rep, None, due_at=day + 18 * HOUR_MS, status="open",
                               title=rng.choice(ADMIN_TITLES))

    # --- what managers aim for --------------------------------------------------------------

    def targets(self) -> None:
        """Team order value per month, verified visits per rep per week, and new prospects
        for hunters per month: this period's and the one before, so the overview and targets
        reports have attainment to show on any day (on the 1st, this month has none yet)."""
        today = ms_date(self.now)
        for month in (bounds_ms("month", today), bounds_ms("month", ms_date(
                bounds_ms("month", today)[0] - DAY_MS))):
            for team_id in sorted({rep.team_id for rep in self.reps}):
                self._target(team_id=team_id, rep_id=None, metric="order_value",
                             period="month", bounds=month, goal=60_000)
            for rep in self.reps:
                if rep.style == "hunter":
                    self._target(team_id=rep.team_id, rep_id=rep.user_id,
                                 metric="new_prospects_visited", period="month", bounds=month,
                                 goal=12)
        for week in (bounds_ms("week", today), bounds_ms("week", ms_date(self.now - 7 * DAY_MS))):
            for rep in self.reps:
                self._target(team_id=rep.team_id, rep_id=rep.user_id, metric="verified_visits",
                             period="week", bounds=week, goal=20)

    def _target(self, *, team_id: str, rep_id: str | None, metric: str, period: str,
                bounds: tuple[int, int], goal: float) -> None:
        db.session.add(Target(id=self.new_id(), team_id=team_id, rep_id=rep_id, metric=metric,
                              period=period, period_start=bounds[0], period_end=bounds[1],
                              goal=goal))

    # --- journey plans --------------------------------------------------------------------

    def journey_plans(self) -> dict:
        """The coming week's plans of every rep, by the plan job's own service (their day
        starts at home); after `write`, so it sees the month of visits."""
        db.session.flush()
        return plans.plan_days(now=self.now, days=PLAN_DAYS, make_id=self.new_id)

    # --- into the database ----------------------------------------------------------------

    def write(self) -> None:
        """Bulk inserts, parents first; synced rows carry this transaction's change stamp."""
        stamp = take_stamp(db.session)
        synced = {"customers": Customer, "products": Product, "tasks": Task, "visits": Visit,
                  "feedback": Feedback, "orders": Order, "order_lines": OrderLine,
                  "planned_visits": PlannedVisit}
        plain = {"location_pings": LocationPing, "deliveries": Delivery,
                 "delivery_lines": DeliveryLine}
        for name in ("customers", "products", "tasks", "visits", "feedback", "orders",
                     "order_lines", "planned_visits", "location_pings", "deliveries",
                     "delivery_lines"):
            rows = self.rows[name]
            if name in synced:
                for row in rows:
                    row["created_seq"] = row["changed_seq"] = stamp
                    row.setdefault("received_at", self.now)
            _bulk_insert(synced.get(name) or plain[name], rows)
        customers.promote_prospects(customer_ids=[order["customer_id"]
                                                  for order in self.rows["orders"]])


def _bulk_insert(model, rows: list[dict]) -> None:
    """Insert many rows fast: COPY on PostgreSQL (an executemany there is a round of
    statements per row), an executemany elsewhere."""
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        table = model.__table__
        given = list(rows[0])
        # COPY skips Python-side defaults: apply those of columns the rows leave out.
        defaulted = [c for c in table.c if c.key not in rows[0] and c.default is not None
                     and (c.default.is_scalar or c.default.is_callable)]
        names = [table.c[key].name for key in given] + [c.name for c in defaulted]
        copy_sql = (f"COPY {connection.dialect.identifier_preparer.format_table(table)} "
                    f"({', '.join(names)}) FROM STDIN")
        driver_connection = connection.connection.driver_connection
        assert driver_connection is not None  # an open connection has its driver's
        with driver_connection.cursor() as cursor:
            with cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row([row[key] for key in given] + [
                        c.default.arg if c.default.is_scalar else c.default.arg(None)
                        for c in defaulted])
        return
    # render_nulls: rows with a None stay in one executemany batch with the others.
    statement = insert(model).execution_options(render_nulls=True)
    for start in range(0, len(rows), 5000):
        db.session.execute(statement, rows[start:start + 5000])
