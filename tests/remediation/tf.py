"""Running the real ``terraform`` offline, against the ``hashicorp/aws`` provider from a local
filesystem mirror found on this machine (never a path written in the repository).

The provider is installed once per test session into a plugin cache; each working directory
then shares that session's data directory (``TF_DATA_DIR``) and lock file, so a test pays for
``validate`` or ``plan``, not for another ``init``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INSTALL_HELP = (
    "Terraform 1.11 and the hashicorp/aws 5.x provider are needed for the remediation tests. "
    "Install terraform from https://developer.hashicorp.com/terraform/install and put the "
    "provider in a filesystem mirror (`terraform providers mirror DIR` on a connected machine, "
    "in a directory with a `versions.tf` requiring hashicorp/aws ~> 5.0), then set "
    "TF_PLUGIN_MIRROR=DIR (the directory that holds registry.terraform.io/)."
)

_ROOTS = (
    "/opt",
    "/usr/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
)
_PROVIDER = Path("registry.terraform.io/hashicorp/aws")


def find_mirror() -> Path | None:
    """``TF_PLUGIN_MIRROR`` if set, else the first conventional root (up to three levels
    deep) holding ``registry.terraform.io/hashicorp/aws``."""
    configured = os.environ.get("TF_PLUGIN_MIRROR")
    if configured:
        path = Path(configured).expanduser()
        return path if (path / _PROVIDER).is_dir() else None
    for root in _ROOTS:
        base = Path(root).expanduser()
        if not base.is_dir():
            continue
        candidates = [base]
        for _depth in range(3):
            for candidate in candidates:
                if (candidate / _PROVIDER).is_dir():
                    return candidate
            candidates = [
                child
                for parent in candidates
                for child in _subdirs(parent)
                if child.name != "registry.terraform.io"
            ]
    return None


def _subdirs(path: Path) -> list[Path]:
    try:
        return sorted(child for child in path.iterdir() if child.is_dir())
    except OSError:
        return []


REQUIRED_PROVIDERS = """terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 6.0"
    }
  }
}
"""


class TerraformError(AssertionError):
    pass


@dataclass
class Terraform:
    """The session's terraform: ``workdir`` makes a directory ready for validate/plan/apply."""

    binary: str
    env: dict[str, str]
    lock_file: Path

    def workdir(self, path: Path) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.lock_file, path / ".terraform.lock.hcl")
        return path

    def run(self, workdir: Path, *args: str, env: dict[str, str] | None = None) -> str:
        result = subprocess.run(
            [self.binary, *args],
            cwd=workdir,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            raise TerraformError(
                f"terraform {' '.join(args)} failed in {workdir}:\n{result.stdout}\n{result.stderr}"
            )
        return result.stdout

    def validate(self, workdir: Path) -> dict[str, Any]:
        out = json.loads(
            subprocess.run(
                [self.binary, "validate", "-json", "-no-color"],
                cwd=workdir,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=600,
            ).stdout
        )
        assert out["valid"], json.dumps(out["diagnostics"], indent=2)
        return out


def start_terraform(base: Path) -> Terraform:
    """Find terraform and the mirror, write a CLI config, ``init`` once; fail with the
    install instructions when either is missing."""
    binary = shutil.which("terraform")
    if binary is None:
        raise TerraformError("terraform is not on PATH. " + INSTALL_HELP)
    mirror = find_mirror()
    if mirror is None:
        raise TerraformError("No filesystem mirror of hashicorp/aws found. " + INSTALL_HELP)
    config = base / "cli.tfrc"
    config.write_text(
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {json.dumps(str(mirror))}\n"
        '    include = ["registry.terraform.io/*/*"]\n'
        "  }\n"
        "}\n"
    )
    cache = base / "plugin-cache"
    cache.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TF_", "AWS_")) or key == "TF_PLUGIN_MIRROR"
    }
    env.update(
        TF_CLI_CONFIG_FILE=str(config),
        TF_PLUGIN_CACHE_DIR=str(cache),
        TF_DATA_DIR=str(base / "data"),
        TF_IN_AUTOMATION="1",
        CHECKPOINT_DISABLE="1",
        TF_INPUT="0",
    )
    seed = base / "seed"
    seed.mkdir()
    (seed / "versions.tf").write_text(REQUIRED_PROVIDERS)
    terraform = Terraform(binary, env, seed / ".terraform.lock.hcl")
    terraform.run(seed, "init", "-input=false", "-no-color")
    return terraform


class HostPrefixProxy:
    """An HTTP proxy on loopback that sends every request to one endpoint.

    The aws provider, as the AWS SDK does on AWS, puts the account id in front of the S3 Control
    host (``123456789012.127.0.0.1:PORT``), a name loopback cannot resolve. Given to terraform
    as ``HTTP_PROXY`` it plays the part of DNS for those names (Go sends requests to loopback
    addresses directly, so only the prefixed ones come here) and forwards them unchanged.
    """

    def __init__(self, endpoint: str) -> None:
        import http.client
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import urlsplit

        target = urlsplit(endpoint)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return

            def _forward(self) -> None:
                parts = urlsplit(self.path)
                path = parts.path + (f"?{parts.query}" if parts.query else "")
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() != "proxy-connection"}
                connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
                try:
                    connection.request(self.command, path or "/", body=body, headers=headers)
                    answer = connection.getresponse()
                    data = answer.read()
                finally:
                    connection.close()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HostPrefixProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
