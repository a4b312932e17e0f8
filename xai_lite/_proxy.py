"""HTTP proxies: which proxy a request uses (``proxy=``, ``HTTPS_PROXY``/``HTTP_PROXY``,
``NO_PROXY``), the CONNECT tunnel through it for https origins, and the absolute-form request
target for plain-http origins.

The proxy's credentials (``http://user:password@host:port``) go only to the proxy: into the
CONNECT request of a tunnel, never through it (requests CVE-2023-32681, reliability.md S6).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Optional

from ._config import is_loopback
from ._secrets import HiddenBytes
from .errors import InvalidArgumentError, sanitize

if TYPE_CHECKING:
    from ._transport import Origin, _TimedSocket

__all__ = ["_FROM_ENV", "_Proxy", "_ProxyRefused", "_mask_userinfo", "proxy_for"]

# What a refusal of CONNECT means, and what to do about it.
_CONNECT_HINTS = {
    b"403": "the proxy's rules do not allow this destination; ask its administrator to allow it",
    b"502": "the proxy could not reach the API host; check base_url and the proxy's own network",
    b"503": "the proxy could not reach the API host; check base_url and the proxy's own network",
    b"504": "the proxy timed out reaching the API host; check base_url and the proxy's own network",
}


class _Proxy:
    """An HTTP proxy. https origins go through a CONNECT tunnel (TLS stays end to end); plain
    http origins get absolute-form requests, as urllib and httpx send them, with
    ``Proxy-Authorization`` on each request.

    ``url`` is the proxy for messages (``http://[***@]host:port``, credentials masked) and
    ``source`` the setting it came from (``proxy`` or the environment variable's name).
    A URL without a scheme (``host:port``) means http, as curl, httpx and urllib read it.
    """

    __slots__ = ("host", "port", "url", "source", "auth")

    def __init__(self, url: str, source: str = "proxy") -> None:
        from urllib.parse import unquote, urlsplit

        shown = _mask_userinfo(url)
        parts = urlsplit(url if "://" in url else "http://" + url)
        scheme = parts.scheme.lower()
        if scheme != "http":
            raise InvalidArgumentError(_scheme_problem(scheme, source, shown))
        try:
            port = parts.port or 80
            host = parts.hostname
        except ValueError:
            host = None
        if not host:
            raise InvalidArgumentError(
                "%s %r has no valid host and port; write it as http://host:port" % (source, sanitize(shown, 200))
            )
        self.host = host
        self.port = port
        self.source = source
        self.auth: Optional[HiddenBytes] = None
        if parts.username is not None:
            import base64

            pair = "%s:%s" % (unquote(parts.username), unquote(parts.password or ""))
            self.auth = HiddenBytes(b"Basic " + base64.b64encode(pair.encode("utf-8")))
        self.url = "http://%s%s:%d" % ("***@" if self.auth else "", _bracketed(host), port)

    def __repr__(self) -> str:
        return "_Proxy(%s)" % getattr(self, "url", "not set up")  # never raises, even half-built

    def absolute_target(self, host: str, port: int, path: str) -> str:
        """The absolute-form request target for a plain-http origin (RFC 9112 section 3.2.2)."""
        return "http://%s%s%s" % (_bracketed(host), "" if port == 80 else ":%d" % port, path)

    def tunnel(self, tsock: _TimedSocket, host: str, port: int) -> None:
        """Open a CONNECT tunnel to ``host:port`` over ``tsock``; raise :class:`_ProxyRefused`
        unless the proxy answers 2xx."""
        target = "%s:%d" % (_bracketed(host), port)
        name, auth = target.encode("ascii"), self.auth
        # Hidden: the locals of a traceback (an interrupt while this is sent, say) show them masked.
        credentials = HiddenBytes(b"Proxy-Authorization: %s\r\n" % auth if auth is not None else b"")
        head = HiddenBytes(b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (name, name, credentials))
        tsock.sendall(head)
        reader = tsock.makefile("rb")
        try:
            status_line = reader.readline(65537)
            lines = 0
            while status_line:
                line = reader.readline(65537)
                lines += 1
                if line in (b"\r\n", b"\n", b"") or lines > 100 or len(line) > 65536:
                    break
        finally:
            reader.close()
        parts = status_line.split(None, 2)
        if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1][:1] == b"2" and len(parts[1]) == 3:
            return
        if not status_line:
            raise _ProxyRefused(
                "the proxy %s closed the connection without answering CONNECT %s (the CONNECT handshake); "
                "check the proxy setting (%s)" % (self.url, target, self.source)
            )
        status = parts[1] if len(parts) >= 2 else b""
        if status == b"407":
            hint = (
                "the proxy did not accept the credentials in its URL"
                if self.auth
                else "the proxy wants credentials: put them in its URL, http://user:password@host:port"
            )
        else:
            hint = _CONNECT_HINTS.get(status, "check the proxy setting (%s)" % self.source)
        raise _ProxyRefused(
            "the proxy %s refused to open a tunnel to %s (the CONNECT handshake): %s; %s"
            % (self.url, target, sanitize(status_line.decode("latin-1"), 100), hint)
        )


class _ProxyRefused(Exception):
    """The proxy answered CONNECT with something other than 2xx (internal; becomes a NetworkError)."""


def _bracketed(host: str) -> str:
    return "[%s]" % host if ":" in host else host


def _scheme_problem(scheme: str, source: str, shown: str) -> str:
    shown = sanitize(shown, 200)
    if scheme == "https":
        return (
            "%s %r: https:// proxies (TLS to the proxy itself) are not supported; give the proxy as "
            "http://host:port (the connection to the API is still encrypted end to end through the "
            "CONNECT tunnel)" % (source, shown)
        )
    if scheme.startswith("socks"):
        return "%s %r: SOCKS proxies are not supported; use an HTTP proxy, http://host:port" % (source, shown)
    return "%s %r: unknown proxy scheme %r; give the proxy as http://host:port (or host:port)" % (
        source,
        shown,
        sanitize(scheme, 20),
    )


def _mask_userinfo(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", scheme
    netloc, slash, path = rest.partition("/")
    if "@" in netloc:
        netloc = "***@" + netloc.rpartition("@")[2]
    return scheme + sep + netloc + slash + path


def proxy_for(origin: Origin, proxy: object) -> Optional[_Proxy]:
    """The proxy to use for ``origin``: ``proxy`` if given (``None`` or ``""`` for none), else
    the environment's ``HTTPS_PROXY`` (https) or ``HTTP_PROXY`` (http), unless ``NO_PROXY``
    matches. Loopback hosts never use an environment proxy."""
    if proxy is not _FROM_ENV:
        if proxy is not None and not isinstance(proxy, str):
            raise InvalidArgumentError(
                "proxy must be a URL such as 'http://proxy.example:3128', or None, not %s" % type(proxy).__name__
            )
        return _Proxy(proxy) if proxy else None
    if is_loopback(origin.host):
        return None
    name = "https_proxy" if origin.scheme == "https" else "http_proxy"
    if not os.environ.get(name) and not (name == "http_proxy" and "REQUEST_METHOD" in os.environ):
        # Not HTTP_PROXY in a CGI process, where a request's "Proxy:" header sets it (httpoxy,
        # CVE-2016-5385); urllib ignores it there too.
        name = name.upper()
    url = os.environ.get(name)
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
    return _Proxy(url, name)


_FROM_ENV = object()
