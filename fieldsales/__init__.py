"""fieldsales: the Flask app factory."""
import importlib
import os

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from config import CONFIGS
from fieldsales import models  # noqa: F401  (every table in the metadata, whatever routes load)
from fieldsales.changes.clock import install_listeners
from fieldsales.customers import receivers as customers_receivers
from fieldsales.database import configure_engine
from fieldsales.extensions import api, db, migrate
from fieldsales.tasks import receivers as tasks_receivers

# Each domain package registers its routes (blueprint `blp`) and, where it has any, CLI
# commands (`cli` group).
DOMAINS = (
    "health", "auth", "users", "customers", "products", "tasks", "orders",
    "sync", "scoring", "targets", "reports", "demo",
)


class FieldsalesFlask(Flask):
    def make_default_options_response(self):
        """Automatic OPTIONS: 204 with `Allow` and no body, not an empty text/html page."""
        response = super().make_default_options_response()
        response.status_code = 204
        response.headers.remove("Content-Type")
        response.headers["Allow"] = ", ".join(sorted(response.allow))
        return response


def create_app(config: str | object | None = None) -> Flask:
    app = FieldsalesFlask(__name__, instance_relative_config=False)
    if config is None:
        config = os.environ.get("FIELDSALES_CONFIG", "development")
    app.config.from_object(CONFIGS[config] if isinstance(config, str) else config)

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(os.path.dirname(app.config["SQLALCHEMY_DATABASE_URI"][len("sqlite:///"):])
                    or ".", exist_ok=True)

    if app.config.get("TRUSTED_PROXY_HOPS", 0) > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXY_HOPS"])

    db.init_app(app)
    install_listeners()  # ORM writes stamp the synced rows they touch
    # Users announce a rep's team change; the domains owning the rep's work answer.
    customers_receivers.connect()
    tasks_receivers.connect()
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"),
                     render_as_batch=True, compare_type=True)
    api.init_app(app)

    for name in DOMAINS:
        module = importlib.import_module(f"fieldsales.{name}.routes")
        if getattr(module, "blp", None) is not None:
            api.register_blueprint(module.blp)
        for command in getattr(module, "commands", ()):
            app.cli.add_command(command)

    from fieldsales.scoring.scheduler import init_scheduler
    init_scheduler(app)

    @app.before_request
    def _reads_begin_deferred():
        # SQLite: only writing requests take the write lock when they begin.
        if request.method in ("GET", "HEAD", "OPTIONS") and db.engine.dialect.name == "sqlite":
            db.session.connection(execution_options={"sqlite_deferred": True})

    return app
