"""The project's URLs plus two that fail, for the 500 handler's tests (ROOT_URLCONF override)."""

from django.urls import path

from config.urls import handler403, handler404, handler500
from config.urls import urlpatterns as project_urlpatterns

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]


def boom(request):
    raise RuntimeError("kaboom: secret internals")


urlpatterns = [path("boom/", boom), path("api/boom", boom), *project_urlpatterns]
