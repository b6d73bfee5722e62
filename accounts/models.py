import hashlib
import hmac

from django.contrib.auth.models import AbstractUser
from django.db import models

from common import clock
from common.models import TimeStampedModel


class Organization(TimeStampedModel):
    """The tenant: every business object belongs to exactly one organization."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    timezone = models.CharField(max_length=64, default="UTC")
    # Product switches an organization may turn on, e.g. letting customers choose a safe place.
    allow_delivery_alternatives = models.BooleanField(default=True)
    # Proofs an order requires when it names none (signature, photo, one_time_code).
    proof_of_delivery_default = models.JSONField(default=list, blank=True)
    # The failed-delivery policy: re-attempt later the same day when the route can still take the
    # order, else reschedule (into the next feasible slot, or let the customer pick one), else
    # return to the hub; after max_delivery_attempts attempts the order goes back to the hub.
    reattempt_same_day = models.BooleanField(default=True)
    reschedule_policy = models.CharField(
        max_length=16,
        choices=[("next_slot", "Next feasible slot"), ("customer_picks", "Customer picks a slot"), ("none", "None")],
        default="next_slot",
    )
    max_delivery_attempts = models.PositiveSmallIntegerField(default=3)

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    DISPATCHER = "dispatcher", "Dispatcher"
    DRIVER = "driver", "Driver"
    VIEWER = "viewer", "Viewer"


WRITE_ROLES = frozenset({Role.ADMIN, Role.DISPATCHER})


class User(AbstractUser):
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)

    def can_write(self) -> bool:
        return self.role in WRITE_ROLES


class ApiKeyScope(models.TextChoices):
    READ = "read", "Read only"
    READ_WRITE = "read_write", "Read and write"


class ApiKey(TimeStampedModel):
    """A merchant's key. Only a SHA-256 of the secret is stored; the key is shown once."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    scope = models.CharField(max_length=16, choices=ApiKeyScope.choices, default=ApiKeyScope.READ_WRITE)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True)
    # Requests per minute; empty means the platform default (WAYPOINT_API_RATE).
    rate_limit_per_minute = models.PositiveIntegerField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_secret(raw_key: str) -> str:
        # Keys carry 256 bits of randomness, so a fast hash is enough (unlike passwords).
        return hashlib.sha256(raw_key.encode()).hexdigest()

    def matches(self, raw_key: str) -> bool:
        return hmac.compare_digest(self.key_hash, self.hash_secret(raw_key))

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def can_write(self) -> bool:
        return self.scope == ApiKeyScope.READ_WRITE

    def revoke(self) -> None:
        self.revoked_at = self.revoked_at or clock.now()
