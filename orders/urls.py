from django.urls import path

from orders import views

urlpatterns = [
    path("orders/", views.order_list, name="order-list"),
    path("orders/<int:pk>/", views.order_detail, name="order-detail"),
    path("orders/import/", views.order_import, name="order-import"),
    path("orders/import/template.csv", views.order_import_template, name="order-import-template"),
    path("orders/imports/<int:pk>/errors.csv", views.order_import_errors, name="order-import-errors"),
]
