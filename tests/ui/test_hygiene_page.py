"""The exception hygiene page: every number right on an estate built through the services
(states the services of other branches set are set directly), every number's link listing
exactly the rows it counted, the waiting lists longest first; viewers read it, outsiders and
anonymous visitors may not."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.test import Client

from acceptances import services
from acceptances.models import AcceptanceChange, AcceptanceEvent, RiskAcceptance
from findings.models import Resource

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


def ago(days: int) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def during(days: int):
    return time_machine.travel(ago(days), tick=False)


class Figures(HTMLParser):
    """The page's numbers (``data-number``: link and text) and ages (``data-age``: text)."""

    def __init__(self) -> None:
        super().__init__()
        self.numbers: dict[str, tuple[str, str]] = {}
        self.ages: dict[str, str] = {}
        self._open: tuple[str, str, str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-number" in attrs:
            self._open = ("number", attrs["data-number"], attrs.get("href", ""))
        elif "data-age" in attrs:
            self._open = ("age", attrs["data-age"], "")

    def handle_data(self, data):
        if self._open is None:
            return
        kind, name, href = self._open
        if kind == "number":
            self.numbers[name] = (href, data.strip())
        else:
            self.ages[name] = data.strip()
        self._open = None


@pytest.fixture
def built(settings, catalog, make_account, make_finding, approver, approver2, analyst):
    """One acceptance (or two) for each number, each on its own bucket; returns them by name."""
    account = make_account(name="web")
    control = catalog.controls.get(ref="2.1.2")
    made: dict[str, RiskAcceptance] = {}

    def bucket(name: str, **tags: str) -> Resource:
        return make_finding(account=account, name=name, tags=tags, now=ago(500)).resource

    def accept(name: str, days: int, *, actor=approver, four_eyes=False, **terms):
        settings.CSPM_REQUIRE_APPROVAL = four_eyes
        if "zone" not in terms:
            terms["resource"] = bucket(name)
        terms.setdefault("expires_at", NOW + dt.timedelta(days=60))
        with during(days):
            made[name] = services.accept_risk(
                actor=actor,
                control=control,
                owner=actor,
                reason="risk_owned",
                justification=f"Acceptance {name}.",
                **terms,
            )
        return made[name]

    def refused(approve, target, actor, days: int) -> None:
        with during(days), pytest.raises(PermissionDenied):
            approve(target, actor=actor)

    # No end: one over a year old (its periodic review is due), one recent, one revoked.
    accept("old_never", 400, expires_at=None)
    accept("never", 10, expires_at=None)
    revoked = accept("revoked_never", 20, expires_at=None)
    with during(19):
        services.revoke_acceptance(revoked, actor=approver2)
    # Proposals waiting 30 and 10 days.
    accept("waiting_30", 30, actor=analyst, four_eyes=True)
    accept("waiting_10", 10, actor=analyst, four_eyes=True)
    # Proposals decided: approved after 2 days (in the window), revoked after 10 (before it);
    # each after its creator's own approval was refused.
    quick = accept("approved", 50, four_eyes=True)
    refused(services.approve_acceptance, quick, approver, 49)
    with during(48):
        services.approve_acceptance(quick, actor=approver2)
    slow = accept("rejected", 200, four_eyes=True)
    refused(services.approve_acceptance, slow, approver, 199)
    with during(190):
        services.revoke_acceptance(slow, actor=approver2)
    # Renewed twice: a change rejected after 4 days (before the window), expired, renewed at
    # once, expired, renewed through a change approved after 2 days (its proposer refused).
    twice = accept("renewed_twice", 100, expires_at=ago(90))
    settings.CSPM_REQUIRE_APPROVAL = True
    with during(99):
        services.update_acceptance(twice, actor=approver, justification="Wider wording.")
    with during(95):
        services.reject_acceptance_change(
            AcceptanceChange.objects.get(acceptance=twice), actor=approver2
        )
    settings.CSPM_REQUIRE_APPROVAL = False
    with during(89):
        services.expire_due_acceptances(ago(89))
    with during(80):
        services.update_acceptance(twice, actor=approver, expires_at=ago(70))
    with during(69):
        services.expire_due_acceptances(ago(69))
    settings.CSPM_REQUIRE_APPROVAL = True
    with during(60):
        services.update_acceptance(twice, actor=approver, expires_at=NOW + dt.timedelta(days=60))
    change = AcceptanceChange.objects.get(acceptance=twice, state="pending")
    refused(services.approve_acceptance_change, change, approver, 59)
    with during(58):
        services.approve_acceptance_change(change, actor=approver2)
    settings.CSPM_REQUIRE_APPROVAL = False
    once = accept("renewed_once", 40, expires_at=ago(35))
    with during(34):
        services.expire_due_acceptances(ago(34))
    with during(30):
        services.update_acceptance(once, actor=approver, expires_at=NOW + dt.timedelta(days=60))
    # Resources gone: a bucket deleted; a zone whose only resource was deleted. A zone that
    # still holds a resource does not count.
    gone = accept("resource_gone", 20)
    Resource.objects.filter(pk=gone.resource_id).update(gone_at=ago(5))
    bucket("old-bucket", Environment="old")
    old = services.save_zone(actor=approver, name="old", rules={"tags": ["Environment=old"]})
    accept("zone_gone", 20, zone=old)
    Resource.objects.filter(name="old-bucket").update(gone_at=ago(5))
    bucket("web-bucket", Environment="web")
    web = services.save_zone(actor=approver, name="web", rules={"tags": ["Environment=web"]})
    accept("zone_alive", 20, zone=web)
    # Set directly: the services that suspend, ask for sign-off and flag for re-review are
    # built elsewhere.
    RiskAcceptance.objects.filter(pk=accept("suspended", 20).pk).update(
        state="suspended", suspended_at=ago(3)
    )
    for name, days in (("signoff_15", 15), ("signoff_5", 5)):
        RiskAcceptance.objects.filter(pk=accept(name, days).pk).update(
            state="awaiting_owner", owner_signed_off_at=None
        )
    for name, flagged in (("flagged_20", 20), ("flagged_3", 3)):
        RiskAcceptance.objects.filter(pk=accept(name, 30).pk).update(review_flagged_at=ago(flagged))
    return made


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _page(client: Client) -> Figures:
    with time_machine.travel(NOW, tick=False):
        response = client.get("/hygiene/")
    assert response.status_code == 200
    figures = Figures()
    figures.feed(response.content.decode())
    return figures


def _listed(client: Client, url: str) -> list[int]:
    with time_machine.travel(NOW, tick=False):
        response = client.get(url)
    assert response.status_code == 200, url
    text = response.content.decode()
    return [int(pk) for pk in re.findall(r'data-(?:acceptance|event)="(\d+)"', text)]


EXPECTED = {
    "no_end": {"old_never", "never"},
    "review_overdue": {"flagged_20"},
    "review_due": {"old_never"},
    "awaiting_approval": {"waiting_30", "waiting_10"},
    "awaiting_signoff": {"signoff_15", "signoff_5"},
    "suspended": {"suspended"},
    "resources_gone": {"resource_gone", "zone_gone"},
    "renewed": {"renewed_twice", "renewed_once"},
    "renewed_often": {"renewed_twice"},
    "decided_recently": {"approved"},
    "decided": {"approved", "rejected"},
}


def test_each_number_counts_the_acceptances_it_names_and_links_to_exactly_them(built, viewer):
    client = _client(viewer)
    figures = _page(client)
    for name, names in EXPECTED.items():
        href, text = figures.numbers[name]
        assert int(text) == len(names), name
        assert set(_listed(client, href)) == {built[n].pk for n in names}, name


def test_waiting_lists_show_the_longest_waiting_first_with_their_ages(built, viewer):
    client = _client(viewer)
    figures = _page(client)
    assert _listed(client, figures.numbers["awaiting_approval"][0]) == [
        built["waiting_30"].pk,
        built["waiting_10"].pk,
    ]
    assert _listed(client, figures.numbers["awaiting_signoff"][0]) == [
        built["signoff_15"].pk,
        built["signoff_5"].pk,
    ]
    assert figures.ages["awaiting_approval-oldest"] == "30 days"
    assert figures.ages["awaiting_approval-median"] == "20 days"
    assert figures.ages["awaiting_signoff-oldest"] == "15 days"
    assert figures.ages["awaiting_signoff-median"] == "10 days"


def test_median_times_to_decision_in_the_window_and_all_time(built, viewer):
    figures = _page(_client(viewer))
    # Proposals: 2 days (approved, in the last 90 days) and 10 days (revoked, before).
    assert figures.ages["proposals-recent"] == "2 days"
    assert figures.ages["proposals-all"] == "6 days"
    # Proposed changes: approved after 2 days (in the window), rejected after 4 (before).
    assert figures.ages["changes-recent"] == "2 days"
    assert figures.ages["changes-all"] == "3 days"


def test_change_decisions_and_refusals_link_to_exactly_their_events(built, viewer):
    client = _client(viewer)
    figures = _page(client)
    events = AcceptanceEvent.objects
    decided = events.filter(action__in=["change_approved", "change_rejected"])
    refused = events.filter(action="approval_refused")
    expected = {
        "changes_recent": decided.filter(action="change_approved"),
        "changes_all": decided,
        "refused_recent": refused.exclude(acceptance=built["rejected"]),
        "refused_all": refused,
    }
    assert refused.count() == 3
    for name, rows in expected.items():
        href, text = figures.numbers[name]
        assert int(text) == rows.count(), name
        assert set(_listed(client, href)) == set(rows.values_list("pk", flat=True)), name


def test_an_empty_estate_shows_zeros_and_no_medians(db, viewer):
    figures = _page(_client(viewer))
    assert {text for _, text in figures.numbers.values()} == {"0"}
    assert set(figures.ages.values()) == {"–"}


def test_viewers_read_it_from_the_main_navigation_and_others_may_not(db, viewer, outsider):
    home = _client(viewer).get("/acceptances/").content.decode()
    assert 'href="/hygiene/"' in home
    assert Client().get("/hygiene/").status_code == 302
    assert _client(outsider).get("/hygiene/").status_code == 403


def test_an_unknown_hygiene_filter_is_refused_beside_the_field(db, viewer):
    response = _client(viewer).get("/acceptances/", {"hygiene": "nonsense"})
    assert "Select a valid choice" in response.content.decode()
