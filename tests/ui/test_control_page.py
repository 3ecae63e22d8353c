"""A control's page: remediation rendered per failing resource, its findings by status, paging."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from acceptances import services

pytestmark = pytest.mark.django_db


def control_url(catalog, ref: str) -> str:
    return reverse("control-detail", args=[catalog.controls.get(ref=ref).pk])


def names(response) -> list[str]:
    """The resources listed, in order, as the page shows them."""
    return re.findall(r'<tr data-resource="([^"]*)"', response.content.decode())


def test_it_lists_failing_resources_first_with_evidence_and_their_own_terraform(
    login, viewer, estate, catalog
):
    estate.findings["images"].evidence = {"summary": "MFA Delete is not enabled."}
    estate.findings["images"].save(update_fields=["evidence"])
    response = login(viewer).get(control_url(catalog, "2.1.2"))
    assert response.status_code == 200
    assert response.context["status"] == "fail"
    assert names(response) == ["story-images", "story-logs", "scratch"]  # as discovered
    body = response.content.decode()
    assert "MFA Delete is not enabled." in body
    # The snippet is filled with each failing bucket's own name.
    terraform = response.context["rows"][0]["fixes"][0]["terraform"]
    assert 'bucket = "story-images"' in terraform and "{{" not in terraform
    assert terraform in html.unescape(body)
    assert catalog.controls.get(ref="2.1.2").remediation_cli.splitlines()[0] in html.unescape(body)


def test_it_shows_each_status_and_searches_names(login, viewer, estate, catalog, analyst):
    client = login(viewer)
    url = control_url(catalog, "2.1.2")
    assert names(client.get(url, {"status": "pass"})) == ["ok-bucket"]
    assert names(client.get(url, {"status": "all", "q": "logs"})) == ["story-logs"]
    services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="2.1.2"),
        resource=estate.findings["scratch"].resource,
        owner=analyst,
        reason="not_relevant",
        justification="Scratch space, deleted weekly.",
    )
    accepted = client.get(url, {"status": "accepted"})
    assert names(accepted) == ["scratch"]
    assert accepted.context["posture"].accepted == 1


def test_it_pages_long_lists(login, viewer, catalog, make_account, make_finding):
    account = make_account()
    for i in range(55):
        make_finding(account=account, name=f"bucket-{i:02d}")
    client = login(viewer)
    first = client.get(control_url(catalog, "2.1.2"))
    assert len(first.context["rows"]) == 50
    second = client.get(control_url(catalog, "2.1.2"), {"page": 2})
    assert names(second) == [f"bucket-{i:02d}" for i in range(50, 55)]
    assert b"Page 2 of 2" in second.content


def test_only_those_who_may_accept_see_the_accept_buttons(login, viewer, analyst, estate, catalog):
    url = control_url(catalog, "2.1.2")
    assert b"Accept risk" not in login(viewer).get(url).content
    body = login(analyst).get(url).content
    assert b"Accept risk in a zone" in body and b"Accept risk for selected" in body


def test_an_unknown_control_is_404_and_outsiders_are_refused(
    login, outsider, viewer, estate, catalog
):
    assert login(viewer).get(reverse("control-detail", args=[999999])).status_code == 404
    assert login(outsider).get(control_url(catalog, "2.1.2")).status_code == 403


def test_the_list_follows_a_decision_at_once(login, viewer, analyst, estate, catalog):
    client = login(viewer)
    url = control_url(catalog, "2.1.2")
    assert "scratch" in names(client.get(url))  # rendered, and kept for the next view
    services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="2.1.2"),
        resource=estate.findings["scratch"].resource,
        owner=analyst,
        reason="not_relevant",
        justification="Scratch space, deleted weekly.",
    )
    assert "scratch" not in names(client.get(url))
    assert names(client.get(url, {"status": "accepted"})) == ["scratch"]
