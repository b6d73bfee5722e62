import pytest
from django.core.management import call_command

from accounts.models import ApiKey, Role, User
from accounts.services import api_key_create, api_key_revoke
from demo.seed import CREDENTIALS_FILE
from tests.clock import day as suite_day

pytestmark = pytest.mark.django_db

SEED = ["seed_demo", "--date", suite_day(2).isoformat(), "--orders", "5", "--history-days", "1"]


@pytest.fixture
def seeded(tmp_path, settings, capsys):
    settings.BASE_DIR = tmp_path
    call_command(*SEED)
    return capsys.readouterr().out


def key_line(output):
    return next(line for line in output.splitlines() if "merchant API key" in line)


def test_the_demo_admin_runs_the_organisation_not_the_platform(seeded):
    admin = User.objects.get(username="admin")

    assert (admin.role, admin.is_superuser, admin.is_staff) == (Role.ADMIN, False, False)


def test_a_rerun_without_the_stored_secret_mints_no_second_key(seeded, tmp_path, capsys):
    """var/ wiped: the existing key is reported, not replaced by another live one."""
    (tmp_path / "var" / CREDENTIALS_FILE).unlink()
    key = ApiKey.objects.get()

    call_command(*SEED)

    assert list(ApiKey.objects.values_list("pk", "name", "revoked_at")) == [(key.pk, "Demo web shop", None)]
    assert key_line(capsys.readouterr().out) == (
        f"  merchant API key: 'Demo web shop' ({key.prefix}…) exists; its secret is not stored any more."
        " Revoke it under API keys (as admin) and re-run seed_demo for a new one."
    )


def test_another_key_of_the_organisation_does_not_make_the_seed_mint_one(seeded, capsys):
    demo_key = ApiKey.objects.get()
    api_key_create(organization=demo_key.organization, created_by=None, name="Partner shop")

    call_command(*SEED)

    assert ApiKey.objects.filter(name="Demo web shop").count() == 1
    assert key_line(capsys.readouterr().out) == key_line(seeded)


def test_a_revoked_demo_key_is_replaced_on_the_next_run(seeded, capsys):
    api_key_revoke(api_key=ApiKey.objects.get())

    call_command(*SEED)

    assert ApiKey.objects.filter(name="Demo web shop", revoked_at=None).count() == 1
    assert key_line(capsys.readouterr().out) != key_line(seeded)
