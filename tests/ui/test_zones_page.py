"""The zones page: define and edit rules with a live preview of the matched resources."""

from __future__ import annotations

import pytest
from django.urls import reverse

from acceptances.models import Zone

pytestmark = pytest.mark.django_db


def zone_post(**extra):
    return {
        "name": "web prod",
        "description": "",
        "account_ids": "",
        "regions": "",
        "resource_types": "AWS::S3::Bucket",
        "tags": "Environment=prod",
        **extra,
    }


def test_an_approver_defines_a_zone_and_its_membership_follows(login, approver, estate):
    response = login(approver).post(reverse("zone-new"), zone_post())
    assert response.status_code == 302
    zone = Zone.objects.get(name="web prod")
    assert zone.rules == {"resource_types": ["AWS::S3::Bucket"], "tags": ["Environment=prod"]}
    assert zone.memberships.count() == 2


def test_the_preview_counts_matches_as_rules_are_typed(login, viewer, estate):
    client = login(viewer)
    response = client.post(reverse("zone-preview"), zone_post(tags="Environment in (prod, dev)"))
    assert response.context["preview"]["count"] == 3
    response = client.post(reverse("zone-preview"), zone_post(regions="eu-west-1"))
    assert response.context["preview"]["count"] == 0
    bad = client.post(reverse("zone-preview"), zone_post(account_ids="12345"))
    assert bad.context["preview"]["errors"]


def test_bad_rules_are_reported_beside_their_field(login, approver, estate):
    response = login(approver).post(reverse("zone-new"), zone_post(account_ids="12345", name="x"))
    assert response.status_code == 400
    assert "account_ids" in response.context["form"].errors
    assert not Zone.objects.filter(name="x").exists()
    duplicate = login(approver).post(reverse("zone-new"), zone_post(name="prod"))
    assert "name" in duplicate.context["form"].errors


def test_editing_rules_moves_resources_in_and_out(login, approver, estate):
    url = reverse("zone-edit", args=[estate.prod.pk])
    page = login(approver).get(url)
    assert page.context["form"].initial["tags"] == "Environment=prod"
    assert page.context["preview"]["count"] == 2
    response = login(approver).post(url, zone_post(name="prod", tags="Environment=dev"))
    assert response.status_code == 302
    assert [m.resource.name for m in estate.prod.memberships.all()] == ["scratch"]


def test_the_builtin_zone_cannot_be_edited(login, admin_user, estate):
    builtin = Zone.objects.get(is_builtin=True)
    client = login(admin_user)
    assert client.get(reverse("zone-edit", args=[builtin.pk])).context["can_edit"] is False
    response = client.post(reverse("zone-edit", args=[builtin.pk]), zone_post(name="all"))
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_viewers_and_analysts_see_zones_but_cannot_change_them(request, login, role, estate):
    client = login(request.getfixturevalue(role))
    assert client.get(reverse("zone-list")).status_code == 200
    assert client.get(reverse("zone-edit", args=[estate.prod.pk])).status_code == 200
    assert client.post(reverse("zone-new"), zone_post()).status_code == 403
    url = reverse("zone-edit", args=[estate.prod.pk])
    assert client.post(url, zone_post(name="prod", tags="")).status_code == 403
    estate.prod.refresh_from_db()
    assert estate.prod.rules == {"tags": ["Environment=prod"]}


def test_outsiders_see_no_zone(login, outsider, estate):
    client = login(outsider)
    assert client.get(reverse("zone-list")).status_code == 403
    assert client.post(reverse("zone-preview"), zone_post()).status_code == 403
