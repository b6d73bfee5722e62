import secrets

from django.db import transaction

from accounts.models import ApiKey, ApiKeyScope, Organization, Role, User
from common import clock

KEY_PREFIX = "wp"


def api_key_create(
    *,
    organization: Organization,
    created_by: User | None,
    name: str,
    scope: str = ApiKeyScope.READ_WRITE,
) -> tuple[ApiKey, str]:
    """Create a key and return it with the raw secret, which is never retrievable again."""
    prefix = secrets.token_hex(4)
    raw_key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey(
        organization=organization,
        created_by=created_by,
        name=name,
        scope=scope,
        prefix=prefix,
        key_hash=ApiKey.hash_secret(raw_key),
    )
    api_key.full_clean()
    api_key.save()
    return api_key, raw_key


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    with transaction.atomic():
        api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
        api_key.revoke()
        api_key.save(update_fields=["revoked_at", "updated_at"])
    return api_key


def api_key_authenticate(*, raw_key: str) -> ApiKey | None:
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    api_key = ApiKey.objects.select_related("organization").filter(prefix=parts[1]).first()
    if api_key is None or not api_key.is_active or not api_key.matches(raw_key):
        return None
    now = clock.now()
    # Touch at most once a minute: a write per request would cost more than the request.
    if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    return api_key


def user_create(*, organization: Organization, username: str, password: str, role: str = Role.VIEWER, **fields) -> User:
    user = User(organization=organization, username=username, role=role, **fields)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user
