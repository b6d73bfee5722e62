"""Tenancy in one place: who is calling, for which organization, with which rights.

Every organization API derives from `OrganizationApi`. It resolves the caller's organization from
the API key or the login session, enforces roles, scopes querysets, applies Idempotency-Key to
POSTs, and throttles. Subclasses describe their base queryset in `organization_queryset()`; the
organization filter is applied here so no view can forget it.
"""

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from rest_framework import permissions
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from accounts.models import WRITE_ROLES, ApiKey, Organization, Role, User
from common.idempotency import (
    IdempotentReplay,
    idempotency_begin,
    idempotency_finish,
    request_fingerprint,
)

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Actor:
    organization: Organization
    user: User | None = None
    api_key: ApiKey | None = None
    # Who acts without an account, e.g. "customer" on the tracking page.
    name: str = ""

    @property
    def role(self) -> str:
        return self.user.role if self.user else "api_key"

    def can_write(self, roles=WRITE_ROLES) -> bool:
        if self.api_key is not None:
            return self.api_key.can_write()
        return self.user is not None and self.user.role in roles

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.api_key is not None:
            return f"api_key:{self.api_key.name}"
        return f"user:{self.user.username}" if self.user else "system"


def actor_from_request(request) -> Actor | None:
    api_key = request.auth if isinstance(request.auth, ApiKey) else None
    if api_key is not None:
        return Actor(organization=api_key.organization, api_key=api_key)
    return actor_from_request_user(request.user)


class OrganizationPermission(permissions.BasePermission):
    """Members only; writes need a write role or a read-write key; some APIs exclude roles."""

    message = "Your role does not allow this action."

    def has_permission(self, request, view):
        actor = actor_from_request(request)
        if actor is None:
            self.message = "This account does not belong to an organization."
            return False
        if actor.api_key is not None and not view.api_keys_allowed:
            self.message = view.api_key_refusal
            return False
        if actor.user is not None and actor.role not in view.allowed_roles:
            self.message = f"The {actor.role} role cannot use this endpoint."
            return False
        if request.method in WRITE_METHODS and not actor.can_write(view.write_roles):
            self.message = "This API key is read-only." if actor.api_key else "Your role can only read."
            return False
        return True


class OrganizationApi(GenericAPIView):
    permission_classes = [permissions.IsAuthenticated, OrganizationPermission]
    # Drivers use their own endpoints (their routes); the merchant/ops API is not theirs.
    allowed_roles = frozenset({Role.ADMIN, Role.DISPATCHER, Role.VIEWER})
    write_roles = WRITE_ROLES
    # Endpoints that act as a person (a driver's own routes, assigning to oneself) set this to
    # False: a key is no person, so `actor.user` is None there and the view must not be reached.
    api_keys_allowed = True
    api_key_refusal = "API keys cannot use this endpoint; it is for signed-in people."
    idempotent_methods = frozenset({"POST"})

    actor: Actor | None = None
    _idempotency_record = None

    @property
    def organization(self) -> Organization | None:
        # None only while drf-spectacular inspects the view without a request.
        return self.actor.organization if self.actor else None

    def organization_queryset(self):
        """The hook subclasses fill in: the model's queryset before tenant scoping."""
        raise ImproperlyConfigured(f"{type(self).__name__} must define organization_queryset()")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return self.organization_queryset().none()
        return self.organization_queryset().filter(organization=self.organization)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.actor = actor_from_request(request)
        key = request.headers.get("Idempotency-Key")
        if key is not None and request.method in self.idempotent_methods:
            self._idempotency_record = idempotency_begin(
                organization=self.organization,
                key=key,
                method=request.method,
                path=request.path,
                fingerprint=self._fingerprint(request),
            )

    @staticmethod
    def _fingerprint(request) -> str:
        content_type = request.content_type or ""
        if content_type.startswith("multipart/"):
            # The raw body embeds a random boundary; hash the fields and files instead.
            fields = "&".join(f"{k}={v}" for k, v in sorted(request.POST.items())).encode()
            return request_fingerprint(content_type=content_type, body=fields, files=request.FILES)
        return request_fingerprint(content_type=content_type, body=request.body)

    def handle_exception(self, exc):
        if isinstance(exc, IdempotentReplay):
            record = exc.record
            response = Response(record.response_body, status=record.response_status)
            for name, value in record.response_headers.items():
                response[name] = value
            response["Idempotent-Replayed"] = "true"
            return response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if self._idempotency_record is not None:
            headers = {k: v for k, v in response.items() if k in ("Location", "Content-Type")}
            idempotency_finish(
                record=self._idempotency_record,
                status=response.status_code,
                body=getattr(response, "data", None),
                headers=headers,
            )
            self._idempotency_record = None
        return response


def organization_page(*, roles=frozenset(Role.values), write: bool = False):
    """Decorator for server-rendered pages: signed in, member of an organization, role allowed.

    Sets `request.actor`; the page reads only its organization's data through selectors.
    """
    from functools import wraps

    from django.contrib.auth.views import redirect_to_login
    from django.core.exceptions import PermissionDenied

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            actor = actor_from_request_user(request.user)
            if actor is None or actor.role not in roles or (write and not actor.can_write()):
                raise PermissionDenied("Your role cannot open this page.")
            request.actor = actor
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def actor_from_request_user(user) -> Actor | None:
    if isinstance(user, User) and user.organization_id:
        return Actor(organization=user.organization, user=user)
    return None
