"""The acceptances API filters by the hygiene page's numbers (``?hygiene=<name>``): the same
acceptances the page counts; an unknown name is refused naming the field."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from acceptances import services
from acceptances.hygiene import get_hygiene
from findings.models import Resource

pytestmark = pytest.mark.django_db

URL = "/api/v1/acceptances/"


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


def test_the_api_lists_the_acceptances_behind_a_number(
    api, viewer, approver, catalog, make_account, make_finding
):
    account = make_account()
    control = catalog.controls.get(ref="2.1.2")

    def accept(expires_at):
        return services.accept_risk(
            actor=approver,
            control=control,
            resource=make_finding(account=account).resource,
            owner=approver,
            reason="risk_owned",
            justification="Versioning covers mistakes.",
            expires_at=expires_at,
        )

    never = accept(None)
    ending = accept(timezone.now() + dt.timedelta(days=30))
    revoked = accept(None)
    services.revoke_acceptance(revoked, actor=approver)
    Resource.objects.filter(pk=ending.resource_id).update(gone_at=timezone.now())
    client = api(viewer)
    figures = get_hygiene()
    assert _ids(client.get(URL, {"hygiene": "no_end"})) == {never.pk}
    assert figures.counts["no_end"] == 1
    assert _ids(client.get(URL, {"hygiene": "resources_gone"})) == {ending.pk}
    assert figures.counts["resources_gone"] == 1
    # Combined with the other filters.
    assert _ids(client.get(URL, {"hygiene": "no_end", "state": "revoked"})) == set()
    bad = client.get(URL, {"hygiene": "nonsense"})
    assert bad.status_code == 400 and "hygiene" in bad.json()
    assert api().get(URL, {"hygiene": "no_end"}).status_code in (401, 403)
