"""Procurement's pages in a real browser (the fixtures and `Tab` of test_browser.py: Debian's
chromium, gunicorn on the demo, both sizes, no console errors, no sideways scrolling,
screenshots in screenshots/console/): record a delivery from the backlog, with a bad
quantity first, and see the demand chart."""
import re

import pytest

from tests.console.test_browser import SIZES, Tab, browser, demo, playwright  # noqa: F401

PROCUREMENT, PASSWORD = "procurement@demo.fieldsales.dev", "demo-password"

pytestmark = [pytest.mark.browser, pytest.mark.real_clock]


@pytest.mark.parametrize("size", SIZES)
def test_procurement_records_a_delivery_from_the_backlog_and_reads_the_demand_chart(
        browser, demo, size):  # noqa: F811
    tab = Tab(browser, demo.base_url, size)
    page = tab.page
    try:
        page.goto("/signin")
        tab.sign_in(PROCUREMENT, lands_on="/backlog")  # procurement's start page

        # The queue in priority order, its reasons, the age buckets.
        orders = page.locator("li.order")
        assert orders.count() >= 2
        ranks = [int(rank) for rank in page.locator("li.order .rank").all_inner_texts()
                 if rank != "—"]
        assert ranks and ranks == sorted(ranks)  # the other size may have shipped rank 1
        assert orders.first.locator(".reasons li").count() >= 1
        assert page.locator("svg.age-chart rect.bar").count() == 8  # 4 buckets, 2 periods
        tab.shot("backlog")
        page.get_by_label("Late orders only", exact=True).check()
        page.get_by_role("button", name="Show").first.click()
        page.wait_for_url(re.compile(r"late_only=true"))
        late = page.locator("li.order").count()
        assert late <= orders.count()
        tab.shot("backlog-late")
        tab.go("Backlog")
        page.wait_for_url("**/backlog")

        # Record a delivery of the first order whose stock can fill a line now.
        fillable = page.locator("li.order", has=page.locator("span.badge.ok")).first
        customer = fillable.locator(".order-head strong").first.inner_text()
        fillable.get_by_role("link", name=re.compile("Record a delivery")).click()
        page.wait_for_url(re.compile(r"/backlog/[^/]+/delivery"))
        field = page.locator("input[name^='line-']").first
        filled = field.input_value()
        assert filled, "the form is filled with what stock can fill"
        field.fill("lots")
        page.get_by_role("button", name="Record delivery").click()
        assert page.locator(".field.invalid .error").first.inner_text() == "Not a valid number."
        assert page.locator("input[name^='line-']").first.input_value() == "lots"
        tab.expected("the form's own 422", "status of 422")
        tab.shot("delivery-error")
        page.locator("input[name^='line-']").first.fill(filled)
        page.get_by_role("button", name="Record delivery").click()
        page.wait_for_url("**/backlog")
        assert f"Delivery recorded for {customer}." in page.locator(".flash").inner_text()
        tab.shot("backlog-delivered")

        # Demand: flagged products first, each with its weekly chart and forecast.
        tab.go("Demand")
        page.wait_for_url("**/demand")
        charts = page.locator("svg.demand-chart")
        assert charts.count() >= 1
        assert charts.first.locator("rect.bar").count() >= 2
        assert charts.first.locator("polyline.level").count() == 1
        assert charts.first.bounding_box()["width"] <= SIZES[size][0]
        tab.shot("demand")

        assert tab.errors == []
    finally:
        tab.close()
