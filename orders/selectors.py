from django.db.models import QuerySet

from orders.models import Order, OrderEvent, OrderImport


def order_list(*, organization) -> QuerySet[Order]:
    # The organization comes along for required_proofs (its default), read for every listed order.
    return Order.objects.filter(organization=organization).select_related("hub", "organization")


def order_events(*, order: Order) -> QuerySet[OrderEvent]:
    return OrderEvent.objects.filter(order=order).order_by("at", "id")


def order_import_list(*, organization) -> QuerySet[OrderImport]:
    return OrderImport.objects.filter(organization=organization)


def order_by_tracking_token(*, token: str) -> Order | None:
    """The public gate of the tracking page: the unguessable token is the only key."""
    if not token or len(token) > 64:
        return None
    return Order.objects.select_related("organization", "hub").filter(tracking_token=token).first()
