"""Every console page times every caller, like the API's matrix (tests/test_authorization_
matrix.py): each route of the console blueprint is written out here with the status each
caller gets, so a new page fails this test until someone decides who may see it.

Signed out, every page sends the caller to sign-in (302); a role the page is not for gets 403;
a rep or target of another team is 404, as in the API. What each page shows is checked in
tests/console/test_pages.py.
"""
from fieldsales.common import DAY_MS, now_ms
from tests.factories import Phone, at, changes, feedback_record, local_day, uid

CALLERS = ("signed out", "admin", "manager", "other_manager", "procurement", "rep", "other_rep")
PUBLIC = {("/console/static/<path:filename>", "GET")}


def row(signed_out, admin, manager, other_manager, procurement, rep, other_rep):
    return dict(zip(CALLERS, (signed_out, admin, manager, other_manager, procurement, rep,
                              other_rep), strict=True))


MANAGERS_ONLY = row(302, 200, 200, 200, 403, 403, 403)
ADMINS_ONLY = row(302, 200, 403, 403, 403, 403, 403)
PROCUREMENT = row(302, 200, 200, 200, 200, 403, 403)  # backlog and demand: as their API
DELIVERERS = row(302, 200, 403, 403, 200, 403, 403)  # as POST /orders/<id>/deliveries
# (rule, method): the status of each caller. `<rep_id>` is the manager's rep, `<target_id>` a
# target of that rep, `<quarantine_id>` a record of that rep a phone pushed, `<customer_id>` a
# customer of that rep; POSTs send an empty form with a valid CSRF token.
PAGES = {
    ("/signin", "GET"): row(200, 302, 302, 302, 302, 302, 302),
    ("/signin", "POST"): row(422, 422, 422, 422, 422, 422, 422),
    ("/signout", "POST"): row(302, 302, 302, 302, 302, 302, 302),
    ("/", "GET"): row(302, 302, 302, 302, 302, 302, 302),
    ("/today", "GET"): MANAGERS_ONLY,
    ("/me", "GET"): row(302, 403, 403, 403, 403, 200, 200),
    ("/reps/<rep_id>/day", "GET"): row(302, 200, 200, 404, 403, 200, 404),
    ("/team", "GET"): MANAGERS_ONLY,
    # Journey plans, as /planned-visits (`<planned_visit_id>`: a stop of the manager's rep
    # tomorrow). An empty add form names no customer, an empty change form no action (422).
    ("/plans", "GET"): MANAGERS_ONLY,
    ("/plans/add", "POST"): row(302, 422, 422, 422, 403, 403, 403),
    ("/plans/<planned_visit_id>/change", "POST"): row(302, 422, 422, 404, 403, 403, 403),
    ("/plans/<planned_visit_id>/remove", "POST"): row(302, 302, 302, 404, 403, 403, 403),
    # A team's working hours, as GET/PUT /teams/<id>/working-hours (an empty form: no zone).
    ("/hours", "GET"): MANAGERS_ONLY,
    ("/hours", "POST"): row(302, 422, 422, 422, 403, 403, 403),
    ("/targets", "GET"): MANAGERS_ONLY,
    ("/targets.csv", "GET"): MANAGERS_ONLY,
    ("/targets.xlsx", "GET"): MANAGERS_ONLY,
    ("/targets/new", "GET"): MANAGERS_ONLY,
    ("/targets/new", "POST"): row(302, 422, 422, 422, 403, 403, 403),
    ("/targets/<target_id>/edit", "GET"): row(302, 200, 200, 404, 403, 403, 403),
    ("/targets/<target_id>/edit", "POST"): row(302, 422, 422, 404, 403, 403, 403),
    ("/targets/<target_id>/delete", "POST"): row(302, 302, 302, 404, 403, 403, 403),
    # console-admin: the sync quarantine (admins, as the API), duplicate customers (as the API:
    # admins and managers). An empty replay form is not JSON (422); an empty merge form
    # chooses no customer to keep (422).
    ("/admin/quarantine", "GET"): ADMINS_ONLY,
    ("/admin/quarantine/<quarantine_id>", "GET"): ADMINS_ONLY,
    ("/admin/quarantine/<quarantine_id>/replay", "POST"): row(302, 422, 403, 403, 403, 403, 403),
    ("/admin/quarantine/<quarantine_id>/discard", "POST"): ADMINS_ONLY | {"admin": 302},
    ("/customers/duplicates", "GET"): MANAGERS_ONLY,
    ("/customers/duplicates/merge", "POST"): row(302, 422, 422, 422, 403, 403, 403),
    # Alerts: the feed as GET /alerts; acknowledging an alert of the manager's team as POST
    # /alerts/<id>/acknowledge (another team's is 404).
    ("/alerts", "GET"): MANAGERS_ONLY,
    ("/alerts/<alert_id>/acknowledge", "POST"): row(302, 302, 302, 404, 403, 403, 403),
    # Customers: everyone, scoped as GET /customers; assigning as PATCH /customers/<id> (an
    # empty form assigns nobody).
    ("/customers", "GET"): row(302, 200, 200, 200, 200, 200, 200),
    ("/customers/<customer_id>/assign", "POST"): row(302, 302, 302, 404, 403, 403, 403),
    # A new customer, as POST /customers (an empty form has no name nor position: 422).
    ("/customers/new", "GET"): MANAGERS_ONLY,
    ("/customers/new", "POST"): row(302, 422, 422, 422, 403, 403, 403),
    # A customer's own page, as PATCH /customers/<id> (an empty form changes nothing: saved).
    ("/customers/<customer_id>/edit", "GET"): row(302, 200, 200, 404, 403, 403, 403),
    ("/customers/<customer_id>/edit", "POST"): row(302, 302, 302, 404, 403, 403, 403),
    # Job runs: read as GET /jobs/runs (admins, managers, procurement); admins run one now
    # (an empty form names no job: 422).
    ("/admin/jobs", "GET"): row(302, 200, 200, 200, 200, 403, 403),
    # The sync log, as GET /sync/log (admins: every rep; managers: their team's).
    ("/admin/sync-log", "GET"): MANAGERS_ONLY,
    ("/admin/jobs/run", "POST"): row(302, 422, 403, 403, 403, 403, 403),
    # Users (admins, as POST /users and PATCH /users/<id>; `<user_id>` is the manager's rep).
    # An empty new-user form misses its fields; an empty edit form changes nothing.
    # Imports, as POST /imports/<kind> (each role the kinds its API allows); an empty form
    # has no file (422).
    ("/imports", "GET"): row(302, 200, 200, 200, 200, 403, 403),
    ("/imports", "POST"): row(302, 422, 422, 422, 422, 403, 403),
    ("/admin/users", "GET"): ADMINS_ONLY,
    ("/admin/users/new", "GET"): ADMINS_ONLY,
    ("/admin/users/new", "POST"): row(302, 422, 403, 403, 403, 403, 403),
    ("/admin/users/<user_id>", "GET"): ADMINS_ONLY,
    ("/admin/users/<user_id>", "POST"): row(302, 302, 403, 403, 403, 403, 403),
    # Removing or erasing a user, as DELETE /users/<id> (the page is the confirmation; an
    # empty form chooses neither: 422).
    ("/admin/users/<user_id>/remove", "GET"): ADMINS_ONLY,
    ("/admin/users/<user_id>/remove", "POST"): row(302, 422, 403, 403, 403, 403, 403),
    # Procurement's pages; `<order_id>` is an open order of the manager's rep.
    ("/backlog", "GET"): PROCUREMENT,
    ("/backlog.csv", "GET"): PROCUREMENT,
    ("/backlog.xlsx", "GET"): PROCUREMENT,
    ("/backlog/<order_id>/delivery", "GET"): DELIVERERS,
    ("/backlog/<order_id>/delivery", "POST"): row(302, 422, 403, 403, 422, 403, 403),
    ("/demand", "GET"): PROCUREMENT,
    ("/demand.csv", "GET"): PROCUREMENT,
    ("/demand.xlsx", "GET"): PROCUREMENT,
    # Reports, as their API: the feedback summary (everyone, scoped: reps their own), the
    # territory balance (admins and managers).
    ("/feedback", "GET"): row(302, 200, 200, 200, 200, 200, 200),
    ("/territories", "GET"): MANAGERS_ONLY,
    # Webhooks (admins, as /webhooks): an empty subscribe form names no URL (422);
    # `<subscription_id>` is an active subscription, `<delivery_id>` one of its deliveries.
    ("/webhooks", "GET"): ADMINS_ONLY,
    ("/webhooks", "POST"): row(302, 422, 403, 403, 403, 403, 403),
    ("/webhooks/<subscription_id>", "GET"): ADMINS_ONLY,
    ("/webhooks/<subscription_id>/active", "POST"): ADMINS_ONLY | {"admin": 302},
    ("/webhooks/<subscription_id>/delete", "POST"): ADMINS_ONLY | {"admin": 302},
    ("/webhooks/<subscription_id>/deliveries/<delivery_id>/redeliver", "POST"):
        ADMINS_ONLY | {"admin": 302},
}


def alert_of(team, world) -> int:
    """The id of a fresh alert of the manager's team (an order.created rule and event)."""
    from fieldsales.alerts.models import Alert, AlertRule
    rules = world.rows(AlertRule, AlertRule.team_id == team.manager.team_id)
    rule = rules[0].id if rules else world.add(
        AlertRule, team_id=team.manager.team_id, event_type="order.created", updated_at=0)
    event = world.event(type="order.created", team_id=team.manager.team_id)
    return world.add(Alert, rule_id=rule, event_id=event, team_id=team.manager.team_id,
                     created_at=0, mail_wanted=False)


def webhook_of(team, world) -> tuple[str, str]:
    """A fresh active subscription and one delivery of it: (subscription id, delivery id)."""
    from fieldsales.webhooks.models import WebhookDelivery, WebhookSubscription
    subscription = world.add(WebhookSubscription, id=uid("wh"), url="https://93.184.215.14/h",
                             event_types=["order.created"], secret="whsec_QUJDRA==",
                             active=True, failures_in_a_row=0, created_at=0, updated_at=0)
    event = world.event(type="order.created", team_id=team.manager.team_id)
    delivery = world.add(WebhookDelivery, subscription_id=subscription, event_id=event,
                         status="succeeded", attempts=1, created_at=0, give_up_at=0)
    return subscription, str(delivery)


def quarantined(client, team, world) -> str:
    """The id of a fresh quarantine entry: a rep's phone pushed feedback rated 9 of 5."""
    customer = world.customer(rep=team.rep)
    body = changes(feedback={"created": [feedback_record(customer, rating=9)]})
    Phone(client, team.headers["rep"]).push(body)
    return str(client.get("/api/v1/sync/quarantine", headers=team.headers["admin"],
                          query_string={"limit": 1}).json["items"][0]["id"])


def console_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("console."):
            for method in sorted(rule.methods & {"GET", "POST", "PUT", "PATCH", "DELETE"}):
                yield rule.rule, method


def test_every_console_route_has_its_callers_written_here(app):
    found = set(console_routes(app)) - PUBLIC
    assert sorted(found - set(PAGES)) == [], "a page nobody decided the callers of"
    assert sorted(set(PAGES) - found) == [], "a row for a page that is gone"


def test_every_page_answers_every_caller_as_written(app, client, visitor, team, world):
    people = {"signed out": None, "admin": team.admin, "manager": team.manager,
              "other_manager": team.other_manager, "procurement": team.procurement,
              "rep": team.rep, "other_rep": team.other_rep}
    customer, product = world.customer(rep=team.rep), world.product(stock=100)
    failures = []
    for (rule, method), expected in PAGES.items():
        for caller in CALLERS:
            person = visitor(people[caller])
            target = world.target(rep=team.rep, metric="visits", period="day",
                                  start=at("2026-01-05"), end=at("2026-01-06"), goal=5)
            order = world.order(rep=team.rep, customer=customer, at=at("2026-01-05"),
                                lines=[(product, 1, 10.0)])
            path = (rule.replace("<rep_id>", team.rep.id).replace("<target_id>", target)
                    .replace("<quarantine_id>", quarantined(client, team, world))
                    .replace("<customer_id>", world.customer(rep=team.rep))
                    .replace("<user_id>", team.rep.id)
                    .replace("<order_id>", order)
                    .replace("<planned_visit_id>", world.planned_visit(
                        rep=team.rep, customer=customer, day=local_day(now_ms() + DAY_MS)))
                    .replace("<alert_id>", str(alert_of(team, world))))
            if "<subscription_id>" in path:
                subscription, delivery = webhook_of(team, world)
                path = path.replace("<subscription_id>", subscription).replace(
                    "<delivery_id>", delivery)
            if method == "GET":
                status = person.get(path).status_code
            else:  # the CSRF token of whatever page the caller can see
                status = person.post(path, {}, form_on="/").status_code
            if status != expected[caller]:
                failures.append((method, rule, caller, status, expected[caller]))
    assert failures == []


def test_unknown_ids_are_404_pages_not_json(visitor, team):
    manager = visitor(team.manager)
    for path in ("/reps/no-such-rep/day", "/targets/no-such-target/edit"):
        response = manager.get(path)
        assert response.status_code == 404
        assert response.mimetype == "text/html" and "Not found" in response.text
    for path in ("/admin/quarantine/12345", "/admin/quarantine/no-such-record"):
        response = visitor(team.admin).get(path)
        assert response.status_code == 404 and "No such quarantined record." in response.text
