"""fieldsales: the Flask app factory."""
import os

from flask import Flask, request, send_from_directory
from swagger_ui_bundle import swagger_ui_path
from werkzeug.middleware.proxy_fix import ProxyFix

from config import CONFIGS, DEV_SECRET_KEY
from fieldsales import (
    models,  # noqa: F401  (every table in the metadata, whatever routes load)
    replica,
)
from fieldsales.alerts.routes import blp as alerts_blp
from fieldsales.auth.routes import blp as auth_blp
from fieldsales.changes.clock import install_listeners
from fieldsales.console.routes import blp as console_blp
from fieldsales.customers import receivers as customers_receivers
from fieldsales.customers import signals as customer_signals
from fieldsales.customers.merge import rows_follow
from fieldsales.customers.routes import blp as customers_blp
from fieldsales.database import configure_engine
from fieldsales.demo.cli import demo_cli
from fieldsales.errors import ApiError, api_error, unexpected_error
from fieldsales.extensions import api, db, migrate
from fieldsales.feedback.models import Feedback
from fieldsales.health.routes import blp as health_blp
from fieldsales.imports.cli import import_cli
from fieldsales.imports.routes import blp as imports_blp
from fieldsales.jobs.cli import jobs_cli
from fieldsales.jobs.routes import blp as jobs_blp
from fieldsales.jobs.scheduler import start_in_background
from fieldsales.locations import partitions as ping_partitions
from fieldsales.orders.models import Order
from fieldsales.orders.routes import blp as orders_blp
from fieldsales.plans.models import PlannedVisit
from fieldsales.plans.routes import blp as plans_blp
from fieldsales.privacy import erasure
from fieldsales.privacy.routes import blp as privacy_blp
from fieldsales.products.routes import blp as products_blp
from fieldsales.reports.routes import blp as reports_blp
from fieldsales.sync.routes import blp as sync_blp
from fieldsales.targets.routes import blp as targets_blp
from fieldsales.tasks import receivers as tasks_receivers
from fieldsales.tasks.models import Task
from fieldsales.tasks.routes import blp as tasks_blp
from fieldsales.users.cli import users_cli
from fieldsales.users.routes import blp as users_blp
from fieldsales.visits.models import Visit
from fieldsales.webhooks.routes import blp as webhooks_blp
from fieldsales.wire import install as install_wire


class FieldsalesFlask(Flask):
    def make_default_options_response(self):
        """Automatic OPTIONS: 204 with `Allow` and no body, not an empty text/html page.

        `Allow` lists the methods of the route the URL names, as the OpenAPI document does:
        Werkzeug's own list would add those of every rule the path also matches
        (`/users/me` would offer the PATCH and DELETE of `/users/<user_id>`)."""
        response = super().make_default_options_response()
        response.status_code = 204
        response.headers.remove("Content-Type")
        rule = request.url_rule
        methods = rule.methods if rule is not None and rule.methods else response.allow
        response.headers["Allow"] = ", ".join(sorted(methods))
        return response


def _serve_swagger_ui(app: Flask) -> None:
    """Swagger UI's scripts and styles from the pinned swagger-ui-bundle package, beside the
    page flask-smorest renders: the API docs work without internet or behind a strict proxy."""
    prefix = f"{app.config['OPENAPI_URL_PREFIX']}/{app.config['OPENAPI_SWAGGER_UI_PATH']}"
    app.add_url_rule(f"{prefix}/<path:filename>", "swagger_ui_assets",
                     lambda filename: send_from_directory(swagger_ui_path, filename))


def create_app(config: str | object | None = None) -> Flask:
    app = FieldsalesFlask(__name__, instance_relative_config=False)
    if config is None:
        config = os.environ.get("FIELDSALES_CONFIG", "development")
    app.config.from_object(CONFIGS[config] if isinstance(config, str) else config)
    if app.config["REQUIRE_SECRET_KEY"] and app.config["SECRET_KEY"] in ("", DEV_SECRET_KEY):
        raise RuntimeError("Set SECRET_KEY to a long random value (for example: python3 -c "
                           "'import secrets; print(secrets.token_urlsafe(48))'): this "
                           "configuration refuses the development key, with which anyone "
                           "could forge list cursors.")

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(os.path.dirname(app.config["SQLALCHEMY_DATABASE_URI"][len("sqlite:///"):])
                    or ".", exist_ok=True)

    if app.config["TRUSTED_PROXY_HOPS"] > 0:
        # Werkzeug's documented way to wrap the WSGI app, which mypy takes for a method.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=app.config["TRUSTED_PROXY_HOPS"])

    db.init_app(app)
    replica.install(app)  # its engine, when DATABASE_REPLICA_URL is set
    install_listeners()  # ORM writes stamp the synced rows they touch
    # Users announce a rep's team change; the domains owning the rep's work answer.
    customers_receivers.connect()
    tasks_receivers.connect()
    erasure.connect()  # erasing a user removes their positions and free text everywhere
    # Customers announce a merge; the domains whose rows name the customer move them.
    for model, name in ((Visit, "visits"), (Order, "orders"), (Task, "tasks"),
                        (Feedback, "feedback"), (PlannedVisit, "planned_visits")):
        customer_signals.customer_merging.connect(rows_follow(model, name=name), weak=False)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"),
                     render_as_batch=True, compare_type=True,
                     # PostgreSQL's monthly partitions of location_pings are no models' tables.
                     include_name=ping_partitions.include_name)
    api.init_app(app)
    _serve_swagger_ui(app)
    install_wire(app)  # compressed answers, gzip bodies, ETags and 304s

    # flask-smorest answers HTTPExceptions through `FieldsalesApi.handle_http_exception`.
    app.register_error_handler(ApiError, api_error)
    app.register_error_handler(Exception, unexpected_error)

    for blueprint in (health_blp, auth_blp, users_blp, customers_blp, products_blp, tasks_blp,
                      orders_blp, plans_blp, sync_blp, jobs_blp, targets_blp, reports_blp,
                      privacy_blp, imports_blp, alerts_blp, webhooks_blp):
        api.register_blueprint(blueprint)
    app.register_blueprint(console_blp)  # the web console at / (pages, not in the OpenAPI)

    for group in (users_cli, jobs_cli, demo_cli, import_cli):
        app.cli.add_command(group)

    start_in_background(app)  # only when FIELDSALES_SCHEDULER says "in-process"

    @app.before_request
    def _reads_begin_deferred():
        # SQLite: only writing requests take the write lock when they begin.
        if request.method in ("GET", "HEAD", "OPTIONS") and db.engine.dialect.name == "sqlite":
            db.session.connection(execution_options={"sqlite_deferred": True})

    return app
