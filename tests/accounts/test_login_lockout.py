"""Login lock-out (django-axes): per account and per address, 429, lifted after the cool-off."""

import datetime as dt

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import AsyncClient, Client
from django.urls import reverse

from accounts.models import Role
from accounts.services import user_create

PASSWORD = "pw-12345!"


@pytest.fixture
def alice(organization):
    return user_create(organization=organization, username="alice", password=PASSWORD, role=Role.DISPATCHER)


def sign_in(username, password, *, address="10.0.0.1", **headers):
    return Client(REMOTE_ADDR=address).post(reverse("login"), {"username": username, "password": password}, **headers)


def fail(times, username, *, address="10.0.0.1"):
    return [sign_in(username, "wrong", address=address).status_code for _ in range(times)]


def test_ten_wrong_passwords_lock_the_account_until_the_cooloff_has_passed(alice, settings, time_machine):
    """The right password is refused while locked out, and works once the cool-off is over."""
    assert fail(9, "alice") == [200] * 9  # the form again, with its error
    assert sign_in("alice", "wrong").status_code == 429

    locked = sign_in("alice", PASSWORD)
    time_machine.shift(dt.timedelta(minutes=settings.WAYPOINT_LOGIN_COOLOFF_MINUTES, seconds=-5))
    still_locked = sign_in("alice", PASSWORD)
    time_machine.shift(dt.timedelta(minutes=settings.WAYPOINT_LOGIN_COOLOFF_MINUTES, seconds=1))
    after_cooloff = sign_in("alice", PASSWORD)

    assert locked.status_code == 429
    assert locked["Retry-After"] == "900"
    assert b"Sign-in paused" in locked.content
    assert still_locked.status_code == 429
    assert after_cooloff.status_code == 302
    assert after_cooloff["Location"] == reverse("home")


def test_the_account_is_locked_from_every_address(alice):
    """Changing address does not buy an attacker more guesses at one account."""
    for number in range(10):
        sign_in("alice", "wrong", address=f"10.0.1.{number}")

    response = sign_in("alice", PASSWORD, address="10.0.2.1")

    assert response.status_code == 429


def test_one_address_guessing_many_accounts_is_locked(alice):
    """Ten failures from one address, one per account, lock that address out."""
    for number in range(10):
        sign_in(f"someone-{number}", "wrong", address="10.0.3.1")

    from_that_address = sign_in("alice", PASSWORD, address="10.0.3.1")
    from_elsewhere = sign_in("alice", PASSWORD, address="10.0.3.2")

    assert from_that_address.status_code == 429
    assert from_elsewhere.status_code == 302


def test_a_locked_out_json_client_gets_the_api_error_shape(alice):
    fail(10, "alice")

    response = sign_in("alice", PASSWORD, HTTP_ACCEPT="application/json")

    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert response.json() == {
        "code": "login_locked_out",
        "message": "Too many failed sign-ins for this account or address. Try again in 15 minutes.",
    }


def test_a_success_before_the_limit_resets_the_count(alice):
    fail(9, "alice")
    assert sign_in("alice", PASSWORD).status_code == 302

    assert fail(9, "alice") == [200] * 9


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_lockout_holds_under_asgi(alice):
    """uvicorn serves Waypoint through ASGI, where axes' middleware takes its async path."""
    client = AsyncClient(REMOTE_ADDR="10.0.4.1")
    for _ in range(10):
        await client.post(reverse("login"), {"username": "alice", "password": "wrong"})

    response = await client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    # The views ran in asgiref's thread; its connection would outlive the test database.
    await sync_to_async(connections.close_all)()

    assert response.status_code == 429
    assert response["Retry-After"] == "900"
