"""Work gathered during a transaction and done once after it commits.

Several writes of one transaction that each need the same after-commit effect (a push to live
screens, a task for a webhook endpoint) add to one list, handed to `send` once, instead of each
registering a callback of its own. The list is shared only at the same savepoint level: Django
drops a rolled-back savepoint's callbacks, so what was added inside it must not ride on a
callback registered outside it.
"""

from collections.abc import Callable

from django.db import transaction


class _Gathered:
    def __init__(self, send: Callable[[list], None]):
        self.send, self.items, self.ran = send, [], False

    def __call__(self) -> None:
        self.ran = True
        self.send(self.items)


def gathered_on_commit(send: Callable[[list], None]) -> list:
    """The list `send` will receive after the commit; callers at this savepoint level share it.

    Outside any transaction Django runs a callback at once, before anything could be added: the
    caller must handle that case itself (there is nothing to gather).
    """
    connection = transaction.get_connection()
    here = set(connection.savepoint_ids)
    for savepoints, callback, _robust in connection.run_on_commit:
        # (One that ran already is still listed only where tests run callbacks without a commit.)
        if isinstance(callback, _Gathered) and callback.send is send and not callback.ran and savepoints == here:
            return callback.items
    gathered = _Gathered(send)
    transaction.on_commit(gathered)
    return gathered.items
