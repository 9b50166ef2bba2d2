"""Which webhook URLs we call. Production: https only, and never an address inside our own
network (private, loopback, link-local, ...), checked when the endpoint is added AND at each
delivery against what DNS says then, and the request goes to the address that was checked
(so a name that re-resolves to 127.0.0.1 between check and call gets nowhere).
Development allows http and loopback so tests and local receivers work."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


class UnsafeUrl(Exception):
    pass


def check_url(url: str, production: bool) -> None:
    """Shape checks at registration time (DNS is checked at delivery time)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError as error:
        raise UnsafeUrl(f"Not a valid URL: {error}.") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeUrl("The URL must be absolute, with an https:// scheme and a host.")
    if production and parts.scheme != "https":
        raise UnsafeUrl("Webhook URLs must use https://.")
    if parts.username or parts.password:
        raise UnsafeUrl("Webhook URLs must not carry credentials.")
    if production:
        try:
            address = ipaddress.ip_address(parts.hostname)
        except ValueError:
            return
        if not is_public(address):
            raise UnsafeUrl("Webhook URLs must not point into a private network.")


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


async def resolve(host: str, port: int, production: bool) -> str:
    """The address to connect to; in production every address the name resolves to must be
    public (one private answer is enough to refuse)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise UnsafeUrl(f"Cannot resolve {host}: {error}") from None
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses:
        raise UnsafeUrl(f"Cannot resolve {host}")
    if production:
        for address in addresses:
            if not is_public(address):
                raise UnsafeUrl(f"{host} resolves to a non-public address ({address}); refused.")
    return str(addresses[0])
