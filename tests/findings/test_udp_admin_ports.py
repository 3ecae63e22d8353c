"""UDP to the remote administration ports: CIS v3.0.0 and later name it, v2.0.0 does not.

The story account is scanned over HTTP (moto server) with every shipped catalog loaded. One
scan writes the UDP checks' findings; v2.0.0 does not read them, v3.0.0 and v4.0.1 do. An
acceptance of v2.0.0 5.1 on the web stack's network ACL carries to v3.0.0 5.1 and v4.0.1 5.2
only while the UDP check passes there or is covered too.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from acceptances import services
from acceptances.benchmarks import across_benchmarks
from findings.models import Benchmark, Control, Finding, Resource
from findings.queries.benchmarks import diff_benchmarks
from findings.queries.posture import PostureScope, get_control_posture

pytestmark = pytest.mark.django_db

NACL_TCP = "ec2_network_acl_admin_ports_restricted"
NACL_UDP = "ec2_network_acl_admin_ports_udp_restricted"
SG_V4_UDP = "ec2_security_group_admin_ports_ipv4_udp_restricted"
UDP_CHECKS = (NACL_UDP, SG_V4_UDP, "ec2_security_group_admin_ports_ipv6_udp_restricted")


def _benchmark(version: str) -> Benchmark:
    return Benchmark.objects.get(slug="cis-aws-foundations", version=version)


def _finding(check_id: str, resource: Resource) -> Finding:
    return Finding.objects.get(control_check__check_id=check_id, resource=resource)


def _counts(control: Control, resource: Resource) -> tuple[int, int, int]:
    """Resources failing, accepted and passing ``control`` in ``resource``'s account (the
    story's one scanned region)."""
    (row,) = get_control_posture(
        control.benchmark,
        scope=PostureScope(account_ids=(resource.account_id,)),
        control_ids=[control.pk],
    )
    return row.failing, row.accepted, row.passing


def _open_udp(aws: str, story) -> None:
    """RDP's UDP transport opened from anywhere, on the ACL (rule 90, before the allow-all
    rule 100) and on the web server's security group."""
    from simulation.account import client

    ec2 = client(aws, "ec2", story.region)
    ec2.create_network_acl_entry(
        NetworkAclId=story.network_acl_id,
        RuleNumber=90,
        Protocol="17",
        RuleAction="allow",
        Egress=False,
        CidrBlock="0.0.0.0/0",
        PortRange={"From": 3389, "To": 3389},
    )
    ec2.authorize_security_group_ingress(
        GroupId=story.security_group_id,
        IpPermissions=[
            {
                "IpProtocol": "udp",
                "FromPort": 3389,
                "ToPort": 3389,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            }
        ],
    )


def _accept(analyst, control: Control, resource: Resource):
    return services.accept_risk(
        actor=analyst,
        control=control,
        resource=resource,
        owner=analyst,
        reason="risk_owned",
        justification="The subnet holds a bastion until the VPN is live.",
        # The shipped risk appetite: a high-severity control for 30 days at most.
        expires_at=timezone.now() + dt.timedelta(days=30),
    )


def test_the_story_shows_no_udp_finding_and_udp_rules_fail_v3_and_v4_only(
    story_account, story, scan_now, aws
):
    scan_now(story_account)
    # The story's exposure is the default ACL's allow-all rule: failed once, by the TCP check.
    # Every UDP verdict passes; the ACL's names the allow-all rule as covered.
    udp = Finding.objects.filter(control_check__check_id__in=UDP_CHECKS)
    assert udp.exists()
    assert not udp.filter(status="fail").exists()
    acl = Resource.objects.get(arn__endswith=f"network-acl/{story.network_acl_id}")
    group = Resource.objects.get(arn__endswith=f"security-group/{story.security_group_id}")
    assert _finding(NACL_TCP, acl).status == "fail"
    covered = _finding(NACL_UDP, acl).evidence["details"]["covered"]
    assert {item["entry"]["RuleNumber"] for item in covered} == {100}

    _open_udp(aws, story)
    scan_now(story_account)

    nacl = _finding(NACL_UDP, acl)
    assert nacl.status == "fail"
    assert nacl.evidence["summary"].startswith(
        "Ingress rule 90 allows UDP port 3389 from 0.0.0.0/0, which includes UDP port 3389."
    )
    sg = _finding(SG_V4_UDP, group)
    assert sg.status == "fail"
    assert "allows inbound UDP port 3389 from 0.0.0.0/0" in sg.evidence["summary"]

    # v2.0.0 keeps its TCP meaning: the web server's group passes 5.2 there, fails v3.0.0 5.2
    # and v4.0.1 5.3, which read the UDP check too.
    v2, v3, v4 = _benchmark("2.0.0"), _benchmark("3.0.0"), _benchmark("4.0.1")
    groups = Finding.objects.filter(
        resource__resource_type="AWS::EC2::SecurityGroup", control_check__check_id=SG_V4_UDP
    ).count()
    assert _counts(v2.controls.get(ref="5.2"), group) == (0, 0, groups)
    assert _counts(v3.controls.get(ref="5.2"), group) == (1, 0, groups - 1)
    assert _counts(v4.controls.get(ref="5.3"), group) == (1, 0, groups - 1)

    # Moving from v2.0.0 to v3.0.0 newly reads the UDP checks' findings, without a re-scan.
    diff = diff_benchmarks(v2, v3)
    assert set(UDP_CHECKS) <= set(diff.newly_evaluated)
    assert diff.newly_evaluated[NACL_UDP][0] == 1
    assert diff.newly_evaluated[SG_V4_UDP][0] == 1
    pairs = {(p.old.ref, p.new.ref) for p in diff.unchanged}
    assert {("5.1", "5.1"), ("5.2", "5.2"), ("5.3", "5.3")} <= pairs


def test_a_v2_acceptance_of_the_acl_carries_over_only_while_udp_passes_or_is_covered(
    story_account, story, scan_now, aws, analyst
):
    scan_now(story_account)
    v2, v3, v4 = _benchmark("2.0.0"), _benchmark("3.0.0"), _benchmark("4.0.1")
    acl = Resource.objects.get(arn__endswith=f"network-acl/{story.network_acl_id}")
    accepted = _accept(analyst, v2.controls.get(ref="5.1"), acl)

    def where() -> dict[str, list[tuple[str, bool, dict[str, int]]]]:
        return {
            group.benchmark.version: [
                (row.control.ref, row.covered, row.failing_elsewhere) for row in group.controls
            ]
            for group in across_benchmarks(accepted).elsewhere
        }

    # The network ACL control of each later CIS version (TCP and UDP checks), and FSBP's EC2.21
    # (its TCP check only, as AWS's own rule reads ports 22 and 3389).
    later = {"3.0.0": "5.1", "4.0.1": "5.2", "5.0.0": "5.2", "6.0.0": "6.2", "7.0.0": "6.2"}
    fsbp = {"1.0.0": [("EC2.21", True, {})]}
    carried = {version: [(ref, True, {})] for version, ref in later.items()} | fsbp

    # The allow-all rule is what was accepted; the UDP check fails nothing more: it carries.
    assert where() == carried
    others = Resource.objects.filter(resource_type="AWS::EC2::NetworkAcl").exclude(pk=acl.pk)
    v3_nacl, v4_nacl = v3.controls.get(ref="5.1"), v4.controls.get(ref="5.2")
    failing_elsewhere = others.count()  # the default VPC's ACL: allow-all too, not accepted
    assert _counts(v3_nacl, acl) == (failing_elsewhere, 1, 0)
    assert _counts(v4_nacl, acl) == (failing_elsewhere, 1, 0)

    # UDP 3389 opened ahead of the accepted rule: a new exposure v2.0.0 does not name. The
    # acceptance still covers 5.1 in v2.0.0, but no longer the v3/v4 control.
    _open_udp(aws, story)
    scan_now(story_account)
    assert (
        where() == {version: [(ref, False, {NACL_UDP: 1})] for version, ref in later.items()} | fsbp
    )
    assert _counts(v2.controls.get(ref="5.1"), acl) == (failing_elsewhere, 1, 0)
    assert _counts(v3_nacl, acl) == (failing_elsewhere + 1, 0, 0)
    assert _finding(NACL_TCP, acl).acceptance_id == accepted.pk
    assert _finding(NACL_UDP, acl).acceptance_id is None

    # Accepting the v3.0.0 control covers the UDP finding too: the ACL counts as accepted in
    # both later versions again.
    udp_accepted = _accept(analyst, v3_nacl, acl)
    assert _finding(NACL_UDP, acl).acceptance_id == udp_accepted.pk
    assert _finding(NACL_TCP, acl).acceptance_id == accepted.pk  # the first one keeps it
    assert where() == carried
    assert _counts(v3_nacl, acl) == (failing_elsewhere, 1, 0)
    assert _counts(v4_nacl, acl) == (failing_elsewhere, 1, 0)
