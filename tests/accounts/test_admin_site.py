"""Django's admin spans every tenant: only superusers get in, never an organisation's admin."""

import pytest
from django.test import Client

from accounts.models import Role
from accounts.services import user_create


@pytest.fixture
def staff_tenant_admin(organization):
    return user_create(organization=organization, username="boss", password="pw", role=Role.ADMIN, is_staff=True)


@pytest.mark.parametrize("path", ["/admin/", "/admin/orders/order/", "/admin/accounts/organization/"])
def test_an_organisation_admin_is_kept_out_of_django_admin(staff_tenant_admin, path):
    client = Client()
    client.force_login(staff_tenant_admin)

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_superuser_gets_in(organization):
    operator = user_create(
        organization=organization, username="ops", password="pw", role=Role.ADMIN, is_staff=True, is_superuser=True
    )
    client = Client()
    client.force_login(operator)

    assert client.get("/admin/orders/order/").status_code == 200


def test_the_navigation_offers_django_admin_only_to_superusers(staff_tenant_admin):
    operator = user_create(
        organization=staff_tenant_admin.organization,
        username="ops",
        password="pw",
        role=Role.ADMIN,
        is_staff=True,
        is_superuser=True,
    )
    links = {}
    for user in (staff_tenant_admin, operator):
        client = Client()
        client.force_login(user)
        links[user.username] = 'href="/admin/"' in client.get("/orders/").content.decode()

    assert links == {"boss": False, "ops": True}
