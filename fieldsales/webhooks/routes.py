"""Webhook subscriptions and their delivery logs, for admins."""
from flask.views import MethodView

from fieldsales.errors import answers
from fieldsales.extensions import Blueprint, db
from fieldsales.listing import NewestFirst
from fieldsales.users.guard import current_user, require
from fieldsales.webhooks import service
from fieldsales.webhooks.models import WebhookDelivery
from fieldsales.webhooks.schemas import (
    DeliveryListArgs,
    DeliveryPageSchema,
    DeliverySchema,
    SubscriptionCreateSchema,
    SubscriptionListSchema,
    SubscriptionSchema,
    SubscriptionUpdateSchema,
)

LOG = NewestFirst(id_column=WebhookDelivery.id,
                  filters={"status": lambda v: WebhookDelivery.status == v})

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1/webhooks",
                description="Webhooks: subscriptions to event types, signed deliveries "
                            "(Standard Webhooks), their log and redelivery.")


@blp.route("")
class Subscriptions(MethodView):
    @require("admin")
    @blp.response(200, SubscriptionListSchema)
    def get(self):
        """Every subscription (secrets are not shown)."""
        return {"items": [service.as_shown(row) for row in service.list_subscriptions()]}

    @require("admin")
    @answers(422, "`validation_error`: a URL that is not http(s) or resolves to a refused "
                  "address, an unknown event type or team.")
    @blp.arguments(SubscriptionCreateSchema)
    @blp.response(201, SubscriptionSchema)
    def post(self, data):
        """Subscribe a URL to event types. The answer holds the signing secret, this once."""
        row = service.create_subscription(creator=current_user(), **data)
        db.session.commit()
        return service.as_shown(row, with_secret=True)


@blp.route("/<subscription_id>")
class Subscription(MethodView):
    @require("admin")
    @blp.response(200, SubscriptionSchema)
    def get(self, subscription_id):
        """One subscription (its secret is not shown)."""
        return service.as_shown(service.get_subscription(subscription_id=subscription_id))

    @require("admin")
    @blp.arguments(SubscriptionUpdateSchema)
    @blp.response(200, SubscriptionSchema)
    def patch(self, data, subscription_id):
        """Change it; `active` disables or enables it."""
        row = service.update_subscription(subscription_id=subscription_id, changes=data)
        db.session.commit()
        return service.as_shown(row)

    @require("admin")
    @blp.response(204)
    def delete(self, subscription_id):
        """Remove it and its delivery log."""
        service.delete_subscription(subscription_id=subscription_id)
        db.session.commit()


@blp.route("/<subscription_id>/rotate-secret", methods=["POST"])
@require("admin")
@blp.response(200, SubscriptionSchema)
def rotate_secret(subscription_id):
    """A new signing secret, answered this once; the old one signs nothing more."""
    row = service.rotate_secret(subscription_id=subscription_id)
    db.session.commit()
    return service.as_shown(row, with_secret=True)


@blp.route("/<subscription_id>/deliveries")
@require("admin")
@blp.arguments(DeliveryListArgs, location="query", unknown=None)
@blp.response(200, DeliveryPageSchema)
def deliveries(args, subscription_id):
    """The delivery log, newest first: each event's status, attempts, last response code,
    duration and error, and when it is tried next."""
    return LOG.page(args=args, query=service.deliveries_of(subscription_id=subscription_id))


@blp.route("/<subscription_id>/deliveries/<delivery_id>/redeliver", methods=["POST"])
@require("admin")
@answers(409, "`subscription_disabled`: enable the subscription first.")
@blp.response(202, DeliverySchema)
def redeliver(subscription_id, delivery_id):
    """Send a delivery again at the job's next run, with a new retry window."""
    delivery = service.redeliver(subscription_id=subscription_id, delivery_id=delivery_id)
    db.session.commit()
    return delivery
