"""Dispatch's pages, included at the root by config/urls.py: one module per sub-package."""

from django.urls import include, path

urlpatterns = [
    path("", include("dispatch.planning.urls")),
    path("", include("dispatch.forecast.urls")),
    path("", include("dispatch.execution.urls")),
    path("", include("dispatch.execution.urls_proof_files")),
]
