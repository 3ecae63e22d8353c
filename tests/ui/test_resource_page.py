"""A resource's page: configuration snapshot, tags, zones and all its findings."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_it_shows_configuration_tags_zones_and_findings(login, viewer, estate, make_finding):
    resource = estate.findings["images"].resource
    resource.configuration = {"Versioning": {"Status": "Suspended"}}
    resource.save(update_fields=["configuration"])
    make_finding(account=estate.account, resource=resource, control_ref="2.1.1", status="pass")
    response = login(viewer).get(reverse("resource-detail", args=[resource.pk]))
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    assert '"Status": "Suspended"' in body
    assert "Environment=prod" in body
    assert [z.name for z in response.context["zones"]] == ["prod"]
    statuses = [f.display_status for f, _, _ in response.context["findings"]]
    assert statuses == ["fail", "pass"]  # failing first


def test_the_accept_button_is_for_analysts_and_up(login, viewer, analyst, estate):
    url = reverse("resource-detail", args=[estate.findings["images"].resource.pk])
    assert b"Accept\xe2\x80\xa6" not in login(viewer).get(url).content
    assert b"Accept\xe2\x80\xa6" in login(analyst).get(url).content


def test_unknown_resources_are_404_and_outsiders_refused(login, outsider, viewer, estate):
    assert login(viewer).get(reverse("resource-detail", args=[999999])).status_code == 404
    url = reverse("resource-detail", args=[estate.findings["images"].resource.pk])
    assert login(outsider).get(url).status_code == 403
