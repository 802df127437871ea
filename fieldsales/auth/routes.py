from flask import request
from flask_smorest import Blueprint

from fieldsales.auth import service
from fieldsales.auth.schemas import LoginSchema, TokenSchema
from fieldsales.extensions import db
from fieldsales.users.credentials import issue_token

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Sign in.")


@blp.route("/token", methods=["POST"])
@blp.doc(security=[])
@blp.arguments(LoginSchema)
@blp.response(200, TokenSchema)
def token(credentials):
    """Exchange email and password for a bearer token.

    Too many failures for an email refuse every attempt for that email; too many from a
    client address refuse only wrong credentials from it (429 with Retry-After), so a whole
    team can still sign in from one office address.
    """
    user = service.authenticate(email=credentials["email"], password=credentials["password"],
                                address=(request.remote_addr or "unknown")[:64])
    access_token, ttl = issue_token(user=user)
    db.session.commit()
    return {"access_token": access_token, "token_type": "Bearer", "expires_in": ttl,
            "user": user}
