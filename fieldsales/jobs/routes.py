"""Job runs over HTTP."""
from sqlalchemy import select

from fieldsales.extensions import Blueprint
from fieldsales.jobs.models import JobRun
from fieldsales.jobs.schemas import JobRunListArgs, JobRunPageSchema, JobRunSchema
from fieldsales.listing import NewestFirst
from fieldsales.replica import reads_from_replica
from fieldsales.users import scope
from fieldsales.users.guard import current_user, require

LOG = NewestFirst(id_column=JobRun.id, filters={"job": lambda v: JobRun.job == v,
                                                "status": lambda v: JobRun.status == v})

blp = Blueprint("jobs", __name__, url_prefix="/api/v1/jobs",
                description="Scheduled scoring jobs and their runs.")


@blp.route("/runs")
@require("admin", "manager", "procurement")
@blp.arguments(JobRunListArgs, location="query", unknown=None)
@blp.response(200, JobRunPageSchema)
@reads_from_replica
def runs(args):
    """Recorded job runs, newest first (admins; managers and procurement may read).

    Filter by `job` (productivity, demand, backlog, plans) and `status` (running, ok,
    failed, skipped). Pass `next_cursor` back as `cursor` for the next page. A failure's
    `error` is a short message; its full text, `error_detail`, is shown to admins only, and
    so are the ids a `summary` lists (the plan job's unplannable customers, of every team).
    """
    page = LOG.page(args=args, query=select(JobRun))
    if not scope.sees_failure_detail(viewer=current_user()):
        page["items"] = [{**JobRunSchema().dump(run), "error_detail": None,
                          "summary": _counts_only(run.summary)} for run in page["items"]]
    return page


def _counts_only(summary: dict | None) -> dict | None:
    return None if summary is None else {key: value for key, value in summary.items()
                                         if not isinstance(value, (list, dict))}
