"""Signing in and out of the console: the API's sign-in (and throttle) and its bearer tokens
behind a session cookie, CSRF on every form, and an expired session coming back to the page
that was wanted."""
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import update

from config import ProductionConfig
from fieldsales import create_app
from fieldsales.extensions import db
from fieldsales.users.models import AuthToken
from tests.factories import config_for


def test_signing_in_lands_managers_on_today_and_reps_on_their_own_day(visitor, team):
    manager = visitor()
    response = manager.sign_in(team.manager)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert manager.get("/").headers["Location"] == "/today"
    rep = visitor(team.rep)
    assert rep.get("/").headers["Location"] == "/me"
    page = rep.get("/me").text
    assert team.rep.name in page and "fieldsales phone app" in page
    assert 'href="/today"' not in page and 'href="/team"' not in page  # no team data in the nav


def test_a_wrong_password_shows_the_error_and_keeps_the_email(visitor, team):
    person = visitor()
    response = person.sign_in(team.manager, password="not it")
    assert response.status_code == 401
    assert "The email or password is wrong." in response.text
    assert f'value="{team.manager.email}"' in response.text
    assert "not it" not in response.text  # a password is never sent back
    assert person.get("/today").status_code == 302  # still signed out


def test_an_empty_form_names_each_missing_field(visitor):
    response = visitor().post("/signin", {"email": "", "password": ""})
    assert response.status_code == 422
    assert response.text.count("Missing data for required field.") == 2
    assert 'id="email-error"' in response.text and 'id="password-error"' in response.text


def test_the_api_throttle_applies_to_the_console(app, visitor, team):
    person = visitor()
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_EMAIL_ADDRESS"]):
        assert person.sign_in(team.manager, password="wrong").status_code == 401
    refused = person.sign_in(team.manager)  # even the right password, from here, for now
    assert refused.status_code == 429
    assert "Too many failed sign-in attempts" in refused.text


def test_a_form_without_the_csrf_token_is_refused(app, visitor, team, world):
    signed_out = visitor()
    signed_out.get("/signin")
    refused = signed_out.post("/signin", {"email": team.manager.email,
                                          "password": "correct horse battery"}, csrf=False)
    assert refused.status_code == 400 and "did not come from the console" in refused.text
    manager = visitor(team.manager)
    data = {"metric": "visits", "period": "month", "period_start": "2026-01-01", "goal": "10"}
    for token in (None, "forged"):
        sent = data if token is None else {**data, "csrf_token": token}
        assert manager.post("/targets/new", sent, csrf=False).status_code == 400
    assert manager.post("/signout", {}, csrf=False).status_code == 400
    assert manager.get("/today").status_code == 200  # the refused sign-out did nothing
    assert manager.get("/targets").text.count("/edit") == 0  # and no target was made


def test_an_expired_session_signs_in_again_and_returns_to_the_page_wanted(app, visitor, team):
    manager = visitor(team.manager)
    with app.app_context():
        db.session.execute(update(AuthToken).values(expires_at=1))
        db.session.commit()
    wanted = "/team?period=month"
    response = manager.get(wanted)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/signin" and parse_qs(location.query) == {"next": [wanted]}
    form = manager.get(response.headers["Location"]).text
    assert 'name="next" value="/team?period=month"' in form
    back = manager.sign_in(team.manager, next=wanted)
    assert back.status_code == 302 and back.headers["Location"] == wanted
    assert manager.get(wanted).status_code == 200


def test_next_only_ever_leads_to_a_page_of_this_site(visitor, team):
    for elsewhere in ("https://evil.example/", "//evil.example/x", "/\\evil.example",
                      "javascript:alert(1)"):
        person = visitor()
        response = person.sign_in(team.manager, next=elsewhere)
        assert response.headers["Location"] == "/", elsewhere


def test_signing_out_revokes_the_token_so_a_copied_cookie_is_dead(app, visitor, team):
    manager = visitor(team.manager)
    copied = manager.client.get_cookie("session").value
    assert manager.post("/signout", {}, form_on="/today").headers["Location"] == "/signin"
    with app.app_context():
        # The API's token of the `team` fixture lives on; the console's is revoked.
        revoked = db.session.scalars(db.select(AuthToken.revoked_at).where(
            AuthToken.user_id == team.manager.id)).all()
        assert sorted(at is not None for at in revoked) == [False, True]
    thief = visitor()
    thief.client.set_cookie("session", copied)
    assert thief.get("/today").status_code == 302


def test_a_deactivated_users_session_ends_like_their_api_tokens(app, visitor, team):
    manager = visitor(team.manager)
    admin_headers = team.headers["admin"]
    response = manager.client.patch(f"/api/v1/users/{team.manager.id}", json={"active": False},
                                    headers=admin_headers)
    assert response.status_code == 200, response.json
    assert manager.get("/today").status_code == 302


def test_the_session_cookie_is_httponly_lax_and_secure_in_production(app, visitor, team,
                                                                    make_database):
    response = visitor().sign_in(team.manager)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    production = create_app(type("Prod", (ProductionConfig,), {
        "SQLALCHEMY_DATABASE_URI": make_database("console_prod"), "SECRET_KEY": "x" * 40}))
    with production.test_request_context("/"):
        assert production.config["SESSION_COOKIE_SECURE"] is True
    assert config_for("sqlite://")().SESSION_COOKIE_SECURE is False
