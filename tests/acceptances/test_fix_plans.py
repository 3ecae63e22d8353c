"""Fix plans: the decision to remove a risk source, tracked. Planned with clear errors, shown
where the finding is, flagged and mailed when overdue, closed by the scan that sees the fix."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from acceptances import services, tasks
from acceptances.models import FixPlan, Zone
from findings.models import Finding
from simulation.account import client as aws_client

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 30)
NOON = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


def _as(user) -> Client:
    web = Client()
    web.force_login(user)
    return web


@pytest.fixture
def finding(make_account, make_finding) -> Finding:
    return make_finding(account=make_account(), control_ref="2.1.2", name="story-images")


def _form(finding: Finding, **values) -> dict:
    control = finding.control_check.controls.get()
    return {
        "control": control.pk,
        "resource": finding.resource_id,
        "owner": values.pop("owner"),
        "due_on": "2026-12-15",
        "ticket_url": "",
        "note": "",
        **values,
    }


@time_machine.travel(NOON, tick=False)
def test_a_plan_with_a_bad_ticket_url_and_a_past_due_date_is_refused_naming_both_fields(
    finding, analyst
):
    response = _as(analyst).post(
        reverse("fix-plan-new"),
        _form(finding, owner=analyst.pk, due_on="2026-11-29", ticket_url="javascript:alert(1)"),
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "past" in errors["due_on"][0]
    assert "https://" in errors["ticket_url"][0]
    assert not FixPlan.objects.exists()
    # An ftp address is no ticket link either.
    response = _as(analyst).post(
        reverse("fix-plan-new"), _form(finding, owner=analyst.pk, ticket_url="ftp://x.example/1")
    )
    assert "ticket_url" in response.context["form"].errors


@time_machine.travel(NOON, tick=False)
def test_an_analyst_plans_a_fix_shown_on_the_control_and_resource_pages(finding, analyst, viewer):
    control = finding.control_check.controls.get()
    assert (
        "Plan a fix"
        in _as(analyst).get(reverse("resource-detail", args=[finding.resource_id])).content.decode()
    )
    response = _as(analyst).post(
        reverse("fix-plan-new"),
        _form(finding, owner=analyst.pk, ticket_url="https://jira.example.com/browse/SEC-1"),
    )
    assert response.status_code == 302
    plan = FixPlan.objects.get()
    assert (plan.state, plan.due_on, plan.resource_id) == (
        "open",
        dt.date(2026, 12, 15),
        finding.resource_id,
    )
    assert plan.events.get().action == "planned"
    reader = _as(viewer)
    control_page = reader.get(reverse("control-detail", args=[control.pk])).content.decode()
    assert "fix planned until 2026-12-15" in control_page
    resource_page = reader.get(
        reverse("resource-detail", args=[finding.resource_id])
    ).content.decode()
    assert "fix planned until 2026-12-15" in resource_page
    assert "overdue" not in resource_page
    assert "SEC-1" in reader.get(reverse("fix-plan-list")).content.decode()
    # A zone plan from the control page's "Plan a fix in a zone…".
    assert (
        "Plan a fix in a zone"
        in _as(analyst).get(reverse("control-detail", args=[control.pk])).content.decode()
    )
    everywhere = Zone.objects.get(is_builtin=True)
    form = _form(finding, owner=analyst.pk, zone=everywhere.pk, due_on="2026-12-31")
    form["resource"] = ""
    assert _as(analyst).post(reverse("fix-plan-new"), form).status_code == 302
    assert FixPlan.objects.get(zone=everywhere).due_on == dt.date(2026, 12, 31)
    # One open plan per finding.
    again = _as(analyst).post(reverse("fix-plan-new"), _form(finding, owner=analyst.pk))
    assert again.status_code == 400 and "open fix plan" in again.content.decode()


@time_machine.travel(NOON, tick=False)
def test_viewers_may_not_plan_and_only_the_planner_owner_or_an_approver_cancels(
    finding, analyst, viewer, outsider, approver, make_account
):
    assert _as(viewer).get(reverse("fix-plan-new"), {"control": 1}).status_code == 403
    assert _as(outsider).get(reverse("fix-plan-list")).status_code == 403
    control = finding.control_check.controls.get()
    with pytest.raises(PermissionDenied):
        services.plan_fix(
            actor=viewer, control=control, resource=finding.resource, owner=viewer, due_on=TODAY
        )
    plan = services.plan_fix(
        actor=approver, control=control, resource=finding.resource, owner=approver, due_on=TODAY
    )
    with pytest.raises(PermissionDenied):
        services.cancel_fix_plan(actor=analyst, plan=plan)
    _as(approver).post(reverse("fix-plan-cancel", args=[plan.pk]))
    plan.refresh_from_db()
    assert plan.state == "cancelled" and [e.action for e in plan.events.all()] == [
        "planned",
        "cancelled",
    ]


def test_an_overdue_plan_is_flagged_on_the_overview_and_mailed_once_over_smtp(
    finding, analyst, approver, viewer, smtp_server, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://cspm.example.com"
    control = finding.control_check.controls.get()
    with time_machine.travel(NOON, tick=False):
        services.plan_fix(
            actor=analyst,
            control=control,
            resource=finding.resource,
            owner=approver,
            due_on=dt.date(2026, 12, 1),
            ticket_url="https://jira.example.com/browse/SEC-7",
        )
        assert "overdue-plans" not in _as(viewer).get(reverse("home")).content.decode()
    later = NOON + dt.timedelta(days=3)
    with time_machine.travel(later, tick=False):
        page = _as(viewer).get(reverse("home")).content.decode()
        assert 'data-testid="overdue-plans"' in page and "due 2026-12-01" in page
        with django_capture_on_commit_callbacks(execute=True):
            tasks.send_expiry_reminders()
        with django_capture_on_commit_callbacks(execute=True):
            tasks.send_expiry_reminders()  # the next hourly run: nothing new to say
    # Owner and planner, once each.
    assert sorted(m.rcpt_tos for m in smtp_server.messages) == sorted(
        [(approver.email,), (analyst.email,)]
    )
    message = smtp_server.to(approver.email)[0]
    assert "overdue by 2 days" in message.subject and control.ref in message.subject
    assert "SEC-7" in message.text and "SEC-7" in message.html
    assert "https://cspm.example.com/fix-plans/" in message.text


def test_a_scan_that_sees_the_finding_pass_closes_the_plans(
    story_account, story, scan_now, analyst, catalog, aws
):
    scan_now(story_account)
    instance = Finding.objects.get(
        control_check__check_id="ec2_instance_imdsv2_required",
        resource__arn__endswith=story.instance_id,
    )
    control = catalog.controls.get(ref="5.6")
    today = timezone.localdate()
    own = services.plan_fix(
        actor=analyst, control=control, resource=instance.resource, owner=analyst, due_on=today
    )
    everywhere = Zone.objects.get(is_builtin=True)
    zone_plan = services.plan_fix(
        actor=analyst, control=control, zone=everywhere, owner=analyst, due_on=today
    )
    scan_now(story_account)  # still failing: both stay open
    assert set(FixPlan.objects.values_list("state", flat=True)) == {"open"}
    aws_client(aws, "ec2").modify_instance_metadata_options(
        InstanceId=story.instance_id, HttpTokens="required", HttpEndpoint="enabled"
    )
    scan = scan_now(story_account)
    own.refresh_from_db()
    zone_plan.refresh_from_db()
    assert own.state == "done" and own.closed_by_scan_id == scan.pk
    assert [e.action for e in own.events.all()] == ["planned", "done"]
    # The instance was the story's only failure of 5.6: the zone plan is done too.
    assert not Finding.objects.filter(
        control_check__controls=control, status="fail", resolved_at__isnull=True
    ).exists()
    assert zone_plan.state == "done" and zone_plan.closed_by_scan_id == scan.pk
