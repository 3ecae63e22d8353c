"""Wrong passwords at the browser's and the admin console's login are throttled per username
and per client address, with one answer whether the username exists or not."""

from __future__ import annotations

import pytest
import time_machine
from django.test import Client

pytestmark = pytest.mark.django_db

RIGHT = "correct horse battery"
PAGES = ["/login/", "/admin/login/"]


@pytest.fixture(autouse=True)
def _early_in_an_hour():
    """Counts are kept per window of the rate's period: start each test at the beginning of
    one, so that no test straddles two windows."""
    with time_machine.travel("2026-01-05T10:00:01Z"):
        yield


@pytest.fixture
def limits(settings):
    settings.CSPM_LOGIN_FAILURE_RATE_PER_USERNAME = "5/hour"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CSPM_LOGIN_FAILURE_RATE_PER_ADDRESS = "8/hour"
    return settings


def _post(client: Client, page: str, username: str, password: str, address="198.51.100.7"):
    return client.post(page, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.parametrize("page", PAGES)
def test_after_the_limit_even_the_right_password_is_refused_with_a_clear_message(
    limits, admin_user, page
):
    client = Client()
    for _ in range(5):
        response = _post(client, page, admin_user.username, "wrong")
        assert response.status_code == 200
        assert "Too many failed logins" not in response.content.decode()
    response = _post(client, page, admin_user.username, RIGHT, address="203.0.113.9")
    assert "Too many failed logins for this username or from this address" in (
        response.content.decode()
    )
    assert response.status_code in (200, 429)
    assert "_auth_user_id" not in client.session
    if page == "/login/":
        assert response.status_code == 429


@pytest.mark.parametrize("page", PAGES)
def test_an_unknown_username_gets_the_same_answers_as_a_real_one(limits, admin_user, page):
    """Counting and messages do not depend on whether the user exists."""

    def answers(username: str) -> list[tuple[int, bool]]:
        client = Client()
        out = []
        for _ in range(7):
            response = _post(client, page, username, "wrong", address=f"192.0.2.{len(username)}")
            out.append((response.status_code, "Too many failed logins" in response.text))
        return out

    assert answers(admin_user.username) == answers("nobody-at-all-here")


def test_one_address_is_throttled_across_usernames(limits, admin_user, viewer):
    client = Client()
    for number in range(8):
        _post(client, "/login/", f"guess-{number}", "wrong")
    response = _post(client, "/login/", viewer.username, RIGHT)
    assert response.status_code == 429
    # The same user from another address logs in: only the guesser's address is held back.
    response = _post(Client(), "/login/", viewer.username, RIGHT, address="198.51.100.8")
    assert response.status_code == 302


def test_a_right_password_under_the_limit_logs_in_and_clears_the_username_count(limits, viewer):
    client = Client()
    for _ in range(4):
        _post(client, "/login/", viewer.username, "wrong")
    assert _post(client, "/login/", viewer.username, RIGHT).status_code == 302
    other = "198.51.100.99"  # the first address has 4 of its 8 failures left
    for _ in range(4):
        assert _post(Client(), "/login/", viewer.username, "wrong", other).status_code == 200
    assert _post(Client(), "/login/", viewer.username, RIGHT, other).status_code == 302


def test_forty_wrong_passwords_do_not_all_get_a_try(admin_user):
    """The review's case, with the default limits: 40 wrong passwords in a row."""
    client = Client()
    codes = [
        _post(client, "/admin/login/", admin_user.username, f"w{n}").content for n in range(40)
    ]
    assert sum(b"Too many failed logins" in body for body in codes) >= 29


def test_x_forwarded_for_does_not_reset_the_address_count_without_a_trusted_proxy(limits):
    client = Client()
    for number in range(8):
        client.post(
            "/login/",
            {"username": f"u{number}", "password": "wrong"},
            REMOTE_ADDR="198.51.100.7",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{number}",
        )
    response = client.post(
        "/login/",
        {"username": "u9", "password": "wrong"},
        REMOTE_ADDR="198.51.100.7",
        HTTP_X_FORWARDED_FOR="10.0.0.99",
    )
    assert response.status_code == 429
