from flask_smorest import Blueprint
from sqlalchemy import text

from fieldsales.errors import error_response
from fieldsales.extensions import db

blp = Blueprint("health", __name__, url_prefix="/healthz", description="Liveness for load balancers.")


@blp.route("")
@blp.doc(security=[])
def healthz():
    """200 when the database answers, 503 when it does not."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any driver failure means "not ready"
        db.session.rollback()
        return error_response(503, "database_unavailable", "The database is not reachable.")
    return {"status": "ok", "database": "ok"}
