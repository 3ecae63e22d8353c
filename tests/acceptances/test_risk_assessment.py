"""The risk assessment of an acceptance: the 5×5 matrix (pure), and what the services store,
record and ask a second approver for."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from acceptances import risk, services
from acceptances.models import AcceptanceEvent, AppetiteRule, RiskAcceptance

# --- Pure: no database ------------------------------------------------------------------------


def test_the_shipped_bands_rate_the_matrix_corners_and_edges():
    bands = risk.DEFAULT_BANDS
    assert risk.rating(1, 1, bands) == "low"
    assert risk.rating(2, 2, bands) == "low"  # 4
    assert risk.rating(1, 5, bands) == "medium"  # 5
    assert risk.rating(3, 3, bands) == "medium"  # 9
    assert risk.rating(2, 5, bands) == "high"  # 10
    assert risk.rating(4, 4, bands) == "high"  # 16
    assert risk.rating(3, 5, bands) == "high"  # 15
    assert risk.rating(5, 4, bands) == "critical"  # 20
    assert risk.rating(5, 5, bands) == "critical"


def test_configured_bands_move_the_ratings():
    bands = risk.validate_bands({"low": 2, "medium": 4, "high": 8, "critical": 25})
    assert risk.rating(3, 3, bands) == "critical"
    assert risk.rating(1, 2, bands) == "low"


@pytest.mark.parametrize(
    "bands",
    [
        {"low": 4, "medium": 9, "high": 16},
        {"low": 4, "medium": 4, "high": 16, "critical": 25},
        {"low": 4, "medium": 9, "high": 16, "critical": 24},
        {"low": 0, "medium": 9, "high": 16, "critical": 25},
    ],
)
def test_bands_that_do_not_rise_to_25_are_refused(bands):
    with pytest.raises(ValueError):
        risk.validate_bands(bands)


@pytest.mark.parametrize("value", [0, 6, "3.5", "x", None, -1])
def test_levels_outside_one_to_five_are_refused_with_the_name(value):
    with pytest.raises(ValueError, match="likelihood"):
        risk.rating(value, 3, risk.DEFAULT_BANDS)


def test_defaults_follow_the_scanners_severity():
    assert risk.default_assessment("critical") == (5, 5)
    assert risk.default_assessment("high") == (4, 4)
    assert risk.default_assessment("medium") == (3, 3)
    assert risk.default_assessment("low") == (2, 2)


def test_the_matrix_has_impact_five_on_top_and_likelihood_left_to_right():
    rows = risk.matrix(risk.DEFAULT_BANDS)
    assert len(rows) == 5 and all(len(r) == 5 for r in rows)
    assert rows[0][4] == "critical"  # impact 5, likelihood 5
    assert rows[4][0] == "low"  # impact 1, likelihood 1
    assert rows[0][0] == "medium"  # impact 5, likelihood 1: 5


def test_every_level_has_a_name_and_its_meaning():
    for levels in (risk.LIKELIHOOD_LEVELS, risk.IMPACT_LEVELS):
        assert sorted(levels) == [1, 2, 3, 4, 5]
        assert all(name and meaning for name, meaning in levels.values())


# --- Services ---------------------------------------------------------------------------------


@pytest.fixture
def bucket(db, make_account, make_finding):
    return make_finding(account=make_account(), control_ref="2.1.2", name="story-images")


def _accept(actor, catalog, bucket, **extra):
    values = {
        "actor": actor,
        "control": catalog.controls.get(ref="2.1.2"),
        "owner": actor,
        "reason": "risk_owned",
        "justification": "Versioning covers mistakes.",
        "resource": bucket.resource,
        "expires_at": timezone.now() + dt.timedelta(days=30),
    }
    values.update(extra)
    return services.accept_risk(**values)


def test_the_assessment_is_stored_with_its_rating_and_recorded_at_creation(
    analyst, catalog, bucket
):
    acceptance = _accept(analyst, catalog, bucket, likelihood=2, impact=4)
    acceptance.refresh_from_db()
    assert (acceptance.likelihood, acceptance.impact) == (2, 4)
    assert acceptance.residual_rating == "medium"  # 8
    created = acceptance.events.get(action=AcceptanceEvent.Action.CREATED)
    assert created.changes["likelihood"] == [None, 2]
    assert created.changes["impact"] == [None, 4]
    assert created.changes["residual_rating"] == [None, "medium"]
    assert created.changes["compensating_measures"] == [None, ""]


def test_callers_other_than_a_person_get_the_severitys_default(analyst, catalog, bucket):
    acceptance = _accept(analyst, catalog, bucket)  # 2.1.2 is of medium severity
    assert (acceptance.likelihood, acceptance.impact, acceptance.residual_rating) == (
        3,
        3,
        "medium",
    )


@pytest.mark.parametrize(
    ("levels", "field"),
    [({"likelihood": 6, "impact": 3}, "likelihood"), ({"likelihood": 3}, "impact")],
)
def test_a_bad_or_half_assessment_is_refused_naming_the_level(
    analyst, catalog, bucket, levels, field
):
    with pytest.raises(ValidationError) as refused:
        _accept(analyst, catalog, bucket, **levels)
    assert field in refused.value.message_dict
    assert not RiskAcceptance.objects.exists()


def test_a_new_assessment_recomputes_the_rating_and_records_both(
    approver, analyst, catalog, bucket
):
    acceptance = _accept(analyst, catalog, bucket, likelihood=2, impact=2)
    services.update_acceptance(
        acceptance,
        actor=approver,
        likelihood=5,
        impact=4,
        compensating_measures="WAF in front",
    )
    acceptance.refresh_from_db()
    assert acceptance.residual_rating == "critical"
    edit = acceptance.events.get(action=AcceptanceEvent.Action.EDITED)
    assert edit.changes["likelihood"] == [2, 5]
    assert edit.changes["impact"] == [2, 4]
    assert edit.changes["residual_rating"] == ["low", "critical"]
    assert edit.changes["compensating_measures"] == ["", "WAF in front"]


def test_with_four_eyes_a_lower_assessment_is_proposed_and_a_higher_one_applies(
    settings, approver, approver2, analyst, catalog, bucket
):
    acceptance = _accept(approver, catalog, bucket, likelihood=3, impact=3)
    settings.CSPM_REQUIRE_APPROVAL = True
    # A higher likelihood says the risk is worse: in force at once.
    raised = services.update_acceptance(acceptance, actor=approver, likelihood=4)
    assert raised.proposed_change is None
    raised.refresh_from_db()
    assert (raised.likelihood, raised.residual_rating) == (4, "high")
    # A lower impact is a stronger claim: proposed, the approved terms stay.
    lowered = services.update_acceptance(acceptance, actor=approver, impact=1)
    assert lowered.proposed_change is not None
    lowered.refresh_from_db()
    assert (lowered.impact, lowered.residual_rating) == (3, "high")
    proposal = lowered.events.get(action=AcceptanceEvent.Action.CHANGE_PROPOSED)
    assert proposal.changes["residual_rating"] == ["high", "low"]
    services.approve_acceptance_change(lowered.proposed_change, actor=approver2)
    lowered.refresh_from_db()
    assert (lowered.impact, lowered.residual_rating) == (1, "low")
    approved = lowered.events.get(action=AcceptanceEvent.Action.CHANGE_APPROVED)
    assert approved.changes["residual_rating"] == ["high", "low"]


def test_a_higher_rating_that_brings_a_stricter_rule_is_refused_while_the_term_exceeds_it(
    approver, catalog, bucket
):
    acceptance = _accept(approver, catalog, bucket, likelihood=2, impact=2, expires_at=None)
    AppetiteRule.objects.create(
        name="Critical rating: 30 days", min_rating="critical", max_term_days=30, allow_never=False
    )
    with pytest.raises(ValidationError) as refused:
        services.update_acceptance(acceptance, actor=approver, likelihood=5, impact=5)
    assert "Critical rating: 30 days" in str(refused.value.message_dict["expires_at"])
