"""Planning URLs: the API under /api/, the dispatch board and the drivers' page."""

from django.urls import path

from dispatch import api_planning as api
from dispatch import views

urlpatterns = [
    path("api/plans", api.PlanCollectionApi.as_view(), name="api-plans"),
    path("api/plans/<int:pk>", api.PlanDetailApi.as_view(), name="api-plan"),
    path("api/plans/<int:pk>/optimize", api.PlanOptimizeApi.as_view(), name="api-plan-optimize"),
    path("api/plans/<int:pk>/optimize/cancel", api.PlanOptimizeCancelApi.as_view(), name="api-plan-optimize-cancel"),
    path("api/plans/<int:pk>/dispatch", api.PlanDispatchApi.as_view(), name="api-plan-dispatch"),
    path("api/plans/<int:pk>/vehicle-breakdown", api.PlanVehicleBreakdownApi.as_view(), name="api-plan-breakdown"),
    path("api/plans/<int:pk>/stops/<int:stop_id>/move", api.StopMoveApi.as_view(), name="api-stop-move"),
    path("api/plans/<int:pk>/stops/<int:stop_id>/unassign", api.StopUnassignApi.as_view(), name="api-stop-unassign"),
    path("api/plans/<int:pk>/stops/<int:stop_id>/lock", api.StopLockApi.as_view(), name="api-stop-lock"),
    path("api/plans/<int:pk>/routes/<int:route_id>/lock", api.RouteLockApi.as_view(), name="api-route-lock"),
    path("api/plans/<int:pk>/routes/<int:route_id>/swap", api.RouteSwapApi.as_view(), name="api-route-swap"),
    path("api/driver/routes", api.DriverRoutesApi.as_view(), name="api-driver-routes"),
    path("dispatch/", views.dispatch_home, name="dispatch-home"),
    path("dispatch/plans/<int:pk>/", views.plan_board, name="dispatch-board"),
    path("driver/routes/", views.driver_routes_page, name="driver-routes"),
    path("maps/basemap.geojson", views.basemap_geojson, name="map-basemap"),
]
