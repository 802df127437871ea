"""The `flask jobs` commands: run a scoring job now, or run the scheduler."""
import click
from flask import current_app
from flask.cli import AppGroup

from fieldsales.extensions import db
from fieldsales.jobs.runner import job_names, run_job
from fieldsales.jobs.scheduler import job_intervals, run_in_foreground

jobs_cli = AppGroup(
    "jobs", help="Scheduled jobs (jobs/registry.py): run one now, or schedule them.")


@jobs_cli.command("run")
@click.argument("name", type=click.Choice([*job_names(), "all"]))
def run_command(name):
    """Run a job now (or all of them), under the same lock as the scheduler."""
    failed = False
    for job in (job_names() if name == "all" else [name]):
        run = run_job(job, trigger="manual")
        seconds = ((run.finished_at or run.started_at) - run.started_at) / 1000
        note = run.error_detail or run.error  # the operator at the shell reads the detail
        reported = ", ".join(f"{key} {value}" for key, value in (run.summary or {}).items()
                             if key != "rows_written" and not isinstance(value, (list, dict)))
        click.echo(f"{job}: {run.status}, {run.rows_written} rows, {seconds:.2f} s"
                   + (f"; {reported}" if reported else "") + (f" ({note})" if note else ""))
        failed = failed or run.status == "failed"
    db.session.remove()
    if failed:
        raise click.ClickException("A job failed; see the error above and GET /api/v1/jobs/runs.")



@jobs_cli.command("scheduler")
def scheduler_command():
    """Run the jobs on their intervals, in the foreground, until Ctrl-C (one such process per
    database; the API servers never schedule)."""
    # current_app is a LocalProxy, typed by Flask as the app it stands for.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"Scoring scheduler running (minutes, 0 = off): {job_intervals(app)}. "
               "Ctrl-C stops it.")
    run_in_foreground(app)
    click.echo("Scoring scheduler stopped.")
