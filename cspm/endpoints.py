"""Which endpoint URLs an account may send its AWS calls to.

The endpoint field exists for stand-ins (moto, LocalStack) and VPC endpoints. It must not turn
the scanner into a way to make the server fetch arbitrary URLs: the cloud metadata services
answer on link-local addresses (169.254.169.254, and fd00:ec2::254 on AWS's IPv6) with the
worker's own credentials. Loopback stays allowed: the simulated account and the tests use it.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

ALLOWED_SCHEMES = ("http", "https")
METADATA_ADDRESSES = {ipaddress.ip_address("fd00:ec2::254")}


def _refused_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        # ::ffff:169.254.169.254 and the like reach the IPv4 address.
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None and _refused_address(mapped):
            return True
    return address.is_link_local or address in METADATA_ADDRESSES or address.is_unspecified


def endpoint_problem(url: str, resolve: bool = False) -> str | None:
    """Why ``url`` may not be an account's endpoint, or None if it may.

    ``resolve``: also look the host name up and refuse it if any of its addresses is refused
    (the scan does, just before calling; saving does not, since a VPC endpoint's name may
    resolve only where the workers run).
    """
    if not url:
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "Enter a valid URL."
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        return "Only http:// and https:// endpoints are allowed."
    if not host:
        return "Enter a valid URL."
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    elif resolve:
        try:
            infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            return None  # unresolvable: the call fails on its own, reaching nothing
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    else:
        addresses = []
    if any(_refused_address(address) for address in addresses):
        return (
            "Link-local and cloud metadata addresses (169.254.0.0/16, fd00:ec2::254) are not "
            "allowed as an endpoint."
        )
    return None
