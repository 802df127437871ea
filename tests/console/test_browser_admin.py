"""The admin's console pages in a real browser (fixtures and `Tab` of test_browser.py: Debian's
chromium, gunicorn on the demo company, both sizes, no console errors, no sideways scrolling,
screenshots in screenshots/console/).

What the admin acts on is made through the API over HTTP first: a demo rep's phone pushes a
feedback rated 9 of 5 (quarantined), and two records of one shop are created as customers.
"""
import json

import pytest

from tests.console import test_browser as shared
from tests.console.test_browser import PASSWORD, SIZES, Tab
from tests.factories import changes, feedback_record, uid
from tests.support.phones.transport import Http

ADMIN, REP = "admin@demo.fieldsales.dev", "rep1@demo.fieldsales.dev"

pytestmark = [pytest.mark.browser, pytest.mark.real_clock]
# test_browser.py's fixtures, by name (module-scoped: this module's own server on the demo).
playwright, browser, demo = shared.playwright, shared.browser, shared.demo


class Api:
    """The JSON API over HTTP as one user."""

    def __init__(self, base_url: str, email: str):
        self.http = Http(base_url, 30)
        reply = self.http.request("POST", "/api/v1/auth/token", json.dumps(
            {"email": email, "password": PASSWORD}).encode(), {"Content-Type": "application/json"})
        assert reply.status == 200, reply.data
        self.headers = {"Authorization": f"Bearer {reply.json['access_token']}",
                        "Content-Type": "application/json"}

    def call(self, method: str, path: str, body=None, expect=200):
        reply = self.http.request(method, path, None if body is None else json.dumps(
            body).encode(), self.headers)
        assert reply.status == expect, reply.data
        return reply.json


def quarantine_a_feedback(base_url: str) -> dict:
    """The demo rep's phone pulls, then pushes a feedback rated 9 of 5 for one of its
    customers: the server quarantines it. The record pushed."""
    phone = Api(base_url, REP)
    pulled = phone.call("GET", "/api/v1/sync?last_pulled_at=null")
    customer = pulled["changes"]["customers"]["created"][0]["id"]
    record = feedback_record(customer, rating=9, comment="Asks for the new pastries")
    pushed = phone.call("POST", "/api/v1/sync?last_pulled_at=" + str(pulled["timestamp"]),
                        changes(feedback={"created": [record]}))
    assert [q["id"] for q in pushed["quarantined"]] == [record["id"]]
    return record


def enter_a_shop_twice(base_url: str, name: str, latitude: float) -> tuple[str, str]:
    """Two customers of one shop (the same phone, a few metres apart), made by the admin."""
    admin = Api(base_url, ADMIN)
    phone = f"+351 21 {uid('')[-7:]}"
    made = [admin.call("POST", "/api/v1/customers", {
        "name": spelled, "latitude": latitude + offset, "longitude": -9.1501, "phone": phone},
        expect=201)["id"] for spelled, offset in ((name, 0), (name.upper() + ".", 0.00005))]
    return made[0], made[1]


@pytest.mark.parametrize("size", SIZES)
def test_the_admin_replays_a_quarantined_record_and_merges_a_duplicate_pair(browser, demo,
                                                                            size):
    record = quarantine_a_feedback(demo.base_url)
    shop = f"Pastelaria Teste {size}"
    # Each size its own shop, kilometres from the other's (never a pair across the runs).
    first, second = enter_a_shop_twice(demo.base_url, shop, 38.70 + 0.02 * list(SIZES).index(size))
    tab = Tab(browser, demo.base_url, size)
    page = tab.page
    try:
        page.goto("/signin")
        tab.sign_in(ADMIN, lands_on="/today")

        # The quarantine: the pushed record is listed with its reason; inspect it.
        tab.go("Quarantine")
        page.wait_for_url("**/admin/quarantine")
        row = page.locator(f"tr:has-text('{record['id']}')")
        assert "rating" in row.inner_text()
        tab.shot("admin-quarantine")
        row.get_by_role("link", name="Inspect").click()
        editor = page.get_by_label("Record (JSON): fix it, then replay")
        assert json.loads(editor.input_value()) == record

        # Edited JSON that does not parse: said by the field, the text kept.
        editor.fill('{"rating": 4,')
        page.get_by_role("button", name="Replay").click()
        assert "Not valid JSON" in page.locator("#record-error").inner_text()
        assert editor.input_value() == '{"rating": 4,'
        tab.expected("the form's own 422", "status of 422")
        tab.shot("admin-quarantine-error")

        # Fixed: replayed as the rep's feedback, gone from the pending list.
        editor.fill(json.dumps(dict(record, rating=4), indent=2))
        page.get_by_role("button", name="Replay").click()
        page.wait_for_url("**/admin/quarantine")
        assert "replayed" in page.locator(".flash").inner_text()
        assert page.locator(f"tr:has-text('{record['id']}')").count() == 0
        tab.shot("admin-quarantine-replayed")

        # Duplicates: the pair side by side, the suggested one to keep chosen (with no history
        # on either side, the pair's first); keep the other one instead.
        tab.go("Duplicates")
        page.wait_for_url("**/customers/duplicates")
        suggested, other = sorted((first, second))
        names = {first: shop, second: shop.upper() + "."}
        pair = page.locator(f"form.pair:has(input[name=pair][value='{suggested}:{other}'])")
        assert pair.count() == 1
        assert pair.get_by_label(f"Keep {names[suggested]}", exact=True).is_checked()
        tab.shot("duplicates")
        pair.get_by_label(f"Keep {names[other]}", exact=True).check()
        pair.get_by_role("button", name="Merge into the kept one").click()
        page.wait_for_url("**/customers/duplicates")
        assert f"Merged into {names[other]}" in page.locator(".flash").inner_text()
        assert page.locator(f"input[name=pair][value*='{suggested}']").count() == 0
        tab.shot("duplicates-merged")

        # Customers: a search by name finds the kept record; jobs and users fit the screen.
        tab.go("Customers")
        page.get_by_label("Name contains", exact=True).fill("pastelaria teste")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url("**/customers?*")
        assert page.locator("tbody tr").count() >= 1
        assert names[other] in page.locator("tbody").inner_text()
        assert names[suggested] not in page.locator("tbody").inner_text()
        tab.shot("customers")
        tab.go("Jobs")
        page.wait_for_url("**/admin/jobs")
        assert page.locator("tbody tr").count() >= 3  # the demo's runs (jobs run all)
        tab.shot("admin-jobs")
        tab.go("Users")
        page.wait_for_url("**/admin/users")
        tab.shot("admin-users")

        assert tab.errors == []
    finally:
        tab.close()
    admin = Api(demo.base_url, ADMIN)
    assert admin.call("GET", f"/api/v1/customers/{other}")["deleted_at"] is None
    admin.call("GET", f"/api/v1/customers/{suggested}", expect=404)  # merged away


@pytest.mark.parametrize("size", SIZES)
def test_the_admin_imports_a_small_products_csv(browser, demo, size):
    skus = [uid(f"BR-{size}-")[-20:].upper() for _ in range(2)]
    csv = ("sku,name,unit,unit_price,stock_on_hand,lead_time_days\n"
           f"{skus[0]},Browser Espresso Beans,kg,18.50,40,7\n"
           f"{skus[1]},Browser Paper Cups,box,4.20,200,3\n").encode()
    tab = Tab(browser, demo.base_url, size)
    page = tab.page
    try:
        page.goto("/signin")
        tab.sign_in(ADMIN, lands_on="/today")
        tab.go("Imports")
        page.wait_for_url("**/imports")
        tab.shot("imports")

        # A dry run first: every row checked, nothing written.
        page.get_by_label("Kind", exact=True).select_option("products")
        file = {"name": "products.csv", "mimeType": "text/csv", "buffer": csv}
        page.get_by_label("File (.csv or .xlsx)").set_input_files(files=[file])
        dry_run = page.get_by_role("checkbox", name="Dry run")
        dry_run.check()
        page.get_by_role("button", name="Import").click()
        page.wait_for_selector("#report-title")
        assert page.locator("#report-title").inner_text() == "Dry run: nothing written"
        assert page.locator("tr.row-line").count() == 2
        tab.shot("imports-dry-run")

        # Then for real: both products created, the run at the top of the recent imports.
        page.get_by_label("Kind", exact=True).select_option("products")
        page.get_by_label("File (.csv or .xlsx)").set_input_files(files=[file])
        dry_run.uncheck()  # the form came back as it was sent
        page.get_by_role("button", name="Import").click()
        page.wait_for_selector("#report-title")
        assert page.locator("#report-title").inner_text() == "Imported"
        assert "2 created" in page.locator("main .stats").inner_text().replace("\n", " ")
        assert "applied: 2 created" in page.locator("tr.import-run").first.inner_text()
        tab.shot("imports-done")

        assert tab.errors == []
    finally:
        tab.close()
    admin = Api(demo.base_url, ADMIN)
    found = admin.call("GET", "/api/v1/products?q=browser&limit=50")["items"]
    assert {p["sku"] for p in found} >= set(skus)


@pytest.mark.parametrize("size", SIZES)
def test_the_admin_removes_a_user_after_the_confirmation(browser, demo, size):
    admin = Api(demo.base_url, ADMIN)
    leaver = admin.call("POST", "/api/v1/users", {
        "email": f"leaver-{size}@demo.fieldsales.dev", "password": PASSWORD,
        "name": f"Leaver {size.title()}", "role": "procurement"}, expect=201)
    tab = Tab(browser, demo.base_url, size)
    page = tab.page
    try:
        page.goto("/signin")
        tab.sign_in(ADMIN, lands_on="/today")
        page.goto(f"/admin/users/{leaver['id']}")
        page.get_by_role("link", name=f"Remove or erase {leaver['name']}…").click()
        page.wait_for_url(f"**/admin/users/{leaver['id']}/remove")
        page.get_by_role("button", name="Confirm").click()  # nothing chosen yet
        assert page.locator("#action-error").inner_text() == "Choose remove or erase."
        tab.expected("the form's own 422", "status of 422")
        tab.shot("user-remove-error")
        page.get_by_label("Remove: deactivate", exact=False).check()
        page.get_by_role("button", name="Confirm").click()
        page.wait_for_url("**/admin/users")
        assert "removed and signed out everywhere" in page.locator(".flash").inner_text()
        assert leaver["email"] not in page.locator("main").inner_text()
        tab.shot("user-removed")
        assert tab.errors == []
    finally:
        tab.close()
    admin.call("GET", f"/api/v1/users/{leaver['id']}", expect=404)


@pytest.mark.parametrize("size", SIZES)
def test_the_admin_reads_the_sync_log_and_subscribes_a_webhook(browser, demo, size):
    quarantine_a_feedback(demo.base_url)  # the demo rep's phone pulls and pushes
    tab = Tab(browser, demo.base_url, size)
    page = tab.page
    try:
        page.goto("/signin")
        tab.sign_in(ADMIN, lands_on="/today")
        tab.go("Sync log")
        page.wait_for_url("**/admin/sync-log")
        newest = page.locator("tbody tr").first  # the phone's push of the rated-9 feedback
        assert newest.locator("[data-label=Direction]").inner_text() == "push"
        assert newest.locator("[data-label=Quarantined]").inner_text() == "1"
        tab.shot("admin-sync-log")

        tab.go("Webhooks")
        page.wait_for_url("**/webhooks")
        page.get_by_label("URL (http or https)").fill("http://127.0.0.1:9/hook")
        page.get_by_label("order.created", exact=True).check()
        page.get_by_role("button", name="Subscribe").click()
        assert "not a public address" in page.locator("#url-error").inner_text()
        assert page.get_by_label("order.created", exact=True).is_checked()  # kept
        tab.expected("the form's own 422", "status of 422")
        tab.shot("webhooks-refused")
        page.get_by_label("URL (http or https)").fill(f"https://93.184.215.14/{size}")
        page.get_by_role("button", name="Subscribe").click()
        assert page.locator("#secret").inner_text().startswith("whsec_")
        tab.shot("webhooks-subscribed")
        assert tab.errors == []
    finally:
        tab.close()
