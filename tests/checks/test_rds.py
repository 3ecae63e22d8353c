"""Pure tests of the RDS Multi-AZ checks (instances from ``rds``, clusters from ``rds_cluster``)."""

from __future__ import annotations

from typing import Any

from findings.checks import REGISTRY
from findings.checks.base import Result, Unit
from tests.checks.evidence import checked

UNIT = Unit("123456789012", "eu-west-1")
PREFIX = "arn:aws:rds:eu-west-1:123456789012"


def run(check_id: str, data: dict[str, Any]) -> list[Result]:
    return checked(REGISTRY[check_id].run(data, UNIT))


def instance(name: str, **fields: Any) -> dict[str, Any]:
    return {
        "DBInstanceIdentifier": name,
        "DBInstanceArn": f"{PREFIX}:db:{name}",
        "Engine": "postgres",
        **fields,
    }


def cluster(name: str, members: int = 2, **fields: Any) -> dict[str, Any]:
    return {
        "DBClusterIdentifier": name,
        "DBClusterArn": f"{PREFIX}:cluster:{name}",
        "Engine": "aurora-postgresql",
        "DBClusterMembers": [
            {"DBInstanceIdentifier": f"{name}-{i}", "IsClusterWriter": i == 0}
            for i in range(members)
        ],
        **fields,
    }


def test_registered_without_a_control_yet() -> None:
    assert (
        REGISTRY["rds_instance_multi_az"].service,
        REGISTRY["rds_instance_multi_az"].controls,
    ) == (
        "rds",
        (),
    )
    spec = REGISTRY["rds_cluster_multi_az"]
    assert (spec.service, spec.controls, spec.resource_type) == (
        "rds_cluster",
        (),
        "AWS::RDS::DBCluster",
    )


def test_multi_az_instance_passes_and_names_both_zones() -> None:
    (result,) = run(
        "rds_instance_multi_az",
        {
            "instances": [
                instance(
                    "orders",
                    MultiAZ=True,
                    AvailabilityZone="eu-west-1a",
                    SecondaryAvailabilityZone="eu-west-1b",
                )
            ]
        },
    )
    assert (result.resource_arn, result.status) == (f"{PREFIX}:db:orders", "pass")
    assert result.summary == (
        "DB instance 'orders' (postgres) is Multi-AZ: primary in eu-west-1a, standby in eu-west-1b."
    )


def test_single_az_instance_fails() -> None:
    (result,) = run(
        "rds_instance_multi_az",
        {"instances": [instance("orders", MultiAZ=False, AvailabilityZone="eu-west-1a")]},
    )
    assert result.status == "fail"
    assert result.summary == (
        "DB instance 'orders' (postgres) is a Single-AZ deployment in eu-west-1a: no standby "
        "takes over if that zone fails."
    )
    assert result.details["MultiAZ"] is False


def test_instance_without_the_flag_fails() -> None:
    (result,) = run("rds_instance_multi_az", {"instances": [instance("old")]})
    assert result.status == "fail"
    assert result.summary.startswith("DB instance 'old' (postgres) is a Single-AZ deployment:")


def test_cluster_members_are_left_to_the_cluster_check() -> None:
    results = run(
        "rds_instance_multi_az",
        {"instances": [instance("aurora-1", MultiAZ=False, DBClusterIdentifier="aurora")]},
    )
    assert results == []


def test_multi_az_cluster_passes() -> None:
    (result,) = run(
        "rds_cluster_multi_az",
        {"clusters": [cluster("aurora", MultiAZ=True, AvailabilityZones=["eu-west-1a", "b"])]},
    )
    assert (result.resource_arn, result.status) == (f"{PREFIX}:cluster:aurora", "pass")
    assert result.summary == (
        "DB cluster 'aurora' (aurora-postgresql) is Multi-AZ: its 2 instances span more than "
        "one Availability Zone."
    )


def test_single_instance_cluster_fails() -> None:
    (result,) = run("rds_cluster_multi_az", {"clusters": [cluster("aurora", 1, MultiAZ=False)]})
    assert result.status == "fail"
    assert result.summary == (
        "DB cluster 'aurora' (aurora-postgresql) is not Multi-AZ: its 1 instance run in a "
        "single Availability Zone, with no reader in another zone to fail over to."
    )
    assert len(result.details["DBClusterMembers"]) == 1


def test_cluster_without_instances_fails() -> None:
    (result,) = run("rds_cluster_multi_az", {"clusters": [cluster("empty", 0)]})
    assert result.status == "fail"
    assert "has no DB instance" in result.summary


def test_no_clusters_no_verdicts() -> None:
    assert run("rds_cluster_multi_az", {}) == []
    assert run("rds_instance_multi_az", {"instances": []}) == []
