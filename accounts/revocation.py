"""Tell a user's open sockets (`accounts.sockets`) when the user's access ends or changes.

Connected in `AccountsConfig.ready()`. Every message leaves after the commit that made the change
(`common.realtime.user_access_publish`), so a rolled-back deactivation closes nothing:
- a logout, or a deleted session: that session's sockets close (4401);
- a deactivation or a deleted user: all the user's sockets close (4401);
- a new role or organization: each socket closes unless it still allows them (4403).

These are signals rather than calls in services because logout, the admin and `manage.py` change
users without going through Waypoint's services. Changes that send no signal (a queryset
`update()`, an expired session, a changed password) are caught by the sockets' periodic re-check.
"""

from django.contrib.auth import SESSION_KEY

from common import clock
from common.realtime import user_access_publish

from .sockets import session_fingerprint

# The User fields a socket's rights depend on, by attribute name.
WATCHED = ("is_active", "role", "organization_id")
FIELD_NAMES = {"is_active": "is_active", "role": "role", "organization": "organization_id"}


def user_loaded(sender, instance, **kwargs):
    # From __dict__: reading a deferred field here would cost a query for every user loaded.
    instance._access_seen = {name: instance.__dict__.get(name) for name in WATCHED}


def user_saved(sender, instance, created, update_fields=None, **kwargs):
    seen = getattr(instance, "_access_seen", None)
    now = {name: instance.__dict__.get(name) for name in WATCHED}
    instance._access_seen = now
    if created or seen is None:
        return
    saved = WATCHED if update_fields is None else {FIELD_NAMES.get(f, f) for f in update_fields}
    changed = {name for name in WATCHED if name in saved and seen[name] != now[name]}
    if "is_active" in changed and not now["is_active"]:
        user_access_publish(instance.pk, {"type": "access.revoked", "session": None})
    elif changed & {"role", "organization_id"}:
        message = {"type": "access.changed", "role": now["role"], "organization_id": now["organization_id"]}
        user_access_publish(instance.pk, message)


def user_deleted(sender, instance, **kwargs):
    user_access_publish(instance.pk, {"type": "access.revoked", "session": None})


def user_logged_out(sender, request, user, **kwargs):
    session = getattr(request, "session", None)
    if user is not None and session is not None:
        message = {"type": "access.revoked", "session": session_fingerprint(session.session_key)}
        user_access_publish(user.pk, message)


def session_deleted(sender, instance, **kwargs):
    """A session deleted from the database (logout, the admin, `clearsessions`)."""
    if instance.expire_date <= clock.now():
        return  # `clearsessions` purging: its sockets were closed by their re-check already
    try:
        user_id = instance.get_decoded().get(SESSION_KEY)
    except Exception:  # a session written with another SECRET_KEY decodes to nothing useful
        return
    if user_id is not None:
        message = {"type": "access.revoked", "session": session_fingerprint(instance.session_key)}
        user_access_publish(int(user_id), message)
