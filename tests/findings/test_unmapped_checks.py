"""Checks written ahead of the benchmarks that will map them cost a scan nothing: while no
control maps them (neither their registration nor a loaded catalog's ``"checks"``), a scan of
the story account neither calls the APIs only they need nor writes findings of them; once a
catalog maps one, the next scan runs it. The simulated account's front door counts every call
by (signing name, operation)."""

from __future__ import annotations

import pytest

from findings import services
from findings.checks import REGISTRY
from findings.models import Benchmark, Finding
from findings.services.scans import mapped_checks

pytestmark = pytest.mark.django_db

# Signing names of the services only unmapped checks read. (The AWS FSBP catalog maps the
# CloudFront, ELBv2 and API Gateway v2 logging checks: those services are read now.)
UNMAPPED_SERVICES = {"organizations", "events", "glacier", "secretsmanager", "sqs"}
# Calls an unmapped check needs from a service mapped checks read too.
UNMAPPED_CALLS = {("iam", "ListOrganizationsFeatures")}


def test_a_scan_pays_nothing_for_unmapped_checks(story_account, scan_now, aws_front) -> None:
    # CIS v7.0.0 maps the organisation and front-door logging checks (2.1.x, 4.10): a
    # deployment that has not loaded that catalog is one where they are still unmapped.
    Benchmark.objects.filter(slug="cis-aws-foundations", version="7.0.0").delete()
    aws_front.calls.clear()  # seeding the story made calls of its own (CloudFront among them)

    scan_now(story_account)  # links the loaded catalogs' checks first (sync_checks)

    unmapped = set(REGISTRY) - mapped_checks()
    assert {
        "organizations_delegated_administrators",
        "eventbridge_bus_not_public",
        "glacier_vault_policy_not_public",
        "secretsmanager_secret_not_public",
        "sqs_queue_not_public",
    } <= unmapped
    # Mapped by the v4.0.1 catalog only (2.2.4 and 5.1.2), not by their registrations.
    assert not REGISTRY["rds_cluster_multi_az"].controls
    assert {"rds_cluster_multi_az", "ec2_security_group_no_cifs_from_internet"} <= mapped_checks()

    called = set(aws_front.calls)
    assert ("ec2", "DescribeSecurityGroups") in called  # the count sees the scan's calls
    assert ("rds", "DescribeDBInstances") in called
    assert {service for service, _ in called} & UNMAPPED_SERVICES == set()
    assert called & UNMAPPED_CALLS == set()
    assert Finding.objects.filter(control_check__check_id__in=unmapped).count() == 0
    # What a catalog maps is run: the cluster collector is called, the CIFS check judges the
    # story's security groups.
    assert ("rds", "DescribeDBClusters") in called
    assert Finding.objects.filter(
        control_check__check_id="ec2_security_group_no_cifs_from_internet"
    ).exists()
    assert Finding.objects.filter(
        control_check__check_id="ec2_network_acl_admin_ports_restricted"
    ).exists()

    # Loading the v7.0.0 catalog maps them: the next scan runs them.
    services.load_catalog(services.CATALOG_DIR / "cis_aws_foundations_7.0.0.json")
    services.sync_checks()
    assert {
        "cloudfront_distribution_logging_enabled",
        "organizations_delegated_administrators",
    } <= mapped_checks()
