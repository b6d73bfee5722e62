"""The message log of one order, for other apps' pages (the tower's order page) without imports."""

from django import template

from notifications.selectors import order_messages

register = template.Library()


@register.inclusion_tag("notifications/_order_messages.html")
def order_message_log(order):
    return {"order": order, "messages": order_messages(organization=order.organization, order=order)}
