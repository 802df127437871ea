"""A team at a glance: each rep's productivity score with its components, target attainment,
a leaderboard, and the same for the team as a whole.

Scores come from the productivity job's rows (fieldsales/scoring, docs/scoring.md):
- day and week: the rep's row for that day, or for the week (Monday, UTC) holding the date;
- month: the weeks that start in the month; the score, its components and the rates are the
  average over those weeks, the figures (visits, orders, ...) their sum.
The team total averages the reps' scores and components and sums their figures. Target
attainment is that of the targets of the same period kind holding the date (fieldsales/targets);
the team total shows the whole-team targets. `plan`: how each rep kept to the journey plans of
the period's days (fieldsales/plans/compliance.py), route efficiency against the scores'
travel distance; the total sums the reps'.
"""
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from fieldsales.extensions import db
from fieldsales.plans import compliance
from fieldsales.scoring.models import RepScore
from fieldsales.targets import periods
from fieldsales.targets import service as targets
from fieldsales.targets.models import Target
from fieldsales.users.models import Team, User

COMPONENTS = ("c_visits", "c_selling_share", "c_task_completion", "c_on_time", "c_call_rate",
              "c_plan_adherence", "c_strike_rate", "c_orders", "c_target", "c_prospects",
              "c_conversions", "c_coverage", "c_repeat")
RATES = ("task_completion_rate", "on_time_rate", "call_rate", "plan_adherence", "strike_rate",
         "selling_share", "account_coverage")
FIGURES = ("visits", "verified_visits", "unverified_visits", "time_on_site_s", "selling_time_s",
           "non_selling_time_s", "tasks_due", "tasks_done", "planned_visits", "plan_visits",
           "plan_visits_done", "plan_visits_in_order", "visits_with_order",
           "orders_taken", "order_value", "prospects_visited", "prospects_converted",
           "accounts_visited", "travel_distance_m", "flagged_pings")
AVERAGED = ("score", "base_score", "suspect_penalty", *COMPONENTS, *RATES)


def get(*, team: Team, period: str, day: date) -> dict:
    start, end = periods.bounds_ms(period, day)
    score_period = "day" if period == "day" else "week"
    reps = db.session.execute(
        select(User.id, User.name, User.selling_style)
        .where(User.team_id == team.id, User.role == "rep", User.deleted_at.is_(None))
        .order_by(User.name, User.id)).all()
    rep_ids = [rep.id for rep in reps]

    columns = [func.avg(getattr(RepScore, name)).label(name) for name in AVERAGED]
    columns += [func.sum(getattr(RepScore, name)).label(name) for name in FIGURES]
    scores = {row.rep_id: row for row in db.session.execute(
        select(RepScore.rep_id, func.count(RepScore.id).label("rows"),
               func.max(RepScore.computed_at).label("computed_at"), *columns)
        .where(RepScore.rep_id.in_(rep_ids), RepScore.period == score_period,
               RepScore.period_start >= start, RepScore.period_start < end)
        .group_by(RepScore.rep_id))}

    in_period = (select(Target).where(Target.team_id == team.id, Target.period == period,
                                      Target.period_start <= start, Target.period_end >= end))
    team_targets = db.session.scalars(in_period).all()
    by_rep: dict[str | None, list[dict]] = {}
    for item in targets.as_items(list(team_targets)):
        by_rep.setdefault(item["rep_id"], []).append(_target(item))

    first, last = (datetime.fromtimestamp(ms / 1000, UTC).date() for ms in (start, end - 1))
    plans = compliance.summarize(team=team, rep_ids=rep_ids, first=first, last=last)
    rows = []
    for rep in reps:
        score = scores.get(rep.id)
        figures = _figures(score)
        plan = plans[rep.id]
        plan["route_efficiency"] = compliance.route_efficiency(
            planned_m=plan["planned_distance_m"],
            travelled_m=figures["figures"]["travel_distance_m"])
        rows.append({
            "rep": {"id": rep.id, "name": rep.name, "selling_style": rep.selling_style},
            **figures, "targets": by_rep.get(rep.id, []), "plan": plan,
        })
    ranked = sorted((r for r in rows if r["score"] is not None),
                    key=lambda r: (-r["score"], r["rep"]["name"], r["rep"]["id"]))
    leaderboard = [{"rank": index + 1, "rep_id": r["rep"]["id"], "name": r["rep"]["name"],
                    "score": r["score"]} for index, r in enumerate(ranked)]
    for entry in leaderboard:
        next(r for r in rows if r["rep"]["id"] == entry["rep_id"])["rank"] = entry["rank"]

    return {
        "team": {"id": team.id, "name": team.name},
        "period": period, "date": day.isoformat(), "start_ms": start, "end_ms": end,
        "computed_at": max((s.computed_at for s in scores.values()), default=None),
        "reps": [{"rank": None, **row} for row in rows],
        "leaderboard": leaderboard,
        "team_total": {**_total(rows), "targets": by_rep.get(None, []),
                       "plan": _plan_total(rows)},
    }


def _figures(score) -> dict:
    if score is None:
        return {"score": None, "base_score": None, "suspect_penalty": None,
                "components": {name: None for name in COMPONENTS},
                "rates": {name: None for name in RATES},
                "figures": {name: 0 for name in FIGURES}}
    return {
        "score": _round(score.score), "base_score": _round(score.base_score),
        "suspect_penalty": _round(score.suspect_penalty),
        "components": {name: _round(getattr(score, name), 4) for name in COMPONENTS},
        "rates": {name: _round(getattr(score, name), 4) for name in RATES},
        "figures": {name: _round(getattr(score, name)) for name in FIGURES},
    }


def _total(rows: list[dict]) -> dict:
    scored = [r for r in rows if r["score"] is not None]

    def mean(values):
        values = [v for v in values if v is not None]
        return _round(sum(values) / len(values), 4) if values else None

    return {
        "reps": len(rows), "reps_scored": len(scored),
        "score": _round(mean(r["score"] for r in scored)),
        "components": {name: mean(r["components"][name] for r in scored) for name in COMPONENTS},
        "rates": {name: mean(r["rates"][name] for r in scored) for name in RATES},
        "figures": {name: _round(sum(r["figures"][name] or 0 for r in rows))
                    for name in FIGURES},
    }


def _plan_total(rows: list[dict]) -> dict:
    total = compliance.combine([row["plan"] for row in rows])
    total["route_efficiency"] = compliance.route_efficiency(
        planned_m=total["planned_distance_m"],
        travelled_m=sum(row["figures"]["travel_distance_m"] or 0 for row in rows))
    return total


def _target(item: dict) -> dict:
    return {name: item[name] for name in ("id", "metric", "goal", "actual", "attainment",
                                           "pace")}


def _round(value, digits: int = 2):
    return None if value is None else round(float(value), digits)
