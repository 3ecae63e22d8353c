"""Fixtures of the page tests: a small estate with failing, passing and accepted findings."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from acceptances import services
from acceptances.models import Zone


@dataclass
class Estate:
    account: object
    other_account: object
    prod: Zone
    findings: dict


@pytest.fixture
def estate(catalog, make_account, make_finding, approver) -> Estate:
    """Two accounts; 2.1.2 fails on three buckets (two tagged prod) and passes on one; 5.6
    fails on an instance of the other account."""
    account = make_account(name="web")
    other = make_account(name="data")
    # The checks that decide them: a finding's fix is its check's.
    mfa_delete = "s3_bucket_mfa_delete_enabled"
    findings = {
        "images": make_finding(
            account=account, name="story-images", tags={"Environment": "prod"}, check_id=mfa_delete
        ),
        "logs": make_finding(
            account=account, name="story-logs", tags={"Environment": "prod"}, check_id=mfa_delete
        ),
        "scratch": make_finding(
            account=account, name="scratch", tags={"Environment": "dev"}, check_id=mfa_delete
        ),
        "ok": make_finding(account=account, name="ok-bucket", status="pass", check_id=mfa_delete),
        "imds": make_finding(
            account=other,
            control_ref="5.6",
            resource_type="AWS::EC2::Instance",
            region="eu-west-1",
            name="i-0abc",
            check_id="ec2_instance_imdsv2_required",
        ),
    }
    prod = services.save_zone(actor=approver, name="prod", rules={"tags": ["Environment=prod"]})
    return Estate(account=account, other_account=other, prod=prod, findings=findings)


@pytest.fixture
def login(client: Client):
    def as_user(user) -> Client:
        client.force_login(user)
        return client

    return as_user
