import marshmallow as ma
from sqlalchemy import text

from fieldsales.errors import ErrorSchema, error_response
from fieldsales.extensions import Blueprint, db

blp = Blueprint("health", __name__, url_prefix="/healthz",
                description="Liveness for load balancers.")


class HealthSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "ok"})
    database = ma.fields.String(metadata={"description": "ok"})


@blp.route("")
@blp.doc(security=[])
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=ErrorSchema, description="The database is not reachable.")
def healthz():
    """200 when the database answers, 503 when it does not."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any driver failure means "not ready"
        db.session.rollback()
        return error_response(503, "database_unavailable", "The database is not reachable.")
    return {"status": "ok", "database": "ok"}
