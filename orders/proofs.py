"""What an order requires at the door before it counts as delivered.

An order that names no proof of delivery takes its organization's default at read time, so a
changed default applies to every order that named none, including those already dispatched. The
driver app, the completion check (dispatch.execution), the API and the tower all ask here.
"""

from django.utils.translation import gettext_lazy as _

from orders.models import Order, ProofOfDelivery

# Besides the proof kinds an order may list, the organization's default may ask for the
# recipient's name; an order with an amount to collect always requires the cash.
RECIPIENT_NAME = "recipient_name"
CASH = "cash"
# The order the requirements are listed in (the driver app shows them in this order).
REQUIREMENTS = (*ProofOfDelivery.values, RECIPIENT_NAME, CASH)
LISTABLE = frozenset(REQUIREMENTS) - {CASH}
LABELS = {
    ProofOfDelivery.SIGNATURE: _("Signature"),
    ProofOfDelivery.PHOTO: _("Photo"),
    ProofOfDelivery.ONE_TIME_CODE: _("One-time code"),
    RECIPIENT_NAME: _("Recipient's name"),
    CASH: _("Cash collected"),
}


def required_proofs(order: Order) -> list[str]:
    """The order's own proofs, else its organization's default, plus cash when there is some to collect."""
    listed = order.proof_of_delivery or order.organization.proof_of_delivery_default or []
    # The default is a JSON list edited by admins: unknown entries are ignored, not enforced.
    wanted = {item for item in listed if item in LISTABLE}
    if order.cash_on_delivery:
        wanted.add(CASH)
    return [item for item in REQUIREMENTS if item in wanted]


def required_proof_labels(order: Order) -> list[str]:
    """`required_proofs` as people read them."""
    return [str(LABELS[item]) for item in required_proofs(order)]
