"""Accounts: every role reads them, only admins connect or change them."""

from __future__ import annotations

import pytest

from findings.models import CloudAccount

pytestmark = pytest.mark.django_db

URL = "/api/v1/accounts/"
NEW = {
    "account_id": "210987654321",
    "name": "payments",
    "role_arn": "arn:aws:iam::210987654321:role/cspm-audit",
    "external_id": "s3cr3t-ext",
    "regions": ["eu-west-1", "eu-central-1"],
}


def test_every_role_lists_accounts(api, viewer, make_account):
    account = make_account()
    response = api(viewer).get(URL)
    assert response.status_code == 200
    assert [row["account_id"] for row in response.json()["results"]] == [account.account_id]
    assert api(viewer).get(f"{URL}?account_id={account.account_id}").json()["count"] == 1
    assert api(viewer).get(f"{URL}?account_id=000000000000").json()["count"] == 0


def test_an_admin_connects_an_account(api, admin_user):
    response = api(admin_user).post(URL, NEW)
    assert response.status_code == 201, response.json()
    account = CloudAccount.objects.get(account_id="210987654321")
    assert account.regions == ["eu-central-1", "eu-west-1"]
    assert response.json()["id"] == account.pk


def test_connecting_names_each_bad_field(api, admin_user, make_account):
    existing = make_account()
    response = api(admin_user).post(
        URL, {**NEW, "account_id": "12345", "regions": ["mars-1"], "role_arn": "nope"}
    )
    assert response.status_code == 400
    assert {"account_id", "regions", "role_arn"} <= set(response.json())
    duplicate = api(admin_user).post(URL, {**NEW, "account_id": existing.account_id})
    assert duplicate.json() == {"account_id": ["This account is already connected."]}
    missing = api(admin_user).post(URL, {})
    assert {"account_id", "name"} <= set(missing.json())


def test_an_admin_changes_an_account(api, admin_user, make_account):
    account = make_account(regions=["eu-west-1"])
    response = api(admin_user).patch(f"{URL}{account.pk}/", {"enabled": False, "name": "old"})
    assert response.status_code == 200
    account.refresh_from_db()
    assert account.enabled is False and account.name == "old"
    assert account.regions == ["eu-west-1"]
    bad = api(admin_user).patch(f"{URL}{account.pk}/", {"scan_interval_hours": -1})
    assert bad.status_code == 400 and "scan_interval_hours" in bad.json()


@pytest.mark.parametrize("persona", ["viewer", "analyst", "approver"])
def test_other_roles_may_not_connect_or_change_accounts(api, request, persona, make_account):
    user = request.getfixturevalue(persona)
    account = make_account()
    assert api(user).post(URL, NEW).status_code == 403
    assert api(user).patch(f"{URL}{account.pk}/", {"name": "x"}).status_code == 403
    assert not CloudAccount.objects.filter(account_id=NEW["account_id"]).exists()


def test_accounts_cannot_be_deleted_through_the_api(api, admin_user, make_account):
    account = make_account()
    assert api(admin_user).delete(f"{URL}{account.pk}/").status_code == 405
