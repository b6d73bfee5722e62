from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("settings/api-keys/", views.api_key_list, name="api-key-list"),
    path("settings/api-keys/<int:pk>/revoke", views.api_key_revoke, name="api-key-revoke"),
]
