"""A simulated AWS account for the demo and the tests.

Everything here talks to moto's *standalone server* over real HTTP with boto3, exactly
like the scanner talks to AWS; moto's in-process decorators (``mock_aws``) are never used.

Typical use::

    with start_moto_server() as server:
        stack = seed_story_stack(server.endpoint_url)
        ...  # scan: 2.1.1, 2.1.2, 2.1.4, 5.1 and 5.6 fail
        remediate_story_stack(server.endpoint_url, stack)
        ...  # scan again: all of them pass except MFA Delete (2.1.2, risk accepted)

The story: a team built a small web stack with Terraform (a VPC with its default network
ACL, an EC2 web server still allowing IMDSv1, an S3 bucket of images served through
CloudFront). A CIS AWS Foundations v2.0.0 scan found 2.1.1, 2.1.2, 2.1.4, 5.1 and 5.6;
:func:`remediate_story_stack` applies the fixes the team made.

Where moto 5.2.5 behaves differently from AWS, this module makes the emulator behave like
AWS and says so in a comment tagged ``moto differs from AWS``.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import urlsplit, urlunsplit

import boto3.session
from botocore.config import Config
from botocore.exceptions import ClientError

from simulation.front import AwsFront

__all__ = [
    "ADMIN_CIDR",
    "DEFAULT_REGION",
    "FAKE_ACCESS_KEY_ID",
    "FAKE_SECRET_ACCESS_KEY",
    "STORY_TAGS",
    "MotoServer",
    "MotoServerError",
    "ScaleSeed",
    "SimulatedSession",
    "StoryStack",
    "client",
    "remediate_story_stack",
    "reset_moto",
    "seed_scale",
    "seed_story_stack",
    "session_for",
    "start_moto_server",
]

#: Static fake credentials; moto accepts anything and does not check signatures.
FAKE_ACCESS_KEY_ID = "testing"
FAKE_SECRET_ACCESS_KEY = "testing"  # noqa: S105 - a placeholder moto accepts, not a secret
DEFAULT_REGION = "us-east-1"
#: The one address allowed to reach SSH on the web server after remediation.
ADMIN_CIDR = "203.0.113.10/32"
#: Tags the story's Terraform puts on the VPC, the instance and the bucket.
STORY_TAGS: dict[str, str] = {"Project": "story", "Environment": "prod"}

_ANYWHERE_V4 = "0.0.0.0/0"
_ANYWHERE_V6 = "::/0"
_TCP = "6"
#: The "*" rule AWS puts last in every network ACL; it cannot be changed or deleted.
_NACL_DEFAULT_RULE = 32767
#: Worker threads used for per-region work (the server handles each request in a thread).
_REGION_WORKERS = 8

_T = TypeVar("_T")


# --------------------------------------------------------------------------- the server


class MotoServerError(RuntimeError):
    """The moto server could not be started (the message carries its output's tail)."""


def _no_proxy_opener() -> urllib.request.OpenerDirector:
    # The server is on loopback: never route our own control requests through a proxy.
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class MotoServer:
    """A moto standalone server running as a subprocess.

    Use :func:`start_moto_server` to create one. It is a context manager; :meth:`stop`
    is idempotent and is also registered to run at interpreter exit.
    """

    endpoint_url: str
    host: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: str
    #: The front door every client should use (see ``simulation.front``): it forwards
    #: to moto and supplies what moto lacks. ``endpoint_url`` is the front's once it runs.
    front: AwsFront | None = None
    moto_url: str = ""

    def is_running(self) -> bool:
        """Whether the server process is still alive."""
        return self.process.poll() is None

    def log_tail(self, max_lines: int = 40) -> str:
        """The last lines the server printed (its request log and any traceback)."""
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as handle:
                lines = handle.readlines()
        except OSError:
            return ""
        return "".join(lines[-max_lines:])

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate the server, wait for it, kill it if it does not exit in time."""
        atexit.unregister(self.stop)
        if self.front is not None:
            self.front.stop()
            self.front = None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        with contextlib.suppress(OSError):
            os.unlink(self.log_path)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(endpoint_url: str) -> bool:
    try:
        with _no_proxy_opener().open(f"{endpoint_url}/moto-api/data.json", timeout=1) as resp:
            json.loads(resp.read())
            return True
    except (OSError, ValueError):
        return False


def start_moto_server(
    host: str = "127.0.0.1",
    port: int = 0,
    timeout: float = 20.0,
    *,
    load_default_amis: bool = False,
) -> MotoServer:
    """Start moto's standalone server as a subprocess and wait until it answers.

    ``port=0`` picks a free port. The server is ``python -m moto.server`` run with this
    interpreter (the ``moto_server`` console script runs the same ``main``). We choose
    the port ourselves rather than passing 0 to moto: moto copies the port into
    ``MOTO_PORT``, which it uses to build URLs in some responses.

    ``load_default_amis=False`` (``MOTO_EC2_LOAD_DEFAULT_AMIS=false``) keeps moto from
    loading its catalogue of ~1,300 public images into every region's EC2 backend: with
    them, first touching all regions takes ~2.5 s and each ``/moto-api/reset`` ~1.8 s;
    without, ~0.3 s and ~0.05 s. The seeding functions register an Amazon Linux 2 image
    when the catalogue is absent.

    Raises :class:`MotoServerError` with the tail of the server's output if the process
    exits or does not answer within ``timeout`` seconds.
    """
    env = dict(os.environ)
    env["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "true" if load_default_amis else "false"
    attempts = 3 if port == 0 else 1
    last_error = ""
    for _ in range(attempts):
        chosen = port or _free_port(host)
        with tempfile.NamedTemporaryFile(prefix="moto-server-", suffix=".log", delete=False) as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", host, "-p", str(chosen)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        server = MotoServer(
            endpoint_url=f"http://{host}:{chosen}",
            host=host,
            port=chosen,
            process=process,
            log_path=log.name,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not server.is_running():
                break
            if _answers(server.endpoint_url):
                atexit.register(server.stop)
                server.moto_url = server.endpoint_url
                server.front = AwsFront(server.moto_url, host=host)
                server.endpoint_url = server.front.endpoint_url
                return server
            time.sleep(0.1)
        exited = not server.is_running()
        tail = server.log_tail()
        server.stop()
        last_error = (
            f"moto server on {server.endpoint_url} "
            + (f"exited with code {process.returncode}" if exited else f"no answer in {timeout}s")
            + f"; output tail:\n{tail}"
        )
        # Another process may have taken the free port between our probe and moto's bind.
        if not (exited and "address already in use" in tail.lower()):
            break
    raise MotoServerError(last_error)


def reset_moto(endpoint_url: str) -> None:
    """Forget every resource in the moto server (``POST /moto-api/reset``)."""
    if urlsplit(endpoint_url).scheme not in ("http", "https"):
        raise ValueError(f"not an HTTP endpoint: {endpoint_url!r}")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        f"{endpoint_url}/moto-api/reset", data=b"", method="POST"
    )
    with _no_proxy_opener().open(request, timeout=30) as resp:
        if resp.status != 200:
            raise MotoServerError(f"moto reset answered HTTP {resp.status}")


# --------------------------------------------------------------------------- boto3 helpers


class _StripAccountHostLabel:
    """``before-sign`` hook for s3control: send to the endpoint host itself.

    S3 Control's endpoint rules always put the account id in the host
    (``{AccountId}.s3-control.{region}.amazonaws.com``); with ``endpoint_url`` set they
    produce ``http://123456789012.127.0.0.1:PORT/...``, which does not resolve. Neither
    ``Config(inject_host_prefix=False)`` nor ``addressing_style="path"`` changes that
    (checked with botocore 1.44.8: the prefix comes from the endpoint ruleset, not from
    the operation's hostPrefix). So we drop the label before the request is signed;
    moto's server recognises S3 Control requests by their ``/v20180820/`` path.
    """

    def __init__(self, endpoint_url: str) -> None:
        self.netloc = urlsplit(endpoint_url).netloc

    def __call__(self, request: Any, **kwargs: Any) -> None:
        parts = urlsplit(request.url)
        if parts.netloc != self.netloc and parts.netloc.endswith("." + self.netloc):
            request.url = urlunsplit(parts._replace(netloc=self.netloc))


def _service_config(service_name: str) -> Config:
    if service_name == "s3":
        # Virtual-hosted style would send to "<bucket>.127.0.0.1:PORT"; use path style.
        return Config(s3={"addressing_style": "path"})
    return Config()


class SimulatedSession(boto3.session.Session):
    """A boto3 session whose clients (and resources) go to the moto server.

    Credentials are the static fake ones; ``client()`` defaults ``endpoint_url`` to the
    server, uses path-style addressing for S3 and fixes S3 Control's host (see
    :class:`_StripAccountHostLabel`). Client creation is serialised, so clients can be
    created from several threads.
    """

    def __init__(self, endpoint_url: str, region_name: str = DEFAULT_REGION) -> None:
        super().__init__(
            aws_access_key_id=FAKE_ACCESS_KEY_ID,
            aws_secret_access_key=FAKE_SECRET_ACCESS_KEY,
            region_name=region_name,
        )
        self.endpoint_url = endpoint_url
        self._create_lock = threading.Lock()
        self.events.register(
            "before-sign.s3-control",
            _StripAccountHostLabel(endpoint_url),
            unique_id="simulation-s3control-host",
        )

    def client(self, service_name: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Like :meth:`boto3.session.Session.client`, defaulting to the moto endpoint."""
        if kwargs.get("endpoint_url") is None:
            kwargs["endpoint_url"] = self.endpoint_url
        base = _service_config(service_name)
        given = kwargs.get("config")
        kwargs["config"] = base.merge(given) if given is not None else base
        with self._create_lock:
            return super().client(service_name, *args, **kwargs)


def session_for(endpoint_url: str, region: str = DEFAULT_REGION) -> SimulatedSession:
    """A new boto3 session with fake credentials whose clients target ``endpoint_url``."""
    return SimulatedSession(endpoint_url, region)


class _ClientCache:
    """One session per endpoint, one client per (service, region): creating boto3
    clients from fresh sessions reloads the service models and is slow."""

    def __init__(self, endpoint_url: str) -> None:
        self._session = SimulatedSession(endpoint_url)
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], Any] = {}

    def get(self, service: str, region: str) -> Any:
        with self._lock:
            found = self._clients.get((service, region))
            if found is None:
                found = self._session.client(service, region_name=region)
                self._clients[(service, region)] = found
            return found


_CACHES: dict[str, _ClientCache] = {}
_CACHES_LOCK = threading.Lock()


def client(endpoint_url: str, service: str, region: str = DEFAULT_REGION) -> Any:
    """A boto3 client for ``service`` in ``region`` pointed at the moto server.

    Clients are cached per endpoint, service and region; boto3 clients are thread-safe.
    Meant for seeding the simulated account.
    """
    with _CACHES_LOCK:
        cache = _CACHES.get(endpoint_url)
        if cache is None:
            cache = _CACHES[endpoint_url] = _ClientCache(endpoint_url)
    return cache.get(service, region)


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def _tag_spec(resource_type: str, tags: dict[str, str]) -> list[dict[str, Any]]:
    return [{"ResourceType": resource_type, "Tags": _tag_list(tags)}]


def _per_region(fn: Callable[[str], _T], regions: Iterable[str]) -> dict[str, _T]:
    """Run ``fn(region)`` for every region in a few threads; exceptions propagate."""
    ordered = list(regions)
    with ThreadPoolExecutor(max_workers=_REGION_WORKERS) as pool:
        results = list(pool.map(fn, ordered))
    return dict(zip(ordered, results, strict=True))


def _account_id(endpoint_url: str) -> str:
    return str(client(endpoint_url, "sts").get_caller_identity()["Account"])


def _regions(endpoint_url: str) -> list[str]:
    # moto differs from AWS: it reports every region it knows (38 in moto 5.2.5, the
    # aws-cn and aws-us-gov partitions and not-opted-in regions included), where AWS
    # reports the enabled regions of the account's own partition. The story's account is in
    # ``aws``: we keep that partition's regions, as the scanner does.
    regions = client(endpoint_url, "ec2").describe_regions()["Regions"]
    names = [str(item["RegionName"]) for item in regions]
    partitions = boto3.session.Session()
    return [name for name in names if partitions.get_partition_for_region(name) == "aws"]


_AMAZON_LINUX_2 = "amzn2-ami-hvm-2.0.20240131.0-x86_64-gp2"


def _amazon_linux_2_ami(ec2: Any) -> str:
    """An Amazon Linux 2 x86_64 image id in the client's region.

    Taken from moto's catalogue of public images when the server loaded it; otherwise
    (see ``load_default_amis``) an image of that name is registered in the account once.
    """
    images = ec2.describe_images(
        Filters=[{"Name": "name", "Values": ["amzn2-ami-hvm-*-x86_64-gp2"]}]
    )["Images"]
    if images:
        return str(sorted(images, key=lambda image: str(image.get("Name", "")))[-1]["ImageId"])
    return str(
        ec2.register_image(
            Name=_AMAZON_LINUX_2,
            Description="Amazon Linux 2 AMI 2.0.20240131.0 x86_64 HVM gp2",
            Architecture="x86_64",
            RootDeviceName="/dev/xvda",
            VirtualizationType="hvm",
        )["ImageId"]
    )


def _create_bucket(s3: Any, name: str, region: str) -> None:
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})


# --------------------------------------------------------------------------- the story


@dataclass
class StoryStack:
    """Identifiers of the story's stack in the simulated account."""

    account_id: str
    region: str
    vpc_id: str
    subnet_id: str
    #: The web VPC's *default* network ACL (the one CIS 5.1 flags).
    network_acl_id: str
    security_group_id: str
    instance_id: str
    bucket_name: str
    #: The default VPC of every region the account reports, by region.
    default_vpcs: dict[str, str] = field(default_factory=dict)
    internet_gateway_id: str = ""
    route_table_id: str = ""
    distribution_arn: str = ""
    admin_cidr: str = ADMIN_CIDR


def _ensure_default_vpc(endpoint_url: str, region: str) -> str:
    """The region's default VPC id, completed the way AWS builds a default VPC."""
    ec2 = client(endpoint_url, "ec2", region)
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    # moto creates a default VPC (with a default subnet per AZ, a default network ACL, a
    # default security group and a main route table) in every region when the region is
    # first used, as AWS does at account creation; checked for all 38 regions of moto
    # 5.2.5. Should a region lack one, create it the way AWS does (CreateDefaultVpc).
    vpc_id = str(vpcs[0]["VpcId"] if vpcs else ec2.create_default_vpc()["Vpc"]["VpcId"])
    igws = ec2.describe_internet_gateways(
        Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}]
    )["InternetGateways"]
    if not igws:
        # moto differs from AWS: its default VPC has no internet gateway, while AWS's has
        # one attached with a 0.0.0.0/0 route in the main route table. Add them, so that
        # deleting a default VPC has to go through the same steps as on AWS.
        igw_id = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
        main_tables = ec2.describe_route_tables(
            Filters=[
                {"Name": "vpc-id", "Values": [vpc_id]},
                {"Name": "association.main", "Values": ["true"]},
            ]
        )["RouteTables"]
        for table in main_tables:
            ec2.create_route(
                RouteTableId=table["RouteTableId"],
                DestinationCidrBlock=_ANYWHERE_V4,
                GatewayId=igw_id,
            )
    return vpc_id


def _cloudfront_read_policy(bucket_name: str, distribution_arn: str) -> dict[str, Any]:
    return {
        "Sid": "AllowCloudFrontServicePrincipalReadOnly",
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket_name}/*",
        "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
    }


def _deny_insecure_transport(bucket_name: str) -> dict[str, Any]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket_name}", f"arn:aws:s3:::{bucket_name}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


_ALL_BLOCKED: dict[str, bool] = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def seed_story_stack(
    endpoint_url: str,
    region: str = DEFAULT_REGION,
    *,
    bucket_name: str | None = None,
    admin_cidr: str = ADMIN_CIDR,
) -> StoryStack:
    """Create the story's stack, as Terraform left it before the CSPM scan.

    A web VPC (10.0.0.0/16) with a public subnet, an internet gateway and a route table;
    its default network ACL as AWS creates it (all traffic allowed from 0.0.0.0/0, so
    port 22 is open: CIS 5.1); a web security group (80/443 from anywhere, 22 from
    ``admin_cidr``); a t3.micro Amazon Linux 2 instance allowing IMDSv1 (CIS 5.6); an
    image bucket readable only by one CloudFront distribution, without a deny-HTTP
    statement (2.1.1), without versioning/MFA Delete (2.1.2), with bucket-level Block
    Public Access but none at account level (2.1.4). Also makes sure every region has
    a default VPC (CIS 5.1 finds port 22 open in each one's default network ACL).
    """
    account_id = _account_id(endpoint_url)
    default_vpcs = _per_region(
        lambda name: _ensure_default_vpc(endpoint_url, name), _regions(endpoint_url)
    )

    ec2 = client(endpoint_url, "ec2", region)
    vpc_id = ec2.create_vpc(
        CidrBlock="10.0.0.0/16",
        TagSpecifications=_tag_spec("vpc", {"Name": "story-web-vpc", **STORY_TAGS}),
    )["Vpc"]["VpcId"]
    zone = ec2.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
    subnet_id = ec2.create_subnet(
        VpcId=vpc_id,
        CidrBlock="10.0.1.0/24",
        AvailabilityZone=zone,
        TagSpecifications=_tag_spec("subnet", {"Name": "story-public", **STORY_TAGS}),
    )["Subnet"]["SubnetId"]
    ec2.modify_subnet_attribute(SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": True})
    igw_id = ec2.create_internet_gateway(
        TagSpecifications=_tag_spec("internet-gateway", {"Name": "story-igw", **STORY_TAGS})
    )["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
    route_table_id = ec2.create_route_table(
        VpcId=vpc_id,
        TagSpecifications=_tag_spec("route-table", {"Name": "story-public", **STORY_TAGS}),
    )["RouteTable"]["RouteTableId"]
    ec2.create_route(
        RouteTableId=route_table_id, DestinationCidrBlock=_ANYWHERE_V4, GatewayId=igw_id
    )
    ec2.associate_route_table(RouteTableId=route_table_id, SubnetId=subnet_id)
    network_acl_id = ec2.describe_network_acls(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "default", "Values": ["true"]},
        ]
    )["NetworkAcls"][0]["NetworkAclId"]

    security_group_id = ec2.create_security_group(
        GroupName="story-web-server",
        Description="Web server: HTTP/HTTPS from anywhere, SSH from the admin address",
        VpcId=vpc_id,
        TagSpecifications=_tag_spec("security-group", {"Name": "story-web-server", **STORY_TAGS}),
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=security_group_id,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": port,
                "ToPort": port,
                "IpRanges": [{"CidrIp": cidr}],
            }
            for port, cidr in ((80, _ANYWHERE_V4), (443, _ANYWHERE_V4), (22, admin_cidr))
        ],
    )
    instance_id = ec2.run_instances(
        ImageId=_amazon_linux_2_ami(ec2),
        InstanceType="t3.micro",
        MinCount=1,
        MaxCount=1,
        SubnetId=subnet_id,
        SecurityGroupIds=[security_group_id],
        MetadataOptions={"HttpTokens": "optional", "HttpEndpoint": "enabled"},
        TagSpecifications=_tag_spec("instance", {"Name": "web-server", **STORY_TAGS}),
    )["Instances"][0]["InstanceId"]

    bucket = bucket_name or f"story-images-{uuid.uuid4().hex[:8]}"
    s3 = client(endpoint_url, "s3", region)
    _create_bucket(s3, bucket, region)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": _tag_list(STORY_TAGS)})
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=_ALL_BLOCKED)
    distribution_arn = client(endpoint_url, "cloudfront").create_distribution(
        DistributionConfig={
            "CallerReference": f"story-{bucket}",
            "Comment": f"images from {bucket}",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "images",
                        "DomainName": f"{bucket}.s3.{region}.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "images",
                "ViewerProtocolPolicy": "redirect-to-https",
                # AWS's managed "CachingOptimized" cache policy.
                "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            },
        }
    )["Distribution"]["ARN"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [_cloudfront_read_policy(bucket, distribution_arn)],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    # The account has no account-level Block Public Access (moto starts without one;
    # remove one left by an earlier remediation when the server was not reset).
    try:
        client(endpoint_url, "s3control", region).delete_public_access_block(AccountId=account_id)
    except ClientError as error:
        if _error_code(error) != "NoSuchPublicAccessBlockConfiguration":
            raise

    return StoryStack(
        account_id=account_id,
        region=region,
        vpc_id=vpc_id,
        subnet_id=subnet_id,
        network_acl_id=network_acl_id,
        security_group_id=security_group_id,
        instance_id=instance_id,
        bucket_name=bucket,
        default_vpcs=default_vpcs,
        internet_gateway_id=igw_id,
        route_table_id=route_table_id,
        distribution_arn=distribution_arn,
        admin_cidr=admin_cidr,
    )


# --------------------------------------------------------------------------- remediation


def _is_allow_all_ingress(entry: dict[str, Any]) -> bool:
    return (
        not entry.get("Egress")
        and entry.get("RuleAction") == "allow"
        and str(entry.get("Protocol")) == "-1"
        and (entry.get("CidrBlock") == _ANYWHERE_V4 or entry.get("Ipv6CidrBlock") == _ANYWHERE_V6)
        and int(entry["RuleNumber"]) != _NACL_DEFAULT_RULE
    )


def _tighten_network_acl(ec2: Any, network_acl_id: str, admin_cidr: str) -> None:
    """SSH only from ``admin_cidr``, HTTP/HTTPS and ephemeral return traffic from anywhere;
    the allow-all ingress rules (IPv4 and IPv6) removed. Egress is left as it is.

    The ephemeral range 1024-65535 contains 3389, the other port CIS 5.1 names, so a
    deny of TCP 3389 from anywhere comes first (rule 90): rules are evaluated in number
    order, so RDP stays closed while return traffic still gets in.
    """
    acl = ec2.describe_network_acls(NetworkAclIds=[network_acl_id])["NetworkAcls"][0]
    entries = acl["Entries"]
    for entry in entries:
        if _is_allow_all_ingress(entry):
            ec2.delete_network_acl_entry(
                NetworkAclId=network_acl_id, RuleNumber=entry["RuleNumber"], Egress=False
            )
    remaining = {
        int(entry["RuleNumber"])
        for entry in entries
        if not entry.get("Egress") and not _is_allow_all_ingress(entry)
    }
    wanted = [
        (90, "deny", _ANYWHERE_V4, 3389, 3389),
        (100, "allow", admin_cidr, 22, 22),
        (110, "allow", _ANYWHERE_V4, 80, 80),
        (120, "allow", _ANYWHERE_V4, 443, 443),
        (130, "allow", _ANYWHERE_V4, 1024, 65535),
    ]
    for rule_number, action, cidr, low, high in wanted:
        params = {
            "NetworkAclId": network_acl_id,
            "RuleNumber": rule_number,
            "Protocol": _TCP,
            "RuleAction": action,
            "Egress": False,
            "CidrBlock": cidr,
            "PortRange": {"From": low, "To": high},
        }
        if rule_number in remaining:
            ec2.replace_network_acl_entry(**params)
        else:
            ec2.create_network_acl_entry(**params)


def _require_imdsv2(ec2: Any, instance_id: str) -> None:
    reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    current = reservations[0]["Instances"][0].get("MetadataOptions", {})
    # moto differs from AWS: ModifyInstanceMetadataOptions replaces the whole set of
    # options, dropping those not passed (HttpEndpoint etc. disappear), while AWS keeps
    # them. Pass the current values along so the result matches AWS's.
    keep = {
        name: current[name]
        for name in (
            "HttpEndpoint",
            "HttpPutResponseHopLimit",
            "HttpProtocolIpv6",
            "InstanceMetadataTags",
        )
        if name in current
    }
    ec2.modify_instance_metadata_options(InstanceId=instance_id, HttpTokens="required", **keep)


_MISSING_ACL = "acl-00000000000000000"


def _drop_acl_associations(ec2: Any, acl: dict[str, Any]) -> None:
    """Remove the associations an orphaned network ACL still holds (its subnets are gone).

    moto differs from AWS: DeleteSubnet leaves the subnet's association in its network
    ACL, and DeleteNetworkAcl then refuses ("has dependencies"). AWS removes the
    association with the subnet. EC2 has no "disassociate" call; moto's
    ReplaceNetworkAclAssociation removes the old association *before* it looks up the new
    ACL, so replacing it with an ACL that does not exist drops it (the call then fails
    with InvalidNetworkAclID.NotFound, which we expect).
    """
    for association in acl.get("Associations", []):
        try:
            ec2.replace_network_acl_association(
                AssociationId=association["NetworkAclAssociationId"], NetworkAclId=_MISSING_ACL
            )
        except ClientError as error:
            if _error_code(error) != "InvalidNetworkAclID.NotFound":
                raise


def _purge_vpc_orphans(ec2: Any) -> None:
    """Delete network ACLs and security groups whose VPC no longer exists.

    AWS deletes a VPC's default network ACL, default security group and main route table
    with the VPC. moto differs from AWS: DeleteVpc removes the main route table and the
    default security group but leaves the network ACLs behind (still associated with the
    deleted subnets, and allowing everything from 0.0.0.0/0, so a CIS 5.1 scan would
    flag a VPC that is gone). Delete such leftovers, whoever deleted the VPC, so the
    emulator ends up where AWS would.
    """
    existing = {vpc["VpcId"] for vpc in ec2.describe_vpcs()["Vpcs"]}
    for acl in ec2.describe_network_acls()["NetworkAcls"]:
        if acl.get("VpcId") not in existing:
            _drop_acl_associations(ec2, acl)
            ec2.delete_network_acl(NetworkAclId=acl["NetworkAclId"])
    for group in ec2.describe_security_groups()["SecurityGroups"]:
        if group.get("VpcId") and group["VpcId"] not in existing:
            ec2.delete_security_group(GroupId=group["GroupId"])


def _delete_default_vpcs(endpoint_url: str, region: str) -> list[str]:
    """Delete the region's default VPC the way one does on AWS; return the ids deleted."""
    ec2 = client(endpoint_url, "ec2", region)
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    deleted: list[str] = []
    for vpc in vpcs:
        vpc_id = vpc["VpcId"]
        in_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
        igws = ec2.describe_internet_gateways(
            Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}]
        )["InternetGateways"]
        for igw in igws:
            ec2.detach_internet_gateway(InternetGatewayId=igw["InternetGatewayId"], VpcId=vpc_id)
            ec2.delete_internet_gateway(InternetGatewayId=igw["InternetGatewayId"])
        for subnet in ec2.describe_subnets(Filters=in_vpc)["Subnets"]:
            ec2.delete_subnet(SubnetId=subnet["SubnetId"])
        for table in ec2.describe_route_tables(Filters=in_vpc)["RouteTables"]:
            if not any(assoc.get("Main") for assoc in table.get("Associations", [])):
                ec2.delete_route_table(RouteTableId=table["RouteTableId"])
        for group in ec2.describe_security_groups(Filters=in_vpc)["SecurityGroups"]:
            if group["GroupName"] != "default":
                ec2.delete_security_group(GroupId=group["GroupId"])
        ec2.delete_vpc(VpcId=vpc_id)
        deleted.append(vpc_id)
    _purge_vpc_orphans(ec2)
    return deleted


def remediate_story_stack(
    endpoint_url: str, stack: StoryStack, admin_cidr: str = ADMIN_CIDR
) -> None:
    """Apply the team's fixes to a stack made by :func:`seed_story_stack`.

    2.1.1: the bucket policy keeps the CloudFront statement and gains a Deny of ``s3:*``
    when ``aws:SecureTransport`` is false. 2.1.2: versioning enabled, MFA Delete not
    (that risk is accepted). 2.1.4: account-level Block Public Access, all four flags.
    5.1: the web VPC's default network ACL allows 22 only from ``admin_cidr``, 80/443 and
    ephemeral ports from anywhere (3389 denied first, see :func:`_tighten_network_acl`);
    and the default VPC of every region is deleted.
    5.6: IMDSv2 required on the web server.
    """
    s3 = client(endpoint_url, "s3", stack.region)
    bucket = stack.bucket_name
    try:
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError as error:
        if _error_code(error) != "NoSuchBucketPolicy":
            raise
        policy = {"Version": "2012-10-17", "Statement": []}
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    deny = _deny_insecure_transport(bucket)
    policy["Statement"] = [s for s in statements if s.get("Sid") != deny["Sid"]] + [deny]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    client(endpoint_url, "s3control", stack.region).put_public_access_block(
        AccountId=stack.account_id, PublicAccessBlockConfiguration=_ALL_BLOCKED
    )

    ec2 = client(endpoint_url, "ec2", stack.region)
    _tighten_network_acl(ec2, stack.network_acl_id, admin_cidr)
    _require_imdsv2(ec2, stack.instance_id)

    regions = sorted(set(_regions(endpoint_url)) | set(stack.default_vpcs))
    _per_region(lambda name: _delete_default_vpcs(endpoint_url, name), regions)


# --------------------------------------------------------------------------- scale


@dataclass
class ScaleSeed:
    """What :func:`seed_scale` created."""

    bucket_names: list[str]
    #: Instance ids by region.
    instance_ids: dict[str, list[str]]


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if index < extra else 0) for index in range(parts)]


def seed_scale(
    endpoint_url: str,
    buckets: int,
    instances: int,
    regions: list[str],
    *,
    batch_size: int = 50,
    http_tokens: str = "optional",
) -> ScaleSeed:
    """Create ``buckets`` buckets and ``instances`` instances spread over ``regions``.

    For benchmarks. Instances go into a dedicated VPC and subnet per region (they do not
    rely on a default VPC, which a remediated account no longer has) and are launched
    ``batch_size`` at a time (``run_instances`` with MinCount = MaxCount).
    """
    if not regions:
        raise ValueError("seed_scale needs at least one region")
    suffix = uuid.uuid4().hex[:6]
    names = [f"scale-{index:05d}-{suffix}" for index in range(buckets)]

    def make_bucket(index: int) -> None:
        region = regions[index % len(regions)]
        s3 = client(endpoint_url, "s3", region)
        _create_bucket(s3, names[index], region)
        s3.put_bucket_tagging(
            Bucket=names[index], Tagging={"TagSet": _tag_list({"Project": "scale"})}
        )

    with ThreadPoolExecutor(max_workers=_REGION_WORKERS) as pool:
        list(pool.map(make_bucket, range(buckets)))

    counts = dict(zip(regions, _split(instances, len(regions)), strict=True))

    def launch(region: str) -> list[str]:
        count = counts[region]
        if count == 0:
            return []
        ec2 = client(endpoint_url, "ec2", region)
        vpc_id = ec2.create_vpc(
            CidrBlock="10.99.0.0/16", TagSpecifications=_tag_spec("vpc", {"Project": "scale"})
        )["Vpc"]["VpcId"]
        subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.99.0.0/18")["Subnet"]["SubnetId"]
        image_id = _amazon_linux_2_ami(ec2)
        ids: list[str] = []
        while len(ids) < count:
            batch = min(batch_size, count - len(ids))
            launched = ec2.run_instances(
                ImageId=image_id,
                InstanceType="t3.micro",
                MinCount=batch,
                MaxCount=batch,
                SubnetId=subnet_id,
                MetadataOptions={"HttpTokens": http_tokens, "HttpEndpoint": "enabled"},
                TagSpecifications=_tag_spec("instance", {"Project": "scale"}),
            )["Instances"]
            ids.extend(str(item["InstanceId"]) for item in launched)
        return ids

    return ScaleSeed(bucket_names=names, instance_ids=_per_region(launch, regions))
