from django.urls import path

from dispatch.forecast import views

urlpatterns = [
    path("dispatch/forecast/", views.forecast_page, name="dispatch-forecast"),
]
