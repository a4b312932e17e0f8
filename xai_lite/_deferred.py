"""Deferred chat completions: ``create(..., deferred=True)`` starts one and returns a
:class:`DeferredChatCompletion`; ``client.chat.deferred`` fetches the result.

The server keeps a result for 24 hours and hands it out exactly once: ``GET
/v1/chat/deferred-completion/{request_id}`` answers 202 (with no body) while it is being
computed, 200 with the completion when it is done, and 404 once it was fetched, expired or if
the id is unknown (reference/xai_api.md 3).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Union

from ._wire import parse_result, path_segment
from ._config import DEFAULT_MAX_ERROR_BYTES, MAX_SMALL_BYTES, UNSET, Timeout, TimeoutTypes, Unset, check_number
from .errors import InvalidArgumentError, NotFoundError, RequestTimeoutError, XaiError, reexported
from .types import ChatCompletion, WireObject

if TYPE_CHECKING:
    from ._client import Client

__all__ = ["DEFAULT_INTERVAL_S", "DEFAULT_WAIT_S", "DeferredChatCompletion", "DeferredCompletions", "start"]

# How long wait() polls by default: 10 minutes, the deferred-completion timeout of xAI's own
# Python SDK (reference/xai_api.md 3, PY sync/chat.py).
DEFAULT_WAIT_S = 600.0
# Between polls: 1 s. The gRPC SDK polls chat every 100 ms; a deferred request is one you chose
# not to wait for, and every poll counts against the same rate limit as a completion.
DEFAULT_INTERVAL_S = 1.0


@dataclass(repr=False, eq=False)
class DeferredChatCompletion(WireObject):
    """A deferred completion the server is working on: fetch it with :meth:`wait` (or
    ``client.chat.deferred.wait(request_id)``) within 24 hours; it can be fetched once.

    A handle pickles and copies (to keep it while the server works), but without the client
    that made it: on such a copy, use ``client.chat.deferred.wait(handle.request_id)``.
    """

    request_id: str = ""

    def retrieve(self) -> Optional[ChatCompletion]:
        """The completion if it is ready, else ``None`` (see :meth:`DeferredCompletions.retrieve`)."""
        return self._resource().retrieve(self.request_id)

    def wait(self, timeout: float = DEFAULT_WAIT_S, interval: float = DEFAULT_INTERVAL_S) -> ChatCompletion:
        """Poll until the completion is ready (see :meth:`DeferredCompletions.wait`)."""
        return self._resource().wait(self.request_id, timeout=timeout, interval=interval)

    def __getstate__(self) -> Dict[str, Any]:
        # The client (its connections, locks and key) stays behind: pickle, copy and deepcopy
        # keep the wire fields only.
        return {key: value for key, value in self.__dict__.items() if key != "_client"}

    def _resource(self) -> DeferredCompletions:
        client = self.__dict__.get("_client")
        if client is None:
            raise RuntimeError(
                "this handle has no client (it was unpickled or copied, or not made by a client); use "
                "client.chat.deferred.wait(%r)" % self.request_id
            )
        return DeferredCompletions(client)


reexported(DeferredChatCompletion)


class DeferredCompletions:
    """``client.chat.deferred``: the results of deferred chat completions."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def retrieve(
        self,
        request_id: str,
        *,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        timeout: Union[TimeoutTypes, Unset] = UNSET,
    ) -> Optional[ChatCompletion]:
        """``GET /v1/chat/deferred-completion/{request_id}``: the completion if it is ready,
        ``None`` while the server still answers 202. A result can be fetched once: after that,
        or 24 hours after the request, or for an unknown id, it raises :class:`NotFoundError`."""
        client = self._client
        path = "/chat/deferred-completion/" + path_segment(request_id, "request_id")
        error: Optional[XaiError] = None
        try:
            exchange, client_request_id = client._exchange(
                "GET", path, extra_headers=extra_headers, extra_query=extra_query, timeout=timeout
            )
        except NotFoundError as exc:
            error = _gone(exc, request_id)
        if error is not None:
            raise error
        try:
            if exchange.status == 202:
                exchange.read_body(DEFAULT_MAX_ERROR_BYTES, truncate=True)  # "no body"; read to reuse the connection
                return None
            return parse_result(ChatCompletion, client._json(exchange, "choices", ChatCompletion), exchange)
        except XaiError as exc:
            exc.client_request_id = client_request_id
            if exc.request_id is None:
                exc.request_id = exchange.request_id
            raise

    def wait(
        self,
        request_id: str,
        *,
        timeout: float = DEFAULT_WAIT_S,
        interval: float = DEFAULT_INTERVAL_S,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
    ) -> ChatCompletion:
        """Poll every ``interval`` seconds until the completion is ready and return it. When
        ``timeout`` seconds pass first, raise :class:`RequestTimeoutError` (``phase
        "deadline"``); the result stays on the server, so ``wait`` can be called again. No poll
        runs past the deadline: each one's time limits are cut to the time left."""
        for name, value in (("timeout", timeout), ("interval", interval)):
            check_number("wait", name, value, inclusive=False, kind="a number of seconds")
        path_segment(request_id, "request_id")  # a bad id fails now, not after the first sleep
        deadline = time.monotonic() + timeout
        limits = self._client.timeout
        while True:
            left = deadline - time.monotonic()
            if left > 0:
                completion = self.retrieve(
                    request_id, extra_headers=extra_headers, extra_query=extra_query, timeout=_within(limits, left)
                )
                if completion is not None:
                    return completion
                left = deadline - time.monotonic()
            if left <= 0:
                raise RequestTimeoutError(
                    "the deferred completion %s was not ready within %.3g s; call wait() again later "
                    "(the server keeps the result for 24 hours)" % (request_id, timeout),
                    phase="deadline",
                    timeout=float(timeout),
                )
            time.sleep(min(interval, left))


def start(client: Client, body: Dict[str, Any], stream: Optional[bool], **options: Any) -> DeferredChatCompletion:
    """Send the chat request ``body`` (which has ``"deferred": true``) and return its handle."""
    if stream:
        raise InvalidArgumentError("a deferred completion cannot be streamed; drop stream=True or deferred=True")
    handle = client._request(
        "POST", "/chat/completions", body, expect="request_id", cls=DeferredChatCompletion, cap=MAX_SMALL_BYTES,
        **options,
    )
    handle.__dict__["_client"] = client
    return handle


def _within(limits: Timeout, left: float) -> Timeout:
    """``limits`` with every limit cut to ``left`` seconds."""
    def cut(value: Optional[float]) -> float:
        return left if value is None else min(value, left)

    return Timeout(connect=cut(limits.connect), read=cut(limits.read), total=cut(limits.total))


def _gone(exc: NotFoundError, request_id: str) -> NotFoundError:
    error = NotFoundError(
        "no deferred completion %s: the id is unknown, its result was already fetched (each result "
        "can be fetched once) or it expired (results are kept for 24 hours). Server said: %s"
        % (request_id, exc.message),
        status_code=exc.status_code,
        code=exc.code,
        request_id=exc.request_id,
        headers=exc.headers,
        body=exc.body,
    )
    error.hint = "Start a new deferred request; fetch its result once, within 24 hours."
    error.client_request_id = exc.client_request_id
    return error
