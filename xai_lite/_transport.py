"""HTTP/1.1 on http.client: a keep-alive pool, TLS, CONNECT proxies, deadlines and bounded reads.

This is the only module that imports socket, ssl and http.client (with ``_http_response``, the
hardened http.client response it uses), and it turns their exceptions into xai_lite errors in one
place (:func:`_translate`). Those errors are raised
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
import select
import socket
import ssl
import sys
import time
from typing import Any, Dict, List, Optional, Tuple, Union

from ._http_response import MAX_TRAILER_BYTES, NoAnswer, Response, TrailerTooLarge
from ._pool import Pool
from ._proxy import _FROM_ENV, _Proxy, _ProxyRefused, proxy_for
from ._repr import safe_repr
from .errors import HttpError, InvalidArgumentError, NetworkError, RequestTimeoutError, XaiError, sanitize

__all__ = ["IDEMPOTENT_METHODS", "Exchange", "HTTPTransport", "Origin", "Request", "proxy_for"]

# RFC 9110 section 9.2.2: replaying these has the same effect as sending them once. (xai-sdk-ts
# retries statuses for GET only and pins "DELETE + 502 is not retried"; the issue asks for DELETE
# too, and the RFC agrees that a repeated DELETE is harmless.) The retry rules and the transport's
# replay of a request lost to a keep-alive race both use it.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})

_READ_SIZE = 65536  # bytes per read: one SSE read1, or one step of a bounded body read
_DRAIN_LIMIT = 65536  # bytes read (and dropped) after a stream's end to keep its connection; else closed
_DRAIN_WAIT = 0.5  # seconds (wall clock) the drain after a stream's terminator may take; else closed

monotonic = time.monotonic
_LOGGER = __name__.rpartition(".")[0] + ".reliability"  # where every replay decision is logged


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

    @safe_repr
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

    # Never part of http.client's wire dumps: HTTPConnection.debuglevel set process-wide (to
    # debug another library) would print each request, Authorization header included, and each
    # response's headers. This class's own 0 wins over it, and set_debuglevel() is ignored.
    debuglevel = 0

    def set_debuglevel(self, level: int) -> None:
        pass

    def __init__(self, origin: Origin, context: Optional[ssl.SSLContext], proxy: Optional[_Proxy]) -> None:
        super().__init__(origin.host, origin.port)
        self.origin = origin
        self.context = context
        self.proxy = proxy
        self.timer = _Timer()
        self.tsock: Optional[_TimedSocket] = None
        self.connect_timeout: Optional[float] = None
        # Through a proxy, how far the connection got: "connect" (to the proxy), "handshake"
        # (CONNECT), then "tunnel" (https: TLS to the API host inside it) or "forward" (plain
        # http: absolute-form requests to the proxy). Errors name the proxy and this phase.
        self.proxy_phase: Optional[str] = None

    def connect(self) -> None:
        timer = self.timer
        proxy = self.proxy
        timeout, phase = timer.next_timeout(self.connect_timeout, "connect")
        address = (proxy.host, proxy.port) if proxy else (self.host, self.port)
        self.proxy_phase = "connect" if proxy else None
        try:
            raw = socket.create_connection(address, timeout)
        except socket.timeout:
            raise _Expired(phase, timeout if phase == "connect" else timer.total) from None
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.tsock = tsock = _TimedSocket(raw, timer)
        self.sock = tsock
        if proxy and self.context is None:
            self.proxy_phase = "forward"
        elif proxy:
            # The answer to CONNECT is part of connecting: the connect timeout bounds it, so a
            # silent proxy fails in seconds rather than after the read timeout.
            self.proxy_phase = "handshake"
            read, timer.read = timer.read, self.connect_timeout
            try:
                proxy.tunnel(tsock, self.host, self.port)
            finally:
                timer.read = read
            self.proxy_phase = "tunnel"
        if self.context is not None:
            timeout, phase = timer.next_timeout(self.connect_timeout, "connect")
            raw.settimeout(timeout)
            try:
                tsock.use(self.context.wrap_socket(raw, server_hostname=self.host))
            except socket.timeout:
                raise _Expired(phase, timeout if phase == "connect" else timer.total) from None


class _ForwardConnection(_Connection):
    """Plain http through a proxy: absolute-form requests, as urllib and httpx send them (stock
    squid and tinyproxy refuse CONNECT to port 80). The proxy sees everything, the key included.
    A class of its own, so that direct connections pay nothing for it per request."""

    proxy: _Proxy

    def putrequest(self, method: str, url: str, skip_host: bool = False, skip_accept_encoding: bool = False) -> None:
        proxy = self.proxy
        super().putrequest(method, proxy.absolute_target(self.host, self.port, url), skip_host, skip_accept_encoding)
        if proxy.auth is not None:
            self.putheader("Proxy-Authorization", proxy.auth)


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
        self._pid = transport._pool.pid  # the process the connection belongs to
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
        """The caller saw the end it expected: read the rest of the body (at most ``_DRAIN_LIMIT``
        bytes within ``_DRAIN_WAIT`` seconds of wall-clock time) and keep the connection, or close it."""
        conn = self._conn
        if conn is None:
            return
        # The terminator of the body normally arrives right behind the last event. A server that
        # keeps the stream open after its end (keep-alive comments every few tenths of a second
        # defeat any per-read timeout) gets _DRAIN_WAIT seconds in all, then loses the connection.
        timer = conn.timer
        end = monotonic() + _DRAIN_WAIT
        if timer.deadline is None or end < timer.deadline:
            timer.deadline = end
        try:
            self._response.read(_DRAIN_LIMIT)  # e.g. the [DONE] some servers send after a final event
            clean = self._response.isclosed()
        except _FAILURES:
            clean = False
        except BaseException:  # a Ctrl-C during the drain: the stream counts as finished, so close here
            self.close()
            raise
        if clean:
            self.release()
        else:
            self.close()

    def release(self) -> None:
        """Return the connection to the pool (the body has been read to its end)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            self._transport._pool.checkin(conn, self._response.isclosed(), self._pid)

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
    closes the connection and propagates as the same exception, but with its traceback cut at
    the block: below it are http.client's frames, and a Ctrl-C during a long upload would
    otherwise carry the Authorization header (``_send_output``'s ``msg``) to any reporter that
    captures locals.

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
            tb = None  # noqa: F841 - this frame must not keep the cut frames alive either
            raise exc.with_traceback(None)
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
        self._pool = Pool()

    def proxy(self, origin: Origin) -> Optional[_Proxy]:
        """The proxy used for ``origin`` (validated once, then cached)."""
        if origin.key in self._proxies:
            return self._proxies[origin.key]
        try:
            value = proxy_for(origin, self._proxy_setting)
        except InvalidArgumentError as exc:
            error = exc
        else:
            self._proxies[origin.key] = value
            return value
        # Raised without the frames below, whose locals hold the proxy URL, credentials included.
        raise error.with_traceback(None)

    def send(self, origin: Origin, request: Request) -> Exchange:
        """Send ``request`` and wait for the response headers.

        A request lost to a kept-alive connection the server closed at the moment of reuse is
        sent once more on a fresh connection (see :func:`_may_replay`), and logged at DEBUG as
        ``event="connection_replayed"`` on the ``xai_lite.reliability`` logger."""
        conn = self._pool.checkout(origin.key)
        lost = ""  # the stage in which a request on a reused connection was lost, if it was
        if conn is not None:
            outcome = self._attempt(conn, origin, request, reused=True)
            if isinstance(outcome, Exchange):
                return outcome
            lost = outcome
        try:
            conn = self._new_connection(origin, request)
            outcome = self._attempt(conn, origin, request, reused=False)
        except NetworkError as exc:
            if lost == "response":  # the lost copy went out whole: it may have reached the server
                exc.request_sent = True
            raise
        assert isinstance(outcome, Exchange)
        return outcome

    def _new_connection(self, origin: Origin, request: Request) -> _Connection:
        if origin.scheme == "https" and self._context is None:
            raise InvalidArgumentError("https needs an SSL context; this transport was built without one")
        proxy = self.proxy(origin)
        kind = _ForwardConnection if proxy is not None and origin.scheme == "http" else _Connection
        conn = kind(origin, self._context if origin.scheme == "https" else None, proxy)
        conn.response_class = Response
        conn.connect_timeout = request.connect_timeout
        _arm(conn.timer, request)
        with _Guard("connect", conn, conn.close) as guard:
            conn.connect()
        guard.check()
        return conn

    def _attempt(self, conn: _Connection, origin: Origin, request: Request, reused: bool) -> Union[Exchange, str]:
        """The exchange, or (on a reused connection) the stage in which a replayable request was lost."""
        _arm(conn.timer, request)
        with _Guard("send", conn, conn.close) as guard:
            conn.request(request.method, origin.base_path + request.path, request.body, request.headers)
            guard.stage = "response"
            response = conn.getresponse()
        if reused and guard.exc_type is not None and _may_replay(guard.stage, guard.exc_type, request):
            logging: Any = sys.modules.get("logging")  # None: nothing enabled DEBUG
            log = logging.getLogger(_LOGGER) if logging is not None else None
            if log is not None and log.isEnabledFor(logging.DEBUG):
                log.debug(
                    "%s %s: the kept-alive connection to %s:%d was closed at reuse; replaying on a new one",
                    request.method, request.path.split("?", 1)[0], conn.host, conn.port,
                    extra={"event": "connection_replayed", "attempt": 1, "reason": guard.stage},
                )
            return guard.stage
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

    def close(self) -> None:
        """Close every idle connection; connections in use close when their response ends."""
        self._pool.close()


def _may_replay(stage: str, exc_type: type, request: Request) -> bool:
    """Whether a request that failed on a *reused* connection may go once more on a fresh one:
    Go's net/http rule (``Transport.shouldRetryRequest``). A failure while sending means the
    server never received the whole request, so it cannot have acted on it; a connection that
    ended before the first byte of an answer, after the request went out, is replayed only for
    an idempotent method or a request with an ``Idempotency-Key``. Never for a fresh connection,
    and never after a timeout."""
    if stage == "send":
        return issubclass(exc_type, OSError) and not issubclass(exc_type, socket.timeout)
    if not issubclass(exc_type, NoAnswer):
        return False
    headers = request.headers
    return request.method in IDEMPOTENT_METHODS or "idempotency-key" in headers or "x-idempotency-key" in headers


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
    happened: connect, send, response (waiting for headers), body or stream. Through a proxy
    the message names the proxy and the phase, and a NetworkError carries them as ``proxy``
    and ``proxy_phase`` (its ``host`` stays the API host)."""
    host = "%s:%d" % (conn.host, conn.port) if conn is not None else "the server"
    if conn is None or conn.proxy is None:
        return _map_failure(exc, stage, conn, host, status, received)
    proxy, phase = conn.proxy, conn.proxy_phase
    peer = {
        "connect": "the proxy %s" % proxy.url,
        "handshake": "the proxy %s (CONNECT handshake for %s)" % (proxy.url, host),
        "tunnel": "%s (in the tunnel through the proxy %s)" % (host, proxy.url),
    }.get(phase or "", "%s (via the proxy %s)" % (host, proxy.url))
    error = _map_failure(exc, stage, conn, peer, status, received)
    if isinstance(error, NetworkError):
        error.host, error.proxy, error.proxy_phase = host, proxy.url, phase
    return error


def _map_failure(
    exc: BaseException, stage: str, conn: Optional[_Connection], host: str, status: int, received: int
) -> XaiError:
    """:func:`_translate` for the connection's peer, ``host`` as messages name it."""
    sent = stage != "connect"
    check = "check base_url"
    if conn is not None and conn.proxy is not None and conn.proxy_phase in ("connect", "handshake"):
        check = "check the proxy setting (%s)" % conn.proxy.source
    if isinstance(exc, _Expired):
        # The CONNECT handshake runs under the connect timeout (see _Connection.connect).
        handshake = conn is not None and conn.proxy_phase == "handshake" and exc.phase != "deadline"
        what = {
            "connect": "connecting to %s" % host,
            "read": "waiting for data from %s" % host,
            "write": "sending the request to %s" % host,
        }.get("connect" if handshake else exc.phase)
        if exc.phase == "deadline":
            message = "the call's total time limit of %s s ran out (%s) talking to %s" % (
                _seconds(exc.limit),
                "before the connection was made" if stage == "connect" else stage,
                host,
            )
        else:
            message = "timed out after %s s %s" % (_seconds(exc.limit), what)
        message += "; raise the limit with timeout=xai_lite.Timeout(...) if the server is just slow"
        phase = "connect" if handshake else exc.phase
        return RequestTimeoutError(message, phase=phase, timeout=exc.limit, request_sent=sent, host=host)
    if isinstance(exc, _ProxyRefused):
        return NetworkError(str(exc), reason="proxy", request_sent=False, host=host)
    if stage == "connect":
        if isinstance(exc, ssl.SSLCertVerificationError):
            if exc.verify_code in _NAME_MISMATCH:
                # Another CA would not help: the certificate names another host.
                advice = "check the host name in base_url; the server's certificate must be issued for it"
            else:
                advice = "if a proxy re-signs TLS, pass its CA with ca_file= or SSL_CERT_FILE"
            return NetworkError(
                "TLS certificate verification failed for %s (%s); %s"
                % (host, sanitize(str(exc.verify_message), 120), advice),
                reason="tls-verify",
                request_sent=False,
                host=host,
            )
        if isinstance(exc, ssl.SSLError):
            return NetworkError(
                "the TLS handshake with %s failed: %s%s" % (host, sanitize(str(exc), 160), _client_cert_hint(exc)),
                reason="tls",
                request_sent=False,
                host=host,
            )
        if isinstance(exc, socket.gaierror):
            return NetworkError(
                "could not resolve the host name of %s: %s; %s and the network"
                % (host, sanitize(exc.strerror or str(exc), 120), check),
                reason="dns",
                request_sent=False,
                host=host,
            )
        if isinstance(exc, ConnectionRefusedError):
            return NetworkError(
                "%s refused the connection; %s and that it is running" % (host, check),
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
            # Over TLS, a close while the first request is written or before its answer (a reused
            # connection would have been replaced) may be a TLS 1.3 server refusing the client
            # certificate, its close having beaten its alert.
            hint = _CLIENT_CERT_HINT if conn is not None and conn.context is not None else ""
            return NetworkError(
                "%s closed the connection %s; the request may or may not have been processed%s"
                % (host, "while the request was being sent" if stage == "send" else "without answering", hint),
                reason="reset",
                request_sent=True,
                host=host,
            )
        if isinstance(exc, ssl.SSLError):
            # TLS 1.3: the server checks the client certificate after the client's handshake
            # is done, so its refusal arrives as the answer to the request, or (when its close
            # beats the alert) as an EOF or a reset while the request is written.
            return NetworkError(
                "the TLS connection to %s failed: %s%s" % (host, sanitize(str(exc), 160), _client_cert_hint(exc)),
                reason="tls",
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
    if isinstance(exc, TrailerTooLarge):
        return HttpError(
            "the response from %s has a trailer section over %d bytes after its body" % (host, MAX_TRAILER_BYTES),
            status_code=status or None,
        )
    if isinstance(exc, http.client.IncompleteRead) and stage == "stream":
        # The stream counts what reached the caller (chunks_delivered); the byte count here would
        # cover only the HTTP chunk that was cut.
        return HttpError(
            "the response from %s was cut off before the end of its chunked body" % host, status_code=status or None
        )
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


# OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH and X509_V_ERR_IP_ADDRESS_MISMATCH
_NAME_MISMATCH = (62, 64)
# TLS alerts by which a server asks for a client certificate or refuses the one it got
_CLIENT_CERT_ALERTS = frozenset({
    "TLSV13_ALERT_CERTIFICATE_REQUIRED", "SSLV3_ALERT_HANDSHAKE_FAILURE", "SSLV3_ALERT_BAD_CERTIFICATE",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN", "TLSV1_ALERT_UNKNOWN_CA", "SSLV3_ALERT_CERTIFICATE_EXPIRED",
    "TLSV1_ALERT_ACCESS_DENIED",
})


_CLIENT_CERT_HINT = "; if the server wants a client certificate it trusts (mTLS), pass one with client_cert="


def _client_cert_hint(exc: ssl.SSLError) -> str:
    if getattr(exc, "reason", None) in _CLIENT_CERT_ALERTS or isinstance(exc, ssl.SSLEOFError):
        return _CLIENT_CERT_HINT
    return ""


def _seconds(value: Optional[float]) -> str:
    return "%.3g" % value if value is not None else "?"
