"""Proof API routes, included under /api/ by dispatch/urls_api.py."""

from django.urls import path

from dispatch.execution import api_proofs

urlpatterns = [
    path("driver/proofs", api_proofs.DriverProofUploadApi.as_view(), name="api-driver-proofs"),
    path("orders/<int:pk>/proofs", api_proofs.OrderProofListApi.as_view(), name="api-order-proofs"),
]
