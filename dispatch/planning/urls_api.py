"""Planning API (under /api/): plans, optimization, manual edits, dispatch, live changes, drivers' routes."""

from django.urls import path

from dispatch.planning import api

urlpatterns = [
    path("plans", api.PlanCollectionApi.as_view(), name="api-plans"),
    path("plans/<int:pk>", api.PlanDetailApi.as_view(), name="api-plan"),
    path("plans/<int:pk>/optimize", api.PlanOptimizeApi.as_view(), name="api-plan-optimize"),
    path("plans/<int:pk>/optimize/cancel", api.PlanOptimizeCancelApi.as_view(), name="api-plan-optimize-cancel"),
    path("plans/<int:pk>/dispatch", api.PlanDispatchApi.as_view(), name="api-plan-dispatch"),
    path("plans/<int:pk>/vehicle-breakdown", api.PlanVehicleBreakdownApi.as_view(), name="api-plan-breakdown"),
    path("plans/<int:pk>/stops/<int:stop_id>/move", api.StopMoveApi.as_view(), name="api-stop-move"),
    path("plans/<int:pk>/stops/<int:stop_id>/unassign", api.StopUnassignApi.as_view(), name="api-stop-unassign"),
    path("plans/<int:pk>/stops/<int:stop_id>/lock", api.StopLockApi.as_view(), name="api-stop-lock"),
    path("plans/<int:pk>/routes/<int:route_id>/lock", api.RouteLockApi.as_view(), name="api-route-lock"),
    path("plans/<int:pk>/routes/<int:route_id>/swap", api.RouteSwapApi.as_view(), name="api-route-swap"),
    path("driver/routes", api.DriverRoutesApi.as_view(), name="api-driver-routes"),
]
