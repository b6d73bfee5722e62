import secrets

from django.core.validators import MinValueValidator
from django.db import models

from common import clock
from common.languages import CUSTOMER_LANGUAGES
from common.models import TimeStampedModel
from orders.errors import InvalidTransition
from orders.lifecycle import EDITABLE, TRANSITIONS, OrderStatus


def new_tracking_token() -> str:
    return secrets.token_urlsafe(18)


class OrderType(models.TextChoices):
    DELIVERY = "delivery"
    PICKUP = "pickup"
    RETURN = "return"


class ProofOfDelivery(models.TextChoices):
    SIGNATURE = "signature"
    PHOTO = "photo"
    ONE_TIME_CODE = "one_time_code"


class DeliveryAlternative(models.TextChoices):
    NEIGHBOUR = "neighbour", "Leave with a neighbour"
    SAFE_PLACE = "safe_place", "Leave in a safe place"
    PICKUP_POINT = "pickup_point", "Deliver to a pickup point"


class AddressIssue(models.TextChoices):
    NONE = "", "None"
    NOT_FOUND = "address_not_found", "Address not found"
    LOW_CONFIDENCE = "low_geocode_confidence", "Geocode confidence too low"
    OUTSIDE_SERVICE_AREA = "address_outside_service_area", "Outside every hub's service area"
    INVALID_COORDINATES = "invalid_coordinates", "Coordinates out of range"


class GeocodeSource(models.TextChoices):
    MERCHANT = "merchant", "Merchant-supplied coordinates"
    GAZETTEER = "gazetteer", "Local address gazetteer"
    PLACE = "place", "Place centroid (GeoNames)"
    NOMINATIM = "nominatim", "Nominatim"
    NONE = "", "Not geocoded"


class Order(TimeStampedModel):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="orders")
    merchant_reference = models.CharField(max_length=100)
    type = models.CharField(max_length=16, choices=OrderType.choices, default=OrderType.DELIVERY)
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.CREATED, db_index=True)
    hub = models.ForeignKey("dispatch.Hub", on_delete=models.PROTECT, related_name="orders", null=True, blank=True)

    customer_name = models.CharField(max_length=200)
    customer_phone = models.CharField(max_length=32, blank=True)
    customer_email = models.EmailField(blank=True)
    # The language the customer is written to in; blank: the organisation's (notification settings).
    language = models.CharField(max_length=8, choices=CUSTOMER_LANGUAGES, blank=True)

    address_text = models.CharField(max_length=500)
    postcode = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=120, blank=True)
    country = models.CharField(max_length=2, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    geocode_confidence = models.FloatField(null=True, blank=True)
    geocode_source = models.CharField(max_length=16, choices=GeocodeSource.choices, blank=True)
    address_issue = models.CharField(max_length=40, choices=AddressIssue.choices, blank=True, db_index=True)
    address_issue_detail = models.CharField(max_length=300, blank=True)

    # [{"start": iso, "end": iso}, ...] sorted; the two columns below index the overall span.
    time_windows = models.JSONField(default=list)
    window_start = models.DateTimeField(null=True, blank=True, db_index=True)
    window_end = models.DateTimeField(null=True, blank=True)
    delivery_date = models.DateField(null=True, blank=True, db_index=True)
    service_minutes = models.FloatField(default=3, validators=[MinValueValidator(0)])
    load_kg = models.FloatField(default=0, validators=[MinValueValidator(0)])
    load_m3 = models.FloatField(default=0, validators=[MinValueValidator(0)])
    load_parcels = models.PositiveIntegerField(default=1)
    priority = models.PositiveSmallIntegerField(default=0, help_text="0 (normal) to 100 (most urgent)")
    required_skills = models.JSONField(default=list, blank=True)
    proof_of_delivery = models.JSONField(default=list, blank=True)
    cash_on_delivery = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    instructions = models.TextField(blank=True)
    # A door or gate code the merchant or the customer gave; shown to the driver only.
    access_code = models.CharField(max_length=64, blank=True)
    # The one-time code the customer tells the driver, made at dispatch when the order asks for it
    # (shown on the tracking page); a few wrong tries lock it until ops reset it.
    delivery_code = models.CharField(max_length=8, blank=True)
    delivery_code_attempts = models.PositiveSmallIntegerField(default=0)
    # Attempts made at the door (each failed one counts; the failed-delivery policy caps them).
    delivery_attempts = models.PositiveSmallIntegerField(default=0)
    tracking_token = models.CharField(max_length=32, unique=True, default=new_tracking_token, editable=False)
    # What the customer chose on the tracking page.
    delivery_alternative = models.CharField(max_length=16, choices=DeliveryAlternative.choices, blank=True)
    delivery_alternative_detail = models.CharField(max_length=300, blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_comment = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "merchant_reference"], name="uniq_merchant_reference")
        ]
        indexes = [models.Index(fields=["organization", "status", "delivery_date"])]

    def __str__(self):
        return self.merchant_reference

    def can_transition(self, target: str) -> bool:
        return target in TRANSITIONS[self.status]

    def is_editable(self) -> bool:
        return self.status in EDITABLE

    def apply_transition(self, target: str) -> str:
        """Move to `target` or refuse naming what is allowed; returns the previous status."""
        if not self.can_transition(target):
            raise InvalidTransition(current=self.status, target=target, allowed=sorted(TRANSITIONS[self.status]))
        previous, self.status = self.status, target
        return previous


class OrderEvent(models.Model):
    """Append-only history: nothing updates or deletes these rows."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40)
    at = models.DateTimeField(default=clock.now, db_index=True)
    actor = models.CharField(max_length=150, help_text="user:<name>, api_key:<name> or system")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.order_id} {self.kind}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("Order events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Order events are append-only.")


class AddressPoint(models.Model):
    """The offline gazetteer: known addresses with coordinates (e.g. from OpenStreetMap)."""

    country = models.CharField(max_length=2, blank=True)
    city = models.CharField(max_length=120, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    street = models.CharField(max_length=200)
    housenumber = models.CharField(max_length=20, blank=True)
    # Lower-cased, accent-folded "street housenumber" used for exact lookups.
    normalized = models.CharField(max_length=240, db_index=True)
    lat = models.FloatField()
    lng = models.FloatField()
    source = models.CharField(max_length=40, default="osm")

    class Meta:
        indexes = [models.Index(fields=["postcode", "normalized"])]

    def __str__(self):
        return f"{self.street} {self.housenumber}, {self.postcode} {self.city}"


class OrderImport(TimeStampedModel):
    """One CSV upload: its counts and the per-row error report offered for download."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="order_imports")
    actor = models.CharField(max_length=150)
    filename = models.CharField(max_length=255, blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    error_report_csv = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.filename} ({self.created_count}/{self.total_rows})"
