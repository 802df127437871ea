"""The console through Flask's test client: one client (one cookie jar) per person."""
import re

import pytest

from tests.factories import PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Visitor:
    """A person in front of the console: their own cookies, the CSRF token of their page."""

    def __init__(self, app):
        self.client = app.test_client()

    def get(self, path, **kwargs):
        return self.client.get(path, **kwargs)

    def csrf(self, path="/signin") -> str:
        """The CSRF token the form on `path` carries."""
        found = CSRF.search(self.client.get(path, follow_redirects=True).text)
        assert found, f"no form with a CSRF token on {path}"
        return found.group(1)

    def post(self, path, data=None, *, form_on=None, csrf=True, **kwargs):
        """Submit `data` as the form on `form_on` (default: `path`) would, token included."""
        data = dict(data or {})
        if csrf:
            data["csrf_token"] = self.csrf(form_on or path)
        return self.client.post(path, data=data, **kwargs)

    def sign_in(self, user, password=PASSWORD, next=None):
        data = {"email": user.email, "password": password}
        if next:
            data["next"] = next
        return self.post("/signin", data)


@pytest.fixture
def visitor(app):
    """visitor(user): a signed-in visitor; visitor(): a signed-out one."""

    def make(user=None):
        person = Visitor(app)
        if user is not None:
            response = person.sign_in(user)
            assert response.status_code == 302, response.text
        return person

    return make
