"""Dispatch's API, included under /api/ by config/urls.py: one module per sub-package."""

from django.urls import include, path

urlpatterns = [
    path("", include("dispatch.network.urls_api")),
    path("", include("dispatch.planning.urls_api")),
    path("", include("dispatch.slots.urls_api")),
    path("", include("dispatch.optimize.urls_api")),
    path("", include("dispatch.execution.urls_api")),
    path("", include("dispatch.execution.urls_proofs")),
]
