"""boto3 sessions for an account: assume its role with the external id, or the default chain.

No secret is ever read from or written to the database: the role is assumed with whatever
credentials the worker itself has (instance profile, environment, profile), and the temporary
credentials live only in memory for the duration of one scan unit.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from findings.aws.base import RETRY_CONFIG, CollectionError, error_code
from findings.models import CloudAccount

SESSION_NAME = "cspm-scan"
# Emulators (moto) accept any credentials; real endpoints never see these.
EMULATOR_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def _base_session(account: CloudAccount) -> boto3.Session:
    session = boto3.Session()
    if account.endpoint_url and session.get_credentials() is None:
        # An emulator endpoint with no credentials in the worker's environment: moto does not
        # check signatures, but botocore refuses to sign without some credentials.
        return boto3.Session(**EMULATOR_CREDENTIALS)
    return session


def session_for(account: CloudAccount, region: str = "us-east-1") -> boto3.Session:
    """A session with the account's credentials. Raises CollectionError when that fails."""
    base = _base_session(account)
    if not account.role_arn:
        if base.get_credentials() is None:
            raise CollectionError(
                "sts",
                "credentials",
                "NoCredentials",
                "No role ARN is set and the workers have no AWS credentials "
                "(instance profile, environment or profile).",
            )
        return base
    sts = base.client(
        "sts", region_name=region, endpoint_url=account.endpoint_url or None, config=RETRY_CONFIG
    )
    params: dict[str, Any] = {
        "RoleArn": account.role_arn,
        "RoleSessionName": SESSION_NAME,
        "DurationSeconds": 3600,
    }
    if account.external_id:
        params["ExternalId"] = account.external_id
    try:
        credentials = sts.assume_role(**params)["Credentials"]
    except ClientError as exc:
        raise CollectionError(
            "sts", "AssumeRole", error_code(exc), exc.response.get("Error", {}).get("Message", "")
        ) from exc
    except (NoCredentialsError, BotoCoreError) as exc:
        raise CollectionError("sts", "AssumeRole", type(exc).__name__, str(exc)) from exc
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def enabled_regions(account: CloudAccount, session: boto3.Session) -> list[str]:
    """The regions to scan: the account's own list, or every region it reports as enabled."""
    ec2 = session.client(
        "ec2",
        region_name="us-east-1",
        endpoint_url=account.endpoint_url or None,
        config=RETRY_CONFIG,
    )
    try:
        reported = sorted(r["RegionName"] for r in ec2.describe_regions()["Regions"])
    except ClientError as exc:
        raise CollectionError(
            "ec2",
            "DescribeRegions",
            error_code(exc),
            exc.response.get("Error", {}).get("Message", ""),
        ) from exc
    except BotoCoreError as exc:
        raise CollectionError("ec2", "DescribeRegions", type(exc).__name__, str(exc)) from exc
    if not account.regions:
        return reported
    unknown = sorted(set(account.regions) - set(reported))
    if unknown:
        raise CollectionError(
            "ec2",
            "DescribeRegions",
            "RegionNotEnabled",
            f"The account does not report these regions as enabled: {', '.join(unknown)}.",
        )
    return sorted(account.regions)
