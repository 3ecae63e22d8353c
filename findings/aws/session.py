"""boto3 sessions for an account: assume its role with the external id, or the default chain.

No secret is ever read from or written to the database: the role is assumed with whatever
credentials the worker itself has (instance profile, environment, profile), and the temporary
credentials live only in memory for the duration of one scan unit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import boto3
import botocore.loaders
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from cspm.endpoints import endpoint_problem
from findings.aws.base import RETRY_CONFIG, CollectionError, error_code
from findings.toolbox import DEFAULT_PARTITION, arn_partition, home_region, partition_of

SESSION_NAME = "cspm-scan"
# Emulators (moto) accept any credentials; real endpoints never see these.
EMULATOR_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class Access(Protocol):
    """What a session needs to know of an account (an ``AccountAccess``, or anything alike)."""

    account_id: str
    role_arn: str
    external_id: str
    endpoint_url: str


@dataclass(frozen=True)
class AccountAccess:
    """How to reach one account, as a plain value: collectors know no models, so the scan
    service copies these fields out of the account's row before it asks for a session.
    ``regions`` is the account's own region list (empty: every region it reports)."""

    account_id: str
    role_arn: str = ""
    external_id: str = ""
    endpoint_url: str = ""
    regions: Sequence[str] = ()

    @property
    def partition(self) -> str:
        return account_partition(self)


def account_partition(account: Access) -> str:
    """The account's partition (``aws``, ``aws-cn``, ``aws-us-gov``): its role ARN's, else its
    regions' (``cn-north-1`` is in ``aws-cn``), else ``aws``."""
    if account.role_arn:
        return arn_partition(account.role_arn)
    regions = list(getattr(account, "regions", ()) or ())
    return partition_of(regions[0]) if regions else DEFAULT_PARTITION


def _base_session(account: Access) -> boto3.Session:
    session = boto3.Session()
    if account.endpoint_url and session.get_credentials() is None:
        # An emulator endpoint with no credentials in the worker's environment: moto does not
        # check signatures, but botocore refuses to sign without some credentials.
        return boto3.Session(**EMULATOR_CREDENTIALS)
    return session


# Sessions (and the clients cached on them) are reused by the units a process runs, so that
# each worker builds its botocore clients once. An assumed role's credentials last an hour;
# the session is renewed well before that.
_SESSIONS: dict[tuple[str, str, str, str], tuple[boto3.Session, float]] = {}
_SESSIONS_LOCK = threading.Lock()
SESSION_REUSE_SECONDS = 40 * 60
# Service models parsed once per process, whatever the session.
_LOADER = botocore.loaders.create_loader()


def _with_shared_loader(session: boto3.Session) -> boto3.Session:
    session._session.register_component("data_loader", _LOADER)
    return session


def forget_sessions() -> None:
    """Drop every cached session (tests; or after an account's access changed)."""
    with _SESSIONS_LOCK:
        _SESSIONS.clear()


def session_for(account: Access, region: str | None = None) -> boto3.Session:
    """A session with the account's credentials (reused for a while within this process).

    The role is assumed through STS in ``region``, by default the first region of the
    account's partition (an ``aws-cn`` role cannot be assumed through us-east-1).
    Raises CollectionError when the credentials cannot be had.
    """
    region = region or home_region(account_partition(account))
    # Checked again here, with the host name resolved: a row saved before the rule existed, or
    # a name that resolves to the metadata service, must not make the worker call it.
    problem = endpoint_problem(account.endpoint_url, resolve=True)
    if problem:
        raise CollectionError("sts", "endpoint", "EndpointRefused", problem)
    key = (account.account_id, account.role_arn, account.external_id, account.endpoint_url)
    now = time.monotonic()
    with _SESSIONS_LOCK:
        cached = _SESSIONS.get(key)
        if cached is not None and now - cached[1] < SESSION_REUSE_SECONDS:
            return cached[0]
    session = _with_shared_loader(_new_session(account, region))
    with _SESSIONS_LOCK:
        _SESSIONS[key] = (session, now)
    return session


def _new_session(account: Access, region: str) -> boto3.Session:
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


class RegionsAccess(Access, Protocol):
    regions: Sequence[str]


def enabled_regions(account: RegionsAccess, session: boto3.Session) -> list[str]:
    """The regions to scan: the account's own list, or every region it reports as enabled.

    Asked in the account's partition and kept to it: AWS answers with the partition's own
    regions; an emulator may report every partition's, which are not the account's.
    """
    partition = account_partition(account)
    ec2 = session.client(
        "ec2",
        region_name=home_region(partition),
        endpoint_url=account.endpoint_url or None,
        config=RETRY_CONFIG,
    )
    try:
        reported = sorted(
            r["RegionName"]
            for r in ec2.describe_regions()["Regions"]
            if partition_of(r["RegionName"]) == partition
        )
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
