from django.urls import path

from dispatch.optimize import api

urlpatterns = [
    path("optimize", api.OptimizeApi.as_view(), name="api-optimize"),
    path("optimize/jobs/<int:pk>", api.JobDetailApi.as_view(), name="api-optimize-job"),
    path("optimize/jobs/<int:pk>/cancel", api.JobCancelApi.as_view(), name="api-optimize-job-cancel"),
    path("optimize/jobs/<int:pk>/retry", api.JobRetryApi.as_view(), name="api-optimize-job-retry"),
]
