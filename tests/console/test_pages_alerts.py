"""The alerts page: the feed as GET /alerts (a manager's team's, unacknowledged unless all=1),
newest first, a page at a time, and acknowledging an alert."""
from fieldsales.alerts.models import Alert, AlertRule
from fieldsales.console import routes as console_routes


def alerts_of(team, world, n: int) -> list[int]:
    rule = world.add(AlertRule, team_id=team.manager.team_id, event_type="order.created",
                     updated_at=0)
    made = []
    for i in range(n):
        event = world.event(type="order.created", team_id=team.manager.team_id,
                            subject_id=f"o-{i}")
        made.append(world.add(Alert, rule_id=rule, event_id=event,
                              team_id=team.manager.team_id, created_at=i, mail_wanted=False))
    return made


def test_the_feed_pages_newest_first_and_an_acknowledged_alert_leaves_it(visitor, team, world,
                                                                         monkeypatch):
    monkeypatch.setattr(console_routes, "ALERTS_PAGE", 2)
    made = alerts_of(team, world, 3)
    manager = visitor(team.manager)
    first = manager.get("/alerts").text
    assert "o-2" in first and "o-1" in first and "o-0" not in first
    assert "Older alerts" in first
    link = first[first.index("/alerts?cursor="):].split('"')[0].replace("&amp;", "&")
    second = manager.get(link).text
    assert "o-0" in second and "o-2" not in second and "Older alerts" not in second

    newest = max(made)
    done = manager.post(f"/alerts/{newest}/acknowledge", form_on="/alerts",
                        follow_redirects=True)
    assert f"Alert {newest} acknowledged." in done.text
    assert "o-2" not in manager.get("/alerts").text
    assert "o-2" in manager.get("/alerts?all=1").text
    assert manager.get("/alerts?cursor=nonsense").status_code == 422
    assert "o-" not in visitor(team.other_manager).get("/alerts").text  # another team's
