"""Planning pages: the plans of a day, the dispatch board, the drivers' routes, the offline basemap."""

from django.urls import path

from dispatch.planning import views

urlpatterns = [
    path("dispatch/", views.dispatch_home, name="dispatch-home"),
    path("dispatch/plans/<int:pk>/", views.plan_board, name="dispatch-board"),
    path("driver/routes/", views.driver_routes_page, name="driver-routes"),
    path("maps/basemap.geojson", views.basemap_geojson, name="map-basemap"),
]
