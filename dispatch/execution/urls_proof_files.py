"""The page side of proofs, included at the root by dispatch/urls.py."""

from django.urls import path

from dispatch.execution.views_proofs import proof_file

urlpatterns = [
    path("proofs/<str:token>", proof_file, name="proof-file"),
]
