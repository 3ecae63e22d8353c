"""Personal API tokens: shown once, stored hashed, revocable; the header authenticates."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from cspm import services
from cspm.models import ApiToken

pytestmark = pytest.mark.django_db

URL = "/api/v1/tokens/"


def test_a_user_creates_a_token_shown_once_and_stored_as_a_digest(api, analyst):
    response = api(analyst).post(URL, {"name": "CI pipeline"})
    assert response.status_code == 201
    raw = response.json()["token"]
    assert raw.startswith("cspm_")
    token = ApiToken.objects.get(pk=response.json()["id"])
    assert token.user == analyst and token.name == "CI pipeline"
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(token.__dict__)
    listed = api(analyst).get(URL).json()["results"]
    assert [t["id"] for t in listed] == [token.pk] and "token" not in listed[0]


def test_creating_a_token_names_each_bad_field(api, analyst):
    response = api(analyst).post(
        URL, {"name": "", "expires_at": "2001-01-01T00:00:00Z"}, format="json"
    )
    assert response.status_code == 400
    assert "name" in response.json()
    response = api(analyst).post(URL, {"name": "x", "expires_at": "2001-01-01T00:00:00Z"})
    assert response.json() == {"expires_at": ["The expiry must be in the future."]}


def test_an_outsider_and_anonymous_visitors_are_refused(api, outsider):
    assert api(outsider).get(URL).status_code == 403
    assert api(outsider).post(URL, {"name": "x"}).status_code == 403
    anonymous = api().get(URL)
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"].startswith("Bearer")


def test_the_token_authenticates_with_bearer_or_token(token_client, viewer, estate):
    for keyword in ("Bearer", "Token"):
        response = token_client(viewer, keyword).get("/api/v1/findings/")
        assert response.status_code == 200, keyword


def test_another_users_token_is_not_found_but_an_admin_sees_and_revokes_it(
    api, analyst, viewer, admin_user
):
    token, _ = services.create_api_token(actor=analyst, user=analyst, name="mine")
    assert api(viewer).get(f"{URL}{token.pk}/").status_code == 404
    assert api(viewer).post(f"{URL}{token.pk}/revoke/").status_code == 404
    assert api(admin_user).get(f"{URL}{token.pk}/").status_code == 200
    response = api(admin_user).post(f"{URL}{token.pk}/revoke/")
    assert response.status_code == 200 and response.json()["active"] is False


@pytest.mark.parametrize("problem", ["revoked", "expired", "inactive user", "wrong secret"])
def test_revoked_expired_or_wrong_tokens_answer_401(api, analyst, problem):
    token, raw = services.create_api_token(
        actor=analyst,
        user=analyst,
        name="x",
        expires_at=timezone.now() + dt.timedelta(days=1),
    )
    if problem == "revoked":
        services.revoke_api_token(token, actor=analyst)
    elif problem == "inactive user":
        analyst.is_active = False
        analyst.save()
    elif problem == "wrong secret":
        raw = raw[:-4] + ("aaaa" if not raw.endswith("aaaa") else "bbbb")
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    if problem == "expired":
        with time_machine.travel(timezone.now() + dt.timedelta(days=2)):
            response = client.get("/api/v1/findings/")
    else:
        response = client.get("/api/v1/findings/")
    assert response.status_code == 401
    assert "detail" in response.json()


def test_a_malformed_header_answers_401(api):
    for header in ("Bearer", "Bearer a b", "Bearer cspm_zz_short", "Token \u00e9"):
        client = api()
        client.credentials(HTTP_AUTHORIZATION=header)
        assert client.get("/api/v1/findings/").status_code == 401, header


def _rates(settings, failures: str = "3/minute") -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"writes": "100/minute", "auth_failure": failures},
    }


BAD = "Bearer cspm_000000000000_" + "x" * 40


def test_failed_attempts_are_throttled_per_address(api, settings, analyst):
    _rates(settings)
    client = api()
    client.credentials(HTTP_AUTHORIZATION=BAD)
    codes = [client.get("/api/v1/findings/").status_code for _ in range(5)]
    assert codes == [401, 401, 401, 429, 429]
    # Another address is not held back.
    assert client.get("/api/v1/findings/", REMOTE_ADDR="192.0.2.1").status_code == 401


def test_failures_never_lock_out_a_valid_token(api, settings, admin_user):
    """The review's case: 20 bad attempts from one address, then a valid admin token from the
    same address (a shared NAT, a CI runner) still works; the guesser stays refused."""
    _rates(settings, "20/minute")
    guesser = api()
    guesser.credentials(HTTP_AUTHORIZATION=BAD)
    codes = [guesser.get("/api/v1/findings/").status_code for _ in range(21)]
    assert codes[-1] == 429 and codes.count(401) == 20
    _, raw = services.create_api_token(actor=admin_user, user=admin_user, name="good")
    pipeline = api()
    pipeline.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert pipeline.get("/api/v1/findings/").status_code == 200
    assert guesser.get("/api/v1/findings/").status_code == 429


def test_x_forwarded_for_is_ignored_without_a_trusted_proxy(api, settings):
    """Anyone can write the header: changing it at each attempt must not dodge the throttle."""
    _rates(settings)
    client = api()
    client.credentials(HTTP_AUTHORIZATION=BAD)
    codes = [
        client.get("/api/v1/findings/", HTTP_X_FORWARDED_FOR=f"10.1.2.{n}").status_code
        for n in range(5)
    ]
    assert codes == [401, 401, 401, 429, 429]


def test_behind_a_trusted_proxy_the_client_it_names_is_counted(api, settings):
    """With one trusted proxy, the client is the header's last entry; what the client wrote
    further left is ignored, and other clients behind the same proxy are not held back."""
    _rates(settings)
    settings.CSPM_TRUSTED_PROXIES = 1
    client = api()
    client.credentials(HTTP_AUTHORIZATION=BAD)
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    codes = [
        client.get(
            "/api/v1/findings/", HTTP_X_FORWARDED_FOR=f"172.16.0.{n}, 203.0.113.5", **proxy
        ).status_code
        for n in range(5)
    ]
    assert codes == [401, 401, 401, 429, 429]
    other = client.get("/api/v1/findings/", HTTP_X_FORWARDED_FOR="203.0.113.6", **proxy)
    assert other.status_code == 401


def test_last_used_is_written_at_most_once_a_minute(token_client, viewer, estate):
    client = token_client(viewer)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.get("/api/v1/findings/")
    token = ApiToken.objects.get(user=viewer)
    assert token.last_used_at == start
    with time_machine.travel(start + dt.timedelta(seconds=30), tick=False):
        client.get("/api/v1/findings/")
    token.refresh_from_db()
    assert token.last_used_at == start
    with time_machine.travel(start + dt.timedelta(seconds=61), tick=False):
        client.get("/api/v1/findings/")
    token.refresh_from_db()
    assert token.last_used_at == start + dt.timedelta(seconds=61)


def test_the_command_prints_a_working_token(api, viewer, capsys, estate):
    call_command("create_api_token", viewer.username, "--name", "cron", "--days", "30")
    raw = capsys.readouterr().out.strip()
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/findings/").status_code == 200
    assert ApiToken.objects.get(user=viewer).expires_at is not None


def test_the_admin_console_creates_a_token_shown_once_and_revokes(client, admin_user, viewer):
    client.force_login(admin_user)
    response = client.post(
        "/admin/cspm/apitoken/add/", {"user": viewer.pk, "name": "from admin"}, follow=True
    )
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    token = ApiToken.objects.get(user=viewer)
    raw = next(m for m in messages if "shown this once" in m).rsplit(" ", 1)[-1]
    assert token.matches(raw)
    response = client.post(
        "/admin/cspm/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
        follow=True,
    )
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_the_admin_console_hides_tokens_from_non_admins(client, approver):
    client.force_login(approver)
    assert client.get("/admin/cspm/apitoken/").status_code == 403
