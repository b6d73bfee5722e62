"""The driver's app: `/driver/`, its manifest and its service worker (scope /driver/)."""

from django.urls import path

from dispatch.execution import views

urlpatterns = [
    path("driver/", views.driver_app, name="driver-app"),
    path("driver/manifest.webmanifest", views.manifest, name="driver-manifest"),
    path("driver/sw.js", views.service_worker, name="driver-sw"),
]
