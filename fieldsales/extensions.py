"""Extensions, created once and bound to the app in `create_app`."""
from typing import TYPE_CHECKING, Any

from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session

from fieldsales.errors import ErrorSchema, http_error

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class FieldsalesApi(Api):
    """flask-smorest's Api with our one JSON error shape, through its documented hooks: the
    schema that documents error responses, and the handler it registers for HTTPException
    (`create_app` registers ours for ApiError and any other exception)."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        return http_error(error)


db = SQLAlchemy(model_class=Base)
# The base of every model. `db.Model` is made at run time from `Base`, so a type checker cannot
# see it as a class; to it, a model is the `Base` it is built on.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
# What a function given "the session" takes: a Session, or `db.session`, the scoped_session
# that stands for the current one.
SessionLike = Session | scoped_session[Any]
migrate = Migrate()
api = FieldsalesApi()
