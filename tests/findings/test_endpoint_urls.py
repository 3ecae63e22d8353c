"""An account's endpoint URL is for stand-ins and VPC endpoints: never the cloud metadata
service, link-local addresses or a non-HTTP scheme. Loopback stays allowed (moto, tests)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from cspm.endpoints import endpoint_problem
from findings.aws.base import CollectionError
from findings.aws.session import session_for
from findings.models import CloudAccount
from findings.services import register_account


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


REFUSED = [
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.170.2/v2/credentials",
    "https://169.254.0.1:8443",
    "http://[fd00:ec2::254]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[fe80::1]/",
    "http://0.0.0.0:5000/",
    "ftp://example.com/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_FLUSHALL",
]
ALLOWED = [
    "http://127.0.0.1:5000",
    "http://localhost:4566",
    "https://vpce-0a1b2c3d-abcdefgh.sts.eu-west-1.vpce.amazonaws.com",
    "https://sts.eu-west-1.amazonaws.com",
    "",
]


@pytest.mark.parametrize("url", REFUSED)
def test_refused_endpoints(url):
    assert endpoint_problem(url)


@pytest.mark.parametrize("url", ALLOWED)
def test_allowed_endpoints(url):
    assert endpoint_problem(url) is None


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["http://169.254.169.254/", "http://[fd00:ec2::254]/"])
def test_the_service_refuses_them_beside_the_field(url):
    with pytest.raises(ValidationError) as caught:
        register_account(account_id="210987654321", name="x", endpoint_url=url)
    assert set(caught.value.message_dict) == {"endpoint_url"}
    assert not CloudAccount.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/", "http://[::ffff:169.254.169.254]/", "ftp://a.b/"]
)
def test_the_api_answers_400_naming_the_field(admin_user, make_account, url):
    body = {"account_id": "210987654321", "name": "payments", "endpoint_url": url}
    response = api(admin_user).post("/api/v1/accounts/", body)
    assert response.status_code == 400
    assert set(response.json()) == {"endpoint_url"}
    account = make_account()
    response = api(admin_user).patch(f"/api/v1/accounts/{account.pk}/", {"endpoint_url": url})
    assert response.status_code == 400 and set(response.json()) == {"endpoint_url"}
    account.refresh_from_db()
    assert account.endpoint_url == ""


@pytest.mark.django_db
def test_loopback_stays_allowed_through_the_api(admin_user):
    body = {"account_id": "210987654321", "name": "sim", "endpoint_url": "http://127.0.0.1:5000"}
    assert api(admin_user).post("/api/v1/accounts/", body).status_code == 201


@pytest.mark.django_db
def test_the_admin_shows_the_error_beside_the_field(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:findings_cloudaccount_add"),
        {
            "name": "meta",
            "account_id": "210987654321",
            "enabled": "on",
            "role_arn": "",
            "external_id": "",
            "endpoint_url": "http://169.254.169.254/latest/meta-data/",
            "regions": "[]",
            "scan_interval_hours": "24",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["endpoint_url"]
    assert "metadata" in errors["endpoint_url"][0]
    assert not CloudAccount.objects.exists()


@pytest.mark.django_db
def test_a_scan_never_calls_a_refused_endpoint_saved_before_the_rule(make_account):
    account = make_account()
    CloudAccount.objects.filter(pk=account.pk).update(endpoint_url="http://169.254.169.254/")
    account.refresh_from_db()
    with pytest.raises(CollectionError, match="EndpointRefused"):
        session_for(account)
