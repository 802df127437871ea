"""Users, teams and roles over the REST API (the list: pages, sorts, CSV), and the
`users create` CLI."""
import pytest

from fieldsales.extensions import db
from fieldsales.users.models import User
from tests.list_checks import (
    assert_csv_is_the_json,
    assert_unknown_sort_is_422,
    assert_walk_in_order,
    walk,
)

USERS = "/api/v1/users"


def new_user(**overrides):
    return {"email": "new.rep@example.com", "password": "long enough pw", "name": "New Rep",
            "role": "rep", **overrides}


class TestMe:
    def test_every_role_reads_itself(self, client, team):
        for name in ("admin", "procurement", "manager", "rep"):
            body = client.get(f"{USERS}/me", headers=team.headers[name]).json
            assert body["id"] == getattr(team, name).id
            assert "password_hash" not in body and "password" not in body

    def test_a_rep_carries_team_and_selling_style(self, client, team):
        body = client.get(f"{USERS}/me", headers=team.headers["rep"]).json
        assert body["team_id"] == team.manager.team_id
        assert body["selling_style"] == "hunter"


class TestAdminManagesUsers:
    def test_admin_creates_a_rep_in_a_managers_team(self, client, team):
        response = client.post(USERS, json=new_user(manager_id=team.manager.id,
                                                    selling_style="hunter"),
                               headers=team.headers["admin"])
        assert response.status_code == 201
        assert response.json["team_id"] == team.manager.team_id
        assert response.json["email"] == "new.rep@example.com"

    def test_a_new_manager_gets_a_team_of_their_own(self, client, team):
        response = client.post(USERS, json=new_user(role="manager", email="m@example.com"),
                               headers=team.headers["admin"])
        assert response.status_code == 201
        assert response.json["team_id"] not in (None, team.manager.team_id)

    def test_only_admins_create_users(self, client, team):
        for name in ("manager", "procurement", "rep"):
            refused = client.post(USERS, json=new_user(), headers=team.headers[name])
            assert refused.status_code == 403

    def test_unknown_manager_is_a_validation_error(self, client, team):
        response = client.post(USERS, json=new_user(manager_id="nobody"),
                               headers=team.headers["admin"])
        assert response.status_code == 422
        assert "manager_id" in response.json["error"]["details"]

    def test_a_rep_needs_a_manager(self, client, team):
        """A rep belongs to one manager's team; without one they would see and get nothing."""
        response = client.post(USERS, json=new_user(), headers=team.headers["admin"])
        assert response.status_code == 422
        assert list(response.json["error"]["details"]) == ["manager_id"]

    @pytest.mark.parametrize("role", ["manager", "procurement", "admin"])
    def test_a_manager_for_another_role_is_refused_not_ignored(self, client, team, role):
        response = client.post(USERS, json=new_user(role=role, manager_id=team.manager.id),
                               headers=team.headers["admin"])
        assert response.status_code == 422
        assert list(response.json["error"]["details"]) == ["manager_id"]

    def test_the_manager_named_must_be_a_manager(self, client, team):
        response = client.post(USERS, json=new_user(manager_id=team.procurement.id),
                               headers=team.headers["admin"])
        assert response.status_code == 422
        assert list(response.json["error"]["details"]) == ["manager_id"]

    def test_a_rep_cannot_be_taken_out_of_every_team(self, client, team):
        response = client.patch(f"{USERS}/{team.rep2.id}", json={"team_id": None},
                                headers=team.headers["admin"])
        assert response.status_code == 422 and "team_id" in response.json["error"]["details"]

    def test_admin_updates_and_removes(self, client, team):
        url = f"{USERS}/{team.rep2.id}"
        response = client.patch(url, json={"name": "Renamed", "selling_style": "hunter"},
                                headers=team.headers["admin"])
        assert response.status_code == 200 and response.json["name"] == "Renamed"
        assert client.delete(url, headers=team.headers["admin"]).status_code == 204
        assert client.get(url, headers=team.headers["admin"]).status_code == 404
        assert client.get(f"{USERS}/me", headers=team.headers["rep2"]).status_code == 401

    def test_admin_cannot_remove_themselves(self, client, team):
        response = client.delete(f"{USERS}/{team.admin.id}", headers=team.headers["admin"])
        assert response.status_code == 409

    def test_admin_cannot_deactivate_themselves(self, client, team):
        url = f"{USERS}/{team.admin.id}"
        refused = client.patch(url, json={"active": False}, headers=team.headers["admin"])
        assert refused.status_code == 409
        assert refused.json["error"]["code"] == "cannot_deactivate_self"
        assert client.get(url, headers=team.headers["admin"]).json["active"] is True
        renamed = client.patch(url, json={"name": "Still here"}, headers=team.headers["admin"])
        assert renamed.status_code == 200

    def test_only_admins_change_users(self, client, team):
        url = f"{USERS}/{team.rep.id}"
        manager = team.headers["manager"]
        assert client.patch(url, json={"name": "x"}, headers=manager).status_code == 403
        assert client.delete(url, headers=team.headers["manager"]).status_code == 403


def give_rep_work(client, team):
    """team.rep gets a customer, an open task at it and a done task."""
    admin = team.headers["admin"]
    customer = client.post("/api/v1/customers", headers=admin, json={
        "name": "Shop", "latitude": 38.7, "longitude": -9.1,
        "assigned_rep_id": team.rep.id}).json["id"]
    task = client.post("/api/v1/tasks", headers=admin, json={
        "assigned_rep_id": team.rep.id, "customer_id": customer, "title": "Visit"}).json["id"]
    client.post("/api/v1/tasks", headers=admin, json={
        "assigned_rep_id": team.rep.id, "title": "Done already", "status": "done"})
    return customer, task


class TestRemovingARepWithWork:
    """A removed rep's customers would stay assigned to a deleted user: as for a team move,
    their customers and open tasks must be someone else's first."""

    def test_refused_with_409_saying_what_to_reassign_first(self, client, team):
        customer, task = give_rep_work(client, team)
        admin = team.headers["admin"]
        response = client.delete(f"{USERS}/{team.rep.id}", headers=admin)
        assert response.status_code == 409
        error = response.json["error"]
        assert error["code"] == "rep_has_work"
        assert error["details"] == {"assigned_customers": 1, "open_tasks": 1}
        assert "1 customer(s)" in error["message"] and "1 open task(s)" in error["message"]
        assert client.get(f"{USERS}/me", headers=team.headers["rep"]).status_code == 200

    def test_allowed_once_the_work_is_reassigned(self, client, team):
        customer, task = give_rep_work(client, team)
        admin = team.headers["admin"]
        assert client.patch(f"/api/v1/tasks/{task}", headers=admin, json={
            "assigned_rep_id": team.rep2.id, "customer_id": None}).status_code == 200
        assert client.delete(f"{USERS}/{team.rep.id}", headers=admin).status_code == 409
        assert client.patch(f"/api/v1/customers/{customer}", headers=admin,
                            json={"assigned_rep_id": team.rep2.id}).status_code == 200
        assert client.delete(f"{USERS}/{team.rep.id}", headers=admin).status_code == 204
        assert client.get(f"{USERS}/me", headers=team.headers["rep"]).status_code == 401


class TestMovingARepToAnotherTeam:
    """Customers stay with their team (and its manager) while tasks follow the rep, so a rep
    moves only once their customers and open tasks are someone else's."""

    def test_refused_with_409_saying_what_to_reassign_first(self, client, team):
        give_rep_work(client, team)
        response = client.patch(f"{USERS}/{team.rep.id}",
                                json={"team_id": team.other_manager.team_id},
                                headers=team.headers["admin"])
        assert response.status_code == 409
        error = response.json["error"]
        assert error["code"] == "rep_has_work"
        assert error["details"] == {"assigned_customers": 1, "open_tasks": 1}
        assert "1 customer(s)" in error["message"] and "1 open task(s)" in error["message"]
        me = client.get(f"{USERS}/me", headers=team.headers["rep"]).json
        assert me["team_id"] == team.manager.team_id

    def test_allowed_once_the_work_is_reassigned(self, client, team):
        customer, task = give_rep_work(client, team)
        admin = team.headers["admin"]
        assert client.patch(f"/api/v1/tasks/{task}", headers=admin, json={
            "assigned_rep_id": team.rep2.id, "customer_id": None}).status_code == 200
        assert client.patch(f"/api/v1/customers/{customer}", headers=admin,
                            json={"assigned_rep_id": team.rep2.id}).status_code == 200
        response = client.patch(f"{USERS}/{team.rep.id}",
                                json={"team_id": team.other_manager.team_id}, headers=admin)
        assert response.status_code == 200
        assert response.json["team_id"] == team.other_manager.team_id

    def test_staying_in_the_same_team_is_no_move(self, client, team):
        give_rep_work(client, team)
        response = client.patch(f"{USERS}/{team.rep.id}", json={"team_id": team.manager.team_id},
                                headers=team.headers["admin"])
        assert response.status_code == 200


class TestConcurrentAdminsAndTheSameEmail:
    """Another admin's user, committed after this request's check looked: the check saw
    nothing (as it does while the other transaction is uncommitted), the unique index
    refuses the row, and the answer is the same 409 as the check's, never a 500."""

    def test_create(self, client, team, monkeypatch):
        from fieldsales.users import service

        monkeypatch.setattr(service, "get_by_email", lambda email: None)
        response = client.post(USERS, json=new_user(email=team.rep2.email.upper(),
                                                    manager_id=team.manager.id),
                               headers=team.headers["admin"])
        assert response.status_code == 409
        assert response.json["error"]["code"] == "duplicate_email"
        assert "email" in response.json["error"]["details"]

    def test_create_when_another_connection_commits_between_check_and_insert(
            self, app, client, team, monkeypatch):
        """The real race, on PostgreSQL (SQLite's writers queue, so it cannot happen there)."""
        from fieldsales.users import service

        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            pytest.skip("SQLite serializes writers: the check always sees the other commit")
        real_check = service.get_by_email

        def check_then_the_other_admin_commits(*, email):
            found = real_check(email=email)
            with db.engine.begin() as other:
                other.execute(db.insert(User).values(
                    id="other-admins-user", email=email.strip().lower(), name="Other",
                    role="procurement", password_hash="x", active=True, created_at=0))
            return found

        monkeypatch.setattr(service, "get_by_email", check_then_the_other_admin_commits)
        response = client.post(USERS, json=new_user(email="race@example.com", role="procurement"),
                               headers=team.headers["admin"])
        assert response.status_code == 409
        assert response.json["error"]["code"] == "duplicate_email"

    def test_create_of_a_manager_leaves_no_team_behind(self, app, team, monkeypatch):
        from fieldsales.users import service
        from fieldsales.users.models import Team

        monkeypatch.setattr(service, "get_by_email", lambda email: None)
        with app.app_context():
            teams = db.session.scalar(db.select(db.func.count()).select_from(Team))
            try:
                service.create(email=team.manager.email, password="long enough pw", name="M",
                               role="manager")
            except Exception as error:
                assert getattr(error, "code", None) == "duplicate_email"
            else:
                raise AssertionError("a duplicate email was accepted")
            db.session.commit()  # the rest of the transaction is still usable
            assert db.session.scalar(db.select(db.func.count()).select_from(Team)) == teams

    def test_update(self, client, team, monkeypatch):
        from fieldsales.users import service

        monkeypatch.setattr(service, "get_by_email", lambda email: None)
        response = client.patch(f"{USERS}/{team.rep2.id}",
                                json={"email": team.rep.email, "name": "Renamed"},
                                headers=team.headers["admin"])
        assert response.status_code == 409
        assert response.json["error"]["code"] == "duplicate_email"
        body = client.get(f"{USERS}/{team.rep2.id}", headers=team.headers["admin"]).json
        assert (body["email"], body["name"]) == (team.rep2.email, team.rep2.name)


class TestManagersSeeTheirTeam:
    def test_manager_lists_only_their_team(self, client, team):
        body = client.get(USERS, headers=team.headers["manager"]).json
        ids = {user["id"] for user in body["items"]}
        assert ids == {team.manager.id, team.rep.id, team.rep2.id}

    def test_manager_cannot_read_another_teams_rep(self, client, team):
        response = client.get(f"{USERS}/{team.other_rep.id}", headers=team.headers["manager"])
        assert response.status_code == 404

    def test_admin_lists_everyone_filtered_by_role(self, client, team):
        body = client.get(f"{USERS}?role=rep", headers=team.headers["admin"]).json
        assert ({user["id"] for user in body["items"]}
                == {team.rep.id, team.rep2.id, team.other_rep.id})

    def test_reps_and_procurement_cannot_list_users(self, client, team):
        for name in ("rep", "procurement"):
            assert client.get(USERS, headers=team.headers[name]).status_code == 403

    def test_pagination_walks_every_user_once(self, client, team):
        seen, cursor = [], None
        while True:
            query = f"{USERS}?limit=2" + (f"&cursor={cursor}" if cursor else "")
            page = client.get(query, headers=team.headers["admin"]).json
            seen += [user["id"] for user in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) == 7

    @pytest.mark.parametrize("sort, key", [
        ("name", lambda u: u["name"].lower()),
        ("-email", lambda u: u["email"]),
        ("role", lambda u: u["role"]),
    ])
    def test_a_walk_in_another_sort_loses_and_repeats_nothing(self, client, team, make_user,
                                                              sort, key):
        more = [make_user("rep", manager=team.manager, name=name).id
                for name in ("bruno", "Ana", "ana", "Zoe")]
        make_user("rep", manager=team.other_manager, name="Another team's")
        items = walk(client, USERS, headers=team.headers["manager"], sort=sort, limit=2)
        assert_walk_in_order(items, ids=[team.manager.id, team.rep.id, team.rep2.id, *more],
                             sort=sort, key=key)

    def test_the_csv_export_is_every_row_of_the_json_pages_in_the_callers_scope(self, client,
                                                                                team):
        reps = assert_csv_is_the_json(client, USERS, headers=team.headers["manager"],
                                      role="rep", sort="-name")
        assert {user["id"] for user in reps} == {team.rep.id, team.rep2.id}
        everyone = assert_csv_is_the_json(client, USERS, headers=team.headers["admin"])
        assert len(everyone) == 7

    def test_only_allow_listed_fields_sort_users(self, client, team):
        assert_unknown_sort_is_422(client, USERS, headers=team.headers["admin"],
                                   field="password_hash")

    def test_teams_are_scoped(self, client, team):
        teams = client.get("/api/v1/teams", headers=team.headers["manager"]).json
        assert [t["id"] for t in teams] == [team.manager.team_id]
        assert len(client.get("/api/v1/teams", headers=team.headers["admin"]).json) == 2
        assert client.get("/api/v1/teams", headers=team.headers["rep"]).status_code == 403


class TestCli:
    def test_users_create_makes_a_rep_in_the_managers_team(self, app, make_user):
        manager = make_user("manager", email="boss@example.com")
        result = app.test_cli_runner().invoke(args=[
            "users", "create", "--email", "cli.rep@example.com", "--password", "pw-123456",
            "--name", "Cli Rep", "--role", "rep", "--manager-email", "boss@example.com"])
        assert result.exit_code == 0, result.output
        with app.app_context():
            rep = db.session.scalar(db.select(User).where(User.email == "cli.rep@example.com"))
            assert rep.team_id == manager.team_id and rep.role == "rep"

    def test_duplicate_email_and_unknown_role_exit_non_zero_with_a_message(self, app, make_user):
        make_user("rep", email="taken@example.com")
        runner = app.test_cli_runner()
        base = ["users", "create", "--password", "pw-123456", "--name", "X"]
        duplicate = runner.invoke(args=[*base, "--email", "taken@example.com", "--role", "rep"])
        assert duplicate.exit_code != 0 and "already exists" in duplicate.output
        unknown = runner.invoke(args=[*base, "--email", "x@example.com", "--role", "wizard"])
        assert unknown.exit_code != 0 and "Unknown role" in unknown.output
        missing = runner.invoke(args=[*base, "--email", "y@example.com", "--role", "rep",
                                      "--manager-email", "nobody@example.com"])
        assert missing.exit_code != 0 and "No user" in missing.output

    def test_a_rep_in_no_team_joins_one_with_their_work(self, app, client, team):
        app.test_cli_runner().invoke(args=[
            "users", "create", "--email", "joiner@example.com", "--password", "pw-123456",
            "--name", "Joiner", "--role", "rep"])
        with app.app_context():
            joiner = db.session.scalar(db.select(User).where(User.email == "joiner@example.com"))
        admin = team.headers["admin"]
        customer = client.post("/api/v1/customers", headers=admin, json={
            "name": "Joiner's shop", "latitude": 38.7, "longitude": -9.1,
            "assigned_rep_id": joiner.id})
        assert customer.status_code == 201, customer.json
        moved = client.patch(f"/api/v1/users/{joiner.id}", headers=admin,
                             json={"team_id": team.manager.team_id})
        assert moved.status_code == 200, moved.json
        assert moved.json["team_id"] == team.manager.team_id
        seen = client.get(f"/api/v1/customers/{customer.json['id']}",
                          headers=team.headers["manager"])
        assert seen.status_code == 200 and seen.json["team_id"] == team.manager.team_id

    def test_a_rep_without_manager_email_is_made_in_no_team_and_the_cli_says_so(self, app):
        # The sync contract's set-up makes --manager-email optional: a harness may rely on it.
        result = app.test_cli_runner().invoke(args=[
            "users", "create", "--email", "lone.rep@example.com", "--password", "pw-123456",
            "--name", "Lone", "--role", "rep"])
        assert result.exit_code == 0, result.output
        assert "no team" in result.output and "--manager-email" in result.output
        with app.app_context():
            lone = db.session.scalar(db.select(User).where(User.email == "lone.rep@example.com"))
            assert (lone.role, lone.team_id) == ("rep", None)

    def test_a_manager_email_for_another_role_exits_non_zero(self, app, make_user):
        make_user("manager", email="boss2@example.com")
        result = app.test_cli_runner().invoke(args=[
            "users", "create", "--email", "buyer@example.com", "--password", "pw-123456",
            "--name", "Buyer", "--role", "procurement", "--manager-email", "boss2@example.com"])
        assert result.exit_code != 0 and "Only reps have a manager" in result.output

    def test_the_operator_picks_any_non_empty_password(self, app, client):
        # A harness following the sync contract's set-up may use a short one.
        result = app.test_cli_runner().invoke(args=[
            "users", "create", "--email", "short.pw@example.com", "--password", "pw",
            "--name", "Short", "--role", "admin"])
        assert result.exit_code == 0, result.output
        token = client.post("/api/v1/auth/token",
                            json={"email": "short.pw@example.com", "password": "pw"})
        assert token.status_code == 200

    @pytest.mark.parametrize("option, value", [
        ("--email", "not-an-email"), ("--password", ""), ("--name", ""),
    ])
    def test_email_password_and_name_are_checked_as_the_api_checks_them(
            self, app, option, value):
        args = {"--email": "ok@example.com", "--password": "pw-123456", "--name": "Ok",
                "--role": "admin", option: value}
        result = app.test_cli_runner().invoke(
            args=["users", "create", *[part for pair in args.items() for part in pair]])
        assert result.exit_code != 0 and option in result.output, result.output
        with app.app_context():
            assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0


def test_unknown_list_arguments_are_refused_not_ignored(client, team):
    response = client.get(f"{USERS}?rol=rep", headers=team.headers["admin"])
    assert response.status_code == 422 and "rol" in response.json["error"]["details"]
