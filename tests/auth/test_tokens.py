"""Sign-in, bearer tokens, expiry, revocation and login throttling."""
import time

import pytest

from fieldsales.auth.models import LoginFailure
from fieldsales.common import now_ms
from fieldsales.extensions import db
from fieldsales.users.models import AuthToken
from tests.factories import PASSWORD

LOGIN = "/api/v1/auth/token"
ME = "/api/v1/users/me"


def test_sign_in_returns_a_bearer_token_shaped_as_the_spec_says(client, make_user, app):
    rep = make_user("rep")
    response = client.post(LOGIN, json={"email": rep.email, "password": PASSWORD})
    assert response.status_code == 200
    body = response.json
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == app.config["TOKEN_TTL_SECONDS"]
    assert body["user"] == {"id": rep.id, "name": rep.name, "role": "rep"}
    me = client.get(ME, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json["email"] == rep.email


def test_email_is_matched_case_insensitively(client, make_user):
    make_user("rep", email="Mixed.Case@Example.com")
    response = client.post(LOGIN, json={"email": "MIXED.case@example.COM", "password": PASSWORD})
    assert response.status_code == 200, response.json


@pytest.mark.parametrize("email_suffix, password", [("", "wrong password"), ("x", PASSWORD)])
def test_wrong_credentials_get_401_without_saying_which_part_was_wrong(
        client, make_user, email_suffix, password):
    rep = make_user("rep")
    response = client.post(LOGIN, json={"email": rep.email + email_suffix, "password": password})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_credentials"


def test_passwords_are_stored_hashed(make_user, app):
    rep = make_user("rep")
    assert PASSWORD not in rep.password_hash
    assert rep.password_hash.startswith("pbkdf2:sha256")  # testing config; scrypt elsewhere
    assert app.config["PASSWORD_HASH_METHOD"] != "plain"


def test_production_hashes_with_scrypt():
    from config import ProductionConfig

    assert ProductionConfig.PASSWORD_HASH_METHOD == "scrypt"


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nonsense", "Basic abc", "token"])
def test_missing_or_bad_tokens_get_401_json(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get(ME, headers=headers)
    assert response.status_code == 401
    assert set(response.json["error"]) == {"code", "message", "details"}


def test_an_expired_token_gets_401(client, make_user, login, app):
    headers = login(make_user("rep"))
    with app.app_context():
        db.session.execute(db.update(AuthToken).values(expires_at=now_ms() - 1))
        db.session.commit()
    response = client.get(ME, headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_token"


def test_tokens_expire_after_the_configured_ttl(client, make_user, app, monkeypatch):
    monkeypatch.setitem(app.config, "TOKEN_TTL_SECONDS", 60)
    rep = make_user("rep")
    before = now_ms()
    body = client.post(LOGIN, json={"email": rep.email, "password": PASSWORD}).json
    assert body["expires_in"] == 60
    with app.app_context():
        token = db.session.scalar(db.select(AuthToken).where(AuthToken.user_id == rep.id))
        assert before + 60_000 <= token.expires_at <= now_ms() + 60_000


def test_admin_revokes_all_of_a_users_tokens_effective_on_the_next_request(client, team, login):
    phone, tablet = team.headers["rep"], login(team.rep)
    response = client.post(f"/api/v1/users/{team.rep.id}/revoke-tokens",
                           headers=team.headers["admin"])
    assert response.status_code == 200 and response.json["revoked"] == 2
    for headers in (phone, tablet):
        assert client.get(ME, headers=headers).status_code == 401
    assert client.get(ME, headers=login(team.rep)).status_code == 200  # signing in again works


def test_the_reps_manager_may_revoke_but_another_manager_may_not(client, team):
    url = f"/api/v1/users/{team.rep.id}/revoke-tokens"
    assert client.post(url, headers=team.headers["other_manager"]).status_code == 404
    assert client.post(url, headers=team.headers["rep2"]).status_code == 403
    assert client.post(url, headers=team.headers["procurement"]).status_code == 403
    assert client.get(ME, headers=team.headers["rep"]).status_code == 200
    assert client.post(url, headers=team.headers["manager"]).status_code == 200
    assert client.get(ME, headers=team.headers["rep"]).status_code == 401


def test_deactivated_users_lose_access_at_once(client, team):
    response = client.patch(f"/api/v1/users/{team.rep.id}", json={"active": False},
                            headers=team.headers["admin"])
    assert response.status_code == 200
    assert client.get(ME, headers=team.headers["rep"]).status_code == 401
    login = client.post(LOGIN, json={"email": team.rep.email, "password": PASSWORD})
    assert login.status_code == 401


def test_sign_out_revokes_only_the_token_used(client, make_user, login):
    rep = make_user("rep")
    phone, tablet = login(rep), login(rep)
    response = client.delete(LOGIN, headers=phone)
    assert response.status_code == 204 and response.get_data() == b""
    signed_out = client.get(ME, headers=phone)
    assert signed_out.status_code == 401
    assert signed_out.json["error"]["code"] == "invalid_token"
    assert client.get(ME, headers=tablet).status_code == 200  # the user's other devices stay in
    again = client.delete(LOGIN, headers=phone)
    assert again.status_code == 401 and again.json["error"]["code"] == "invalid_token"
    assert client.delete(LOGIN).status_code == 401


def test_sign_out_is_documented(client):
    operation = client.get("/api/v1/openapi.json").json["paths"]["/api/v1/auth/token"]["delete"]
    assert "204" in operation["responses"]
    assert operation.get("security") != []  # it needs the bearer token


def test_expired_and_revoked_tokens_are_pruned_at_sign_in(client, make_user, login, app):
    rep, other = make_user("rep"), make_user("rep")
    live = login(other)
    with app.app_context():
        now = now_ms()
        for n, (expires_at, revoked_at) in enumerate(
                [(now - 1, None), (now + 60_000, now - 1), (now - 5, now - 10)]):
            db.session.add(AuthToken(user_id=other.id, token_hash=f"dead{n}".ljust(64, "0"),
                                     expires_at=expires_at, revoked_at=revoked_at))
        db.session.commit()
    login(rep)  # anyone's sign-in prunes everyone's dead tokens
    with app.app_context():
        hashes = db.session.scalars(db.select(AuthToken.token_hash)).all()
    assert not [h for h in hashes if h.startswith("dead")]
    assert len(hashes) == 2  # the two live ones
    assert client.get(ME, headers=live).status_code == 200


@pytest.fixture
def hashes(monkeypatch):
    """Counts the password checks sign-in runs (werkzeug's, wrapped, still doing the work)."""
    from fieldsales.auth import service

    calls = []
    real = service.check_password_hash

    def counting(pwhash, password):
        calls.append(1)
        return real(pwhash, password)

    monkeypatch.setattr(service, "check_password_hash", counting)
    return calls


def sign_in(client, email, password, address="127.0.0.1"):
    return client.post(LOGIN, json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


class TestThrottling:
    def test_failures_per_email_and_address_lock_that_pair_with_429_before_hashing(
            self, client, make_user, app, monkeypatch, hashes):
        monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_EMAIL_ADDRESS", 3)
        rep = make_user("rep")
        for _ in range(3):
            assert sign_in(client, rep.email, "bad").status_code == 401
        assert len(hashes) == 3
        locked = sign_in(client, rep.email, PASSWORD)
        assert locked.status_code == 429  # even the right password, from this address
        assert locked.json["error"]["code"] == "too_many_requests"
        assert int(locked.headers["Retry-After"]) > 0
        assert sign_in(client, rep.email, "bad").status_code == 429
        assert len(hashes) == 3  # refused before the (costly) password check
        # The owner elsewhere is not locked out: five wrong passwords from anywhere are no
        # way to lock a user out any more.
        assert sign_in(client, rep.email, PASSWORD, "10.9.9.9").status_code == 200
        # Another user from the same address is unaffected.
        other = make_user("rep")
        assert sign_in(client, other.email, PASSWORD).status_code == 200

    def test_failures_per_address_refuse_wrong_attempts_but_never_the_right_password(
            self, client, make_user, app, monkeypatch):
        monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_ADDRESS", 4)
        rep = make_user("rep")
        for n in range(4):
            assert sign_in(client, f"nobody{n}@example.com", "bad").status_code == 401
        for email in (rep.email, "nobody9@example.com"):
            refused = sign_in(client, email, "bad")
            assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        # A team signs in from one office address: the right password is never throttled.
        assert sign_in(client, rep.email, PASSWORD).status_code == 200
        assert sign_in(client, rep.email, "bad", "10.9.9.9").status_code == 401

    def test_an_email_attacked_from_many_addresses_is_slowed_but_the_right_password_signs_in(
            self, client, make_user, app, monkeypatch):
        monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_EMAIL", 3)
        monkeypatch.setitem(app.config, "LOGIN_SLOW_DELAY_SECONDS", 0.05)
        monkeypatch.setitem(app.config, "LOGIN_SLOW_MAX_DELAY_SECONDS", 0.2)
        rep = make_user("rep")
        for n in range(12):  # two wrong passwords from each of six addresses
            assert sign_in(client, rep.email, "bad", f"10.0.0.{n // 2}").status_code == 401
        started = time.monotonic()
        wrong = sign_in(client, rep.email, "bad", "10.0.1.1")
        assert wrong.status_code == 401 and time.monotonic() - started >= 0.2  # capped delay
        started = time.monotonic()
        assert sign_in(client, rep.email, PASSWORD, "10.0.1.2").status_code == 200
        assert 0.2 <= time.monotonic() - started < 5  # slowed, never refused

    def test_the_slow_path_grows_with_the_failures_and_stops_at_the_cap(self, app, monkeypatch):
        from fieldsales.auth.service import slow_down_seconds

        monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_EMAIL", 5)
        monkeypatch.setitem(app.config, "LOGIN_SLOW_DELAY_SECONDS", 0.5)
        monkeypatch.setitem(app.config, "LOGIN_SLOW_MAX_DELAY_SECONDS", 3)
        with app.app_context():
            assert [slow_down_seconds(failures=n) for n in (0, 4, 5, 6, 7, 8, 100)] == [
                0, 0, 0.5, 1, 2, 3, 3]

    def test_successful_sign_ins_are_never_throttled(self, client, make_user, app, monkeypatch):
        monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_ADDRESS", 2)
        reps = [make_user("rep") for _ in range(6)]
        for rep in reps:  # a whole team signing in from one office address
            signed_in = client.post(LOGIN, json={"email": rep.email, "password": PASSWORD})
            assert signed_in.status_code == 200

    def test_the_lock_lifts_when_the_window_has_passed(self, client, make_user, app, monkeypatch):
        monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_EMAIL_ADDRESS", 2)
        rep = make_user("rep")
        for _ in range(2):
            client.post(LOGIN, json={"email": rep.email, "password": "bad"})
        right = {"email": rep.email, "password": PASSWORD}
        assert client.post(LOGIN, json=right).status_code == 429
        monkeypatch.setitem(app.config, "LOGIN_FAILURE_WINDOW_SECONDS", 0)
        assert client.post(LOGIN, json=right).status_code == 200

    def test_retry_after_is_when_the_limit_that_was_hit_falls_back_under(
            self, client, make_user, app, monkeypatch):
        """Older failures of the address must not shorten the pair's Retry-After."""
        monkeypatch.setitem(app.config, "LOGIN_FAILURE_WINDOW_SECONDS", 1000)
        monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_EMAIL_ADDRESS", 2)
        rep = make_user("rep")
        now = now_ms()
        with app.app_context():
            # An old failure of another email from the same address, near the window's end,
            db.session.add(LoginFailure(email="x@example.com", address="127.0.0.1",
                                        failed_at=now - 990_000))
            # and the rep's two: the older (600 s left) must expire to lift the lock.
            for age_s in (400, 100):
                db.session.add(LoginFailure(email=rep.email, address="127.0.0.1",
                                            failed_at=now - age_s * 1000))
            db.session.commit()
        locked = client.post(LOGIN, json={"email": rep.email, "password": PASSWORD})
        assert locked.status_code == 429
        assert 595 <= int(locked.headers["Retry-After"]) <= 601
        assert locked.json["error"]["details"]["retry_after_seconds"] == int(
            locked.headers["Retry-After"])

    def test_retry_after_of_a_busy_address_counts_from_its_limit_th_newest_failure(
            self, client, app, monkeypatch):
        monkeypatch.setitem(app.config, "LOGIN_FAILURE_WINDOW_SECONDS", 1000)
        monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_ADDRESS", 2)
        now = now_ms()
        with app.app_context():
            for n, age_s in enumerate((900, 500, 200)):  # the 2nd newest has 500 s left
                db.session.add(LoginFailure(email=f"n{n}@example.com", address="127.0.0.1",
                                            failed_at=now - age_s * 1000))
            db.session.commit()
        refused = client.post(LOGIN, json={"email": "n9@example.com", "password": "bad"})
        assert refused.status_code == 429
        assert 495 <= int(refused.headers["Retry-After"]) <= 501

    def test_refused_attempts_are_not_recorded(self, client, make_user, app, monkeypatch):
        """An attempt refused before the check tested no password, so it is no failure: a
        locked pair can neither grow the table nor push an email further into the slow path."""
        monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_EMAIL_ADDRESS", 2)
        for _ in range(10):
            sign_in(client, "n@example.com", "bad")
        with app.app_context():
            assert db.session.scalar(db.select(db.func.count()).select_from(LoginFailure)) == 2

    def test_failures_outside_the_window_are_pruned_when_a_failure_is_recorded(
            self, client, app, monkeypatch):
        monkeypatch.setitem(app.config, "LOGIN_FAILURE_WINDOW_SECONDS", 1000)
        now = now_ms()
        with app.app_context():
            for n, age_s in enumerate((5000, 1001, 999)):
                db.session.add(LoginFailure(email=f"old{n}@example.com", address=f"10.1.1.{n}",
                                            failed_at=now - age_s * 1000))
            db.session.commit()
        assert sign_in(client, "new@example.com", "bad").status_code == 401
        with app.app_context():
            left = db.session.scalars(db.select(LoginFailure.email)).all()
        assert sorted(left) == ["new@example.com", "old2@example.com"]


def test_unknown_emails_are_checked_against_a_hash_made_with_the_configured_method(
        app, monkeypatch):
    """So a miss costs as much as a real user's wrong password (scrypt in production)."""
    from fieldsales.auth.service import dummy_hash

    with app.app_context():
        assert dummy_hash().startswith(app.config["PASSWORD_HASH_METHOD"] + "$")
        monkeypatch.setitem(app.config, "PASSWORD_HASH_METHOD", "scrypt:1024:8:1")
        assert dummy_hash().startswith("scrypt:1024:8:1$")
        assert dummy_hash() is dummy_hash()  # made once per method


class TestBehindAProxy:
    def _failed_sign_in_address(self, app, **environ):
        app.test_client().post(LOGIN, json={"email": "nobody@example.com", "password": "bad"},
                               headers={"X-Forwarded-For": "203.0.113.7"},
                               environ_base={"REMOTE_ADDR": "10.0.0.2", **environ})
        with app.app_context():
            return db.session.scalar(db.select(LoginFailure.address))

    def test_by_default_forwarded_for_is_not_trusted(self, app):
        """A client could otherwise pick its own address and dodge the throttle."""
        assert app.config["TRUSTED_PROXY_HOPS"] == 0
        assert self._failed_sign_in_address(app) == "10.0.0.2"

    def test_with_trusted_proxy_hops_the_throttle_sees_the_clients_address(
            self, make_database):
        from fieldsales import create_app
        from tests.factories import config_for

        app = create_app(config_for(make_database("proxy"), TRUSTED_PROXY_HOPS=1))
        with app.app_context():
            db.create_all()
        try:
            assert self._failed_sign_in_address(app) == "203.0.113.7"
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
