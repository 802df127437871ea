"""Every table of the app, in one place: `create_app` imports this, so the metadata that
migrations (migrations/env.py), `db.create_all()` and the models' relationships read is
complete whichever routes a build registers."""
from fieldsales.alerts.models import Alert, AlertRule
from fieldsales.auth.models import LoginFailure
from fieldsales.changes.models import AccessChange, SyncClock
from fieldsales.customers.models import Customer
from fieldsales.events.models import Event, EventCursor
from fieldsales.feedback.models import Feedback
from fieldsales.imports.models import ImportRun
from fieldsales.jobs.models import JobLock, JobRun
from fieldsales.locations.models import LocationPing
from fieldsales.orders.models import Delivery, DeliveryLine, Order, OrderLine
from fieldsales.plans.models import PlannedVisit
from fieldsales.products.models import Product
from fieldsales.scoring.models import BacklogPriority, ProductDemand, RepScore, ScoringSuspect
from fieldsales.sync.models import QuarantinedRecord, SyncLog
from fieldsales.targets.models import Target
from fieldsales.tasks.models import Task
from fieldsales.users.models import AuthToken, Team, User
from fieldsales.visits.models import Visit
from fieldsales.webhooks.models import WebhookDelivery, WebhookSubscription

__all__ = [
    "AccessChange", "Alert", "AlertRule", "AuthToken", "BacklogPriority",
    "Customer", "Delivery", "DeliveryLine", "Event", "EventCursor",
    "Feedback", "ImportRun", "JobLock", "JobRun", "LocationPing", "LoginFailure", "Order",
    "OrderLine", "PlannedVisit", "Product", "ProductDemand", "QuarantinedRecord", "RepScore",
    "ScoringSuspect", "SyncClock", "SyncLog", "Target", "Task", "Team", "User", "Visit",
    "WebhookDelivery", "WebhookSubscription",
]
