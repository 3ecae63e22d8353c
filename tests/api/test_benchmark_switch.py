"""Benchmarks through the API and the pages: everyone reads which are enabled, only admins
switch them, and every benchmark picker offers enabled ones and refuses a disabled one
saying so."""

from __future__ import annotations

import pytest
from django.urls import reverse

from findings.models import Benchmark

pytestmark = pytest.mark.django_db


def _bench(version: str) -> Benchmark:
    return Benchmark.objects.get(slug="cis-aws-foundations", version=version)


def test_everyone_reads_which_benchmarks_are_enabled(api, viewer, catalog):
    Benchmark.objects.filter(version="3.0.0").update(enabled=False)
    body = api(viewer).get("/api/v1/benchmarks/").json()
    enabled = {(b["slug"], b["version"]): b["enabled"] for b in body["results"]}
    assert enabled == {(b.slug, b.version): b.version != "3.0.0" for b in Benchmark.objects.all()}
    assert enabled[("cis-aws-foundations", "3.0.0")] is False


def test_an_admin_disables_and_enables_a_benchmark(api, admin_user, catalog):
    client = api(admin_user)
    url = f"/api/v1/benchmarks/{_bench('3.0.0').pk}/"
    response = client.patch(url, {"enabled": False, "name": "renamed"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["enabled"] is False
    assert not _bench("3.0.0").enabled
    assert _bench("3.0.0").name == "CIS Amazon Web Services Foundations Benchmark"  # read only
    assert client.patch(url, {"enabled": True}, format="json").json()["enabled"] is True
    assert _bench("3.0.0").enabled


@pytest.mark.parametrize("persona", ["viewer", "analyst", "approver"])
def test_others_may_not_switch_a_benchmark(api, catalog, persona, request):
    user = request.getfixturevalue(persona)
    url = f"/api/v1/benchmarks/{_bench('3.0.0').pk}/"
    assert api(user).patch(url, {"enabled": False}, format="json").status_code == 403
    assert _bench("3.0.0").enabled


def test_the_last_enabled_benchmark_cannot_be_disabled(api, admin_user, catalog):
    Benchmark.objects.exclude(version="4.0.1").update(enabled=False)
    response = api(admin_user).patch(
        f"/api/v1/benchmarks/{_bench('4.0.1').pk}/", {"enabled": False}, format="json"
    )
    assert response.status_code == 400
    assert "only enabled benchmark" in response.content.decode()
    assert _bench("4.0.1").enabled


def test_api_benchmark_parameters_refuse_a_disabled_benchmark(api, viewer, estate):
    disabled = _bench("3.0.0")
    Benchmark.objects.filter(pk=disabled.pk).update(enabled=False)
    client = api(viewer)
    for url in ("/api/v1/posture/", "/api/v1/posture/zones/", "/api/v1/findings/"):
        response = client.get(url, {"benchmark": disabled.pk})
        assert response.status_code == 400, url
        message = " ".join(response.json()["benchmark"])
        assert "is disabled" in message and "cis-aws-foundations@3.0.0" in message
    enabled = _bench("4.0.1")
    assert client.get("/api/v1/posture/", {"benchmark": enabled.pk}).status_code == 200
    assert client.get("/api/v1/findings/", {"benchmark": enabled.pk}).status_code == 200


def test_page_pickers_offer_enabled_benchmarks_and_refuse_a_disabled_one(client, viewer, estate):
    disabled = _bench("3.0.0")
    Benchmark.objects.filter(pk=disabled.pk).update(enabled=False)
    client.force_login(viewer)
    for name in ("home", "finding-list"):
        response = client.get(reverse(name))
        offered = {str(pk) for pk, _ in response.context["form"].fields["benchmark"].choices if pk}
        everything_else = Benchmark.objects.exclude(pk=disabled.pk)
        assert offered == {str(b.pk) for b in everything_else}, name
        response = client.get(reverse(name), {"benchmark": disabled.pk})
        # The overview shows the default benchmark beside the error; a list never ignores a
        # filter (400 with the field marked).
        assert response.status_code == (200 if name == "home" else 400)
        assert "is disabled" in response.content.decode(), name
    export = client.get(reverse("finding-export"), {"benchmark": disabled.pk})
    assert export.status_code == 400 and "is disabled" in export.content.decode()


def test_an_admin_switches_benchmarks_with_the_admin_actions(client, admin_user, catalog):
    client.force_login(admin_user)
    url = reverse("admin:findings_benchmark_changelist")
    response = client.post(
        url,
        {"action": "disable_benchmarks", "_selected_action": [_bench("3.0.0").pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Disabled: cis-aws-foundations@3.0.0." in response.content.decode()
    assert not _bench("3.0.0").enabled
    client.post(url, {"action": "enable_benchmarks", "_selected_action": [_bench("3.0.0").pk]})
    assert _bench("3.0.0").enabled


def test_a_viewer_gets_no_switch_in_the_admin(client, viewer, catalog):
    viewer.is_staff = True
    viewer.save()
    client.force_login(viewer)
    url = reverse("admin:findings_benchmark_changelist")
    client.post(url, {"action": "disable_benchmarks", "_selected_action": [_bench("3.0.0").pk]})
    assert _bench("3.0.0").enabled
