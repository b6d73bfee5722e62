import logging

from django.core import checks

from common.checks import secret_key_warn_at_startup


def secret_key_messages():
    return [(message.level, message.id) for message in checks.run_checks(tags=[checks.Tags.security])]


def test_the_public_fallback_key_is_a_warning_outside_production(settings):
    settings.WAYPOINT_SECRET_KEY_IS_PUBLIC = True
    settings.WAYPOINT_PRODUCTION = False

    assert secret_key_messages() == [(checks.WARNING, "waypoint.W001")]


def test_the_public_fallback_key_is_an_error_in_production(settings):
    """DJANGO_DEBUG with WAYPOINT_PRODUCTION skips settings' refusal; the check still stops start-up."""
    settings.WAYPOINT_SECRET_KEY_IS_PUBLIC = True
    settings.WAYPOINT_PRODUCTION = True

    assert secret_key_messages() == [(checks.ERROR, "waypoint.E001")]


def test_a_secret_key_of_ones_own_passes(settings):
    settings.WAYPOINT_SECRET_KEY_IS_PUBLIC = False
    settings.WAYPOINT_PRODUCTION = True

    assert secret_key_messages() == []


def test_the_asgi_server_which_runs_no_checks_logs_the_warning(settings, caplog):
    settings.WAYPOINT_SECRET_KEY_IS_PUBLIC = True

    with caplog.at_level(logging.WARNING, logger="waypoint.security"):
        secret_key_warn_at_startup()

    assert [record.levelname for record in caplog.records] == ["WARNING"]
    assert caplog.records[0].getMessage().startswith("DJANGO_SECRET_KEY is not set")
