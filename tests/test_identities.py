"""Secrets and identities: an account's external id is for admins' eyes; a risk's owner is an
active user who holds a role."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from acceptances import services
from acceptances.forms import AcceptRiskForm
from acceptances.models import RiskAcceptance

pytestmark = pytest.mark.django_db

SECRET = "ext-9f8e7d6c5b4a"


def _api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def account(make_account):
    return make_account(role_arn="arn:aws:iam::123456789012:role/cspm-audit", external_id=SECRET)


@pytest.mark.parametrize("persona", ["viewer", "analyst", "approver"])
def test_only_admins_read_the_external_id_in_the_api(request, persona, admin_user, account):
    user = request.getfixturevalue(persona)
    for url in ("/api/v1/accounts/", f"/api/v1/accounts/{account.pk}/"):
        response = _api(user).get(url)
        assert SECRET not in response.content.decode()
    row = _api(user).get(f"/api/v1/accounts/{account.pk}/").json()
    assert row["external_id"] == "" and row["external_id_set"] is True
    row = _api(admin_user).get(f"/api/v1/accounts/{account.pk}/").json()
    assert row["external_id"] == SECRET and row["external_id_set"] is True


def test_others_see_in_the_admin_that_one_is_set_never_the_id(viewer, admin_user, account):
    url = reverse("admin:findings_cloudaccount_change", args=[account.pk])
    client = Client()
    client.force_login(viewer)
    page = client.get(url)
    assert page.status_code == 200
    assert SECRET not in page.content.decode()
    assert "set (shown to admins only)" in page.content.decode()
    client.force_login(admin_user)
    assert SECRET in client.get(url).content.decode()


@pytest.fixture
def no_role(db) -> User:
    return User.objects.create_user("nora-norole", password="correct horse battery")


@pytest.fixture
def gone(viewer) -> User:
    viewer.is_active = False
    viewer.save(update_fields=["is_active"])
    return viewer


@pytest.mark.parametrize("owner", ["no_role", "gone"])
def test_the_service_refuses_an_owner_without_a_role_or_inactive(
    request, owner, analyst, catalog, make_account, make_finding
):
    finding = make_finding(account=make_account())
    with pytest.raises(ValidationError) as caught:
        services.accept_risk(
            actor=analyst,
            control=catalog.controls.get(ref="2.1.2"),
            owner=request.getfixturevalue(owner),
            reason="risk_owned",
            justification="x",
            resource=finding.resource,
        )
    assert list(caught.value.message_dict) == ["owner"]
    assert not RiskAcceptance.objects.exists()


def test_the_api_names_the_owner_field(no_role, analyst, catalog, make_account, make_finding):
    finding = make_finding(account=make_account())
    body = {
        "control": catalog.controls.get(ref="2.1.2").pk,
        "resource": finding.resource.pk,
        "reason": "risk_owned",
        "justification": "x",
        "likelihood": 2,
        "impact": 3,
        "owner": no_role.username,
    }
    response = _api(analyst).post("/api/v1/acceptances/", body, format="json")
    assert response.status_code == 400 and list(response.json()) == ["owner"]


def test_the_form_offers_only_users_with_a_role(no_role, analyst, viewer):
    owners = set(AcceptRiskForm().fields["owner"].queryset)
    assert analyst in owners and viewer in owners and no_role not in owners


def test_changing_the_owner_to_someone_without_a_role_is_refused(
    no_role, analyst, approver, catalog, make_account, make_finding
):
    finding = make_finding(account=make_account())
    acceptance = services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="2.1.2"),
        owner=analyst,
        reason="risk_owned",
        justification="x",
        resource=finding.resource,
    )
    response = _api(approver).patch(
        f"/api/v1/acceptances/{acceptance.pk}/", {"owner": no_role.username}, format="json"
    )
    assert response.status_code == 400 and list(response.json()) == ["owner"]
    with pytest.raises(ValidationError) as caught:
        services.update_acceptance(acceptance, actor=approver, owner=no_role)
    assert list(caught.value.message_dict) == ["owner"]
