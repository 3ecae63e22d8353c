"""The ``rds_cluster`` collector against the moto server, and the instance Multi-AZ check on
the ``rds`` collector's data.

moto 5.2.5 derives an Aurora cluster's ``MultiAZ`` from its instances' zones, as AWS does
(true once an instance runs in a second zone); that is what the test relies on.
"""

from __future__ import annotations

from simulation.account import client
from tests.aws.collecting import ACCOUNT, collect

REGION = "eu-west-1"
PREFIX = f"arn:aws:rds:{REGION}:{ACCOUNT}"


def _aurora(endpoint: str, name: str, zones: list[str]) -> None:
    rds = client(endpoint, "rds", REGION)
    rds.create_db_cluster(
        DBClusterIdentifier=name,
        Engine="aurora-postgresql",
        MasterUsername="admin_user",
        MasterUserPassword="not-a-real-secret-1",
        Tags=[{"Key": "Team", "Value": "data"}],
    )
    for i, zone in enumerate(zones):
        rds.create_db_instance(
            DBInstanceIdentifier=f"{name}-{i}",
            DBClusterIdentifier=name,
            Engine="aurora-postgresql",
            DBInstanceClass="db.r6g.large",
            AvailabilityZone=f"{REGION}{zone}",
        )


def test_clusters_multi_az(aws: str) -> None:
    _aurora(aws, "spread", ["a", "b"])
    _aurora(aws, "single", ["a"])

    run = collect(aws, "rds_cluster", REGION)

    assert run.statuses("rds_cluster_multi_az") == {
        f"{PREFIX}:cluster:spread": "pass",
        f"{PREFIX}:cluster:single": "fail",
    }
    ref = next(r for r in run.collected.resources if r.name == "single")
    assert ref.resource_type == "AWS::RDS::DBCluster"
    assert ref.tags == {"Team": "data"}
    assert [m["DBInstanceIdentifier"] for m in ref.configuration["DBClusterMembers"]] == [
        "single-0"
    ]
    assert run.ctx.api_calls == 1  # one paginated DescribeDBClusters


def test_instances_multi_az_leave_cluster_members_to_the_cluster(aws: str) -> None:
    _aurora(aws, "spread", ["a", "b"])
    rds = client(aws, "rds", REGION)
    for name, multi_az in (("standby", True), ("alone", False)):
        rds.create_db_instance(
            DBInstanceIdentifier=name,
            DBInstanceClass="db.t3.micro",
            Engine="postgres",
            AllocatedStorage=20,
            MasterUsername="admin_user",
            MasterUserPassword="not-a-real-secret-1",
            MultiAZ=multi_az,
        )

    run = collect(aws, "rds", REGION)

    assert run.statuses("rds_instance_multi_az") == {
        f"{PREFIX}:db:standby": "pass",
        f"{PREFIX}:db:alone": "fail",
    }
    assert run.ctx.api_calls == 1  # still the one DescribeDBInstances


def test_region_without_clusters(aws: str) -> None:
    run = collect(aws, "rds_cluster", REGION)
    assert run.collected.resources == []
    assert run.ctx.api_calls == 1
