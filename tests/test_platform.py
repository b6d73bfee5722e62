"""The platform shell: OpenAPI, pages, settings in both modes, production checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "WAYPOINT_INPROCESS_WORKER"}}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


SHOW_MODE = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DATABASES['default']['ENGINE'], s.CHANNEL_LAYERS['default']['BACKEND'], s.CELERY_BROKER_URL, "
    "s.WAYPOINT_INPROCESS_WORKER)"
)


def test_embedded_default_needs_nothing_configured():
    result = run_python(SHOW_MODE)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "channels.layers.InMemoryChannelLayer",
        "memory://",
        "True",
    ]


def test_environment_switches_to_postgres_and_redis():
    result = run_python(SHOW_MODE, DATABASE_URL="postgres://u:p@db:5432/waypoint", REDIS_URL="redis://cache:6379/0")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "channels_redis.pubsub.RedisPubSubChannelLayer",
        "redis://cache:6379/0",
        "False",
    ]


def test_empty_database_url_falls_back_to_sqlite():
    result = run_python(SHOW_MODE, DATABASE_URL="")

    assert result.stdout.split()[0] == "django.db.backends.sqlite3", result.stderr


def test_production_settings_pass_the_deploy_check():
    env = {
        "WAYPOINT_PRODUCTION": "1",
        "DJANGO_SECRET_KEY": "x" * 64 + "-production-secret-key-for-check",
        "DJANGO_ALLOWED_HOSTS": "waypoint.example.com",
        "DATABASE_URL": "postgres://u:p@db:5432/waypoint",
        "REDIS_URL": "redis://cache:6379/0",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = run_python("import django; django.setup()", WAYPOINT_PRODUCTION="1", DJANGO_SECRET_KEY="")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set in production" in result.stderr


@pytest.mark.django_db
def test_openapi_schema_documents_the_orders_api(client):
    response = client.get("/api/schema?format=json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {
        "/api/orders",
        "/api/orders/bulk",
        "/api/orders/import",
        "/api/orders/{id}/cancel",
        "/api/hubs",
    } <= set(schema["paths"])
    create = schema["paths"]["/api/orders"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])
    assert "A delivery in Helsinki" in str(create["requestBody"])
    assert schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"


@pytest.mark.django_db
def test_interactive_docs_are_served_without_a_cdn(client):
    page = client.get("/api/docs").content.decode()

    assert "swagger-ui" in page
    assert "cdn" not in page.lower()
    asset = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert asset.status_code == 200


@pytest.mark.django_db
def test_pages_need_a_login(client):
    response = client.get("/orders/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/orders/"


@pytest.mark.django_db
def test_home_shows_the_organization(client, admin_user, hub):
    client.force_login(admin_user)

    page = client.get("/").content.decode()

    assert "Acme Deliveries" in page
    assert "Helsinki Central" in page


@pytest.mark.django_db
def test_leaflet_is_served_from_the_python_package(client):
    response = client.get("/static/vendor/leaflet/leaflet.js")

    assert response.status_code == 200
    assert b"Leaflet" in b"".join(response.streaming_content)
