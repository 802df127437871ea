"""The console in a real browser: Debian's chromium driven by Playwright, headless, against
gunicorn serving the demo company over HTTP (production config, no tile server), at a phone's
size (375x812) and a laptop's (1280x800).

No errors in the browser's console, no horizontal scrolling, and a screenshot of each page at
each size in screenshots/console/ (git-ignored) for people to look at. Skipped when
/usr/bin/chromium or Playwright is missing, unless FIELDSALES_REQUIRE_BROWSER=1 (CI), where
that is a failure. Never Playwright's own browser download.
"""
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.phones.server import BIN, Server

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "screenshots" / "console"
SIZES = {"phone": (375, 812), "laptop": (1280, 800)}
MANAGER, PASSWORD = "manager1@demo.fieldsales.dev", "demo-password"
TEAM_SIZE = 4  # manager1's reps in the demo (fieldsales/demo/seed.py TEAMS)

pytestmark = [pytest.mark.browser, pytest.mark.real_clock]


def _missing(reason: str):
    if os.environ.get("FIELDSALES_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}, and FIELDSALES_REQUIRE_BROWSER=1 (CI: .ci/run installs it)")
    pytest.skip(f"{reason} (apt-get install -y chromium; FIELDSALES_REQUIRE_BROWSER=1 makes "
                "this a failure)")


@pytest.fixture(scope="module")
def playwright():
    if not CHROMIUM.exists():
        _missing(f"no browser at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright is not installed (the dev extras have it)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright):
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                         args=["--no-sandbox"])  # root in CI
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def demo(make_database, tmp_path_factory):
    """gunicorn on the demo company, scored over its whole month (as dev.py run does)."""
    server = Server(make_database("console_browser"), workers=2,
                    log_path=tmp_path_factory.mktemp("console_browser") / "server.log")
    server.env.update(CONSOLE_TILE_URL="", SCORING_PRODUCTIVITY_LOOKBACK_DAYS="31")
    server._run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"])
    server._run([str(BIN / "flask"), "--app", "wsgi", "demo", "seed"])
    server._run([str(BIN / "flask"), "--app", "wsgi", "jobs", "run", "all"])
    server.start()
    yield server
    server.stop()


class Tab:
    """A browser tab at one size that remembers console errors and takes screenshots."""

    def __init__(self, browser, base_url: str, size: str):
        width, height = SIZES[size]
        self.context = browser.new_context(viewport={"width": width, "height": height},
                                           base_url=base_url)
        self.page = self.context.new_page()
        self.size, self.errors = size, []
        self.page.on("console", lambda message: message.type == "error"
                     and self.errors.append(message.text))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.set_default_timeout(15_000)

    def sign_in(self, email: str, *, lands_on: str) -> None:
        """Sign in on the open sign-in page, as a user types it, and land on `lands_on`."""
        self.page.get_by_label("Email", exact=True).fill(email)
        self.page.get_by_label("Password", exact=True).fill(PASSWORD)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(f"**{lands_on}")

    def go(self, label: str) -> None:
        """Follow the menu's link `label`; on a phone a long menu is folded: open it first."""
        menu = self.page.locator("details.menu")
        if menu.count() and menu.is_visible() and menu.get_attribute("open") is None:
            menu.locator("summary").click()
        self.page.get_by_role("navigation", name="Main").get_by_role(
            "link", name=label, exact=True).click()

    def shot(self, name: str) -> None:
        """A full-page screenshot; and the page never scrolls sideways."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}-{self.size}.png"), full_page=True)
        overflow = self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} at {self.size} scrolls sideways by {overflow}px"

    def expected(self, why: str, text: str) -> None:
        """Take off the one console line an expected refusal logs (a 4xx page is logged
        as a failed load); any other error stays."""
        matching = [line for line in self.errors if text in line]
        assert len(matching) == 1, (why, self.errors)
        self.errors.remove(matching[0])

    def close(self):
        self.context.close()


def last_weekday_before_today() -> str:
    day = datetime.now(UTC).date() - timedelta(days=1)
    while day.weekday() >= 5:  # the demo's reps work Monday to Friday
        day -= timedelta(days=1)
    return day.isoformat()


@pytest.mark.parametrize("size", SIZES)
def test_the_demo_manager_signs_in_follows_the_team_and_sets_a_target(browser, demo, size):
    tab = Tab(browser, demo.base_url, size)
    page = tab.page
    try:
        page.goto("/")
        assert page.url.startswith(f"{demo.base_url}/signin")
        tab.shot("signin")
        tab.sign_in(MANAGER, lands_on="/today")

        # Today: a marker per rep on the team map, drawn without any tile server.
        page.wait_for_selector("#map[data-drawn]", state="attached")
        assert page.locator("path.rep-marker").count() == TEAM_SIZE
        assert page.locator("table tbody tr").count() == TEAM_SIZE
        tab.shot("today")

        # A rep's day: open one from the table, then a working day with a trail and stops.
        page.locator("table tbody tr a").first.click()
        page.wait_for_url(re.compile(r"/reps/[^/]+/day"))
        first = page.url
        page.get_by_label("Rep", exact=True).select_option(index=1)  # another rep of the team
        page.get_by_label("Day", exact=True).fill(last_weekday_before_today())
        page.get_by_role("button", name="Show").click()
        page.wait_for_url(re.compile(r"date="))
        assert page.url.split("?")[0] != first.split("?")[0]
        page.wait_for_selector("#map[data-drawn]", state="attached")
        assert page.locator("path.trail").count() >= 1
        assert page.locator("path.stop-marker").count() >= 1
        assert page.locator("path.geofence").count() >= 1
        assert page.locator(".timeline li").count() >= 1
        tab.shot("rep-day")

        # Team: switch the period to the month.
        tab.go("Team")
        page.wait_for_url("**/team")
        page.get_by_label("A day in the period", exact=True).fill(last_weekday_before_today())
        page.get_by_role("button", name="Show").click()
        page.wait_for_url(re.compile(r"date="))
        assert page.locator(".leaderboard li").count() == TEAM_SIZE  # a week with history
        tab.shot("team-week")
        page.get_by_role("link", name="Month", exact=True).click()
        page.wait_for_url(re.compile(r"period=month"))
        assert "Month of" in page.locator("main").inner_text()
        assert page.get_by_role("link", name="Month", exact=True).get_attribute(
            "aria-current") == "true"
        tab.shot("team-month")

        # Targets: a bad goal is shown by its field and kept; then the target is created.
        tab.go("Targets")
        tab.shot("targets")
        page.get_by_role("link", name="New target").click()
        page.get_by_label("For", exact=True).select_option(index=1)
        page.get_by_label("Metric", exact=True).select_option("orders")
        page.get_by_label("Period", exact=True).select_option("day")
        day = "2027-03-01" if size == "phone" else "2027-03-02"
        page.get_by_label("First day of the period", exact=True).fill(day)
        page.get_by_label("Goal", exact=True).fill("lots")
        page.get_by_role("button", name="Create target").click()
        assert page.locator("#goal-error").inner_text() == "Not a valid number."
        assert page.get_by_label("Goal", exact=True).input_value() == "lots"
        tab.expected("the form's own 422", "status of 422")
        tab.shot("target-form-error")
        page.get_by_label("Goal", exact=True).fill("12")
        page.get_by_role("button", name="Create target").click()
        page.wait_for_url("**/targets")
        assert "Target created." in page.locator(".flash").inner_text()
        assert page.locator(f"td:has-text('day from {day}')").count() == 1
        tab.shot("targets-created")

        assert tab.errors == []
    finally:
        tab.close()


@pytest.mark.parametrize("size", SIZES)
def test_the_demo_manager_reads_the_feedback_chart_and_the_territory_map(browser, demo, size):
    tab = Tab(browser, demo.base_url, size)
    page = tab.page
    try:
        page.goto("/signin")
        tab.sign_in(MANAGER, lands_on="/today")

        # On a phone the long menu is folded: opened, it lists the pages by group.
        if size == "phone":
            assert not page.get_by_role("link", name="Feedback", exact=True).is_visible()
            page.locator("details.menu summary").click()
            assert page.locator("details.menu .menu-group h2").all_text_contents() == [
                "Field", "Customers", "Stock", "Reports", "Admin"]
            tab.shot("menu")

        # Feedback: the last 90 days of the demo's feedback, its weekly rating line.
        tab.go("Feedback")
        page.wait_for_url("**/feedback")
        page.get_by_role("link", name="Last 90 days", exact=True).click()
        page.wait_for_url(re.compile(r"/feedback\?from="))
        assert page.locator("svg.rating-chart circle.dot").count() >= 1
        assert page.locator("#categories tbody tr").count() >= 1
        tab.shot("feedback")
        # One rep's own: the filter as the API's rep_id.
        page.get_by_label("Rep", exact=True).select_option(index=1)
        page.get_by_role("button", name="Show").click()
        page.wait_for_url(re.compile(r"rep_id="))
        assert "feedback, average rating" in page.locator("#period").inner_text()
        tab.shot("feedback-rep")

        # Territories: each rep's customers on the map (no tile server), a load bar per rep.
        tab.go("Territories")
        page.wait_for_url("**/territories")
        page.wait_for_selector("#map[data-drawn]", state="attached")
        assert page.locator("path.customer-marker").count() >= TEAM_SIZE
        assert page.locator("svg.load-bar").count() == TEAM_SIZE
        tab.shot("territories")

        assert tab.errors == []
    finally:
        tab.close()


@pytest.mark.parametrize("size", SIZES)
def test_the_demo_manager_creates_a_customer(browser, demo, size):
    tab = Tab(browser, demo.base_url, size)
    page = tab.page
    name = f"Quiosque Novo {size}"
    try:
        page.goto("/signin")
        tab.sign_in(MANAGER, lands_on="/today")
        tab.go("Customers")
        page.get_by_role("link", name="New customer", exact=True).click()
        page.wait_for_url("**/customers/new")
        page.get_by_label("Name", exact=True).fill(name)
        page.get_by_label("Address", exact=True).fill("Rua Nova 1, Lisboa")
        page.get_by_label("Latitude", exact=True).fill("north")
        page.get_by_label("Longitude", exact=True).fill("-9.15")
        page.get_by_label("Kind", exact=True).select_option("account")
        page.get_by_label("Assigned rep", exact=True).select_option(index=1)
        page.get_by_role("button", name="Create customer").click()
        assert page.locator("#latitude-error").inner_text() == "Not a valid number."
        assert page.get_by_label("Name", exact=True).input_value() == name  # kept
        tab.expected("the form's own 422", "status of 422")
        tab.shot("customer-new-error")
        page.get_by_label("Latitude", exact=True).fill("38.71")
        page.get_by_role("button", name="Create customer").click()
        page.wait_for_url("**/customers?*")
        assert f"{name}: created." in page.locator(".flash").inner_text()
        assert name in page.locator("tbody").inner_text()
        tab.shot("customer-created")
        assert tab.errors == []
    finally:
        tab.close()
