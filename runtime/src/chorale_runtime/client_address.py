"""Who is on the other end of an HTTP request, when proxies may stand in between.

The client address is the socket peer. ``X-Forwarded-For`` is believed only when the peer is
one of the trusted proxies: then the client is the rightmost address that is not itself a
trusted proxy (what the outermost trusted proxy saw). Anything a client writes further left
is ignored, so nobody picks their own address by sending the header.

Identity counts its rate limits per client address this way (``CHORALE_TRUSTED_PROXIES``); the
portal finds the browser's address the same way before passing it on to identity."""

from __future__ import annotations

import ipaddress

Networks = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]


def parse_networks(text: str) -> Networks:
    """Comma-separated addresses or CIDR networks (``10.0.0.1, 192.168.0.0/16``)."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()
    )


def _within(address: str, networks: Networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(peer: str | None, forwarded_for: list[str], trusted: Networks) -> str:
    """The client's address (see the module docstring); ``"unknown"`` without a peer."""
    peer = peer or "unknown"
    if not trusted or not _within(peer, trusted):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _within(hop, trusted):
            return hop
    return hops[0] if hops else peer
