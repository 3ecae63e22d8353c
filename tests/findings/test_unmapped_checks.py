"""Checks written ahead of the benchmarks that will map them (``controls=()``) cost a scan
nothing: while no control maps them, a scan of the story account neither calls the APIs only
they need nor writes findings of them. The simulated account's front door counts every call by
(signing name, operation)."""

from __future__ import annotations

import pytest

from findings.checks import REGISTRY
from findings.models import Finding

pytestmark = pytest.mark.django_db

# Signing names of the services only unmapped checks read (elbv2 signs as
# elasticloadbalancing, apigatewayv2 as apigateway).
UNMAPPED_SERVICES = {"apigateway", "cloudfront", "elasticloadbalancing", "organizations"}
# Calls an unmapped check needs from a service mapped checks read too.
UNMAPPED_CALLS = {("iam", "ListOrganizationsFeatures"), ("rds", "DescribeDBClusters")}


def test_a_scan_pays_nothing_for_unmapped_checks(story_account, scan_now, aws_front) -> None:
    unmapped = {check_id for check_id, spec in REGISTRY.items() if not spec.controls}
    assert {"cloudfront_distribution_logging_enabled", "rds_cluster_multi_az"} <= unmapped
    aws_front.calls.clear()  # seeding the story made calls of its own (CloudFront among them)

    scan_now(story_account)

    called = set(aws_front.calls)
    assert ("ec2", "DescribeSecurityGroups") in called  # the count sees the scan's calls
    assert ("rds", "DescribeDBInstances") in called
    assert {service for service, _ in called} & UNMAPPED_SERVICES == set()
    assert called & UNMAPPED_CALLS == set()
    # The unmapped CIFS checks read the ec2 collector's data, which the scan did collect, yet
    # no finding of them is written.
    assert Finding.objects.filter(control_check__check_id__in=unmapped).count() == 0
    assert Finding.objects.filter(
        control_check__check_id="ec2_network_acl_admin_ports_restricted"
    ).exists()
