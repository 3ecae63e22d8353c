"""Login is required everywhere but the login page; each role sees only what it may."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

ADMIN_PAGES = [
    "admin:findings_finding_changelist",
    "admin:findings_cloudaccount_changelist",
    "admin:acceptances_riskacceptance_changelist",
    "admin:acceptances_zone_changelist",
]


@pytest.mark.parametrize("url", ["/", "/admin/", "/admin/findings/finding/"])
def test_anonymous_visitors_are_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_the_login_page_and_health_check_are_open(client):
    assert client.get(reverse("login")).status_code == 200
    assert client.get(reverse("healthz")).json()["status"] == "ok"


def test_logging_in_lands_on_the_posture_overview(client, viewer, catalog):
    response = client.post(
        reverse("login"),
        {"username": viewer.username, "password": "correct horse battery"},
        follow=True,
    )
    assert response.status_code == 200
    assert b"CIS Amazon Web Services Foundations Benchmark" in response.content


def test_a_wrong_password_is_refused_with_a_message(client, viewer):
    response = client.post(reverse("login"), {"username": viewer.username, "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_logging_out_needs_a_post_with_csrf(viewer):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(viewer)
    assert strict.post(reverse("logout")).status_code == 403


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_every_role_may_read_the_admin_console(client, page, viewer, analyst, approver, admin_user):
    for user in (viewer, analyst, approver, admin_user):
        client.force_login(user)
        assert client.get(reverse(page)).status_code == 200, (user, page)


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_an_outsider_is_refused(client, outsider, page):
    client.force_login(outsider)
    assert client.get(reverse(page)).status_code == 403


def test_only_analysts_and_above_may_propose_an_acceptance(client, viewer, analyst, approver):
    url = reverse("admin:acceptances_riskacceptance_add")
    client.force_login(viewer)
    assert client.get(url).status_code == 403
    for user in (analyst, approver):
        client.force_login(user)
        assert client.get(url).status_code == 200


def test_only_approvers_and_admins_may_define_zones(client, analyst, approver, admin_user):
    url = reverse("admin:acceptances_zone_add")
    client.force_login(analyst)
    assert client.get(url).status_code == 403
    for user in (approver, admin_user):
        client.force_login(user)
        assert client.get(url).status_code == 200


def test_only_admins_may_connect_accounts(client, approver, admin_user):
    url = reverse("admin:findings_cloudaccount_add")
    client.force_login(approver)
    assert client.get(url).status_code == 403
    client.force_login(admin_user)
    assert client.get(url).status_code == 200


def test_scan_results_cannot_be_edited_by_hand_even_by_an_admin(
    client, admin_user, make_account, make_finding
):
    finding = make_finding(account=make_account())
    client.force_login(admin_user)
    assert client.get(reverse("admin:findings_finding_add")).status_code == 403
    change = reverse("admin:findings_finding_change", args=[finding.pk])
    response = client.post(change, {"status": "pass"})
    assert response.status_code == 403
    finding.refresh_from_db()
    assert finding.status == "fail"
