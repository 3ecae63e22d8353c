"""The compensation service's rules without a scan: who may name compensating controls, what
is refused, what the history records, and where the review baseline is taken."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from acceptances import services
from acceptances.models import AcceptanceEvent, ReviewBaseline
from acceptances.services import compensation

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(catalog, make_account, make_finding, analyst):
    account = make_account()
    bucket = make_finding(account=account, control_ref="2.1.2", tags={"Env": "prod"})
    policy = make_finding(
        account=account, control_ref="2.1.1", resource=bucket.resource, status="pass"
    )
    elsewhere = make_finding(account=account, control_ref="2.1.1", status="fail")
    unrelated = make_finding(account=account, control_ref="2.1.2")
    acceptance = services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="2.1.2"),
        resource=bucket.resource,
        owner=analyst,
        reason="risk_owned",
        justification="Versioning covers mistakes.",
    )
    return {
        "acceptance": acceptance,
        "bucket": bucket,
        "policy": policy,
        "elsewhere": elsewhere,
        "unrelated": unrelated,
        "c211": catalog.controls.get(ref="2.1.1"),
        "c212": catalog.controls.get(ref="2.1.2"),
        "c56": catalog.controls.get(ref="5.6"),
    }


def test_naming_them_is_editing_and_the_history_has_both_lists(setup, approver, analyst):
    acceptance, c211 = setup["acceptance"], setup["c211"]
    with pytest.raises(PermissionDenied):
        compensation.set_compensating_controls(acceptance, actor=analyst, controls=[(c211, None)])
    compensation.set_compensating_controls(
        acceptance, actor=approver, controls=[(c211, None)], measures="Org SCP.", note="why"
    )
    compensation.set_compensating_controls(
        acceptance, actor=approver, controls=[(c211, setup["elsewhere"].resource)]
    )
    edits = list(acceptance.events.filter(action=AcceptanceEvent.Action.EDITED).order_by("pk"))
    assert edits[0].changes == {
        "compensating_controls": [[], ["2.1.1"]],
        "compensating_measures": ["", "Org SCP."],
    }
    assert edits[0].note == "why"
    label = f"2.1.1 on {setup['elsewhere'].resource.name}"
    assert edits[1].changes == {"compensating_controls": [["2.1.1"], [label]]}
    # The named finding fails: suspended at once, its coverage gone.
    acceptance.refresh_from_db()
    assert acceptance.state == "suspended"
    assert not acceptance.covered_findings.exists()
    # Naming a passing one instead resumes it.
    compensation.set_compensating_controls(
        acceptance, actor=approver, controls=[(c211, setup["bucket"].resource)]
    )
    acceptance.refresh_from_db()
    assert acceptance.state == "active" and acceptance.covered_findings.count() == 1
    decisions = acceptance.events.exclude(action=AcceptanceEvent.Action.COVERAGE)
    assert [e.action for e in decisions.order_by("pk")][-3:] == [
        "suspended",
        "edited",
        "resumed",
    ]


@pytest.mark.parametrize(
    ("named", "message"),
    [
        (lambda s: [(s["c212"], None)], "accepted control itself"),
        (lambda s: [(s["c211"], s["unrelated"].resource)], "not evaluated on"),
        # No check of this test catalog evaluates 5.6.
        (lambda s: [(s["c56"], None)], "not checked by any scan"),
        (lambda s: [(s["c211"], None), (s["c211"], None)], "named twice"),
    ],
)
def test_bad_compensating_controls_are_refused(setup, approver, named, message):
    with pytest.raises(ValidationError) as refused:
        compensation.set_compensating_controls(
            setup["acceptance"], actor=approver, controls=named(setup)
        )
    assert message in str(refused.value.message_dict["compensating_controls"])
    assert not setup["acceptance"].compensating_controls.exists()


def test_an_ended_acceptance_cannot_name_them(setup, approver):
    services.revoke_acceptance(setup["acceptance"], actor=approver)
    with pytest.raises(ValidationError) as refused:
        compensation.set_compensating_controls(
            setup["acceptance"], actor=approver, controls=[(setup["c211"], None)]
        )
    assert "state" in refused.value.message_dict


def test_the_baseline_is_taken_at_approval_not_at_proposal(
    catalog, make_account, make_finding, analyst, approver, settings
):
    settings.CSPM_REQUIRE_APPROVAL = True
    finding = make_finding(account=make_account(), control_ref="2.1.2")
    acceptance = services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="2.1.2"),
        resource=finding.resource,
        owner=analyst,
        reason="risk_owned",
        justification="Versioning covers mistakes.",
    )
    assert not ReviewBaseline.objects.filter(acceptance=acceptance).exists()
    services.approve_acceptance(acceptance, actor=approver)
    assert ReviewBaseline.objects.get(acceptance=acceptance).finding == finding


def test_a_zone_scoped_acceptance_keeps_its_zone_size(
    catalog, make_account, make_finding, analyst, approver
):
    account = make_account()
    for _ in range(3):
        make_finding(account=account, control_ref="2.1.2", tags={"Env": "prod"})
    make_finding(account=account, control_ref="2.1.2", tags={"Env": "dev"})
    zone = services.save_zone(actor=approver, name="prod", rules={"tags": ["Env=prod"]})
    acceptance = services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="2.1.2"),
        zone=zone,
        owner=analyst,
        reason="risk_owned",
        justification="Versioning covers mistakes.",
    )
    assert acceptance.baseline_zone_size == 3
    assert not ReviewBaseline.objects.filter(acceptance=acceptance).exists()


def test_approving_with_a_failing_compensating_control_suspends_at_once(
    setup, catalog, make_account, make_finding, analyst, approver, settings
):
    settings.CSPM_REQUIRE_APPROVAL = True
    finding = make_finding(account=make_account(), control_ref="2.1.2")
    acceptance = services.accept_risk(
        actor=analyst,
        control=setup["c212"],
        resource=finding.resource,
        owner=analyst,
        reason="mitigated",
        justification="Compensated by the bucket policy elsewhere.",
        compensating_controls=[(setup["c211"], setup["elsewhere"].resource)],
    )
    assert acceptance.state == "proposed"
    proposed = acceptance.events.get(action="proposed")
    assert proposed.changes["compensating_controls"] == [
        None,
        [f"2.1.1 on {setup['elsewhere'].resource.name}"],
    ]
    services.approve_acceptance(acceptance, actor=approver)
    acceptance.refresh_from_db()
    assert acceptance.state == "suspended"
    assert not acceptance.covered_findings.exists()
    # The baseline is kept all the same: it resumes as decided.
    assert acceptance.review_baselines.count() == 1


@pytest.mark.parametrize("where", ["everywhere", "on the bucket"])
def test_the_database_refuses_a_control_named_twice(setup, where):
    """On SQLite as on PostgreSQL: the constraints hold even for a write that skips the service
    (a control named for everywhere has no resource, which a plain unique key lets repeat)."""
    from django.db import IntegrityError, transaction

    from acceptances.models import CompensatingControl

    resource = setup["bucket"].resource if where == "on the bucket" else None
    CompensatingControl.objects.create(
        acceptance=setup["acceptance"], control=setup["c211"], resource=resource
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        CompensatingControl.objects.create(
            acceptance=setup["acceptance"], control=setup["c211"], resource=resource
        )
