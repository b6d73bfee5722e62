from django.urls import path

from notifications import api

urlpatterns = [
    path("notifications/messages", api.MessageListApi.as_view(), name="api-notification-messages"),
    path("notifications/messages/<int:pk>", api.MessageDetailApi.as_view(), name="api-notification-message"),
]
