"""Watching zones: who may watch, for whom, and what a watch holds."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from acceptances import services
from acceptances.models import ZoneWatch

pytestmark = pytest.mark.django_db


@pytest.fixture
def zone(approver):
    return services.save_zone(actor=approver, name="prod", rules={"tags": ["Env=prod"]})


def test_a_viewer_watches_a_zone_for_themselves_and_changes_the_severity(zone, viewer):
    watch = services.watch_zone(viewer, zone, actor=viewer)
    assert (watch.user, watch.zone, watch.min_severity) == (viewer, zone, "")
    again = services.watch_zone(viewer, zone, actor=viewer, min_severity="high")
    assert again.pk == watch.pk and ZoneWatch.objects.get().min_severity == "high"
    assert services.unwatch_zone(viewer, zone, actor=viewer) is True
    assert services.unwatch_zone(viewer, zone, actor=viewer) is False


def test_only_an_admin_makes_someone_else_watch(zone, analyst, viewer, admin_user):
    with pytest.raises(PermissionDenied):
        services.watch_zone(viewer, zone, actor=analyst)
    services.watch_zone(viewer, zone, actor=admin_user)
    with pytest.raises(PermissionDenied):
        services.unwatch_zone(viewer, zone, actor=analyst)
    assert services.unwatch_zone(viewer, zone, actor=admin_user)


def test_an_outsider_may_not_watch(zone, outsider, admin_user):
    with pytest.raises(PermissionDenied):
        services.watch_zone(outsider, zone, actor=outsider)
    # Not even through an admin: alerts would mail findings to someone who may not read them.
    with pytest.raises(ValidationError):
        services.watch_zone(outsider, zone, actor=admin_user)


def test_a_watch_needs_a_known_severity_and_an_email_address(zone, viewer):
    with pytest.raises(ValidationError) as error:
        services.watch_zone(viewer, zone, actor=viewer, min_severity="urgent")
    assert "min_severity" in error.value.message_dict
    viewer.email = ""
    viewer.save(update_fields=["email"])
    with pytest.raises(ValidationError):
        services.watch_zone(viewer, zone, actor=viewer)
    assert not ZoneWatch.objects.exists()
