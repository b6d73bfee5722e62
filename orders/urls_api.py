from django.urls import path

from orders import api

# `orders` (list and create, name "api-orders") is routed in dispatch/slots/urls_api.py: creating an
# order in a held slot composes orders and slots, so its view lives above both.
urlpatterns = [
    path("orders/bulk", api.OrderBulkCreateApi.as_view(), name="api-orders-bulk"),
    path("orders/import", api.OrderImportApi.as_view(), name="api-orders-import"),
    path(
        "orders/imports/<int:pk>/errors.csv",
        api.OrderImportErrorsApi.as_view(),
        name="api-orders-import-errors",
    ),
    path("orders/<int:pk>", api.OrderDetailApi.as_view(), name="api-order"),
    path("orders/<int:pk>/cancel", api.OrderCancelApi.as_view(), name="api-order-cancel"),
    path("orders/<int:pk>/transition", api.OrderTransitionApi.as_view(), name="api-order-transition"),
    path("orders/<int:pk>/events", api.OrderEventsApi.as_view(), name="api-order-events"),
    path(
        "orders/<int:pk>/delivery-code/reset",
        api.OrderDeliveryCodeResetApi.as_view(),
        name="api-order-delivery-code-reset",
    ),
]
