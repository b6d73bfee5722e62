"""The driver socket's protocol: who may connect, and each `position(s)` message turned into its ack.

Messages of many sockets are recorded together (`position_messages_receive`, fed by the
consumers' position queue); each message still gets its own ack or fails alone.
"""

import logging

from django.db import transaction

from accounts.tenancy import actor_from_request_user
from tracking.serializers import FixSerializer
from tracking.services.positions import BatchResult, position_receive

logger = logging.getLogger(__name__)
MAX_SOCKET_BATCH = 500


def driver_for_user(user):
    """The active driver profile of a signed-in driver, else None."""
    actor = actor_from_request_user(user)
    if actor is None or actor.role != "driver":
        return None
    driver = getattr(user, "driver_profile", None)
    return driver if driver is not None and driver.active else None


def position_messages_receive(items: list[tuple[object, dict]]) -> list[dict | Exception]:
    """Several driver-socket messages in one transaction: one commit and one disk flush for all.

    Answers each message's ack, in the order given. Drivers are taken in id order, so two batches
    lock the same drivers' rows in the same order and cannot deadlock. If the batch fails (a
    driver deleted meanwhile, a lost connection), nothing of it is kept and every message is
    recorded again in its own transaction: a failing message then fails alone, as its exception.
    """
    order = sorted(range(len(items)), key=lambda i: items[i][0].pk)
    try:
        with transaction.atomic():
            acks = {i: position_message_receive(driver=items[i][0], message=items[i][1]) for i in order}
    except Exception as error:
        logger.warning("A batch of %d positions failed (%r); recording them one by one", len(items), error)
        acks = {i: _message_alone(*items[i]) for i in order}
    return [acks[i] for i in range(len(items))]


def _message_alone(driver, message: dict) -> dict | Exception:
    try:
        with transaction.atomic():
            return position_message_receive(driver=driver, message=message)
    except Exception as error:  # handed to that driver's socket, which fails as it would alone
        return error


def position_message_receive(*, driver, message: dict) -> dict:
    """One driver-socket message (`position` or `positions`) → the ack sent back to the phone."""
    raw = [message] if message.get("type") == "position" else message.get("positions")
    if not isinstance(raw, list) or not raw or len(raw) > MAX_SOCKET_BATCH:
        return {
            "type": "error",
            "code": "invalid_message",
            "message": f"Send a position, or positions as a list of 1 to {MAX_SOCKET_BATCH}.",
        }
    fixes, indexes, malformed = [], [], []
    for index, item in enumerate(raw):
        serializer = FixSerializer(data=item if isinstance(item, dict) else {})
        if serializer.is_valid():
            fixes.append(serializer.validated_data)
            indexes.append(index)
        else:
            malformed.append({"index": index, "reason": "malformed", "errors": serializer.errors})
    result = position_receive(driver=driver, fixes=fixes) if fixes else BatchResult()
    rejected = [{"index": indexes[r["index"]], "reason": r["reason"]} for r in result.rejected]
    return {
        "type": "ack",
        "ref": message.get("ref"),
        "accepted": len(result.accepted),
        "duplicates": result.duplicates,
        "rejected": sorted(malformed + rejected, key=lambda r: r["index"]),
    }
