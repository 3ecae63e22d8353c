"""The front door of the simulated AWS account: a small HTTP server in front of moto.

moto is a stand-in, not AWS. Two things the scanner meets on AWS are missing from it, and this
front supplies them so that the collectors run unchanged against the simulation:

* IAM Access Analyzer: moto 5.2.5 has no backend for it (every request answers HTTP 500), so
  the front answers ``ListAnalyzers``, ``CreateAnalyzer``, ``GetAnalyzer`` and
  ``DeleteAnalyzer`` itself, per region, in AWS's REST-JSON shapes. A new account has no
  analyzer, as on AWS.
* Per-region denials: on AWS an SCP or an IAM policy on ``aws:RequestedRegion`` makes a region
  answer AccessDenied. ``front.denied`` holds regions whose requests get AWS's error shape for
  the protocol, so tests can see how a scan treats a region it may not read.
* Per-service denials: a role without one service's read permission gets AccessDenied from
  that service alone. ``front.denied_services`` holds signing names (``kms``, ``iam``, ``s3``,
  ``monitoring`` for CloudWatch, ...) answered the same way, in every region.
* IAM's centralized root access (``ListOrganizationsFeatures``, ``EnableOrganizationsRoot
  CredentialsManagement``, ``EnableOrganizationsRootSessions`` and their ``Disable``
  counterparts): moto 5.2.5 answers them with HTTP 500. The front answers them in IAM's query
  shapes, asking moto's Organizations backend whether there is an organisation (without one,
  ``OrganizationNotFoundException``, as on AWS). It does not model IAM's trusted access in the
  organisation: enabling a feature works once the organisation exists.

Every request is also counted by (signing name, operation) in ``front.calls``, so a test can
see which APIs a scan touched; the count starts again on reset.

Everything else is forwarded to moto byte for byte.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import re
import threading
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_SCOPE_RE = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
_ACCOUNT_RE = re.compile(r"^[0-9]{12}$")
#: IAM's root-access-management actions moto does not implement: action -> (feature, on).
_ROOT_ACCESS_ACTIONS: dict[str, tuple[str, bool] | None] = {
    "ListOrganizationsFeatures": None,
    "EnableOrganizationsRootCredentialsManagement": ("RootCredentialsManagement", True),
    "DisableOrganizationsRootCredentialsManagement": ("RootCredentialsManagement", False),
    "EnableOrganizationsRootSessions": ("RootSessions", True),
    "DisableOrganizationsRootSessions": ("RootSessions", False),
}
DEFAULT_ACCOUNT = "123456789012"


class AwsFront:
    """Forward to moto; answer Access Analyzer; deny chosen regions. Runs in daemon threads."""

    def __init__(self, upstream: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.upstream = urlsplit(upstream)
        self.denied: set[str] = set()
        self.denied_services: set[str] = set()
        self._analyzers: dict[str, dict[str, dict[str, Any]]] = {}
        self._root_access_features: set[str] = set()
        self.calls: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._local = threading.local()
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                match = _SCOPE_RE.search(self.headers.get("Authorization", ""))
                region, service = match.groups() if match else ("", "")
                operation = front.operation(self.command, self.path, dict(self.headers), body)
                if service:
                    with front._lock:
                        front.calls[(service, operation)] += 1
                if (region and region in front.denied) or service in front.denied_services:
                    self._reply(*front.denial(service, self.headers.get("Content-Type", "")))
                elif service == "access-analyzer":
                    self._reply(*front.access_analyzer(self.command, self.path, body, region))
                elif service == "iam" and operation in _ROOT_ACCESS_ACTIONS:
                    self._reply(*front.root_access(operation, dict(self.headers)))
                else:
                    if self.path.startswith("/moto-api/reset"):
                        front.reset()
                    self._reply(*front.forward(self.command, self.path, dict(self.headers), body))

            def _reply(self, status: int, headers: dict[str, str], data: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in {"transfer-encoding", "content-length", "connection"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.endpoint_url = f"http://{host}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        """Back to a new account: no analyzer, no denied region or service."""
        with self._lock:
            self._analyzers.clear()
            self._root_access_features.clear()
            self.calls.clear()
            self.denied.clear()
            self.denied_services.clear()

    @staticmethod
    def operation(method: str, path: str, headers: dict[str, str], body: bytes) -> str:
        """The API operation of a request: the JSON protocols' ``X-Amz-Target``, the query
        protocols' ``Action``, or for REST APIs the method and the path's first segment."""
        lowered = {key.lower(): value for key, value in headers.items()}
        target = lowered.get("x-amz-target")
        if target:
            return target.rsplit(".", 1)[-1]
        if "x-www-form-urlencoded" in lowered.get("content-type", ""):
            action = parse_qs(body.decode("utf-8", "replace")).get("Action")
            if action:
                return action[0]
        action = parse_qs(urlsplit(path).query).get("Action")
        if action:
            return action[0]
        segments = [s for s in urlsplit(path).path.split("/") if s]
        return f"{method} /{segments[0] if segments else ''}"

    # --- forwarding ---------------------------------------------------------------------------

    def forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        # One kept-alive connection to moto per handler thread (boto3 keeps its own connections
        # alive, so each thread serves many requests).
        for attempt in (1, 2):
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = http.client.HTTPConnection(
                    self.upstream.hostname, self.upstream.port, timeout=120
                )
                self._local.conn = conn
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                return response.status, dict(response.getheaders()), response.read()
            except (http.client.HTTPException, OSError):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    # --- denied regions -----------------------------------------------------------------------

    @staticmethod
    def denial(service: str, content_type: str) -> tuple[int, dict[str, str], bytes]:
        message = "User is not authorized to perform this operation in this region"
        if service == "ec2":
            body = (
                "<Response><Errors><Error><Code>UnauthorizedOperation</Code>"
                f"<Message>{message}</Message></Error></Errors>"
                "<RequestID>denied</RequestID></Response>"
            )
            return 403, {"Content-Type": "text/xml"}, body.encode()
        if service == "s3":  # REST-XML
            body = (
                f"<Error><Code>AccessDenied</Code><Message>{message}</Message>"
                "<RequestId>denied</RequestId></Error>"
            )
            return 403, {"Content-Type": "application/xml"}, body.encode()
        if "x-www-form-urlencoded" in content_type:  # query protocol (IAM, RDS, SNS, ...)
            body = (
                "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                f"<Message>{message}</Message></Error>"
                "<RequestId>denied</RequestId></ErrorResponse>"
            )
            return 403, {"Content-Type": "text/xml"}, body.encode()
        payload = json.dumps({"__type": "AccessDeniedException", "message": message}).encode()
        return (
            403,
            {
                "Content-Type": "application/x-amz-json-1.1",
                "x-amzn-ErrorType": "AccessDeniedException",
            },
            payload,
        )

    # --- IAM centralized root access ------------------------------------------------------------

    def root_access(
        self, action: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        organization_id = self._organization_id(headers)
        if organization_id is None:
            return self._iam_error(
                400, "OrganizationNotFoundException", "The account is not in an organization."
            )
        change = _ROOT_ACCESS_ACTIONS[action]
        with self._lock:
            if change is not None:
                feature, on = change
                if on:
                    self._root_access_features.add(feature)
                else:
                    self._root_access_features.discard(feature)
            features = sorted(self._root_access_features)
        members = "".join(f"<member>{feature}</member>" for feature in features)
        body = (
            f'<{action}Response xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
            f"<{action}Result><OrganizationId>{organization_id}</OrganizationId>"
            f"<EnabledFeatures>{members}</EnabledFeatures></{action}Result>"
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            f"</{action}Response>"
        )
        return 200, {"Content-Type": "text/xml"}, body.encode()

    def _organization_id(self, headers: dict[str, str]) -> str | None:
        """The organisation moto holds for the caller's account, or None (asked of moto's
        Organizations backend with the caller's credentials)."""
        auth = headers.get("Authorization", "")
        forwarded = {
            "Authorization": auth.replace("/iam/aws4_request", "/organizations/aws4_request"),
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSOrganizationsV20161128.DescribeOrganization",
            "Host": headers.get("Host", ""),
        }
        status, _, data = self.forward("POST", "/", forwarded, b"{}")
        if status != 200:
            return None
        return str(json.loads(data)["Organization"]["Id"])

    @staticmethod
    def _iam_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>{uuid.uuid4()}</RequestId>"
            "</ErrorResponse>"
        )
        return status, {"Content-Type": "text/xml"}, body.encode()

    # --- IAM Access Analyzer ------------------------------------------------------------------

    def access_analyzer(
        self, method: str, path: str, body: bytes, region: str
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(path)
        segments = [s for s in parts.path.split("/") if s]
        if not segments or segments[0] != "analyzer":
            return self._aa_error(404, "ResourceNotFoundException", f"No such route {parts.path}")
        with self._lock:
            analyzers = self._analyzers.setdefault(region, {})
            if method == "GET" and len(segments) == 1:
                wanted = parse_qs(parts.query).get("type", [None])[0]
                items = [a for a in analyzers.values() if wanted in (None, a["type"])]
                return self._aa_ok({"analyzers": items})
            if method == "PUT" and len(segments) == 1:
                request = json.loads(body or b"{}")
                name = request.get("analyzerName", "")
                kind = request.get("type", "")
                if not name or kind not in {
                    "ACCOUNT",
                    "ORGANIZATION",
                    "ACCOUNT_UNUSED_ACCESS",
                    "ORGANIZATION_UNUSED_ACCESS",
                }:
                    return self._aa_error(400, "ValidationException", "analyzerName and type")
                if name in analyzers:
                    return self._aa_error(409, "ConflictException", f"{name} already exists")
                arn = f"arn:aws:access-analyzer:{region}:{DEFAULT_ACCOUNT}:analyzer/{name}"
                analyzers[name] = {
                    "arn": arn,
                    "name": name,
                    "type": kind,
                    "status": "ACTIVE",
                    "createdAt": dt.datetime.now(dt.UTC).isoformat(),
                    "tags": request.get("tags", {}),
                }
                return self._aa_ok({"arn": arn})
            if len(segments) == 2:
                name = segments[1]
                if name not in analyzers:
                    return self._aa_error(404, "ResourceNotFoundException", f"{name} not found")
                if method == "GET":
                    return self._aa_ok({"analyzer": analyzers[name]})
                if method == "DELETE":
                    del analyzers[name]
                    return self._aa_ok({})
        return self._aa_error(400, "ValidationException", f"{method} {parts.path} not supported")

    @staticmethod
    def _aa_ok(payload: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        return 200, {"Content-Type": "application/json"}, json.dumps(payload).encode()

    @staticmethod
    def _aa_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
        return (
            status,
            {"Content-Type": "application/json", "x-amzn-ErrorType": code},
            json.dumps({"message": message}).encode(),
        )
