from django.urls import path

from accounts import api

urlpatterns = [
    path("me", api.MeApi.as_view(), name="api-me"),
    path("api-keys", api.ApiKeyCollectionApi.as_view(), name="api-keys"),
    path("api-keys/<int:pk>/revoke", api.ApiKeyRevokeApi.as_view(), name="api-key-revoke"),
]
