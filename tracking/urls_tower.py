"""Control tower pages and its exception actions (included at the root: `path("", include(...))`)."""

from django.urls import path

from tracking import views_tower

urlpatterns = [
    path("tower/", views_tower.control_tower, name="control-tower"),
    path("tower/routes/<int:pk>/", views_tower.tower_route, name="tower-route"),
    path("tower/orders/<int:pk>/", views_tower.tower_order, name="tower-order"),
    path(
        "api/exceptions/<int:pk>/acknowledge",
        views_tower.ExceptionAcknowledgeApi.as_view(),
        name="api-exception-acknowledge",
    ),
    path("api/exceptions/<int:pk>/assign", views_tower.ExceptionAssignApi.as_view(), name="api-exception-assign"),
    path("api/exceptions/<int:pk>/resolve", views_tower.ExceptionResolveApi.as_view(), name="api-exception-resolve"),
]
