"""The zones page: define and edit rules with a live preview of the matched resources."""

from __future__ import annotations

import pytest
from django.urls import reverse

from acceptances.models import Zone

pytestmark = pytest.mark.django_db


def zone_post(**extra):
    return {
        "name": "web prod",
        "description": "",
        "account_ids": "",
        "regions": "",
        "resource_types": "AWS::S3::Bucket",
        "tags": "Environment=prod",
        **extra,
    }


def test_an_approver_defines_a_zone_and_its_membership_follows(login, approver, estate):
    response = login(approver).post(reverse("zone-new"), zone_post())
    assert response.status_code == 302
    zone = Zone.objects.get(name="web prod")
    assert zone.rules == {"resource_types": ["AWS::S3::Bucket"], "tags": ["Environment=prod"]}
    assert zone.memberships.count() == 2


def test_the_preview_counts_matches_as_rules_are_typed(login, viewer, estate):
    client = login(viewer)
    response = client.post(reverse("zone-preview"), zone_post(tags="Environment in (prod, dev)"))
    assert response.context["preview"]["count"] == 3
    response = client.post(reverse("zone-preview"), zone_post(regions="eu-west-1"))
    assert response.context["preview"]["count"] == 0
    bad = client.post(reverse("zone-preview"), zone_post(account_ids="12345"))
    assert bad.context["preview"]["beside"]["account_ids"]


def test_bad_rules_are_reported_beside_their_field(login, approver, estate):
    response = login(approver).post(reverse("zone-new"), zone_post(account_ids="12345", name="x"))
    assert response.status_code == 400
    assert "account_ids" in response.context["form"].errors
    assert not Zone.objects.filter(name="x").exists()
    duplicate = login(approver).post(reverse("zone-new"), zone_post(name="prod"))
    assert "name" in duplicate.context["form"].errors


def test_editing_rules_moves_resources_in_and_out(login, approver, estate):
    url = reverse("zone-edit", args=[estate.prod.pk])
    page = login(approver).get(url)
    assert page.context["form"].initial["tags"] == "Environment=prod"
    assert page.context["preview"]["count"] == 2
    response = login(approver).post(url, zone_post(name="prod", tags="Environment=dev"))
    assert response.status_code == 302
    assert [m.resource.name for m in estate.prod.memberships.all()] == ["scratch"]


def test_the_builtin_zone_cannot_be_edited(login, admin_user, estate):
    builtin = Zone.objects.get(is_builtin=True)
    client = login(admin_user)
    assert client.get(reverse("zone-edit", args=[builtin.pk])).context["can_edit"] is False
    response = client.post(reverse("zone-edit", args=[builtin.pk]), zone_post(name="all"))
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_viewers_and_analysts_see_zones_but_cannot_change_them(request, login, role, estate):
    client = login(request.getfixturevalue(role))
    assert client.get(reverse("zone-list")).status_code == 200
    assert client.get(reverse("zone-edit", args=[estate.prod.pk])).status_code == 200
    assert client.post(reverse("zone-new"), zone_post()).status_code == 403
    url = reverse("zone-edit", args=[estate.prod.pk])
    assert client.post(url, zone_post(name="prod", tags="")).status_code == 403
    estate.prod.refresh_from_db()
    assert estate.prod.rules == {"tags": ["Environment=prod"]}


def test_an_analyst_sees_a_zone_read_only_with_who_may_change_it(login, analyst, estate):
    client = login(analyst)
    for url in (reverse("zone-new"), reverse("zone-edit", args=[estate.prod.pk])):
        page = client.get(url)
        html = page.content.decode()
        assert "only approvers and admins may" in html
        # Every field is disabled and the Save button is there, disabled, pointing at the why.
        assert all(field.field.disabled for field in page.context["form"])
        assert '<textarea name="tags"' in html and "disabled" in html.split('name="tags"')[1][:120]
        assert (
            '<button type="submit" class="button primary" disabled aria-describedby="edit-hint">'
            in html
        )
    zones = client.get(reverse("zone-list")).content.decode()
    assert "disabled" in zones and "Only approvers and admins may define zones." in zones


def test_outsiders_see_no_zone(login, outsider, estate):
    client = login(outsider)
    assert client.get(reverse("zone-list")).status_code == 403
    assert client.post(reverse("zone-preview"), zone_post()).status_code == 403


def test_the_preview_leaves_out_other_accounts_and_types(login, viewer, estate):
    client = login(viewer)
    mine = zone_post(tags="", resource_types="", account_ids=estate.account.account_id)
    assert client.post(reverse("zone-preview"), mine).context["preview"]["count"] == 4
    none = zone_post(tags="", resource_types="", account_ids="999999999999")
    assert client.post(reverse("zone-preview"), none).context["preview"]["count"] == 0
    instances = zone_post(tags="", resource_types="AWS::EC2::Instance")
    sample = client.post(reverse("zone-preview"), instances).context["preview"]["sample"]
    assert [r.name for r in sample] == ["i-0abc"]


def test_not_prod_previews_the_untagged_resources_too(login, viewer, estate):
    page = login(viewer).post(reverse("zone-preview"), zone_post(tags="Environment != prod"))
    assert {r.name for r in page.context["preview"]["sample"]} == {"scratch", "ok-bucket"}


def test_the_help_text_says_what_each_rule_shape_matches(login, approver, estate):
    page = login(approver).get(reverse("zone-new")).content.decode()
    assert "<code>Env != prod</code> matches resources whose tag Env is anything else" in page
    assert "and resources without the tag" in page
    assert "<code>Team in (web, api)</code> matches" in page
    assert "<code>Owner</code> matches resources that have the tag Owner" in page
    assert "<code>Env=prod</code> matches" in page


@pytest.mark.parametrize(
    "tags,message",
    [
        ("\n".join(["Env"] * 51), "at most 50 per zone (got 51)"),
        ("a" + " " * 24_000 + "!", "a tag rule is at most 1000 characters"),
        ("Team in web", "write a list as key in (a, b)"),
    ],
)
def test_rules_beyond_the_limits_are_refused_beside_the_field(
    login, approver, estate, tags, message
):
    response = login(approver).post(reverse("zone-new"), zone_post(name="big", tags=tags))
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors["tags"])
    assert not Zone.objects.filter(name="big").exists()


def test_a_quoted_value_with_parentheses_is_matched(login, approver, estate, make_finding):
    make_finding(account=estate.account, name="odd", tags={"Name": "a (b)", "Team": "x, y"})
    response = login(approver).post(
        reverse("zone-new"),
        zone_post(name="odd", resource_types="", tags='Name = "a (b)"\nTeam in ("x, y", z)'),
    )
    assert response.status_code == 302
    zone = Zone.objects.get(name="odd")
    assert [m.resource.name for m in zone.memberships.all()] == ["odd"]
    assert zone.rules == {"tags": ['Name="a (b)"', 'Team in ("x, y", z)']}


def _rule_field(html: str, name: str) -> str:
    """The block of the zone form that holds one rule's field."""
    start = html.index(f'data-rule="{name}"')
    return html[start : html.index("</textarea>", start)]


def test_a_rule_error_shows_beside_its_field_as_it_is_typed_and_on_save(login, approver, estate):
    client = login(approver)
    # The live preview (no name typed yet) sends each rule's error to its own field's slot,
    # and empties the slots of the rules that are fine.
    live = client.post(
        reverse("zone-preview"), zone_post(name="", account_ids="12345", tags="Team in web")
    ).content.decode()
    assert (
        '<div class="rule-errors" id="id_account_ids_error" aria-live="polite" '
        'hx-swap-oob="true"><ul class="errorlist"><li>&#x27;12345&#x27; is not a 12-digit '
        "AWS account id</li></ul></div>"
    ) in live
    assert "write a list as key in (a, b)" in live.split('id="id_tags_error"')[1]
    assert (
        '<div class="rule-errors" id="id_regions_error" aria-live="polite" '
        'hx-swap-oob="true"></div>' in live
    )
    assert "Fix the rules marked beside their fields." in live
    # Saving places it in the same slot, between the field's label and its box.
    page = client.get(reverse("zone-new")).content.decode()
    assert 'id="id_account_ids_error"' in _rule_field(page, "account_ids")
    saved = client.post(reverse("zone-new"), zone_post(name="x", account_ids="12345"))
    block = _rule_field(saved.content.decode(), "account_ids")
    assert "is not a 12-digit AWS account id" in block
    assert 'aria-describedby="id_account_ids_helptext id_account_ids_error"' in block
    assert "12-digit" not in _rule_field(saved.content.decode(), "regions")


def test_the_zone_page_shows_its_posture_and_watchers(login, approver, viewer, estate):
    from acceptances import services

    images = estate.findings["images"]
    services.accept_risk(
        actor=approver,
        control=images.control_check.controls.get(),
        resource=images.resource,
        owner=approver,
        reason="risk_owned",
        justification="Public images only.",
        expires_at=None,
    )
    services.watch_zone(approver, estate.prod, actor=approver, min_severity="high")
    page = login(viewer).get(reverse("zone-edit", args=[estate.prod.pk]))
    text = page.content.decode()
    # Only the zone's two prod buckets count: one fails, one is accepted (the dev bucket's
    # failure and the other account's instance are outside it).
    assert page.context["totals"].failing == 1 and page.context["totals"].accepted == 1
    assert '<strong data-testid="zone-failing">1</strong>' in text
    assert '<strong data-testid="zone-accepted">1</strong>' in text
    assert f'href="/?zone={estate.prod.pk}"' in text
    watchers = text.split('data-testid="zone-watchers"')[1].split("</ul>")[0]
    assert "arthur-approver · from high" in watchers
    # The viewer watches it from the page and comes back to it.
    response = login(viewer).post(
        reverse("zone-watch", args=[estate.prod.pk]), {"min_severity": "", "back": "zone"}
    )
    assert response.status_code == 302 and response.url == reverse(
        "zone-edit", args=[estate.prod.pk]
    )
    text = login(viewer).get(reverse("zone-edit", args=[estate.prod.pk])).content.decode()
    assert "victor-viewer · every severity" in text
