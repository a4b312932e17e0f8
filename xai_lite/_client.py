"""The :class:`Client`: configuration, request building and response checking. The resource
namespaces it carries (``client.chat``, ``client.models``, ``client.responses``) live in their own
modules.
"""

from __future__ import annotations

import os
import ssl
import sys
import time
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    List,
    Mapping,
    Optional,
    Protocol,
    Sequence,
    Tuple,
    Type,
    TypeVar,
    Union,
    cast,
)

from ._config import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_ERROR_BYTES,
    DEFAULT_MAX_EVENT_CHARS,
    DEFAULT_MAX_RESPONSE_BYTES,
    JSON_BYTES_PER_CONTAINER,
    MAX_BODY_BYTES,
    UNSET,
    Timeout,
    TimeoutTypes,
    Unset,
    check_flag,
    check_number,
    validate_base_url,
    validate_headers,
)
from ._chat import Chat, Models
from ._proxy import _FROM_ENV
from ._repr import safe_repr
from ._secrets import HiddenBytes, KeyMask, Secret, hide, load_api_key
from ._streaming import ChatStream, embedded_status
from ._tls import ClientCert, KeyPassword, TLSSettings, hide_password
from ._transport import Exchange, HTTPTransport, Origin, Request
from ._version import __version__
from ._wire import (
    decode_json, describe_type, encode_json, is_json, new_request_id, parse_result, query_string, safe_location,
)
from .errors import HttpError, InvalidArgumentError, XaiError, api_error, excerpt, mask_error, reason_text
from .types import WireObject

if TYPE_CHECKING:
    from ._responses import Responses
    from .reliability import CircuitBreaker, FailoverPolicy, RateLimiter, RetryPolicy


__all__ = ["Client", "USER_AGENT"]

USER_AGENT = "xai-lite/%s python/%s" % (__version__, ".".join(map(str, sys.version_info[:3])))

_W = TypeVar("_W", bound=WireObject)


class Policies(Protocol):
    """What a client hands its requests to when it was given reliability policies."""

    def send(self, client: Client, request: Request, read: Optional[Callable[[Exchange], Any]] = None) -> Any:
        """Send ``request`` for ``client`` under the policies; each attempt is
        ``client._send_once(origin, request, read)``; return what the successful one returned."""


class Client:
    """A client for the xAI API (or any OpenAI-compatible server).

    >>> client = Client()                      # key from XAI_API_KEY, base URL https://api.x.ai/v1
    >>> r = client.chat.completions.create(model="grok-4", messages=[{"role": "user", "content": "Hi"}])
    >>> r.choices[0].message.content

    Arguments (``None`` means: read the environment, then use the default):

    - ``api_key``: the key, a str or :class:`Secret`; else ``XAI_API_KEY``, then the secrets files
      (see :func:`xai_lite.load_api_key`).
    - ``base_url``: else ``XAI_BASE_URL``, else ``https://api.x.ai/v1``. https is required
      except for loopback hosts or with ``allow_insecure_http=True``.
    - ``timeout``: a :class:`Timeout`, or seconds for the whole call (default: connect 5 s, read
      600 s, total 1,620 s); ``None`` disables every limit.
    - ``max_response_bytes``: the largest JSON body accepted (32 MiB; the models list is capped at
      4 MiB and other small answers at 1 MiB), which may hold one JSON object or array per 32
      bytes of its cap.
    - ``default_headers``: headers sent with every request.
    - ``proxy``: an ``http://[user:pass@]host:port`` proxy (``host:port`` means http), ``None``
      for no proxy; by default ``HTTPS_PROXY``/``HTTP_PROXY`` and ``NO_PROXY`` decide. https goes
      through a CONNECT tunnel; plain http goes to the proxy as absolute-form requests.
    - ``ca_file``: a PEM file of CA certificates to trust instead of the system's (else
      ``SSL_CERT_FILE``).
    - ``client_cert``: a client certificate for mTLS, ``"combined.pem"`` (certificate and key)
      or ``("cert.pem", "key.pem")``; ``client_key_password`` decrypts an encrypted key (a str,
      bytes or :class:`Secret`).
    - ``ssl_context``: an ``ssl.SSLContext`` of your own, used as is (it excludes ``ca_file``
      and ``client_cert``).
    - ``check_key_format``: require xAI's ``xai-`` key prefix (turn off for other servers).

    Reliability, each off unless given (see :mod:`xai_lite.reliability`):

    - ``retry``: a :class:`RetryPolicy` (or a number of retries) replays the failures it allows.
    - ``circuit_breaker``: a :class:`CircuitBreaker` checked before every attempt; with several
      endpoints it guards the first, and copies with its settings guard the others.
    - ``rate_limiter``: a :class:`RateLimiter` every attempt waits for (never past the deadline).
    - ``endpoints``: base URLs to fail over between, in order; the first is ``base_url``, and
      the key is only ever sent to these.
    - ``failover``: the :class:`FailoverPolicy` for ``endpoints`` (default: priority order).

    A client is thread-safe and keeps one pool of keep-alive connections; ``close()`` it, or use
    it as a context manager, when done. It makes exactly one attempt per call: reliability
    features (retries, breakers, rate limits, failover) work only when handed to it.
    """

    def __init__(
        self,
        api_key: Union[str, Secret, None] = None,
        *,
        base_url: Optional[str] = None,
        timeout: Union[TimeoutTypes, Unset] = UNSET,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        default_headers: Optional[Mapping[str, str]] = None,
        proxy: Union[str, None, Unset] = UNSET,
        ca_file: Optional[str] = None,
        client_cert: Optional[ClientCert] = None,
        client_key_password: Optional[KeyPassword] = None,
        ssl_context: Optional[ssl.SSLContext] = None,
        allow_insecure_http: bool = False,
        check_key_format: bool = True,
        retry: Union[RetryPolicy, int, None] = None,
        circuit_breaker: Optional[CircuitBreaker] = None,
        rate_limiter: Optional[RateLimiter] = None,
        endpoints: Optional[Sequence[str]] = None,
        failover: Optional[FailoverPolicy] = None,
    ) -> None:
        api_key = hide(api_key)  # a traceback with locals of a refused argument shows no key
        check_flag("allow_insecure_http", allow_insecure_http, optional=False)
        check_flag("check_key_format", check_key_format, optional=False)
        self._allow_insecure_http = allow_insecure_http
        client_key_password = hide_password(client_key_password)  # masked in any traceback's locals
        self._tls = TLSSettings(ca_file, client_cert, client_key_password, ssl_context)
        endpoint_urls: Optional[List[str]] = None
        if endpoints is not None or failover is not None:
            from .reliability._pipeline import endpoint_urls as check_endpoints

            endpoint_urls = check_endpoints(endpoints, failover, base_url, allow_insecure_http=self._allow_insecure_http)
            base_url = endpoint_urls[0]
        source, url = "base_url", base_url
        if url is None:
            url = os.environ.get("XAI_BASE_URL") or None
            source = "XAI_BASE_URL" if url else "base_url"
        self._base_url = validate_base_url(url or DEFAULT_BASE_URL, allow_insecure_http=self._allow_insecure_http, source=source)
        self._origin = Origin(self._base_url)
        self._timeout = Timeout() if timeout is UNSET else Timeout.coerce(timeout)
        self._max_response_bytes = _positive_int("max_response_bytes", max_response_bytes)
        self._default_headers = validate_headers(default_headers, source="default_headers")
        key = load_api_key(api_key, check_prefix=check_key_format)
        self._api_key = key
        self._scrub = KeyMask(key)
        self._auth = HiddenBytes(b"Bearer " + key.expose().encode("ascii"))
        origins = [Origin(u) for u in endpoint_urls] if endpoint_urls else [self._origin]
        https = any(origin.scheme == "https" for origin in origins)
        context = self._tls.context() if https or self._tls.configured else None
        self._transport = HTTPTransport(context, _FROM_ENV if proxy is UNSET else proxy)
        for origin in origins:
            self._transport.proxy(origin)  # validate a proxy setting now, not on first use
        self._policies: Optional[Policies] = None  # reliability policies, when the client is handed any
        if endpoint_urls or retry is not None or circuit_breaker is not None or rate_limiter is not None:
            from .reliability._pipeline import Pipeline

            self._policies = Pipeline(
                retry=retry, circuit_breaker=circuit_breaker, rate_limiter=rate_limiter,
                endpoints=endpoint_urls, failover=failover,
            )
        self._build_resources()

    def _build_resources(self) -> None:
        self.chat = Chat(self)
        self.models = Models(self)
        self._responses: Optional[Responses] = None  # built, and its modules imported, on first use

    @property
    def responses(self) -> Responses:
        """``client.responses``: the Responses API (``/v1/responses``), loaded on first use."""
        if self._responses is None:
            from ._responses import Responses

            self._responses = Responses(self)
        return self._responses

    # -- configuration -------------------------------------------------------------------------

    @property
    def api_key(self) -> Secret:
        """The key, as a :class:`Secret` (its ``repr`` is masked; ``expose()`` returns it)."""
        return self._api_key

    @property
    def base_url(self) -> str:
        """The base URL every endpoint path is appended to."""
        return self._base_url

    @base_url.setter
    def base_url(self, value: str) -> None:
        if self._policies is not None and getattr(self._policies, "failover", None) is not None:
            raise InvalidArgumentError(
                "this client fails over between its endpoints; build a new Client(endpoints=[...]) to change them"
            )
        url = validate_base_url(value, allow_insecure_http=self._allow_insecure_http)
        origin = Origin(url)
        if origin.scheme == "https" and self._transport._context is None:
            raise InvalidArgumentError("this client was built for plain http; create a new Client for an https URL")
        self._transport.proxy(origin)  # validate the proxy setting for the new origin now, not on first use
        self._base_url, self._origin = url, origin

    @property
    def timeout(self) -> Timeout:
        """The default time limits of a call."""
        return self._timeout

    def with_options(
        self,
        *,
        base_url: Optional[str] = None,
        timeout: Union[TimeoutTypes, Unset] = UNSET,
        max_response_bytes: Optional[int] = None,
        default_headers: Optional[Mapping[str, str]] = None,
        ca_file: Union[str, None, Unset] = UNSET,
        client_cert: Union[ClientCert, None, Unset] = UNSET,
        client_key_password: Union[KeyPassword, None, Unset] = UNSET,
        ssl_context: Union[ssl.SSLContext, None, Unset] = UNSET,
    ) -> Client:
        """A copy of this client with some settings changed; it shares the key and the
        connection pool. ``default_headers`` are added to (and override) the current ones.

        TLS options replace the original's (a new ``ssl_context`` drops its ``ca_file`` and
        ``client_cert``, and the other way round), and the copy gets a pool of its own, since
        connections made with other TLS settings must not be shared."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        if client_key_password is not UNSET:
            client_key_password = hide_password(client_key_password)  # masked in any traceback's locals
        tls = {
            name: value
            for name, value in (("ca_file", ca_file), ("client_cert", client_cert),
                                ("client_key_password", client_key_password), ("ssl_context", ssl_context))
            if value is not UNSET
        }
        if tls:
            clone._tls = self._tls.replace(**tls)
            https = self._transport._context is not None
            context = clone._tls.context() if https or clone._tls.configured else None
            clone._transport = HTTPTransport(context, self._transport._proxy_setting)
        if base_url is not None:
            clone.base_url = base_url
        if timeout is not UNSET:
            clone._timeout = Timeout.coerce(timeout)
        if max_response_bytes is not None:
            clone._max_response_bytes = _positive_int("max_response_bytes", max_response_bytes)
        if default_headers is not None:
            merged = dict(self._default_headers)
            merged.update(validate_headers(default_headers, source="default_headers"))
            clone._default_headers = list(merged.items())
        clone._build_resources()
        return clone

    def close(self) -> None:
        """Close the pooled connections. Calls made afterwards still work, but close their
        connection when they end instead of keeping it."""
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @safe_repr
    def __repr__(self) -> str:
        return "<xai_lite.Client base_url=%r api_key=%r>" % (self._base_url, self._api_key)

    def __reduce__(self) -> str:
        raise TypeError("a Client holds its API key and sockets and cannot be pickled; create one per process")

    def __copy__(self) -> Client:
        return self.with_options()

    # -- requests ------------------------------------------------------------------------------

    def _exchange(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        stream: bool = False,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        timeout: Union[TimeoutTypes, Unset] = UNSET,
    ) -> Tuple[Exchange, str]:
        """Send one request and return the response (status 2xx, body unread) and the client
        request id. Error statuses, redirects and odd statuses raise before anything is read."""
        request, request_id = self._prepare(method, path, body, stream, extra_headers, extra_query, timeout)
        return cast(Exchange, self._call(request, request_id, None)), request_id

    def _request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        expect: str,
        cls: Type[_W],
        cap: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        timeout: Union[TimeoutTypes, Unset] = UNSET,
    ) -> _W:
        """One JSON call: send, check, read a JSON object holding ``expect``, parse it as ``cls``.
        ``cap`` is the endpoint's own body cap, if it carries little (see :meth:`_json`).
        The body is read inside the attempt, so reliability policies see a body that fails
        (a reset, a timeout, malformed JSON) as that attempt's failure."""
        request, request_id = self._prepare(method, path, body, False, extra_headers, extra_query, timeout)

        def read(exchange: Exchange) -> _W:
            return parse_result(cls, self._json(exchange, expect, cls, cap), exchange)

        return cast(_W, self._call(request, request_id, read))

    def _prepare(
        self,
        method: str,
        path: str,
        body: Any,
        stream: bool,
        extra_headers: Optional[Mapping[str, str]],
        extra_query: Optional[Mapping[str, Any]],
        timeout: Union[TimeoutTypes, Unset],
    ) -> Tuple[Request, str]:
        """The request for one logical call, and its client request id (the same on every attempt)."""
        # Names are lower case so that a caller's header replaces ours whatever its case
        # (HTTP header names are case-insensitive) instead of being sent next to it.
        headers: Dict[str, Any] = {"authorization": self._auth}
        headers["accept"] = "text/event-stream" if stream else "application/json"
        headers["user-agent"] = USER_AGENT
        headers["x-client-request-id"] = new_request_id()
        for name, value in self._default_headers:
            headers[name.lower()] = value
        if extra_headers:
            for name, value in validate_headers(extra_headers):
                headers[name.lower()] = value
        payload = None
        if body is not None:
            payload = encode_json(body)
            headers.setdefault("content-type", "application/json")
        limits = self._timeout if timeout is UNSET else Timeout.coerce(timeout)
        target = path
        if extra_query is not None:
            query = query_string(extra_query)
            if query:
                target += ("&" if "?" in target else "?") + query
        deadline = time.monotonic() + limits.total if limits.total is not None else None
        request = Request(method, target, headers, payload, deadline, limits.connect, limits.read, limits.total)
        return request, headers["x-client-request-id"]

    def _call(self, request: Request, request_id: str, read: Optional[Callable[[Exchange], Any]]) -> Any:
        """Send ``request`` (see :meth:`_send`); every error raised, and every earlier error a
        retry policy attached to it, carries the client request id and no trace of the key."""
        try:
            return self._send(request, read)
        except XaiError as exc:
            for error in [exc] + list(exc.previous or ()):
                error.client_request_id = request_id
            mask_error(exc, self._scrub)
            raise

    def _send(self, request: Request, read: Optional[Callable[[Exchange], Any]] = None) -> Any:
        """Send ``request``, check the answer's status and, given ``read``, read the answer with it
        (returning what it returns; else the :class:`Exchange`). Without reliability policies
        this is exactly one attempt to the base URL; with them, reliability/ decides."""
        if self._policies is not None:
            return self._policies.send(self, request, read)
        return self._send_once(self._origin, request, read)

    def _send_once(self, origin: Origin, request: Request, read: Optional[Callable[[Exchange], Any]] = None) -> Any:
        """One attempt to ``origin``: the response (or what ``read`` makes of it), with an error
        status already raised."""
        exchange = self._transport.send(origin, request)
        self._check_status(exchange)
        if read is None:
            return exchange
        try:
            return read(exchange)
        except XaiError as exc:
            if exc.request_id is None:
                exc.request_id = exchange.request_id
            raise

    # Errors about a response are built in helpers that return them, and raised by their
    # callers: the frame that held the raw body (which a server might have made echo the key)
    # has returned by the time a traceback is taken.

    def _check_status(self, exchange: Exchange) -> None:
        error = self._status_error(exchange)
        if error is not None:
            raise error

    def _status_error(self, exchange: Exchange) -> Optional[XaiError]:
        status = exchange.status
        if 200 <= status < 300:
            return None
        if 300 <= status < 400:
            exchange.close()
            return HttpError(
                "the server answered %d %s with a redirect to %s; xai_lite never follows redirects "
                "(they could carry the key elsewhere): check base_url"
                % (status, reason_text(exchange.reason, self._scrub), safe_location(self._scrub(exchange.headers.get("location", "")))),
                status_code=status,
            )
        if status < 200 or status > 599:
            exchange.close()
            return HttpError("the server answered with the unexpected status %d" % status, status_code=status)
        body = exchange.read_body(DEFAULT_MAX_ERROR_BYTES, truncate=True)
        return api_error(status, exchange.reason, exchange.headers, body, scrub=self._scrub)

    def _json(
        self, exchange: Exchange, expect: str, cls: Type[WireObject], cap: Optional[int] = None
    ) -> Dict[str, Any]:
        """Read a JSON object body that must hold the key ``expect``, to be parsed as ``cls``.

        A 2xx body with an ``error`` raises it, as the stream path does: xAI sends
        ``{"code","error"}`` with status 200, and proxies send ``{"choices": [], "error": ...}``.
        Only a result type with an ``error`` field of its own keeps one, when the body says it
        failed (a Response with ``status: "failed"``). The body may be ``max_response_bytes``
        long, or ``cap`` if smaller, and hold one JSON object or array per
        ``JSON_BYTES_PER_CONTAINER`` bytes of that limit."""
        result = self._read_json(exchange, expect, cls, cap)
        if isinstance(result, XaiError):
            mask_error(result, self._scrub)  # callers outside _call (deferred polls) get it masked too
            raise result
        return result

    def _read_json(
        self, exchange: Exchange, expect: str, cls: Type[WireObject], cap: Optional[int]
    ) -> Union[Dict[str, Any], XaiError]:
        content_type = exchange.headers.get("content-type", "")
        limit = self._max_response_bytes if cap is None else min(cap, self._max_response_bytes)
        body = exchange.read_body(limit)
        status = exchange.status
        if not is_json(content_type):
            return HttpError(
                "expected a JSON response but got %s (%d bytes): %s"
                % (describe_type(content_type), len(body), excerpt(body, scrub=self._scrub)),
                status_code=status,
            )
        data, problem = decode_json(body, limit // JSON_BYTES_PER_CONTAINER)
        if problem:
            return HttpError(
                "could not read the response body (%d bytes): %s: %s" % (len(body), problem, excerpt(body, scrub=self._scrub)),
                status_code=status,
            )
        if not isinstance(data, dict):
            return HttpError(
                "expected a JSON object but got %s: %s" % (type(data).__name__, excerpt(body, scrub=self._scrub)),
                status_code=status,
            )
        if data.get("error") is not None and not _keeps_error(cls, data):
            status = embedded_status(data) or status
            return api_error(status, exchange.reason, exchange.headers, body, scrub=self._scrub)
        if expect not in data:
            return HttpError(
                "the response has no %r field: %s" % (expect, excerpt(body, scrub=self._scrub)), status_code=status
            )
        return data

    def _stream(self, exchange: Exchange, client_request_id: str) -> ChatStream:
        """Check that a 2xx answer to a stream request is an event stream and wrap it."""
        content_type = exchange.headers.get("content-type", "")
        if content_type.split(";")[0].strip().lower() != "text/event-stream":
            error = self._not_a_stream(exchange, content_type)
            error.client_request_id = client_request_id
            raise error
        return ChatStream(
            exchange, scrub=self._scrub, client_request_id=client_request_id, max_event_chars=DEFAULT_MAX_EVENT_CHARS
        )

    def _not_a_stream(self, exchange: Exchange, content_type: str) -> XaiError:
        body = exchange.read_body(DEFAULT_MAX_ERROR_BYTES, truncate=True)
        data, problem = decode_json(body) if is_json(content_type) else (None, "not JSON")
        error: XaiError
        if not problem and isinstance(data, dict) and data.get("error") is not None:
            error = api_error(exchange.status, exchange.reason, exchange.headers, body, scrub=self._scrub)
            error.message = "the server answered a stream request with a JSON error: " + error.message
            mask_error(error, self._scrub)
            return error
        error = HttpError(
            "expected an event stream (text/event-stream) but got %s: %s; if the server does not support "
            "streaming, call without stream=True" % (describe_type(content_type), excerpt(body, scrub=self._scrub)),
            status_code=exchange.status,
        )
        error.request_id = exchange.request_id
        mask_error(error, self._scrub)
        return error


# -------------------------------------------------------------------------------------------------
# Helpers


def _positive_int(name: str, value: object) -> int:
    check_number("", name, value, minimum=1, integer=True, maximum=MAX_BODY_BYTES, kind="a number of bytes")
    return cast(int, value)


def _keeps_error(cls: Type[WireObject], data: Dict[str, Any]) -> bool:
    """Whether ``data``'s error is a field of the ``cls`` result rather than the server's error:
    only for a type with an ``error`` field, in a body that says it failed."""
    return data.get("status") == "failed" and "error" in getattr(cls, "__dataclass_fields__", ())

