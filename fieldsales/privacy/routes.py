"""A person's own data over HTTP: the export, and who viewed their positions."""
from datetime import UTC, datetime

from flask import Response, stream_with_context

from fieldsales.extensions import Blueprint
from fieldsales.listing import NewestFirst
from fieldsales.locations import access
from fieldsales.locations.models import PositionView
from fieldsales.privacy import export
from fieldsales.privacy.schemas import ExportArgs, PositionViewListArgs, PositionViewPageSchema
from fieldsales.replica import reads_from_replica
from fieldsales.users.guard import current_user, require
from fieldsales.wire import without_etag

VIEWS = NewestFirst(id_column=PositionView.id)
_MIMETYPES = {"zip": "application/zip", "json": "application/json"}

blp = Blueprint("privacy", __name__, url_prefix="/api/v1/users/me",
                description="Your own data: the export, and who viewed your positions.")


@blp.route("/export")
@require()
@blp.arguments(ExportArgs, location="query", unknown=None)
@blp.response(200, description="Everything of yours, streamed: a zip of CSV files, or JSON.")
@blp.doc(responses={"200": {"content": {
    "application/zip": {"schema": {"type": "string", "format": "binary"}},
    "application/json": {"schema": {"type": "object", "description": "A list per kind."}}}}})
@without_etag
def export_mine(args):
    """All your own data (docs/privacy.md): your account, visits, location pings, orders and
    their lines, feedback, tasks, planned visits, and who viewed your positions; `format=zip`
    (default, a CSV file per kind) or `json` (one object, a list per kind). Streamed,
    whatever its size."""
    user = current_user()
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    return Response(stream_with_context(export.stream(user=user, format=args["format"])),
                    mimetype=_MIMETYPES[args["format"]], headers={
                        "Content-Disposition":
                            f'attachment; filename="fieldsales-{stamp}.{args["format"]}"'})


@blp.route("/position-views")
@require()
@blp.arguments(PositionViewListArgs, location="query", unknown=None)
@blp.response(200, PositionViewPageSchema)
@reads_from_replica
def position_views(args):
    """Who viewed your positions, newest first: the rep's day, the team map, lists and
    exports with your coordinates. Views of your own are not logged."""
    return VIEWS.page(args=args, query=access.views_of(rep_id=current_user().id))
