"""How a client uses the reliability classes it was handed: the one loop that runs every
attempt of a call through failover, the circuit breaker, the rate limiter and the retry policy.

For each attempt, in this order: the failover policy picks the endpoint; that endpoint's circuit
breaker admits the attempt or fails fast (no socket, no token spent); the rate limiter waits for
a token, never past the call's deadline; then ``client._send_once`` makes one attempt. A failure
the retry rules call replayable moves on to the next endpoint at once (failover); when every
endpoint had its turn, the retry policy decides whether to wait and start another round.
Whatever stops an attempt after admission (a limiter refusal, an error, a KeyboardInterrupt)
settles its breaker ticket and failover trial, so no half-open probe is left held.

The per-endpoint circuit breakers belong to the pipeline (each client's own), not to the
failover policy, which clients may share: a client guards the first endpoint with the breaker
it was handed and the others with copies of its settings (``CircuitBreaker._sibling``: one per
endpoint, shared by every client handed that breaker); a client handed none is not guarded.

Streams are never replayed once the caller has seen a chunk: ``Client._send`` returns as soon as
the response headers arrive, before any chunk is read, so everything here happens before that.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Union

from .._transport import Exchange, Origin, Request
from ..errors import (
    CircuitOpenError,
    InvalidArgumentError,
    RateLimitError,
    XaiError,
    _is_quota_exhausted,
)
from ._breaker import RELEASE, SUCCESS, CircuitBreaker, _Ticket, outcome_of
from ._clock import SYSTEM_CLOCK, log_decision
from ._failover import FailoverPolicy, check_endpoints
from ._ratelimit import RateLimiter, kind_of
from ._retry import RetryPolicy, classify, finish

if TYPE_CHECKING:
    from .._client import Client

__all__ = ["MAX_PAUSE_S", "Pipeline", "endpoint_urls"]

# A 429's Retry-After pauses the client's rate limiter for everyone, but only up to this long
# (the Retry-After cap of RetryPolicy, xai-sdk-ts and anthropic): a longer wait is a quota
# matter, and holding every call of the process for it would turn one answer into an outage.
MAX_PAUSE_S = 60.0


def endpoint_urls(
    endpoints: Optional[Sequence[str]],
    failover: Optional[FailoverPolicy],
    base_url: Optional[str],
    *,
    allow_insecure_http: bool,
) -> List[str]:
    """Validate the ``endpoints`` of a client (or those of its ``failover`` policy) and return
    them normalised; ``base_url``, if also given, must be the first of them."""
    if failover is not None and not isinstance(failover, FailoverPolicy):
        raise InvalidArgumentError("failover must be a FailoverPolicy, not %s" % type(failover).__name__)
    if endpoints is None:
        if failover is None or not failover.endpoints:
            raise InvalidArgumentError(
                "failover needs endpoints: Client(endpoints=['https://api.x.ai/v1', ...], failover=...)"
            )
        endpoints = failover.endpoints
    urls = check_endpoints(endpoints, "endpoints", allow_insecure_http=allow_insecure_http)
    if base_url is not None and (not isinstance(base_url, str) or base_url.rstrip("/") != urls[0]):
        raise InvalidArgumentError(
            "base_url and endpoints were both given and base_url is not endpoints[0]; with endpoints, "
            "leave base_url out (the first endpoint is the base URL)"
        )
    return urls


class Pipeline:
    """The policies of one client (and of its ``with_options()`` copies, which share them)."""

    def __init__(
        self,
        *,
        retry: Union[RetryPolicy, int, None] = None,
        circuit_breaker: Optional[CircuitBreaker] = None,
        rate_limiter: Optional[RateLimiter] = None,
        endpoints: Optional[List[str]] = None,
        failover: Optional[FailoverPolicy] = None,
    ) -> None:
        if circuit_breaker is not None and not isinstance(circuit_breaker, CircuitBreaker):
            raise InvalidArgumentError(
                "circuit_breaker must be a CircuitBreaker, not %s" % type(circuit_breaker).__name__
            )
        if rate_limiter is not None and not isinstance(rate_limiter, RateLimiter):
            raise InvalidArgumentError("rate_limiter must be a RateLimiter, not %s" % type(rate_limiter).__name__)
        self.retry = RetryPolicy.coerce(retry) if retry is not None else None
        self.breaker = circuit_breaker
        self.limiter = rate_limiter
        self.failover: Optional[FailoverPolicy] = None
        self._origins: Dict[str, Origin] = {}
        self._breakers: Dict[str, CircuitBreaker] = {}  # per failover endpoint
        if endpoints is not None:
            self.failover = failover if failover is not None else FailoverPolicy()
            self.failover._bind(endpoints)
            if circuit_breaker is not None:
                self._breakers = {
                    url: circuit_breaker if i == 0 else circuit_breaker._sibling(url) for i, url in enumerate(endpoints)
                }
                self.failover._note_breaker(circuit_breaker)
            self._origins = {url: Origin(url) for url in endpoints}

    def send(self, client: Client, request: Request, read: Optional[Callable[[Exchange], Any]] = None) -> Any:
        """Send ``request`` for ``client`` under the policies. Each attempt is
        ``client._send_once(origin, request, read)``, the body read included; return what the
        successful one returned, or raise the last error with ``attempts`` (and the earlier
        errors in ``previous``)."""
        retry, limiter, failover = self.retry, self.limiter, self.failover
        clock = retry.clock if retry is not None else SYSTEM_CLOCK
        start = clock.monotonic()
        # The deadline, moved onto the retry clock, so that a test's fake clock sees it approach.
        end: Optional[float] = None
        if request.deadline is not None:
            end = start + (request.deadline - time.monotonic())
        if retry is not None and retry.timeout is not None:
            end = start + retry.timeout if end is None else min(end, start + retry.timeout)
        method = request.method
        path = request.path.split("?", 1)[0]  # logs never show the query (a caller may put anything there)
        kind = kind_of(path)
        errors: List[XaiError] = []
        attempts = rounds = 0
        while True:
            order: List[Optional[str]] = list(failover._order()) if failover is not None else [None]
            rejected: Optional[CircuitOpenError] = None
            attempted = False
            for position, url in enumerate(order):
                trial: Optional[bool] = False
                if failover is not None and url:
                    trial = failover._admit(url, alone=not attempted and position + 1 == len(order))
                    if trial is None:
                        continue
                breaker = self._breakers.get(url) if url else self.breaker
                ticket: Optional[_Ticket] = None
                sent = False
                # From admission to the answer, anything that escapes settles the ticket and the
                # trial first, or the breaker would keep waiting for a probe that never returns.
                try:
                    if breaker is not None:
                        ticket = breaker._admit(url or client.base_url)
                    if limiter is not None:
                        remaining = None if end is None else max(end - clock.monotonic(), 0.0)
                        limiter.acquire(1, timeout=remaining, kind=kind)
                    attempts += 1
                    attempted = sent = True
                    result = client._send_once(self._origins[url] if url else client._origin, request, read)
                except XaiError as exc:
                    error = exc
                except BaseException:
                    self._settle(breaker, ticket, url, trial, RELEASE)
                    raise
                else:
                    self._settle(breaker, ticket, url, trial, SUCCESS)
                    if attempts > 1:
                        log_decision("retry_succeeded", "%s %s succeeded on attempt %d", method, path,
                                     attempts, attempt=attempts, endpoint=url or client.base_url)
                    return result
                if not sent:  # the breaker failed fast, or the limiter refused to wait that long
                    self._settle(breaker, ticket, url, trial, RELEASE)
                    if isinstance(error, CircuitOpenError):
                        rejected = error
                        continue
                    raise finish(errors + [error], attempts)
                self._settle(breaker, ticket, url, trial, outcome_of(error))
                errors.append(error)
                self._pause_limiter(error)
                allowed, why = classify(error, method, retry_non_idempotent=bool(retry and retry.retry_non_idempotent))
                if not allowed:
                    if retry is not None or failover is not None:
                        log_decision("retry_give_up", "%s %s: not retrying after attempt %d: %s", method, path,
                                     attempts, why, attempt=attempts, reason=why, error=type(error).__name__)
                    raise finish(errors, attempts)
                if position + 1 < len(order) and failover is not None and url:
                    failover._log_hop(url, order[position + 1] or "", why)
            if not attempted:
                assert rejected is not None
                raise finish(errors + [rejected], attempts)
            if retry is None:
                raise finish(errors, attempts)
            rounds += 1
            last = errors[-1]
            remaining = None if end is None else end - clock.monotonic()
            wait, why = retry._decide(last, rounds, method, remaining)
            if wait is None:
                log_decision("retry_give_up", "%s %s: not retrying after attempt %d: %s", method, path,
                             attempts, why, attempt=attempts, reason=why, error=type(last).__name__)
                raise finish(errors, attempts)
            log_decision("retry_scheduled", "%s %s: retry %d in %.3f s: %s", method, path, rounds, wait, why,
                         attempt=attempts, retry=rounds, delay=wait, reason=why, error=type(last).__name__)
            clock.sleep(wait)

    def _pause_limiter(self, error: XaiError) -> None:
        """A 429 with a Retry-After pauses the whole rate limiter, not only this caller."""
        if self.limiter is None or not isinstance(error, RateLimitError) or error.retry_after is None:
            return
        if error.retry_after <= MAX_PAUSE_S and not _is_quota_exhausted(error.message):
            self.limiter.pause(error.retry_after)

    def _settle(
        self, breaker: Optional[CircuitBreaker], ticket: Optional[_Ticket], url: Optional[str],
        trial: Optional[bool], outcome: str,
    ) -> None:
        """Count an admitted attempt's ``outcome`` with its breaker and its failover endpoint."""
        if breaker is not None and ticket is not None:
            breaker._record(ticket, outcome)
        if self.failover is not None and url:
            self.failover._record(url, outcome, trial=bool(trial))
