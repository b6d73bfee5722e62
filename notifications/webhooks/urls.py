from django.urls import path

from notifications.webhooks import views

urlpatterns = [
    path("settings/webhooks/", views.webhook_list, name="webhook-list"),
    path("settings/webhooks/<int:pk>/", views.webhook_detail, name="webhook-detail"),
    path("settings/webhooks/<int:pk>/rotate", views.webhook_rotate, name="webhook-rotate"),
    path("settings/webhooks/<int:pk>/test", views.webhook_test, name="webhook-test"),
    path("settings/webhooks/<int:pk>/replay", views.webhook_replay, name="webhook-replay"),
    path("settings/webhooks/<int:pk>/delete", views.webhook_delete, name="webhook-delete"),
]
