"""Pages of compensating controls and re-review: named in the accept dialog and on the
acceptance page (errors beside the field), their verdicts, the suspension banner, the
"needs re-review" badge, filter, before/after and the "Mark reviewed" action."""

from __future__ import annotations

import pytest
from django.urls import reverse

from acceptances import services
from acceptances.models import AcceptanceEvent, CompensatingControl, RiskAcceptance
from acceptances.services import compensation
from findings.models import Finding

pytestmark = pytest.mark.django_db


def form_data(control, owner, **extra):
    return {
        "control": control.pk,
        "scope": "zone",
        "treatment": "retain",
        "reason": "mitigated",
        "justification": "Compensated.",
        "owner": owner.pk,
        "expiry": "30",
        "likelihood": 2,
        "impact": 3,
        **extra,
    }


def test_the_accept_dialog_names_compensating_controls_and_measures(
    login, analyst, estate, catalog
):
    control, imds = catalog.controls.get(ref="2.1.2"), catalog.controls.get(ref="5.6")
    client = login(analyst)
    page = client.get(reverse("accept-risk"), {"control": control.pk, "zone": estate.prod.pk})
    assert "Compensating controls" in page.content.decode()
    # The accepted control itself is not offered.
    offered = page.context["form"].fields["compensating_control_0"].queryset
    assert imds in offered and control not in offered
    response = client.post(
        reverse("accept-risk"),
        form_data(
            control,
            analyst,
            zone=estate.prod.pk,
            compensating_control_0=imds.pk,
            compensating_measures="WAF in front.",
        ),
    )
    assert response.status_code == 302, response.context["form"].errors
    acceptance = RiskAcceptance.objects.get(control=control)
    assert acceptance.state == "active" and acceptance.compensating_measures == "WAF in front."
    row = CompensatingControl.objects.get(acceptance=acceptance)
    # 5.6 fails nowhere in the prod zone: it holds.
    assert row.control == imds and row.resource is None and row.failing_since is None


def test_the_accept_dialog_says_what_is_wrong_beside_the_field(login, analyst, estate, catalog):
    control, imds = catalog.controls.get(ref="2.1.2"), catalog.controls.get(ref="5.6")
    client = login(analyst)
    response = client.post(
        reverse("accept-risk"),
        form_data(
            control,
            analyst,
            zone=estate.prod.pk,
            compensating_control_0=imds.pk,
            compensating_resource_0="no-such-thing",
            compensating_control_1=imds.pk,
            compensating_resource_1="story-images",
        ),
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "No current resource is named no-such-thing" in str(errors["compensating_resource_0"])
    assert not RiskAcceptance.objects.exists()
    # A resource without a finding of the control: the service's refusal, beside the first row.
    response = client.post(
        reverse("accept-risk"),
        form_data(
            control,
            analyst,
            zone=estate.prod.pk,
            compensating_control_0=imds.pk,
            compensating_resource_0="story-images",
        ),
    )
    assert response.status_code == 400
    assert "not evaluated on story-images" in str(
        response.context["form"].errors["compensating_control_0"]
    )


def test_the_page_shows_verdicts_and_the_suspension_banner(
    login, analyst, approver, viewer, estate, catalog
):
    control, imds = catalog.controls.get(ref="2.1.2"), catalog.controls.get(ref="5.6")
    acceptance = services.accept_risk(
        actor=analyst,
        control=control,
        zone=estate.prod,
        owner=analyst,
        reason="mitigated",
        justification="Compensated by IMDSv2 on the instance.",
    )
    url = reverse("acceptance-detail", args=[acceptance.pk])
    # A viewer cannot change them.
    assert "Save compensating controls" not in login(viewer).get(url).content.decode()
    refused = login(viewer).post(
        reverse("acceptance-compensation", args=[acceptance.pk]),
        {"compensating_control_0": imds.pk},
    )
    assert refused.status_code == 403
    client = login(approver)
    response = client.post(
        reverse("acceptance-compensation", args=[acceptance.pk]),
        {"compensating_control_0": imds.pk, "compensating_resource_0": "i-0abc", "note": "x"},
    )
    assert response.status_code == 302
    acceptance.refresh_from_db()
    # 5.6 fails on i-0abc: suspended at once, its findings fail again.
    assert acceptance.state == "suspended"
    assert not Finding.objects.filter(acceptance=acceptance).exists()
    page = client.get(url).content.decode()
    assert 'data-testid="suspension-banner"' in page
    assert "5.6 fails on i-0abc" in page
    assert "failing since" in page
    event = acceptance.events.filter(action=AcceptanceEvent.Action.EDITED).latest("pk")
    assert event.changes["compensating_controls"] == [[], ["5.6 on i-0abc"]]
    assert "Compensating controls changed from none to 5.6 on i-0abc" in page


def test_needs_re_review_badge_filter_diff_and_mark_reviewed(
    login, analyst, approver, viewer, estate, catalog
):
    finding = estate.findings["images"]
    Finding.objects.filter(pk=finding.pk).update(
        evidence={"Versioning": "Enabled"}, evidence_digest=1
    )
    acceptance = services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="2.1.2"),
        resource=finding.resource,
        owner=analyst,
        reason="risk_owned",
        justification="Versioning covers mistakes.",
    )
    other = services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="2.1.2"),
        resource=estate.findings["logs"].resource,
        owner=analyst,
        reason="risk_owned",
        justification="Logs are disposable.",
    )
    # What a scan writes when the bucket's configuration changed while it still fails.
    Finding.objects.filter(pk=finding.pk).update(
        evidence={"Versioning": "Suspended"}, evidence_digest=2
    )
    assert compensation.check_reviews() == [acceptance.pk]

    listing = login(viewer).get(reverse("acceptance-list"), {"needs_review": "on"})
    rows = [a.pk for a in listing.context["page"]]
    assert rows == [acceptance.pk] and other.pk not in rows
    assert "needs re-review" in listing.content.decode()

    url = reverse("acceptance-detail", args=[acceptance.pk])
    page = login(viewer).get(url).content.decode()
    assert 'data-testid="evidence-diff"' in page
    assert "<code>Versioning</code>" in page
    assert "<del>Enabled</del>" in page and "<ins>Suspended</ins>" in page
    assert "Mark reviewed" not in page  # a viewer may not
    assert (
        login(viewer).post(reverse("acceptance-reviewed", args=[acceptance.pk]), {"note": "ok"})
    ).status_code == 403

    client = login(analyst)  # the owner
    assert "Mark reviewed" in client.get(url).content.decode()
    missing = client.post(reverse("acceptance-reviewed", args=[acceptance.pk]), {"note": ""})
    assert missing.status_code == 400 and "note" in missing.context["reviewed_form"].errors
    done = client.post(
        reverse("acceptance-reviewed", args=[acceptance.pk]), {"note": "Suspended on purpose."}
    )
    assert done.status_code == 302
    acceptance.refresh_from_db()
    assert acceptance.review_flagged_at is None
    assert "needs re-review" not in client.get(url).content.decode()
