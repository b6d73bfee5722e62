from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        # Merchant webhooks: one outbox subscriber per catalogue type; the tasks module registers
        # the send and sweep tasks named in the beat schedule.
        from notifications.webhooks import tasks  # noqa: F401
        from notifications.webhooks.subscribers import webhooks_subscribe

        webhooks_subscribe()
