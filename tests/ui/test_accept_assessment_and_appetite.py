"""The accept dialog and the extend form: the risk assessment (levels in words, the rating and
matrix beside the scanner's severity, defaults from it) and the risk appetite (only the allowed
expiry choices offered; a forbidden one refused beside the field with the rule named)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from acceptances import services
from acceptances.models import AppetiteRule, RiskAcceptance

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)


def form_data(control, owner, **extra):
    data = {
        "control": control.pk,
        "scope": "resources",
        "treatment": "retain",
        "reason": "risk_owned",
        "justification": "Until the OS upgrade lands.",
        "owner": owner.pk,
        "likelihood": 4,
        "impact": 4,
        "expiry": "30",
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def _radio(html: str, name: str, value: str) -> str:
    """The <input> of one radio choice, as rendered."""
    match = re.search(rf'<input type="radio" name="{name}" value="{value}"[^>]*>', html)
    assert match, f"no {name}={value} radio"
    return match.group(0)


def test_the_dialog_defaults_the_assessment_from_the_severity_and_shows_the_words(
    login, analyst, estate, catalog
):
    control = catalog.controls.get(ref="5.6")  # high severity
    imds = estate.findings["imds"].resource_id
    page = login(analyst).get(reverse("accept-risk"), {"control": control.pk, "resource": imds})
    html = page.content.decode()
    assert "checked" in _radio(html, "likelihood", "4")
    assert "checked" in _radio(html, "impact", "4")
    assert "4 Likely: Commonly tried against exposures like this" in html
    assert "5 Severe: Large breach or lasting outage" in html
    assert re.search(r"Scanner's severity: <span[^>]*>High</span>", html)
    assert re.search(r"Residual rating: <span[^>]*data-residual-rating>High</span>", html)
    assert 'aria-current="true"><strong>High</strong>' in html  # the chosen cell of the matrix


def test_the_assessment_panel_follows_the_chosen_levels(login, analyst, estate, catalog):
    control = catalog.controls.get(ref="5.6")
    panel = login(analyst).post(
        reverse("accept-assessment"),
        {
            "control": control.pk,
            "scope": "resources",
            "resources": [estate.findings["imds"].resource_id],
            "likelihood": 1,
            "impact": 2,
        },
    )
    html = panel.content.decode()
    assert re.search(r"data-residual-rating>Low</span>", html)
    assert "likelihood 1 × impact 2 = 2" in html
    # The expiry choices come along (out of band), still limited by the high-severity rule.
    assert 'id="accept-expiry" hx-swap-oob="true"' in html
    assert "disabled" in _radio(html, "expiry", "never")


def test_the_assessment_is_required_with_errors_beside_the_levels(login, analyst, estate, catalog):
    control = catalog.controls.get(ref="5.6")
    imds = estate.findings["imds"].resource_id
    response = login(analyst).post(
        reverse("accept-risk"),
        form_data(control, analyst, resources=[imds], likelihood=None, impact=9),
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["likelihood"] == ["Rate the likelihood, 1 to 5."]
    assert "impact" in errors
    assert not RiskAcceptance.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_the_form_offers_only_what_the_appetite_allows(login, analyst, estate, catalog):
    control = catalog.controls.get(ref="5.6")  # high: at most 90 days, never without an end
    imds = estate.findings["imds"].resource_id
    html = (
        login(analyst)
        .get(reverse("accept-risk"), {"control": control.pk, "resource": imds})
        .content.decode()
    )
    for allowed in ("7", "30", "60", "90", "date"):
        assert "disabled" not in _radio(html, "expiry", allowed)
    never = _radio(html, "expiry", "never")
    assert "disabled" in never
    assert "No end — not allowed by rule “High: at most 90 days”" in html
    assert 'max="2027-02-28"' in html  # the date picker stops at the last allowed day
    assert "Risk appetite allows at most 90 days (until 2027-02-28" in html
    # A medium control in the same dialog: nothing limited.
    medium = catalog.controls.get(ref="2.1.2")
    html = (
        login(analyst)
        .get(reverse("accept-risk"), {"control": medium.pk, "zone": estate.prod.pk})
        .content.decode()
    )
    assert "disabled" not in _radio(html, "expiry", "never")


@time_machine.travel(NOW, tick=False)
def test_a_forbidden_expiry_is_refused_beside_the_field_naming_the_rule(
    login, analyst, estate, catalog
):
    control = catalog.controls.get(ref="5.6")
    imds = estate.findings["imds"].resource_id
    client = login(analyst)
    response = client.post(
        reverse("accept-risk"), form_data(control, analyst, resources=[imds], expiry="never")
    )
    assert response.status_code == 400
    assert response.context["form"].errors["expiry"] == [
        "Risk appetite rule “High: at most 90 days” does not allow an acceptance with no end."
    ]
    response = client.post(
        reverse("accept-risk"),
        form_data(control, analyst, resources=[imds], expiry="date", expires_on="2027-03-15"),
    )
    assert response.context["form"].errors["expires_on"] == [
        "Risk appetite rule “High: at most 90 days” allows at most 90 days (until 2027-02-28)."
    ]
    assert not RiskAcceptance.objects.exists()
    # Within the term it is accepted, with the assessment chosen.
    response = client.post(
        reverse("accept-risk"),
        form_data(control, analyst, resources=[imds], expiry="90", likelihood=2, impact=3),
    )
    assert response.status_code == 302
    acceptance = RiskAcceptance.objects.get()
    assert (acceptance.likelihood, acceptance.impact, acceptance.residual_rating) == (
        2,
        3,
        "medium",
    )


def test_a_lower_rating_escapes_a_rule_that_starts_at_a_higher_one(login, analyst, estate, catalog):
    AppetiteRule.objects.create(
        name="High residual: a week", min_rating="high", max_term_days=7, allow_never=False
    )
    control = catalog.controls.get(ref="2.1.2")
    scratch = estate.findings["scratch"].resource_id
    client = login(analyst)
    response = client.post(
        reverse("accept-risk"), form_data(control, analyst, resources=[scratch], expiry="30")
    )
    assert "High residual: a week" in str(response.context["form"].errors["expiry"])
    response = client.post(
        reverse("accept-risk"),
        form_data(control, analyst, resources=[scratch], expiry="30", likelihood=2, impact=2),
    )
    assert response.status_code == 302


@time_machine.travel(NOW, tick=False)
def test_the_extend_form_offers_and_refuses_by_the_appetite(
    login, approver, analyst, estate, catalog
):
    acceptance = services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="5.6"),
        owner=analyst,
        reason="risk_owned",
        justification="Until the OS upgrade lands.",
        resource=estate.findings["imds"].resource,
        expires_at=NOW + dt.timedelta(days=40),
    )
    client = login(approver)
    page = client.get(reverse("acceptance-detail", args=[acceptance.pk])).content.decode()
    # 40 days left of at most 90: 7 and 30 more fit, 60 and 90 more do not, nor no end.
    assert "disabled" not in _radio(page, "expiry", "30")
    assert "disabled" in _radio(page, "expiry", "60")
    assert "disabled" in _radio(page, "expiry", "never")
    assert "Residual risk" in page and "likelihood 4 (Likely) × impact 4 (Major)" in page
    response = client.post(
        reverse("acceptance-extend", args=[acceptance.pk]), {"expiry": "60", "note": ""}
    )
    assert response.status_code == 400
    assert "High: at most 90 days" in str(response.context["extend_form"].errors["expiry"])
    acceptance.refresh_from_db()
    assert acceptance.expires_at == NOW + dt.timedelta(days=40)
    response = client.post(
        reverse("acceptance-extend", args=[acceptance.pk]), {"expiry": "30", "note": ""}
    )
    assert response.status_code == 302
    acceptance.refresh_from_db()
    assert acceptance.expires_at == NOW + dt.timedelta(days=70)


def test_the_acceptances_list_shows_the_residual_rating(login, viewer, analyst, estate, catalog):
    services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="2.1.2"),
        owner=analyst,
        reason="risk_owned",
        justification="Reviewed.",
        zone=estate.prod,
        likelihood=1,
        impact=3,
        expires_at=timezone.now() + dt.timedelta(days=30),
    )
    html = login(viewer).get(reverse("acceptance-list")).content.decode()
    assert re.search(r'<span class="sev sev-low">Low</span> <span class="small muted">1×3', html)
