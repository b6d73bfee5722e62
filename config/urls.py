from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from common import error_pages
from common.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/schema", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("accounts.urls_api")),
    path("api/", include("dispatch.urls_api")),
    path("api/", include("orders.urls_api")),
    path("api/", include("tracking.urls_api")),
    path("api/", include("notifications.webhooks.urls_api")),
    path("api/", include("notifications.urls_api")),
    path("", include("console.urls")),
    path("", include("accounts.urls")),
    path("", include("orders.urls")),
    path("", include("dispatch.urls")),
    path("", include("tracking.urls")),
    path("", include("notifications.webhooks.urls")),
    path("", include("notifications.urls")),
]

# Branded pages for people, the API's JSON error shape under /api/ (common/error_pages.py).
handler403 = error_pages.handler403
handler404 = error_pages.handler404
handler500 = error_pages.handler500
