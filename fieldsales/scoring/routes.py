"""Job runs over HTTP, and the `jobs` CLI group (`flask --app wsgi jobs run all`)."""
import click
from flask.cli import AppGroup
from flask_smorest import Blueprint
from sqlalchemy import select

from fieldsales.extensions import db
from fieldsales.listing import NewestFirst
from fieldsales.scoring.models import JobRun
from fieldsales.scoring.runner import job_names, run_job
from fieldsales.scoring.schemas import JobRunListArgs, JobRunPageSchema
from fieldsales.users.guard import require

LOG = NewestFirst(id_column=JobRun.id, filters={"job": lambda v: JobRun.job == v,
                                                "status": lambda v: JobRun.status == v})

blp = Blueprint("jobs", __name__, url_prefix="/api/v1/jobs",
                description="Scheduled scoring jobs and their runs.")


@blp.route("/runs")
@require("admin", "manager", "procurement")
@blp.arguments(JobRunListArgs, location="query", unknown=None)
@blp.response(200, JobRunPageSchema)
def runs(args):
    """Recorded job runs, newest first (admins; managers and procurement may read).

    Filter by `job` (productivity, demand, backlog) and `status` (running, ok, failed,
    skipped). Pass `next_cursor` back as `cursor` for the next page.
    """
    return LOG.page(args=args, query=select(JobRun))


jobs_cli = AppGroup("jobs", help="Scoring jobs: productivity, demand, backlog.")


@jobs_cli.command("run")
@click.argument("name", type=click.Choice([*job_names(), "all"]))
def run_command(name):
    """Run a job now (or all of them), under the same lock as the scheduler."""
    failed = False
    for job in (job_names() if name == "all" else [name]):
        run = run_job(job, trigger="manual")
        seconds = ((run.finished_at or run.started_at) - run.started_at) / 1000
        click.echo(f"{job}: {run.status}, {run.rows_written} rows, {seconds:.2f} s"
                   + (f" ({run.error})" if run.error else ""))
        failed = failed or run.status == "failed"
    db.session.remove()
    if failed:
        raise click.ClickException("A job failed; see the error above and GET /api/v1/jobs/runs.")


commands = (jobs_cli,)
