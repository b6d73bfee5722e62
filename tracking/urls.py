"""Tracking's pages: the customer's tracking page and the control tower."""

from django.urls import path

from tracking.views import tower, tracking_page

urlpatterns = [
    path("t/<str:token>", tracking_page.tracking_page, name="tracking-page"),
    path("tower/", tower.control_tower, name="control-tower"),
    path("tower/routes/<int:pk>/", tower.tower_route, name="tower-route"),
    path("tower/orders/<int:pk>/", tower.tower_order, name="tower-order"),
]
