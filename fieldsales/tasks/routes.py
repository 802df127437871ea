"""Tasks REST: managers plan their reps' work; reps read and complete their own tasks."""
from functools import partial

from flask.views import MethodView
from sqlalchemy import func

from fieldsales.errors import answers
from fieldsales.extensions import Blueprint, db
from fieldsales.listing import NO_DATE, Listing, wanted_format
from fieldsales.replica import reads_from_replica
from fieldsales.tasks import service
from fieldsales.tasks.models import Task
from fieldsales.tasks.schemas import (
    TaskCreateSchema,
    TaskListArgs,
    TaskPageSchema,
    TaskSchema,
    TaskUpdateSchema,
)
from fieldsales.users.guard import current_user, require

blp = Blueprint("tasks", __name__, url_prefix="/api/v1",
                description="Tasks: selling and admin work given to reps.")

LISTING = Listing(
    name="tasks",
    item_schema=TaskSchema,
    sorts={"id": Task.id, "due_at": func.coalesce(Task.due_at, NO_DATE),
           "status": Task.status, "title": func.lower(Task.title)},
    id_key=Task.id,
    filters={"assigned_rep_id": lambda v: Task.assigned_rep_id == v,
             "customer_id": lambda v: Task.customer_id == v,
             "status": lambda v: Task.status == v,
             "category": lambda v: Task.category == v,
             "due_from": lambda v: Task.due_at >= v,
             "due_to": lambda v: Task.due_at < v},
)


@blp.route("/tasks")
class Tasks(MethodView):
    @require("admin", "manager", "rep")
    @blp.arguments(TaskListArgs, location="query", unknown=None)
    @blp.response(200, TaskPageSchema)
    @reads_from_replica
    def get(self, args):
        """List tasks: all for admins, their reps' for managers, their own for reps.

        Removed tasks are left out. `due_from` is inclusive, `due_to` exclusive.
        Sort by `id` (the default), `due_at` (tasks without one last), `status` or `title`
        (any case); `-field` descending, ties on the id. Pass `next_cursor` back as `cursor`
        until it is null. `?format=csv` (or `Accept: text/csv`) exports every matching task.
        A task's coordinates are where its rep completed it: off duty (the team's working
        hours) they are shown to the rep alone, and each rep whose are shown to someone else
        is logged for the rep (`GET /api/v1/users/me/position-views`).
        """
        viewer = current_user()
        query = service.visible(viewer=viewer)
        shown = partial(service.as_shown_to, viewer.id)  # read now: the export commits first
        if wanted_format(args) != "json":  # an export: every matching task, so every rep
            # whose positions it holds
            service.log_position_views(viewer=viewer, query=LISTING.matching(query, args))
            db.session.commit()
            return LISTING.respond(args=args, query=query, decorate=shown)
        page = LISTING.respond(args=args, query=query, decorate=shown)
        service.log_position_views(viewer=viewer, tasks=page["items"])
        db.session.commit()
        return page

    @require("admin", "manager")
    @answers(409, "`duplicate_id`: a task has this id.")
    @blp.arguments(TaskCreateSchema)
    @blp.response(201, TaskSchema)
    def post(self, data):
        """Create a task for a rep (admin, manager).

        Managers assign reps of their own team, at customers of their team. An `id` already
        in use is 409. `status` done without `completed_at` is completed now.
        """
        task = service.create(viewer=current_user(), data=data)
        db.session.commit()
        return task


@blp.route("/tasks/<task_id>")
class TaskById(MethodView):
    @require("admin", "manager", "rep")
    @blp.response(200, TaskSchema)
    def get(self, task_id):
        """One task, if the caller may see it (404 otherwise); a look at its coordinates by
        someone else is logged for its rep."""
        viewer = current_user()
        task = service.as_shown_to(viewer.id, [service.get(viewer=viewer, task_id=task_id)])[0]
        service.log_position_views(viewer=viewer, tasks=[task])
        db.session.commit()
        return task

    @require("admin", "manager", "rep")
    @blp.arguments(TaskUpdateSchema)
    @blp.response(200, TaskSchema)
    def patch(self, changes, task_id):
        """Change a task.

        Admins and managers change any field (managers within their team); a new
        `assigned_rep_id` moves the task between the reps' phones on their next sync. Reps
        change only `status`, `completed_at` and `completion_note` of their own tasks (403
        for other fields).
        """
        viewer = current_user()
        task = service.update(viewer=viewer, changes=changes,
                              task=service.get(viewer=viewer, task_id=task_id))
        db.session.commit()
        return task

    @require("admin", "manager")
    @blp.response(204)
    def delete(self, task_id):
        """Remove a task (admin, manager).

        The removal is soft: the task answers 404 from now on and reaches the rep's next
        pull as a deleted id.
        """
        service.remove(task=service.get(viewer=current_user(), task_id=task_id))
        db.session.commit()
