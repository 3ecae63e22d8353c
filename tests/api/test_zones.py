"""Zones: every role reads them; approvers define and change them; a preview saves nothing."""

from __future__ import annotations

import pytest

from acceptances.models import Zone

pytestmark = pytest.mark.django_db

URL = "/api/v1/zones/"


def test_zones_list_with_member_counts(api, viewer, estate):
    rows = {z["name"]: z for z in api(viewer).get(URL).json()["results"]}
    assert rows["Entire infrastructure"]["is_builtin"] is True
    assert rows["Entire infrastructure"]["member_count"] == 3
    assert rows["prod"]["member_count"] == 1 and rows["prod"]["rules"] == {"tags": ["Env=prod"]}
    one = api(viewer).get(f"{URL}{estate['zone'].pk}/").json()
    assert one["member_count"] == 1
    assert api(viewer).get(f"{URL}?name=pro").json()["count"] == 1


def test_an_approver_defines_a_zone_and_its_membership_follows(api, approver, estate):
    response = api(approver).post(
        URL, {"name": "dev", "description": "Dev", "rules": {"tags": ["Env=dev"]}}
    )
    assert response.status_code == 201, response.json()
    assert response.json()["member_count"] == 1
    zone = Zone.objects.get(name="dev")
    assert list(zone.resources.all()) == [estate["other"].resource]


def test_defining_a_zone_names_each_bad_field(api, approver, estate):
    response = api(approver).post(URL, {"name": "", "rules": {"regions": ["mars"], "x": []}})
    assert response.status_code == 400
    assert set(response.json()) == {"name"}
    response = api(approver).post(URL, {"name": "ok", "rules": {"regions": ["mars"], "x": []}})
    assert response.status_code == 400 and len(response.json()["rules"]) == 2
    response = api(approver).post(URL, {"name": "PROD"})
    assert response.json() == {"name": ["A zone named 'PROD' already exists."]}
    response = api(approver).post(URL, {"name": "list", "rules": ["regions"]})
    assert response.status_code == 400 and "rules" in response.json()


def test_an_approver_changes_a_zone_but_not_the_builtin_one(api, approver, estate):
    zone = estate["zone"]
    response = api(approver).patch(f"{URL}{zone.pk}/", {"rules": {"tags": ["Env in (prod, dev)"]}})
    assert response.status_code == 200 and response.json()["member_count"] == 2
    assert response.json()["name"] == "prod"
    builtin = Zone.objects.get(is_builtin=True)
    response = api(approver).patch(f"{URL}{builtin.pk}/", {"name": "all"})
    assert response.status_code == 400 and "rules" in response.json()


@pytest.mark.parametrize("persona", ["viewer", "analyst"])
def test_other_roles_may_not_define_or_change_zones(api, request, persona, estate):
    user = request.getfixturevalue(persona)
    assert api(user).post(URL, {"name": "mine"}).status_code == 403
    assert api(user).patch(f"{URL}{estate['zone'].pk}/", {"name": "x"}).status_code == 403
    assert not Zone.objects.filter(name__in=["mine", "x"]).exists()


def test_the_preview_counts_and_samples_matches_without_saving(api, viewer, estate):
    zones = Zone.objects.count()
    response = api(viewer).post(f"{URL}preview/", {"rules": {"tags": ["Env"]}})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert {r["id"] for r in body["sample"]} == {
        estate["failing"].resource_id,
        estate["other"].resource_id,
    }
    assert Zone.objects.count() == zones


def test_the_preview_names_bad_rules_and_refuses_outsiders(api, viewer, outsider, estate):
    response = api(viewer).post(f"{URL}preview/", {"rules": {"tags": ["a in ()"]}})
    assert response.status_code == 400 and "rules" in response.json()
    assert api(viewer).post(f"{URL}preview/", {}).json() == {"rules": ["This field is required."]}
    assert api(outsider).post(f"{URL}preview/", {"rules": {}}).status_code == 403


def test_zones_cannot_be_deleted(api, admin_user, estate):
    assert api(admin_user).delete(f"{URL}{estate['zone'].pk}/").status_code == 405


def _preview(client, rules):
    return client.post(f"{URL}preview/", {"rules": rules})


def test_the_preview_excludes_resources_of_other_accounts_and_types(
    api, viewer, estate, make_account, make_finding
):
    stranger = make_finding(account=make_account(), resource_type="AWS::EC2::Instance")
    client = api(viewer)
    own = estate["account"].account_id
    body = _preview(client, {"account_ids": [own]}).json()
    assert body["count"] == 3 and stranger.resource_id not in {r["id"] for r in body["sample"]}
    assert _preview(client, {"account_ids": ["999999999999"]}).json()["count"] == 0
    body = _preview(client, {"resource_types": ["AWS::EC2::Instance"]}).json()
    assert [r["id"] for r in body["sample"]] == [stranger.resource_id]
    assert _preview(client, {"resource_types": ["AWS::IAM::User"]}).json()["count"] == 0


def test_the_preview_counts_untagged_resources_as_not_prod(api, viewer, estate):
    body = _preview(api(viewer), {"tags": ["Env != prod"]}).json()
    assert body["count"] == 2
    assert {r["id"] for r in body["sample"]} == {
        estate["passing"].resource_id,
        estate["other"].resource_id,
    }


def test_quoted_values_and_the_canonical_text_round_trip(api, approver, estate):
    client = api(approver)
    response = client.post(
        URL, {"name": "odd", "rules": {"tags": ['Name = "a (b)"', "Env!=prod", "Team in (x,y)"]}}
    )
    assert response.status_code == 201, response.json()
    assert response.json()["rules"] == {"tags": ['Name="a (b)"', "Env != prod", "Team in (x, y)"]}


@pytest.mark.parametrize(
    "rules,message",
    [
        ({"tags": ["Env"] * 10_000}, "tags: at most 50 per zone (got 10000)"),
        ({"tags": ["a" + " " * 24_000 + "!"]}, "a tag rule is at most 1000 characters"),
        ({"regions": ["eu-west-1"] * 501}, "regions: at most 500 per zone (got 501)"),
        ({"tags": ["Team in web"]}, "write a list as key in (a, b)"),
        ({"account_ids": ["12345678901"]}, "'12345678901' is not a 12-digit AWS account id"),
        ({"account_ids": ["1234567890123"]}, "'1234567890123' is not a 12-digit AWS account id"),
    ],
)
def test_rules_beyond_the_limits_are_refused_naming_the_limit(
    api, viewer, approver, estate, rules, message
):
    for response in (
        _preview(api(viewer), rules),
        api(approver).post(URL, {"name": "too much", "rules": rules}),
    ):
        assert response.status_code == 400
        assert message in " ".join(response.json()["rules"])
    assert not Zone.objects.filter(name="too much").exists()


def test_watching_and_unwatching_a_zone_through_the_api(api, viewer, outsider, estate):
    from acceptances.models import ZoneWatch

    zone = estate["zone"]
    url = f"{URL}{zone.pk}/watch/"
    client = api(viewer)
    response = client.post(url, {"min_severity": "high"})
    assert response.status_code == 201, response.json()
    assert response.json()["user"] == "victor-viewer"
    assert response.json()["zone"] == zone.pk and response.json()["min_severity"] == "high"
    # Again: the same watch, its severity changed.
    response = client.post(url, {})
    assert response.status_code == 200 and response.json()["min_severity"] == ""
    assert ZoneWatch.objects.filter(zone=zone, user=viewer).count() == 1
    bad = client.post(url, {"min_severity": "loud"})
    assert bad.status_code == 400 and set(bad.json()) == {"min_severity"}

    assert client.delete(url).status_code == 204
    assert not ZoneWatch.objects.filter(zone=zone).exists()
    assert client.delete(url).status_code == 204  # not watching it: the same answer

    # Someone who may not read zones gets no such zone; nobody anonymous gets in.
    assert api(outsider).post(url, {}).status_code == 404
    assert api().post(url, {}).status_code in (401, 403)
    assert api(viewer).post(f"{URL}999999/watch/", {}).status_code == 404
    assert not ZoneWatch.objects.exists()


def test_a_user_without_an_email_cannot_watch(api, viewer, estate):
    viewer.email = ""
    viewer.save(update_fields=["email"])
    response = api(viewer).post(f"{URL}{estate['zone'].pk}/watch/", {})
    assert response.status_code == 400
    assert "no email address" in str(response.json())
