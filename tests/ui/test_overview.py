"""The posture overview: counts per control, filters carried in the URL, refusals."""

from __future__ import annotations

import pytest
from django.urls import reverse

from acceptances import services

pytestmark = pytest.mark.django_db


def row(response, ref: str):
    return next(r for r in response.context["all_rows"] if r.control.ref == ref)


def test_it_counts_failing_accepted_and_passing_resources_per_control(login, viewer, estate):
    response = login(viewer).get(reverse("home"))
    assert response.status_code == 200
    mfa = row(response, "2.1.2")
    assert (mfa.failing, mfa.accepted, mfa.passing) == (3, 0, 1)
    assert response.context["totals"].failing == 4
    assert b'data-control="2.1.2"' in response.content


def test_an_acceptance_moves_counts_from_failing_to_accepted_at_once(
    login, viewer, analyst, estate, catalog
):
    client = login(viewer)
    client.get(reverse("home"))  # counts now cached
    services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="2.1.2"),
        zone=estate.prod,
        owner=analyst,
        reason="risk_owned",
        justification="Images are public by design.",
    )
    mfa = row(client.get(reverse("home")), "2.1.2")
    assert (mfa.failing, mfa.accepted, mfa.passing) == (1, 2, 1)


def test_it_filters_by_zone_account_and_region(login, viewer, estate):
    client = login(viewer)
    in_zone = row(client.get(reverse("home"), {"zone": estate.prod.pk}), "2.1.2")
    assert (in_zone.failing, in_zone.passing) == (2, 0)
    other = client.get(reverse("home"), {"account": estate.other_account.pk})
    assert row(other, "2.1.2").evaluated == 0
    assert row(other, "5.6").failing == 1
    # Only regions scans have seen are offered; an unknown one is reported, not a crash.
    response = client.get(reverse("home"), {"region": "mars-north-1"})
    assert response.status_code == 200
    assert "region" in response.context["form"].errors


def test_it_filters_rows_by_severity_and_status(login, viewer, estate, catalog):
    client = login(viewer)
    failing = client.get(reverse("home"), {"status": "fail"}).context["rows"]
    # 2.1.2 fails its checks too, but the benchmark makes it manual: it shows as "manual".
    assert {r.control.ref for r in failing} == {"5.6"}
    severity = catalog.controls.get(ref="5.6").severity
    rows = client.get(reverse("home"), {"severity": severity}).context["rows"]
    assert rows and all(r.control.severity == severity for r in rows)


def test_the_overview_needs_a_login_and_a_role(client, outsider, estate):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(outsider)
    assert client.get(reverse("home")).status_code == 403


def test_a_resource_counts_once_for_a_control_decided_by_several_checks(
    login, viewer, catalog, make_account, make_finding, analyst
):
    account = make_account()
    both_fail = make_finding(account=account, name="a", check_id="first_check_2_1_2")
    make_finding(account=account, resource=both_fail.resource, check_id="second_check_2_1_2")
    one_fails = make_finding(account=account, name="b", check_id="first_check_2_1_2", status="pass")
    make_finding(account=account, resource=one_fails.resource, check_id="second_check_2_1_2")
    passes = make_finding(account=account, name="c", check_id="first_check_2_1_2", status="pass")
    make_finding(
        account=account, resource=passes.resource, check_id="second_check_2_1_2", status="pass"
    )
    services.accept_risk(
        actor=analyst,
        control=catalog.controls.get(ref="2.1.2"),
        resource=both_fail.resource,
        owner=analyst,
        reason="risk_owned",
        justification="Known.",
    )
    mfa = row(login(viewer).get(reverse("home")), "2.1.2")
    # a: both failures accepted; b: one open failure; c: passes both.
    assert (mfa.failing, mfa.accepted, mfa.passing) == (1, 1, 1)


def test_a_view_waits_for_counts_another_process_is_computing(viewer, login, estate, catalog):
    """Right after a change, one process counts; a second view takes its result rather than
    counting the same findings again."""
    import threading

    from django.core.cache import cache

    from findings import queries

    key = queries.posture_cache_key(catalog, queries.PostureScope())
    control = catalog.controls.get(ref="2.1.2")
    # Someone else claimed the count and delivers a result the database would not give.
    assert cache.add(f"{key}:counting", 1)
    delivered = {control.pk: (7, 7, 7)}
    threading.Timer(0.3, lambda: cache.set(key, delivered)).start()
    mfa = row(login(viewer).get(reverse("home")), "2.1.2")
    assert (mfa.failing, mfa.accepted, mfa.passing) == (7, 7, 7)


def test_a_view_counts_by_itself_when_the_other_counter_gave_up(viewer, login, estate, catalog):
    import threading

    from django.core.cache import cache

    from findings import queries

    key = queries.posture_cache_key(catalog, queries.PostureScope())
    assert cache.add(f"{key}:counting", 1)
    threading.Timer(0.3, lambda: cache.delete(f"{key}:counting")).start()
    mfa = row(login(viewer).get(reverse("home")), "2.1.2")
    assert (mfa.failing, mfa.accepted, mfa.passing) == (3, 0, 1)
