"""The plans page in a real browser (the fixtures and `Tab` of test_browser.py: Debian's
chromium, gunicorn on the demo, both sizes, no console errors, no sideways scrolling,
screenshots in screenshots/console/): the demo manager opens a rep's plan from Today and sees
the day's stops numbered on the map, joined from the start point, then moves one down."""
import re

import pytest

from tests.console.test_browser import (  # noqa: F401
    MANAGER,
    SIZES,
    Tab,
    browser,
    demo,
    playwright,
)

pytestmark = [pytest.mark.browser, pytest.mark.real_clock]


@pytest.mark.parametrize("size", SIZES)
def test_the_demo_manager_sees_a_reps_plan_numbered_on_the_map(browser, demo,  # noqa: F811
                                                               size):
    tab = Tab(browser, demo.base_url, size)
    page = tab.page
    try:
        page.goto("/signin")
        tab.sign_in(MANAGER, lands_on="/today")
        page.locator("table tbody tr a[aria-label$=\"'s plan\"]").first.click()
        page.wait_for_url(re.compile(r"/plans\?"))
        # The demo plans the coming working days: step forward to the first day with stops.
        for _ in range(7):
            page.wait_for_selector("#map[data-drawn]", state="attached")
            if page.locator("tr.plan-row").count():
                break
            page.get_by_role("link", name=re.compile("→$")).click()
            page.wait_for_load_state()
        rows = page.locator("tr.plan-row").count()
        assert rows >= 2
        numbers = page.locator(".leaflet-marker-icon.plan-stop").all_inner_texts()
        assert numbers == [str(n) for n in range(1, rows + 1)]
        assert page.locator("path.plan-route").count() == 1
        tab.shot("plans")

        # Move the first stop still planned down one place: it is second now.
        first = page.locator("tr.plan-row:has(button[value=down]:not([disabled]))").first
        name = first.locator("th").inner_text()
        first.locator("button[value=down]").click()
        page.wait_for_load_state()
        assert "Stop moved down." in page.locator(".flash").inner_text()
        names = page.locator("tr.plan-row th").all_inner_texts()
        assert name in names
        tab.shot("plans-moved")
        assert tab.errors == []
    finally:
        tab.close()
