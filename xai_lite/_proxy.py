"""HTTP proxies: which proxy a request uses (``proxy=``, ``HTTPS_PROXY``/``HTTP_PROXY``,
``NO_PROXY``) and the CONNECT tunnel through it."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Optional

from ._config import is_loopback
from .errors import InvalidArgumentError, sanitize

if TYPE_CHECKING:
    from ._transport import Origin, _TimedSocket

__all__ = ["_FROM_ENV", "_Proxy", "_ProxyRefused", "_mask_userinfo", "proxy_for"]


class _Proxy:
    """An HTTP proxy used through CONNECT; its credentials go only into the CONNECT request."""

    __slots__ = ("host", "port", "_auth")

    def __init__(self, url: str) -> None:
        from urllib.parse import unquote, urlsplit

        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise InvalidArgumentError(
                "proxy %r: only http:// proxies are supported (TLS to the API still goes end to end "
                "through the CONNECT tunnel)" % _mask_userinfo(url)
            )
        try:
            port = parts.port or 80
        except ValueError:
            raise InvalidArgumentError("proxy %r has an invalid port" % _mask_userinfo(url)) from None
        self.host = parts.hostname
        self.port = port
        self._auth: Optional[bytes] = None
        if parts.username is not None:
            import base64

            pair = "%s:%s" % (unquote(parts.username), unquote(parts.password or ""))
            self._auth = b"Basic " + base64.b64encode(pair.encode("utf-8"))

    def __repr__(self) -> str:
        return "_Proxy(%s:%d%s)" % (self.host, self.port, ", with credentials" if self._auth else "")

    def tunnel(self, tsock: _TimedSocket, host: str, port: int) -> None:
        target = ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)
        head = b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n" % (target.encode("ascii"), target.encode("ascii"))
        if self._auth is not None:
            head += b"Proxy-Authorization: " + self._auth + b"\r\n"
        tsock.sendall(head + b"\r\n")
        reader = tsock.makefile("rb")
        try:
            status_line = reader.readline(65537)
            lines = 0
            while True:
                line = reader.readline(65537)
                lines += 1
                if line in (b"\r\n", b"\n", b"") or lines > 100 or len(line) > 65536:
                    break
        finally:
            reader.close()
        parts = status_line.split(None, 2)
        if len(parts) < 2 or parts[1] != b"200":
            shown = sanitize(status_line.decode("latin-1"), 100) or "no answer"
            raise _ProxyRefused("the proxy %s:%d refused to open a tunnel to %s: %s" % (self.host, self.port, target, shown))


class _ProxyRefused(Exception):
    pass


def _mask_userinfo(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    netloc, slash, path = rest.partition("/")
    if "@" in netloc:
        netloc = "***@" + netloc.rpartition("@")[2]
    return scheme + sep + netloc + slash + path


def proxy_for(origin: Origin, proxy: object) -> Optional[str]:
    """The proxy URL to use for ``origin``: ``proxy`` if given (``None`` for none), else the
    environment's ``HTTPS_PROXY`` (https) or ``HTTP_PROXY`` (http), unless ``NO_PROXY`` matches.
    Loopback hosts never use an environment proxy."""
    if proxy is not _FROM_ENV:
        return proxy if isinstance(proxy, str) and proxy else None
    if is_loopback(origin.host):
        return None
    name = "https_proxy" if origin.scheme == "https" else "http_proxy"
    url = os.environ.get(name) or os.environ.get(name.upper())
    if not url:
        return None
    no_proxy = os.environ.get("no_proxy") or os.environ.get("NO_PROXY") or ""
    host = origin.host.lower()
    for entry in no_proxy.replace(" ", "").split(","):
        entry = entry.lower()
        if not entry:
            continue
        if entry == "*":
            return None
        entry_host, _, entry_port = entry.partition(":")
        if entry_port and entry_port != str(origin.port):
            continue
        entry_host = entry_host.lstrip(".")
        if host == entry_host or host.endswith("." + entry_host):
            return None
    return url


_FROM_ENV = object()
