from common.errors import ConflictError, NotFoundError


class EndpointDisabled(ConflictError):
    code = "webhook_endpoint_disabled"

    def __init__(self):
        super().__init__("This endpoint is disabled: enable it (active: true) before replaying events to it.")


class WebhookEventNotFound(NotFoundError):
    code = "webhook_event_not_found"

    def __init__(self, event_id: str):
        super().__init__(f"No webhook event {event_id} in this organization.")
