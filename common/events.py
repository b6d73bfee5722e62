"""Named domain events: publishers announce facts after commit; other apps subscribe by name.

Subscribers register in their AppConfig.ready(). Grepping an event name finds every subscriber.
Handlers run after the surrounding transaction commits, so a rolled-back change is never seen.
"""

import logging
from collections import defaultdict
from collections.abc import Callable

from django.db import transaction

logger = logging.getLogger(__name__)
_subscribers: dict[str, list[Callable[[dict], None]]] = defaultdict(list)


def subscribe(name: str, handler: Callable[[dict], None]) -> None:
    if handler not in _subscribers[name]:
        _subscribers[name].append(handler)


def publish_on_commit(name: str, payload: dict) -> None:
    transaction.on_commit(lambda: _deliver(name, payload))


def _deliver(name: str, payload: dict) -> None:
    for handler in list(_subscribers.get(name, ())):
        try:
            handler(payload)
        except Exception:
            # One failing subscriber must not stop the others nor the request that published.
            logger.exception("Handler %r for event %s failed", handler, name)
