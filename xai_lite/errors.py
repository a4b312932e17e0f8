"""Every exception xai_lite raises, and the one place that turns an HTTP error response into one.

::

    XaiError                                       base; never raised itself
    ├── InvalidArgumentError(XaiError, ValueError)  bad arguments, config or missing key; before any I/O
    ├── MissingDependencyError(XaiError, ImportError)  an optional extra is not installed
    ├── CircuitOpenError                           a circuit breaker refused the call; nothing was sent
    ├── RateLimiterTimeoutError(XaiError, TimeoutError)  the client's own rate limiter would wait too long
    ├── NetworkError                               no (whole) HTTP response: refused, reset, DNS, TLS, proxy
    │   └── RequestTimeoutError(NetworkError, TimeoutError)  .phase: connect | read | write | deadline
    ├── HttpError                                  a response that is not valid HTTP/JSON, too large, or a redirect
    ├── StreamingError                             bad SSE, or a stream that ended before its terminator
    └── ApiError                                   the server answered with an error
        ├── BadRequestError        400, 422
        ├── AuthenticationError    401, 403, and xAI's 400 "Incorrect API key"
        ├── NotFoundError          404
        ├── RateLimitError         429
        └── ServerError            500 and above

Two more live next to the features that raise them: ``StructuredOutputError(XaiError,
ValueError)`` (a structured answer that does not fit its schema; ``_structured.py``) and
``MaxTurnsError`` (``run_tools`` ran out of turns; ``_tool_loop.py``).

Every error is picklable and its message says what happened and what to do. None of them ever
holds the API key: server text is masked (``_secrets.KeyMask``) before it is parsed, cut or
shown (:func:`api_error`, :func:`excerpt`, :func:`reason_text`); :func:`mask_error`, the last
step before any error leaves the client, masks every string the error carries and clears the
locals of the library's frames in its traceback; and transport errors are raised outside the
``except`` blocks that caught the low-level exceptions, so no frame of http.client (whose locals
hold the Authorization header) hangs off ``__context__``.
"""

from __future__ import annotations

import json
import math
import re
import time
from types import TracebackType
from typing import Any, Callable, Mapping

__all__ = [
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "CircuitOpenError",
    "HttpError",
    "InvalidArgumentError",
    "MissingDependencyError",
    "NetworkError",
    "NotFoundError",
    "RateLimitError",
    "RateLimiterTimeoutError",
    "RequestTimeoutError",
    "ServerError",
    "StreamingError",
    "XaiError",
]


class XaiError(Exception):
    """Base class of every xai_lite error.

    Attributes that any error may carry (``None`` when they do not apply):
    ``request_id`` (the server's ``x-request-id``), ``client_request_id`` (the
    ``x-client-request-id`` this client sent), ``attempts`` (how many attempts a retry
    policy made before giving up), ``previous`` (the errors of its earlier attempts),
    ``chunks_delivered`` (for an error raised while iterating a stream: how many items reached
    the caller before it) and ``run`` (for an error raised inside ``run_tools`` or a
    ``Conversation`` turn: the :class:`ToolRun` so far, tool results included).
    """

    request_id: str | None = None
    client_request_id: str | None = None
    attempts: int | None = None
    chunks_delivered: int | None = None
    previous: list[XaiError] | None = None
    run: Any = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        text = self.message
        if self.client_request_id:
            text += " [client request id %s]" % self.client_request_id
        return text


class InvalidArgumentError(XaiError, ValueError):
    """An argument, setting or missing API key that the client refuses before any I/O."""


class MissingDependencyError(XaiError, ImportError):
    """An optional feature needs a package that is not installed.

    ``extra`` names the xai-lite extra that installs it and ``package`` the package itself.
    """

    def __init__(self, message: str = "", *, extra: str = "", package: str = "") -> None:
        if not message:
            message = "this feature needs the %r package; install it with: pip install 'xai-lite[%s]'" % (
                package,
                extra,
            )
        super().__init__(message)
        self.extra = extra
        self.package = package


class CircuitOpenError(XaiError):
    """A circuit breaker is open, so the call failed fast without opening a socket.

    ``endpoint`` is the base URL the breaker guards (if known) and ``retry_in`` the seconds
    until it lets a probe through.
    """

    def __init__(self, message: str, *, endpoint: str | None = None, retry_in: float = 0.0) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.retry_in = retry_in


class RateLimiterTimeoutError(XaiError, TimeoutError):
    """A client-side :class:`~xai_lite.RateLimiter` would have made the call wait longer than it
    may (its ``timeout``, or the time left before the call's deadline); nothing was sent.
    ``wait`` is the wait in seconds it would have taken."""

    def __init__(self, message: str, *, wait: float = 0.0) -> None:
        super().__init__(message)
        self.wait = wait


class NetworkError(XaiError):
    """No (whole) HTTP response arrived: the connection was refused or reset (also in the middle
    of a body), DNS or TLS failed.

    ``request_sent`` is ``False`` when the request provably never reached the server (so
    replaying it is always safe), ``True`` when it may have. ``reason`` is a short tag such as
    ``"refused"``, ``"dns"``, ``"tls"``, ``"tls-verify"``, ``"reset"``, ``"proxy"``.

    Through a proxy, ``proxy`` is its URL (credentials masked) and ``proxy_phase`` how far the
    connection got: ``"connect"`` (to the proxy), ``"handshake"`` (its answer to CONNECT),
    ``"tunnel"`` (TLS and the exchange with the API host inside the tunnel) or ``"forward"``
    (plain http requests through the proxy). Both are ``None`` without a proxy.
    """

    def __init__(
        self,
        message: str,
        *,
        reason: str = "network",
        request_sent: bool = True,
        host: str | None = None,
        proxy: str | None = None,
        proxy_phase: str | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.request_sent = request_sent
        self.host = host
        self.proxy = proxy
        self.proxy_phase = proxy_phase


class RequestTimeoutError(NetworkError, TimeoutError):
    """A timeout expired. ``phase`` is ``connect``, ``read``, ``write`` or ``deadline`` (the total
    time budget of the call), and ``timeout`` the limit in seconds that expired."""

    def __init__(
        self,
        message: str,
        *,
        phase: str = "read",
        timeout: float | None = None,
        request_sent: bool = True,
        host: str | None = None,
    ) -> None:
        super().__init__(message, reason="timeout", request_sent=request_sent, host=host)
        self.phase = phase
        self.timeout = timeout


class HttpError(XaiError):
    """The server answered, but not with something this client can accept: a redirect, a body
    over the size cap, a truncated or malformed body, the wrong content type, an odd status.
    ``status_code`` is the HTTP status when one was read."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class StreamingError(XaiError):
    """A stream could not be read to its end: malformed SSE, an oversized event, a cut
    connection, or an end without the terminator (so a truncated answer never looks complete).
    ``chunks_delivered`` says how many items reached the caller first."""

    def __init__(self, message: str, *, chunks_delivered: int | None = None) -> None:
        super().__init__(message)
        self.chunks_delivered = chunks_delivered


class ApiError(XaiError):
    """The API answered with an error.

    Attributes: ``status_code``; ``message`` (the server's own words); ``code`` (xAI's
    ``code`` or OpenAI-style ``error.code``/``error.type``, when given); ``request_id`` (from
    ``x-request-id``); ``headers`` (lower-cased names); ``body`` (parsed JSON, or text);
    ``retry_after`` (seconds the server asked us to wait, from ``retry-after-ms`` or
    ``Retry-After``).
    """

    hint = ""

    def __init__(
        self,
        message: str,
        *,
        status_code: int = 0,
        code: str | int | None = None,
        request_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.request_id = request_id
        self.headers = dict(headers or {})
        self.body = body
        self.retry_after = retry_after

    def __str__(self) -> str:
        parts = ["%s %s" % (self.status_code, self.message)]
        if self.request_id:
            parts.append("[request id %s]" % self.request_id)
        if self.client_request_id:
            parts.append("[client request id %s]" % self.client_request_id)
        hint = self._hint()
        if hint:
            parts.append("-- " + hint)
        return " ".join(parts)

    def _hint(self) -> str:
        return self.hint or _STATUS_HINTS.get(self.status_code, "")


class BadRequestError(ApiError):
    """400 or 422: the server rejected the request itself."""

    hint = "The request was rejected as invalid; fix the field the message names rather than retrying."


class AuthenticationError(ApiError):
    """401, 403, or xAI's 400 "Incorrect API key": the key is missing, wrong or not allowed."""

    hint = (
        "Check the API key: set XAI_API_KEY (export XAI_API_KEY=xai-...) or pass Client(api_key=...); "
        "keys are managed at https://console.x.ai."
    )


class NotFoundError(ApiError):
    """404: the model, response, file or job id does not exist (or has expired)."""

    hint = "Check the model name or id; client.models.list() shows the models this key can use."


class RateLimitError(ApiError):
    """429: too many requests or tokens, or the team's credits are exhausted."""

    def _hint(self) -> str:
        if _is_quota_exhausted(self.message):
            return "The team's credits or spending limit are exhausted; add credits at https://console.x.ai."
        if self.retry_after is not None:
            return "Wait %.3g s before retrying, or give the client a RetryPolicy and a RateLimiter." % (
                self.retry_after
            )
        return "Slow down and retry later, or give the client a RetryPolicy and a RateLimiter."


class ServerError(ApiError):
    """500 and above: the service failed to answer this request."""

    def _hint(self) -> str:
        if self.status_code in (501, 505):
            return "This server does not implement the request; check base_url and the endpoint."
        return "The service failed; retry later (a RetryPolicy does it for you)."


_STATUS_CLASSES: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    422: BadRequestError,
    429: RateLimitError,
}

_STATUS_HINTS = {
    413: "The request body is larger than a server or proxy on the way accepts; send less (a shorter "
    "history, smaller images), or raise the proxy's limit (nginx: client_max_body_size).",
}

_BAD_KEY = re.compile(r"(incorrect|invalid) api key", re.IGNORECASE)
_QUOTA = re.compile(r"credit|spending limit|quota|billing", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]*>", re.IGNORECASE | re.DOTALL)
_SPACES = re.compile(r"\s+")
MAX_MESSAGE_CHARS = 2000  # a server message longer than this is cut, with a marker


def _is_quota_exhausted(message: str) -> bool:
    return bool(_QUOTA.search(message))


def _error_class(status: int, message: str) -> type[ApiError]:
    cls = _STATUS_CLASSES.get(status)
    if cls is None:
        return ServerError if status >= 500 else ApiError
    if cls is BadRequestError and _BAD_KEY.search(message):
        return AuthenticationError  # xAI answers a wrong key with 400, not 401
    return cls


def sanitize(text: str, limit: int = 256) -> str:
    """Return ``text`` on one line, without control characters, cut to ``limit`` characters."""
    text = _SPACES.sub(" ", _CONTROL.sub("", text)).strip()
    if len(text) > limit:
        text = text[:limit] + "... (%d characters cut)" % (len(text) - limit)
    return text


def excerpt(body: bytes, limit: int = 256, *, scrub: Callable[[str], str] = str) -> str:
    """A short, printable excerpt of a response body for an error message. ``scrub`` masks the
    API key should the body contain it, before the excerpt is cut (a key straddling the cut
    would otherwise show most of itself); the window it masks reaches past the cut by more than
    any escaped form of a key takes."""
    return repr(sanitize(scrub(body[: limit * 2 + _MASK_MARGIN].decode("utf-8", "replace")), limit))


_MASK_MARGIN = 64 * 1024  # bytes: a 4,096-character key (MAX_KEY_LENGTH) at 6 bytes a character, and gaps
MAX_REASON_CHARS = 100  # the longest standard reason phrase is 31 characters


def reason_text(reason: str, scrub: Callable[[str], str] = str) -> str:
    """The server's reason phrase as a message may show it: masked, on one line, without control
    characters (a terminal escape, a BEL), and cut to ``MAX_REASON_CHARS``."""
    return sanitize(scrub(reason), MAX_REASON_CHARS)


def _message_from_body(text: str, status: int, reason: str) -> tuple[str, Any, str | int | None]:
    """Return ``(message, parsed_body, code)`` for any of xAI's four error body shapes:
    ``{"code","error"}``, ``{"error":{...}}``, ``{"error":"..."}``, and plain text or HTML; an
    error body framed as server-sent events (``data: {"error": ...}``) is read as its JSON."""
    parsed: Any = text
    code: str | int | None = None
    message = ""
    payload = _sse_payload(text)
    if payload[:1] in ("{", "["):
        try:
            parsed = json.loads(payload)
        except (ValueError, RecursionError):
            parsed = text
    if isinstance(parsed, dict):
        err = parsed.get("error")
        source = err if isinstance(err, dict) else parsed
        if isinstance(err, str):
            message = err
        else:
            for key in ("message", "detail", "msg", "error_description"):
                value = source.get(key)
                if isinstance(value, str) and value:
                    message = value
                    break
        raw_code = source.get("code", parsed.get("code"))
        if raw_code is None:
            raw_code = source.get("type")
        if isinstance(raw_code, (str, int)) and not isinstance(raw_code, bool):
            code = raw_code
        if not message and isinstance(raw_code, str):
            message = raw_code
    elif isinstance(parsed, str) and text.strip():
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        message = title.group(1) if title else _TAGS.sub(" ", text)
        # nginx and Go write the status into the page ("413 Request Entity Too Large"); the
        # message is shown after the status already.
        message = re.sub(r"^\s*%d\b[\s:-]*" % status, "", message)
    message = sanitize(message, MAX_MESSAGE_CHARS) or reason or "(no error message in the response)"
    return message, parsed, code


def _sse_payload(text: str) -> str:
    """The data of the first event if ``text`` is an event stream (some servers answer a failed
    stream request with ``data: {"error": ...}`` and an error status), else ``text`` stripped."""
    text = text.lstrip()
    if not text.startswith(("data:", "event:")):
        return text
    lines = []
    for line in text.splitlines():
        if not line:
            break
        if line.startswith("data:"):
            lines.append(line[6:] if line[5:6] == " " else line[5:])
    return "\n".join(lines).strip()


def api_error(
    status: int,
    reason: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    scrub: Callable[[str], str] = str,
    note: str = "",
) -> ApiError:
    """Build the right :class:`ApiError` subclass for an error response.

    ``headers`` has lower-cased names. ``scrub`` masks the configured API key (a proxy could
    echo it): headers, reason and the body text are masked before anything is parsed, cut or
    shown, so the message, ``body``, ``code`` and ``headers`` are all built from masked text.
    ``note`` is appended to the message.
    """
    clean = {k: scrub(v) for k, v in headers.items()}
    text = scrub(body.decode("utf-8", "replace"))
    message, parsed, code = _message_from_body(text, status, reason_text(reason, scrub))
    if note:
        message += " " + note
    cls = _error_class(status, message)
    return cls(
        scrub(message),  # sanitize() may have joined a key that control characters split
        status_code=status,
        code=code,
        request_id=sanitize(clean["x-request-id"], 200) if "x-request-id" in clean else None,
        headers=clean,
        body=parsed,
        retry_after=parse_retry_after(clean),
    )


def mask_error(error: BaseException, scrub: Callable[[str], str]) -> None:
    """Make an error safe to show, log, pickle and report: the last step before any error
    leaves the client (``Client._call``, a stream's ``__next__``).

    Every string in its args and attributes (message, body, headers, code, request ids), in
    the errors of earlier attempts (``previous``) and in chained errors goes through ``scrub``;
    and the local variables of the library frames its traceback passed through are cleared
    (they held raw response text, parsed bodies and request headers, which ``capture_locals``
    reporters such as Sentry or ``pytest --showlocals`` would print).
    """
    pending = [error]
    seen = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, XaiError):  # another exception's args are not ours to change
            current.args = tuple(_masked(arg, scrub) for arg in current.args)
            for name, value in list(vars(current).items()):
                if name != "run":  # a ToolRun: the caller's own conversation, not server text
                    setattr(current, name, _masked(value, scrub))
            pending += current.previous or ()
        _clear_frames(current.__traceback__)
        pending += [e for e in (current.__context__, current.__cause__) if e is not None]


def _clear_frames(tb: TracebackType | None) -> None:
    """Clear the locals of the finished frames of this package and of http.client in a
    traceback (the caller's frames, and frames still running, are left alone)."""
    while tb is not None:
        frame = tb.tb_frame
        module = frame.f_globals.get("__name__", "")
        if module == "http.client" or module.startswith(PACKAGE + "."):
            try:
                frame.clear()
            except RuntimeError:  # the frame is still executing (the one handling the error)
                pass
        tb = tb.tb_next


def _masked(value: Any, scrub: Callable[[str], str]) -> Any:
    """``value`` with ``scrub`` applied to every string in it (dict keys too); lists and dicts
    are changed in place, walked without recursion (a parsed body may be nested deeply)."""
    if isinstance(value, str):
        return scrub(value)
    stack = [value]
    while stack:
        node = stack.pop()
        items = list(node.items()) if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, item in items:
            if isinstance(item, str):
                item = scrub(item)
            elif isinstance(item, (dict, list)):
                stack.append(item)
            masked_key = scrub(key) if isinstance(key, str) else key
            if masked_key != key:
                del node[key]
            node[masked_key] = item
    return value


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asks us to wait, or ``None`` when it asks nothing usable.

    ``retry-after-ms`` (milliseconds, as OpenAI sends it) wins over ``Retry-After``, which may be
    delta-seconds (fractions accepted) or an HTTP-date (RFC 9110 section 10.2.3). Zero, negative,
    non-finite, unparseable values and dates in the past give ``None``. ``headers`` has
    lower-cased names; ``now`` is a Unix time for tests.
    """
    value = headers.get("retry-after-ms")
    if value is not None:
        seconds = _positive_float(value)
        if seconds is not None:
            return seconds / 1000.0
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _positive_float(value)
    if seconds is not None:
        return seconds
    return _seconds_until_http_date(value, time.time() if now is None else now)


def _positive_float(value: str) -> float | None:
    value = value.strip()
    if not value or len(value) > 20 or not re.fullmatch(r"[0-9]*\.?[0-9]+", value):
        return None
    number = float(value)
    return number if 0 < number and math.isfinite(number) else None


def _seconds_until_http_date(value: str, now: float) -> float | None:
    from email.utils import mktime_tz, parsedate_tz

    try:
        parsed = parsedate_tz(value)
        if parsed is None:
            return None
        delta = mktime_tz(parsed) - now
    except (ValueError, OverflowError, TypeError, IndexError):
        return None
    return delta if delta > 0 else None


#: The name this package was imported under: ``"xai_lite"``, or ``"mytool._vendor.xai_lite"`` for a
#: vendored copy (derived from this module's own name, so a copy never claims to be another).
PACKAGE = __name__.rpartition(".")[0]


def reexported(*classes: type) -> None:
    """Present classes that the package re-exports as its own members: tracebacks and reprs read
    ``xai_lite.NetworkError`` (or ``mytool._vendor.xai_lite.NetworkError``), and pickle finds
    them there, in the copy that made them."""
    for cls in classes:
        cls.__module__ = PACKAGE


reexported(*(globals()[name] for name in __all__))
