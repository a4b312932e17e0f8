"""HTTP/1.1 on http.client: a keep-alive pool, TLS, CONNECT proxies, deadlines and bounded reads.

This is the only module that imports socket, ssl and http.client, and it turns their
exceptions into xai_lite errors in one place (:func:`_translate`). Those errors are raised
*outside* the ``except`` block that caught the low-level exception: a chained exception would keep
http.client's frames alive, and their locals hold the raw request, Authorization header included
(reliability.md M7).

Time limits (reliability.md M4). http.client only knows a per-socket-operation timeout, which a
server trickling one byte at a time never trips. Here every socket read and write goes through
:class:`_TimedSocket`, which first checks the call's deadline and then sets the socket timeout to
whichever is shorter: the read timeout or the time left. A slow trickle therefore ends at the
deadline, in the header block, in a body or in a stream, with no watchdog thread.
"""

from __future__ import annotations

import http.client
import io
import os
import select
import socket
import ssl
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

from ._config import is_loopback
from .errors import HttpError, InvalidArgumentError, NetworkError, RequestTimeoutError, XaiError, sanitize

__all__ = ["Exchange", "HTTPTransport", "Origin", "Request", "proxy_for"]

_READ_SIZE = 65536  # bytes per read: one SSE read1, or one step of a bounded body read
_MAX_IDLE_PER_ORIGIN = 32  # idle keep-alive connections kept per origin; more are closed
_DRAIN_LIMIT = 65536  # bytes read (and dropped) after a stream's end to keep its connection; else closed
_DRAIN_WAIT = 0.5  # seconds to wait for the end of the body after a stream's terminator

monotonic = time.monotonic


class Origin:
    """Where requests go: scheme, host, port, and the base path that prefixes every endpoint."""

    __slots__ = ("scheme", "host", "port", "base_path", "key")

    def __init__(self, base_url: str) -> None:
        # base_url was validated by _config.validate_base_url
        self.scheme, _, rest = base_url.partition("://")
        netloc, slash, path = rest.partition("/")
        self.base_path = (slash + path).rstrip("/")
        if netloc.startswith("["):
            end = netloc.index("]")
            self.host, port = netloc[1:end], netloc[end + 2 :]
        else:
            self.host, _, port = netloc.partition(":")
        self.port = int(port) if port else (443 if self.scheme == "https" else 80)
        self.key = (self.scheme, self.host.lower(), self.port)

    def __repr__(self) -> str:
        return "Origin(%s://%s:%d%s)" % (self.scheme, self.host, self.port, self.base_path)


class Request:
    """One HTTP request, ready to send to any origin: ``path`` (with its query) follows the
    origin's base path. ``deadline`` is a ``time.monotonic()`` value (or None) computed from the
    ``total`` budget when the logical call began, so retries and failover share it."""

    __slots__ = ("method", "path", "headers", "body", "deadline", "connect_timeout", "read_timeout", "total")

    def __init__(
        self,
        method: str,
        path: str,
        headers: Dict[str, Any],
        body: Optional[bytes],
        deadline: Optional[float],
        connect_timeout: Optional[float],
        read_timeout: Optional[float],
        total: Optional[float],
    ) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.deadline = deadline
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.total = total


class _Expired(Exception):
    """A time limit ran out (internal; translated to RequestTimeoutError)."""

    def __init__(self, phase: str, limit: Optional[float]) -> None:
        super().__init__(phase)
        self.phase = phase
        self.limit = limit


class _Timer:
    """The time limits of the request a connection is serving."""

    __slots__ = ("deadline", "read", "total")

    def __init__(self) -> None:
        self.deadline: Optional[float] = None
        self.read: Optional[float] = None
        self.total: Optional[float] = None

    def next_timeout(self, limit: Optional[float], phase: str) -> Tuple[Optional[float], str]:
        """The socket timeout for the next operation, and the phase to blame if it expires."""
        if self.deadline is None:
            return limit, phase
        remaining = self.deadline - monotonic()
        if remaining <= 0:
            raise _Expired("deadline", self.total)
        if limit is None or remaining < limit:
            return remaining, "deadline"
        return limit, phase


_NOT_SET = object()


class _TimedSocket:
    """The socket http.client sees: every read and write is bounded by the call's deadline."""

    def __init__(self, sock: socket.socket, timer: _Timer) -> None:
        self.sock = sock
        self.timer = timer
        self._readers = 0
        self._closed = False
        self._timeout: object = _NOT_SET

    def use(self, sock: socket.socket) -> None:
        """Carry on over another socket object (the TLS one wrapping the original)."""
        self.sock = sock
        self._timeout = _NOT_SET

    def _settimeout(self, timeout: Optional[float]) -> None:
        # socket.settimeout() is a system call (ioctl) even when the value does not change, and
        # with the default limits it does not change until the deadline comes within the read
        # timeout: set it only when it does.
        if timeout != self._timeout:
            self.sock.settimeout(timeout)
            self._timeout = timeout

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> io.BufferedReader:
        self._readers += 1
        return io.BufferedReader(_TimedReader(self), io.DEFAULT_BUFFER_SIZE)

    def sendall(self, data: bytes) -> None:
        timeout, phase = self.timer.next_timeout(self.timer.read, "write")
        self._settimeout(timeout)
        try:
            self.sock.sendall(data)
        except socket.timeout:
            raise _Expired(phase, timeout if phase == "write" else self.timer.total) from None

    def recv_into(self, buffer: Any) -> int:
        timer = self.timer
        timeout, phase = timer.next_timeout(timer.read, "read")
        self._settimeout(timeout)
        try:
            return self.sock.recv_into(buffer)
        except socket.timeout:
            raise _Expired(phase, timeout if phase == "read" else timer.total) from None

    def close(self) -> None:
        # Like socket.makefile: the descriptor stays open while a response still reads from it.
        self._closed = True
        if self._readers == 0:
            self.sock.close()

    def release_reader(self) -> None:
        self._readers -= 1
        if self._closed and self._readers == 0:
            self.sock.close()

    def is_dropped(self) -> bool:
        """True if the peer closed this idle connection (or sent something unasked)."""
        sock = self.sock
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return True
        try:
            if hasattr(select, "poll"):
                poller = select.poll()
                poller.register(sock, select.POLLIN | select.POLLERR | select.POLLHUP)
                return bool(poller.poll(0))
            return bool(select.select([sock], [], [], 0)[0])
        except (OSError, ValueError):
            return True


class _TimedReader(io.RawIOBase):
    def __init__(self, owner: _TimedSocket) -> None:
        self._owner = owner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._owner.recv_into(buffer)

    def close(self) -> None:
        if not self.closed:
            super().close()
            self._owner.release_reader()


class _Connection(http.client.HTTPConnection):
    """An HTTP(S) connection whose socket enforces the timer's limits."""

    def __init__(self, origin: Origin, context: Optional[ssl.SSLContext], proxy: Optional[_Proxy]) -> None:
        super().__init__(origin.host, origin.port)
        self.origin = origin
        self.context = context
        self.proxy = proxy
        self.timer = _Timer()
        self.tsock: Optional[_TimedSocket] = None
        self.connect_timeout: Optional[float] = None

    def connect(self) -> None:
        timer = self.timer
        timeout, phase = timer.next_timeout(self.connect_timeout, "connect")
        address = (self.proxy.host, self.proxy.port) if self.proxy else (self.host, self.port)
        try:
            raw = socket.create_connection(address, timeout)
        except socket.timeout:
            raise _Expired(phase, timeout if phase == "connect" else timer.total) from None
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.tsock = tsock = _TimedSocket(raw, timer)
        self.sock = tsock
        if self.proxy:
            self.proxy.tunnel(tsock, self.host, self.port)
        if self.context is not None:
            timeout, phase = timer.next_timeout(self.connect_timeout, "connect")
            raw.settimeout(timeout)
            try:
                tsock.use(self.context.wrap_socket(raw, server_hostname=self.host))
            except socket.timeout:
                raise _Expired(phase, timeout if phase == "connect" else timer.total) from None


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


class Exchange:
    """A response whose headers have arrived: read its body whole or piece by piece.

    Every method maps low-level failures to xai_lite errors. The connection goes back to the
    pool only when the body was read to its end; otherwise it is closed.
    """

    def __init__(
        self,
        transport: HTTPTransport,
        conn: _Connection,
        response: http.client.HTTPResponse,
        headers: Dict[str, str],
    ) -> None:
        self._transport = transport
        self._conn: Optional[_Connection] = conn
        self._response = response
        self.status: int = response.status
        self.reason: str = response.reason
        self.headers = headers
        rid = headers.get("x-request-id")
        self.request_id: Optional[str] = sanitize(rid, 200) if rid is not None else None

    def read_body(self, limit: int, *, truncate: bool = False) -> bytes:
        """The whole body, at most ``limit`` bytes. Beyond that: ``HttpError``, or with
        ``truncate=True`` the first ``limit`` bytes (for error bodies)."""
        response = self._response
        declared = response.length
        if declared is not None and declared > limit and not truncate:
            self.close()
            raise HttpError(
                "the response body is %d bytes, over the %d-byte limit (max_response_bytes); "
                "nothing was read" % (declared, limit),
                status_code=self.status,
            )
        # A declared length is read in one exact read. Otherwise (chunked, or up to the close),
        # read1() takes what has arrived, allocating only that: HTTPResponse.read(n) would
        # allocate and zero n bytes on every call.
        pieces: List[bytes] = []
        received = 0
        with _Guard("body", self._conn, self.close, self.status) as guard:
            if declared is not None:
                pieces.append(response.read(min(declared, limit + 1)))
                received = guard.received = len(pieces[0])
            while received <= limit:
                piece = response.read1(min(_READ_SIZE, limit + 1 - received))
                if not piece:
                    break
                pieces.append(piece)
                received = guard.received = received + len(piece)
        if guard.failure is not None:
            pieces = []
            guard.check()
        if received > limit:  # checked before joining: never two copies of an oversized body
            self.close()
            if not truncate:
                pieces = []
                raise HttpError(
                    "the response body is larger than the %d-byte limit (max_response_bytes)" % limit,
                    status_code=self.status,
                )
            return b"".join(pieces)[:limit]  # reads stop at limit + 1 bytes
        body = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        if response.length:  # http.client stops quietly when a Content-Length body is cut short
            self.close()
            raise HttpError(
                "the response body was cut off: %d bytes received, %d more expected"
                % (received, response.length),
                status_code=self.status,
            )
        self.release()
        return body

    def read1(self) -> bytes:
        """The bytes available now (at least one, waiting if needed); ``b""`` at the end."""
        # Called once per stream chunk: a plain try (free when nothing fails) rather than a _Guard,
        # whose object and two method calls cost ~0.5 us a chunk. The same rule holds: the
        # translated error is raised after the except block.
        failure: Optional[XaiError] = None
        try:
            data = self._response.read1(_READ_SIZE)
        except _FAILURES as exc:
            failure = _translate(exc, "stream", self._conn, status=self.status)
        except BaseException:
            self.close()
            raise
        if failure is not None:
            self.close()
            raise failure
        if not data and self._response.length:
            self.close()
            raise HttpError(
                "the stream was cut off: %d more bytes were announced" % self._response.length,
                status_code=self.status,
            )
        return data

    def finish(self) -> None:
        """The caller saw the end it expected: drain a little and keep the connection, or close it."""
        conn = self._conn
        if conn is None:
            return
        # The terminator of the body normally arrives right behind the last event; do not wait
        # long for a server that keeps the stream open after its end.
        conn.timer.read = _DRAIN_WAIT
        try:
            self._response.read(_DRAIN_LIMIT)  # e.g. the [DONE] some servers send after a final event
            clean = self._response.isclosed()
        except _FAILURES:
            clean = False
        if clean:
            self.release()
        else:
            self.close()

    def release(self) -> None:
        """Return the connection to the pool (the body has been read to its end)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            self._transport._release(conn, self._response)

    def close(self) -> None:
        """Abandon the response and close its connection."""
        conn, self._conn = self._conn, None
        if conn is not None:
            self._response.close()
            conn.close()


_FAILURES = (OSError, http.client.HTTPException, _Expired, _ProxyRefused, ValueError)


class _Guard:
    """Runs a block of socket work; on failure closes the connection and keeps the translated
    error in ``failure``, for the caller to raise with :meth:`check` *after* the block. Raising
    inside an ``except`` would chain the low-level exception, and with it http.client's frames,
    whose locals hold the request (reliability.md M7). Anything else (KeyboardInterrupt, say)
    closes the connection and propagates unchanged.

    ``stage`` and ``received`` may be updated inside the block; ``exc_type`` is the type of the
    low-level exception that was caught.
    """

    __slots__ = ("stage", "conn", "close", "status", "received", "failure", "exc_type")

    def __init__(self, stage: str, conn: Optional[_Connection], close: Any, status: int = 0) -> None:
        self.stage = stage
        self.conn = conn
        self.close = close
        self.status = status
        self.received = 0
        self.failure: Optional[XaiError] = None
        self.exc_type: Optional[type] = None

    def __enter__(self) -> _Guard:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        if exc is None:
            return False
        self.close()
        if not isinstance(exc, _FAILURES):
            return False
        self.exc_type = exc_type
        self.failure = _translate(exc, self.stage, self.conn, status=self.status, received=self.received)
        return True

    def check(self) -> None:
        if self.failure is not None:
            raise self.failure


class HTTPTransport:
    """Sends requests over pooled keep-alive connections. Thread-safe: one lock guards the pool,
    and a connection serves one request at a time.

    ``context`` is the client's own ``ssl.SSLContext`` (never the module-global default);
    ``proxy`` a proxy URL, ``None`` for none, or the default: the environment variables.
    """

    def __init__(self, context: Optional[ssl.SSLContext] = None, proxy: object = _FROM_ENV) -> None:
        self._context = context
        self._proxy_setting = proxy
        self._proxies: Dict[Tuple[str, str, int], Optional[_Proxy]] = {}
        self._idle: Dict[Tuple[str, str, int], List[_Connection]] = {}
        self._lock = threading.Lock()
        self._closed = False

    def proxy(self, origin: Origin) -> Optional[_Proxy]:
        """The proxy used for ``origin`` (validated once, then cached)."""
        try:
            return self._proxies[origin.key]
        except KeyError:
            url = proxy_for(origin, self._proxy_setting)
            value = _Proxy(url) if url else None
            self._proxies[origin.key] = value
            return value

    def send(self, origin: Origin, request: Request) -> Exchange:
        """Send ``request`` and wait for the response headers."""
        conn = self._idle_connection(origin)
        if conn is not None:
            exchange = self._attempt(conn, origin, request, reused=True)
            if exchange is not None:
                return exchange
        conn = self._new_connection(origin, request)
        exchange = self._attempt(conn, origin, request, reused=False)
        assert exchange is not None
        return exchange

    def _new_connection(self, origin: Origin, request: Request) -> _Connection:
        if origin.scheme == "https" and self._context is None:
            raise InvalidArgumentError("https needs an SSL context; this transport was built without one")
        proxy = self.proxy(origin)
        conn = _Connection(origin, self._context if origin.scheme == "https" else None, proxy)
        conn.connect_timeout = request.connect_timeout
        _arm(conn.timer, request)
        with _Guard("connect", conn, conn.close) as guard:
            conn.connect()
        guard.check()
        return conn

    def _attempt(self, conn: _Connection, origin: Origin, request: Request, reused: bool) -> Optional[Exchange]:
        _arm(conn.timer, request)
        with _Guard("send", conn, conn.close) as guard:
            conn.request(request.method, origin.base_path + request.path, request.body, request.headers)
            guard.stage = "response"
            response = conn.getresponse()
        if reused and guard.stage == "send" and guard.exc_type is not None:
            if issubclass(guard.exc_type, OSError) and not issubclass(guard.exc_type, socket.timeout):
                # The server closed this kept-alive connection as we started writing: it cannot
                # have acted on a request it did not receive, so a fresh connection is safe.
                return None
        guard.check()
        headers: Dict[str, str] = {}
        for name, value in response.msg.raw_items():  # as received: items() runs email policies
            if not value.isascii():  # http.client kept undecodable bytes as surrogates
                value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            name = name.lower()
            headers[name] = headers[name] + ", " + value if name in headers else value
        exchange = Exchange(self, conn, response, headers)
        problem = _framing_problem(response, headers)
        if problem:
            exchange.close()
            raise HttpError(problem, status_code=response.status)
        return exchange

    def _idle_connection(self, origin: Origin) -> Optional[_Connection]:
        while True:
            with self._lock:
                idle = self._idle.get(origin.key)
                if not idle:
                    return None
                conn = idle.pop()
            tsock = conn.tsock
            if tsock is not None and conn.sock is not None and not tsock.is_dropped():
                return conn
            conn.close()

    def _release(self, conn: _Connection, response: http.client.HTTPResponse) -> None:
        if conn.sock is None or not response.isclosed() or self._closed:
            conn.close()
            return
        with self._lock:
            idle = self._idle.setdefault(conn.origin.key, [])
            if len(idle) < _MAX_IDLE_PER_ORIGIN:
                idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        """Close every idle connection; connections in use close when their response ends."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()

    def __del__(self) -> None:
        # A client dropped without close(): close its idle sockets rather than leave them to
        # the garbage collector (which would warn about each).
        for conns in getattr(self, "_idle", {}).values():
            for conn in conns:
                conn.close()


def _arm(timer: _Timer, request: Request) -> None:
    timer.deadline, timer.read, timer.total = request.deadline, request.read_timeout, request.total


def _framing_problem(response: http.client.HTTPResponse, headers: Dict[str, str]) -> str:
    """What is wrong with a response's framing headers, or "" (checked before any body read)."""
    length = headers.get("content-length")
    if length is not None and "chunked" not in headers.get("transfer-encoding", "").lower():
        values = {value.strip() for value in length.split(",")}
        if len(values) > 1:
            return "the response has conflicting Content-Length headers %s" % sorted(values)
        value = values.pop()
        if not value.isdigit():
            return "the response has an invalid Content-Length %r" % sanitize(value, 40)
    encoding = headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", ""):
        return (
            "the response is %r-encoded although the client asked for identity; xai_lite does not "
            "decompress bodies (a proxy may be rewriting them)" % sanitize(encoding, 40)
        )
    return ""


def _translate(
    exc: BaseException, stage: str, conn: Optional[_Connection], *, status: int = 0, received: int = 0
) -> XaiError:
    """The one mapping of low-level exceptions to xai_lite errors. ``stage`` is where it
    happened: connect, send, response (waiting for headers), body or stream."""
    host = "%s:%d" % (conn.host, conn.port) if conn is not None else "the server"
    sent = stage != "connect"
    if isinstance(exc, _Expired):
        what = {
            "connect": "connecting to %s" % host,
            "read": "waiting for data from %s" % host,
            "write": "sending the request to %s" % host,
        }.get(exc.phase)
        if exc.phase == "deadline":
            message = "the call's total time limit of %s s ran out (%s) talking to %s" % (
                _seconds(exc.limit),
                "before the connection was made" if stage == "connect" else stage,
                host,
            )
        else:
            message = "timed out after %s s %s" % (_seconds(exc.limit), what)
        message += "; raise the limit with timeout=xai_lite.Timeout(...) if the server is just slow"
        return RequestTimeoutError(message, phase=exc.phase, timeout=exc.limit, request_sent=sent, host=host)
    if isinstance(exc, _ProxyRefused):
        return NetworkError(str(exc), reason="proxy", request_sent=False, host=host)
    if stage == "connect":
        if isinstance(exc, ssl.SSLCertVerificationError):
            # X509_V_ERR_HOSTNAME_MISMATCH (62) and _IP_ADDRESS_MISMATCH (64): the chain is trusted but
            # names another host, which no CA file fixes.
            advice = (
                "the certificate is for another host name: check the host in base_url"
                if exc.verify_code in (62, 64)
                else "if a proxy re-signs TLS, pass its CA with ca_file= or SSL_CERT_FILE"
            )
            return NetworkError(
                "TLS certificate verification failed for %s (%s); %s"
                % (host, sanitize(str(exc.verify_message), 120), advice),
                reason="tls-verify",
                request_sent=False,
                host=host,
            )
        if isinstance(exc, ssl.SSLError):
            return NetworkError(
                "the TLS handshake with %s failed: %s" % (host, sanitize(str(exc), 160)),
                reason="tls",
                request_sent=False,
                host=host,
            )
        if isinstance(exc, socket.gaierror):
            return NetworkError(
                "could not resolve the host name %s: %s; check base_url and the network"
                % (host, sanitize(exc.strerror or str(exc), 120)),
                reason="dns",
                request_sent=False,
                host=host,
            )
        if isinstance(exc, ConnectionRefusedError):
            return NetworkError(
                "%s refused the connection; check base_url and that the server is running" % host,
                reason="refused",
                request_sent=False,
                host=host,
            )
        return NetworkError(
            "could not connect to %s: %s" % (host, sanitize(exc.__class__.__name__ + " " + str(exc), 160)),
            reason="connect",
            request_sent=False,
            host=host,
        )
    if stage in ("send", "response"):
        if isinstance(exc, (ConnectionError, http.client.RemoteDisconnected)) or (
            isinstance(exc, http.client.BadStatusLine) and not str(exc).strip("'\" ")
        ):
            return NetworkError(
                "%s closed the connection %s; the request may or may not have been processed"
                % (host, "while the request was being sent" if stage == "send" else "without answering"),
                reason="reset",
                request_sent=True,
                host=host,
            )
        if isinstance(exc, OSError):
            return NetworkError(
                "the connection to %s failed: %s" % (host, sanitize(exc.__class__.__name__ + " " + str(exc), 160)),
                reason="network",
                request_sent=True,
                host=host,
            )
        return HttpError(
            "%s sent a malformed response: %s" % (host, sanitize(exc.__class__.__name__ + " " + str(exc), 160))
        )
    # body or stream
    if isinstance(exc, http.client.IncompleteRead) and stage == "stream":
        # http.client counts only the chunk it was reading, not the stream: say what is known.
        return HttpError("the stream from %s was cut off in the middle of a chunk" % host, status_code=status or None)
    if isinstance(exc, http.client.IncompleteRead):
        return HttpError(
            "the response from %s was cut off: %d bytes received%s"
            % (host, received + len(exc.partial), ", %d more expected" % exc.expected if exc.expected else ""),
            status_code=status or None,
        )
    if isinstance(exc, OSError):
        # A network failure, as a reset before the answer is: the request was sent, and a
        # replay is as safe (or not) as it was then.
        return NetworkError(
            "the connection to %s broke while reading the response (%s)"
            % (host, sanitize(exc.__class__.__name__ + " " + str(exc), 120)),
            reason="reset",
            request_sent=True,
            host=host,
        )
    return HttpError(
        "%s sent a malformed response body: %s" % (host, sanitize(exc.__class__.__name__ + " " + str(exc), 160)),
        status_code=status or None,
    )


def _seconds(value: Optional[float]) -> str:
    return "%.3g" % value if value is not None else "?"
