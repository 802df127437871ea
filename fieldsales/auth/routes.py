from flask import Response, request
from flask.views import MethodView

from fieldsales.auth import service
from fieldsales.auth.schemas import LoginSchema, TokenSchema
from fieldsales.errors import answers
from fieldsales.extensions import Blueprint, db
from fieldsales.users.credentials import issue_token, revoke_token
from fieldsales.users.guard import current_token, require

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Sign in and out.")


@blp.route("/token")
class Token(MethodView):
    @blp.doc(security=[])
    @answers(401, "`invalid_credentials`: the email or password is wrong.")
    @answers(429)
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    def post(self, credentials):
        """Exchange email and password for a bearer token.

        Failures are throttled per email and client address together (past the limit, 429
        and Retry-After before the password is checked) and per address (429 for wrong
        attempts; the right password from it still signs in). An email failing from many
        addresses is answered more slowly (a few seconds at most), but the right password
        always signs in.
        """
        user = service.authenticate(email=credentials["email"],
                                    password=credentials["password"],
                                    address=(request.remote_addr or "unknown")[:64])
        access_token, ttl = issue_token(user=user)
        db.session.commit()
        return {"access_token": access_token, "token_type": "Bearer", "expires_in": ttl,
                "user": user}

    @require()
    @blp.response(204)
    def delete(self):
        """Sign out: revoke the token of this request. The user's other tokens (other
        devices) keep working."""
        revoke_token(token=current_token())
        db.session.commit()
        return Response(status=204)  # no body, so no content type either
