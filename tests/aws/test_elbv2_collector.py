"""The ``elbv2`` collector (Application Load Balancers' access logs) against the moto server."""

from __future__ import annotations

from typing import Any

from simulation.account import client
from tests.aws.collecting import collect

REGION = "eu-west-1"
CHECK = "elbv2_load_balancer_access_logging"


def _subnets(endpoint: str) -> list[str]:
    ec2 = client(endpoint, "ec2", REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    return [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    ]


def _load_balancer(elbv2: Any, name: str, subnets: list[str], kind: str = "application") -> str:
    return str(
        elbv2.create_load_balancer(
            Name=name, Subnets=subnets, Type=kind, Tags=[{"Key": "Team", "Value": "web"}]
        )["LoadBalancers"][0]["LoadBalancerArn"]
    )


def test_application_load_balancers(aws: str) -> None:
    subnets = _subnets(aws)
    elbv2 = client(aws, "elbv2", REGION)
    logged = _load_balancer(elbv2, "logged", subnets)
    silent = _load_balancer(elbv2, "silent", subnets)
    _load_balancer(elbv2, "tcp", subnets, kind="network")
    elbv2.modify_load_balancer_attributes(
        LoadBalancerArn=logged,
        Attributes=[
            {"Key": "access_logs.s3.enabled", "Value": "true"},
            {"Key": "access_logs.s3.bucket", "Value": "alb-logs"},
        ],
    )
    # moto differs from AWS: a new load balancer's attributes leave out access_logs.s3.enabled
    # (AWS answers "false"); set it as AWS would report it.
    elbv2.modify_load_balancer_attributes(
        LoadBalancerArn=silent, Attributes=[{"Key": "access_logs.s3.enabled", "Value": "false"}]
    )

    run = collect(aws, "elbv2", REGION)

    assert run.statuses(CHECK) == {logged: "pass", silent: "fail"}  # the NLB is left out
    assert run.results[(CHECK, logged)].summary == (
        "Load balancer logged writes access logs to s3://alb-logs."
    )
    ref = next(r for r in run.collected.resources if r.arn == silent)
    assert ref.resource_type == "AWS::ElasticLoadBalancingV2::LoadBalancer"
    assert ref.tags == {"Team": "web"}
    assert ref.configuration["Attributes"]["access_logs.s3.enabled"] == "false"
    assert "access logging disabled" in run.results[(CHECK, silent)].summary
    # DescribeLoadBalancers, DescribeLoadBalancerAttributes twice, DescribeTags once for both.
    assert run.ctx.api_calls == 4


def test_region_without_load_balancers(aws: str) -> None:
    run = collect(aws, "elbv2", REGION)
    assert run.collected.resources == []
    assert run.ctx.api_calls == 1
