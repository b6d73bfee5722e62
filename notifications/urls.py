from django.urls import path

from notifications import views

urlpatterns = [
    path("notifications/messages/", views.message_log, name="notification-messages"),
    path("notifications/messages/<int:pk>/", views.message_detail, name="notification-message"),
    path("notifications/settings/", views.notification_settings, name="notification-settings"),
    path(
        "notifications/templates/<str:kind>/<str:language>/", views.message_template_edit, name="notification-template"
    ),
    path("notifications/preview/", views.message_preview, name="notification-preview"),
    path("notifications/unsubscribe/<str:token>", views.unsubscribe, name="notifications-unsubscribe"),
]
