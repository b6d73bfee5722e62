from django.urls import path

from notifications.webhooks import api

urlpatterns = [
    path("webhooks/event-types", api.WebhookEventTypesApi.as_view(), name="api-webhook-event-types"),
    path("webhooks/endpoints", api.WebhookEndpointCollectionApi.as_view(), name="api-webhook-endpoints"),
    path("webhooks/endpoints/<int:pk>", api.WebhookEndpointDetailApi.as_view(), name="api-webhook-endpoint"),
    path(
        "webhooks/endpoints/<int:pk>/rotate-secret",
        api.WebhookSecretRotateApi.as_view(),
        name="api-webhook-rotate-secret",
    ),
    path("webhooks/endpoints/<int:pk>/test", api.WebhookTestApi.as_view(), name="api-webhook-test"),
    path("webhooks/endpoints/<int:pk>/deliveries", api.WebhookDeliveryListApi.as_view(), name="api-webhook-deliveries"),
    path("webhooks/endpoints/<int:pk>/replay", api.WebhookReplayApi.as_view(), name="api-webhook-replay"),
]
