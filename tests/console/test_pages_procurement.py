"""Procurement's pages: the backlog (dispatch queue, recording a delivery, backlog health) and
demand (flagged first, a chart of weekly demand per product), from the same reports and
services as GET /api/v1/backlog, /backlog/summary, /demand and POST /orders/<id>/deliveries.

The backlog: products P1 (stock 10) and P2 (stock 0, lead time 14 days).
  O1 rep at A, 40 days old, requested 20 days ago (late): P1 x 6   -> ranked first, fill full
  O2 rep2 at B, 2 days old, requested in 10 days: P1 x 8, P2 x 3   -> P1 4 of 8, P2 none
  O3 other_rep (the other team) at X, 1 day old: P1 x 2            -> nothing left of P1
"""
import csv
import io
import re

import pytest

from fieldsales.common import DAY_MS, WEEK_MS, now_ms
from fieldsales.orders.models import Order, OrderLine
from fieldsales.products.models import Product
from fieldsales.scoring.models import ProductDemand
from tests.factories import at
from tests.list_checks import xlsx_rows


@pytest.fixture
def orders(app, world, team):
    now = now_ms()
    ago = lambda days: now - days * DAY_MS  # noqa: E731
    a = world.customer(team=team.manager, rep=team.rep, name="Alpha Shop")
    b = world.customer(team=team.manager, rep=team.rep2, name="Beta Market")
    x = world.customer(team=team.other_manager, rep=team.other_rep, name="Xeno Store")
    p1 = world.product(sku="P1", name="Widget", price=10, stock=10)
    p2 = world.product(sku="P2", name="Gadget", price=20, stock=0, lead_time_days=14)
    made = {"p1": p1, "p2": p2,
            "O1": world.order(rep=team.rep, customer=a, at=ago(40), lines=[(p1, 6, 10)],
                              requested_delivery_at=ago(20)),
            "O2": world.order(rep=team.rep2, customer=b, at=ago(2),
                              lines=[(p1, 8, 10), (p2, 3, 20)],
                              requested_delivery_at=ago(-10)),
            "O3": world.order(rep=team.other_rep, customer=x, at=ago(1), lines=[(p1, 2, 10)])}
    assert world.run("backlog", now=now)["status"] == "ok"
    return made


def queue(page: str) -> list[str]:
    """The customers of the dispatch queue, in the order shown."""
    return re.findall(r'<li class="order" id="order-[^"]+">\s*<div class="order-head">\s*'
                      r'<span class="rank"[^>]*>[^<]*</span>\s*<div>\s*<strong>([^<]+)',
                      page)


# --- the dispatch queue ---------------------------------------------------------------------
def test_the_queue_is_in_priority_order_with_reasons_stock_and_promised_dates(visitor, team,
                                                                              orders):
    page = visitor(team.procurement).get("/backlog").text
    assert queue(page) == ["Alpha Shop", "Beta Market", "Xeno Store"]
    alpha = page[page.index('id="order-' + orders["O1"]):page.index('id="order-' + orders["O2"])]
    assert "Late: 20 days past the requested delivery date." in alpha
    assert "Stock on hand covers it in full." in alpha
    assert "Promised dispatch: <strong>" in alpha and "Late 20 days" in alpha
    beta = page[page.index('id="order-' + orders["O2"]):page.index('id="order-' + orders["O3"])]
    # P1: 6 went to Alpha first, 4 of 8 left; P2 has none.
    assert re.search(r'P1 <small>Widget</small></th>\s*<td class="num">8</td>\s*'
                     r'<td class="num">4 <span class="badge warn">partial</span>', beta)
    assert re.search(r'P2 <small>Gadget</small></th>\s*<td class="num">3</td>\s*'
                     r'<td class="num">0 <span class="badge warn">none</span>', beta)
    assert f'/backlog/{orders["O1"]}/delivery' in page


def test_a_manager_sees_the_teams_orders_and_cannot_record_deliveries(visitor, team, orders):
    page = visitor(team.manager).get("/backlog").text
    assert queue(page) == ["Alpha Shop", "Beta Market"]
    assert "Record delivery" not in page


def test_late_only_and_age_filters(visitor, team, orders):
    procurement = visitor(team.procurement)
    assert queue(procurement.get("/backlog?late_only=true").text) == ["Alpha Shop"]
    assert queue(procurement.get("/backlog?min_age_days=2").text) == ["Alpha Shop",
                                                                      "Beta Market"]


def test_a_bad_filter_is_shown_by_its_field_with_what_was_typed(visitor, team, orders):
    response = visitor(team.procurement).get("/backlog?min_age_days=old")
    assert response.status_code == 422
    assert 'id="min_age_days-error">Not a valid integer.' in response.text
    assert 'value="old"' in response.text
    assert queue(response.text) == ["Alpha Shop", "Beta Market", "Xeno Store"]  # unfiltered


def test_the_csv_is_the_apis_csv(visitor, team, orders, client):
    for query in ("", "?late_only=true"):
        mine = visitor(team.manager).get(f"/backlog.csv{query}")
        api = client.get(f"/api/v1/backlog{query}{'&' if query else '?'}format=csv",
                         headers=team.headers["manager"])
        assert mine.status_code == 200 and mine.mimetype == "text/csv"
        rows = list(csv.DictReader(io.StringIO(mine.get_data(as_text=True))))
        assert rows == list(csv.DictReader(io.StringIO(api.get_data(as_text=True))))
    assert len(rows) == 1


def test_the_excel_export_is_the_apis_xlsx(visitor, team, orders, client):
    for query in ("", "?late_only=true"):
        mine = visitor(team.manager).get(f"/backlog.xlsx{query}")
        api = client.get(f"/api/v1/backlog{query}{'&' if query else '?'}format=xlsx",
                         headers=team.headers["manager"])
        assert xlsx_rows(mine) == xlsx_rows(api)
    assert len(xlsx_rows(mine)) == 1
    page = visitor(team.manager).get("/backlog?late_only=true").text
    assert "/backlog.xlsx?late_only=true" in page


# --- recording a delivery -----------------------------------------------------------------------
def test_a_delivery_form_is_filled_with_what_stock_can_fill(visitor, team, orders):
    page = visitor(team.procurement).get(f"/backlog/{orders['O2']}/delivery").text
    p1_line, p2_line = (line.id for line in orders["O2"].lines)
    assert re.search(rf'name="line-{p1_line}" type="text" value="4"', page)
    assert re.search(rf'name="line-{p2_line}" type="text" value=""', page)


def test_recording_a_delivery_ships_the_lines_and_takes_the_stock(visitor, team, orders, world):
    procurement = visitor(team.procurement)
    line = orders["O1"].lines[0]
    response = procurement.post(f"/backlog/{orders['O1']}/delivery", {f"line-{line.id}": "6"})
    assert response.status_code == 302 and response.location.endswith("/backlog")
    page = procurement.get("/backlog").text
    assert "Delivery recorded for Alpha Shop." in page
    assert "Alpha Shop" not in queue(page)
    assert world.get(OrderLine, line.id).delivered_quantity == 6
    assert world.get(Order, orders["O1"]).status == "delivered"
    assert world.get(Product, orders["p1"]).stock_on_hand == 4


@pytest.mark.parametrize(("typed", "message"), [
    ("lots", "Not a valid number."),
    ("0", "Must be greater than 0 and less than 1000000000000."),
    ("9", "At most 6 (pending)."),
])
def test_a_bad_quantity_is_shown_by_its_line_with_what_was_typed(visitor, team, orders, world,
                                                                  typed, message):
    line = orders["O1"].lines[0]
    response = visitor(team.procurement).post(f"/backlog/{orders['O1']}/delivery",
                                              {f"line-{line.id}": typed})
    assert response.status_code == 422
    assert f'id="line-{line.id}-error">{message}</span>' in response.text
    assert f'value="{typed}"' in response.text
    assert world.get(OrderLine, line.id).delivered_quantity == 0


def test_more_than_the_stock_on_hand_is_shown_by_the_line_and_nothing_ships(visitor, team,
                                                                            orders, world):
    p1_line, p2_line = orders["O2"].lines
    response = visitor(team.procurement).post(f"/backlog/{orders['O2']}/delivery",
                                              {f"line-{p1_line.id}": "8",
                                               f"line-{p2_line.id}": "1"})
    assert response.status_code == 422
    assert f'id="line-{p2_line.id}-error">Product &#39;P2&#39; has 0 on hand' in response.text
    assert f'id="line-{p1_line.id}-error"' not in response.text
    assert world.get(OrderLine, p1_line.id).delivered_quantity == 0
    assert world.get(Product, orders["p1"]).stock_on_hand == 10


def test_an_empty_delivery_asks_for_a_quantity(visitor, team, orders):
    response = visitor(team.procurement).post(f"/backlog/{orders['O1']}/delivery", {})
    assert response.status_code == 422
    assert "Type a quantity for at least one line." in response.text


def test_an_order_with_nothing_pending_or_of_no_one_visible_is_refused(visitor, team, orders,
                                                                        world):
    done = world.order(rep=team.rep, customer=world.customer(team=team.manager, rep=team.rep),
                       at=now_ms() - DAY_MS, lines=[(orders["p1"], 1, 10, 1)],
                       status="delivered")
    procurement = visitor(team.procurement)
    refused = procurement.get(f"/backlog/{done}/delivery")
    assert refused.status_code == 409 and "Nothing of this order" in refused.text
    assert procurement.get("/backlog/no-such-order/delivery").status_code == 404


# --- backlog health ---------------------------------------------------------------------------
def test_health_shows_the_age_buckets_and_the_trend_against_the_period_before(visitor, team,
                                                                              orders, client):
    page = visitor(team.manager).get("/backlog").text
    api = client.get("/api/v1/backlog/summary", headers=team.headers["manager"]).json
    buckets = {b["bucket"]: b["orders"] for b in api["current"]["age_buckets"]}
    assert buckets == {"0-7": 1, "8-30": 0, "31-90": 1, "90+": 0}  # the team's O2 and O1
    for name, orders_in in buckets.items():
        assert re.search(rf'<th scope="row">{re.escape(name)}</th><td class="num">{orders_in}'
                         r'</td>', page)
    # 30 days ago only O1 was waiting; now O2 too.
    assert api["trend"]["backlog_orders"]["direction"] == "up"
    assert re.search(r'Orders in backlog</th>\s*<td[^>]*>2</td>\s*<td[^>]*>1</td>\s*<td[^>]*>'
                     r'\s*<span class="trend trend-up">▲\s*\+1', page)


def test_a_bad_period_is_shown_by_its_field(visitor, team, orders):
    response = visitor(team.procurement).get("/backlog?from=2026-02-30")
    assert response.status_code == 422
    assert 'id="from-error">Not a valid date.' in response.text


def test_procurement_starts_on_the_backlog(visitor, team):
    response = visitor(team.procurement).get("/")
    assert response.status_code == 302 and response.location.endswith("/backlog")


# --- demand -------------------------------------------------------------------------------------
@pytest.fixture
def demand(world):
    """R (rising; 13 weeks of history from 2023-12-25: 0..12 ordered), S (stock short, one
    week), N (no row yet)."""
    ids = {sku: world.product(sku=sku, name=f"Item {sku}", stock=5) for sku in "RSN"}
    first = at("2023-12-25")
    for n in range(13):
        latest = n == 12
        world.add(ProductDemand, product_id=ids["R"], week_start=first + n * WEEK_MS,
                  ordered_quantity=n, feedback_requested_quantity=0, level=n - 0.5,
                  trend=1.0, forecast=n + 0.5, is_latest=latest, computed_at=at("2024-03-26"),
                  **({"stock_on_hand": 5, "backlog_quantity": 0, "lead_time_days": 7,
                      "days_of_cover": 3.0, "reorder_suggestion": 20.0,
                      "rising_demand": True} if latest else {}))
    world.add(ProductDemand, product_id=ids["S"], week_start=first + 11 * WEEK_MS,
              ordered_quantity=4, feedback_requested_quantity=0, level=4, trend=0,
              forecast=4, is_latest=True, computed_at=at("2024-03-26"), stock_on_hand=1,
              backlog_quantity=9, lead_time_days=7, days_of_cover=1.0, reorder_suggestion=30,
              stock_short_of_backlog=True)
    return ids


def products_shown(page: str) -> list[str]:
    return re.findall(r'<li class="product[^"]*" id="product-[^"]+">\s*<div class="order-head">'
                      r'\s*<div><strong>([^<]+)', page)


def test_demand_lists_flagged_products_first_with_a_chart_of_weekly_demand(visitor, team,
                                                                          demand):
    page = visitor(team.procurement).get("/demand").text
    assert products_shown(page) == ["S", "R", "N"]  # flagged by days of cover, then the rest
    r = page[page.index(f'id="product-{demand["R"]}"'):page.index(f'id="product-{demand["N"]}"')]
    assert r.count('<rect class="bar"') == 12  # a bar per week, the last 12 weeks
    assert '<rect class="bar forecast"' in r and "Forecast, next week: 12.5" in r
    assert "Week of 01 Jan: 1 ordered" in r and "Week of 18 Mar: 12 ordered" in r
    assert len(re.search(r'<polyline class="level" points="([^"]+)"', r).group(1).split()) == 12
    assert "Demand rising" in r and ">+1 / week<" in r and ">20</strong>" in r  # reorder
    n = page[page.index(f'id="product-{demand["N"]}"'):]
    assert "No weekly history yet" in n


def test_demand_filters_and_csv_are_the_apis(visitor, team, demand, client):
    manager = visitor(team.manager)
    assert products_shown(manager.get("/demand?flagged=true").text) == ["S", "R"]
    assert products_shown(manager.get("/demand?q=item+n").text) == ["N"]
    mine = manager.get("/demand.csv?flagged=true")
    api = client.get("/api/v1/demand?flagged=true&format=csv", headers=team.headers["manager"])
    assert mine.mimetype == "text/csv" and mine.get_data() == api.get_data()
    bad = manager.get("/demand?flagged=maybe")
    assert bad.status_code == 422 and 'id="flagged-error">Not a valid boolean.' in bad.text
