"""FailoverPolicy: several endpoints in order, the health of each, and which one a call tries
next (strategies ``priority``, ``round_robin``, ``random`` and ``sticky``, from the api_claude
seed; health HEALTHY -> DEGRADED -> UNHEALTHY and a cooldown, from the api_xai seed)."""

from __future__ import annotations

import dataclasses
import random
import threading
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Sequence, Tuple, TypeVar

from .._config import check_number, validate_base_url
from .._repr import safe_repr
from ..errors import InvalidArgumentError, XaiError
from ._breaker import FAILURE, SUCCESS, CircuitBreaker, CircuitState, outcome_of
from ._clock import SYSTEM_CLOCK, Clock, log_decision
from ._health import HealthStatus
from ._retry import classify, finish

__all__ = ["EndpointHealth", "FailoverPolicy", "STRATEGIES"]

_T = TypeVar("_T")
STRATEGIES = ("priority", "round_robin", "random", "sticky")


@dataclass(frozen=True)
class EndpointHealth:
    """A snapshot of one endpoint: ``status``, ``consecutive_failures``, ``retry_in`` (seconds
    until an UNHEALTHY endpoint is tried again; 0 when it may be tried now), lifetime
    ``successes`` and ``failures``, and ``breaker``: the state of the circuit breaker guarding
    it, while every client of the policy that was handed a breaker was handed the same one
    (``None`` when none was, or when they differ: each client keeps its own breakers, and no
    single state describes them)."""

    url: str
    status: HealthStatus
    consecutive_failures: int
    retry_in: float
    successes: int
    failures: int
    breaker: Optional[CircuitState] = None


class _Endpoint:
    __slots__ = ("url", "failures", "cooldown_until", "successes_total", "failures_total", "trial")

    def __init__(self, url: str) -> None:
        self.url = url
        self.failures = 0
        self.cooldown_until = 0.0
        self.successes_total = 0
        self.failures_total = 0
        self.trial = False  # a call is trying it again after its cooldown


class FailoverPolicy:
    """Spread calls over several endpoints and move away from failing ones.

    Each endpoint's health follows its consecutive failures (transport errors, malformed
    answers, 5xx; a 4xx proves it answers): HEALTHY with none, DEGRADED with fewer than
    ``max_failures``, UNHEALTHY from ``max_failures`` on. An UNHEALTHY endpoint is skipped until
    ``retry_after`` seconds after its last failure; then one call at a time tries it again
    (concurrent calls skip it meanwhile, as a circuit breaker's half-open probe), and a success
    makes it HEALTHY, a failure starts another cooldown. If no other endpoint is usable, calls
    do not wait for that trial: they try the endpoint that recovers first (or recovered first)
    rather than failing without trying.

    Strategies, for the order in which a call tries the endpoints:

    - ``priority`` (default): always the first usable endpoint in the configured order, so
      traffic returns to the primary as soon as it recovers.
    - ``round_robin``: each call starts one endpoint further along the list.
    - ``random``: a random usable endpoint (from ``rng``, seedable).
    - ``sticky``: keep using the endpoint that last worked; move on only when it fails.

    A call fails over to the next endpoint only when the retry rules allow a replay (see
    :class:`RetryPolicy`: never after a POST may have reached the server, unless
    ``retry_non_idempotent``), and at once: another server needs no backoff. A client tries each
    endpoint once per round; a :class:`RetryPolicy` adds rounds, with backoff between them. The
    key goes to the configured endpoints only.

    Defaults are the api_xai seed's: three failures make an endpoint unhealthy (one may be bad
    luck, three in a row is a pattern) and it rests for 60 s.

    Thread-safe: one lock guards the health of every endpoint. Standalone, ``call(fn)`` calls
    ``fn(endpoint_url, ...)`` and fails over on the errors the rules allow::

        failover = FailoverPolicy(endpoints=["https://api.x.ai/v1", "https://us.api.x.ai/v1"])
        client = Client(endpoints=failover.endpoints, failover=failover)
    """

    def __init__(
        self,
        strategy: str = "priority",
        max_failures: int = 3,
        retry_after: float = 60.0,
        *,
        endpoints: Optional[Sequence[str]] = None,
        rng: Optional[random.Random] = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        if strategy not in STRATEGIES:
            raise InvalidArgumentError(
                "FailoverPolicy(strategy=%r): use one of %s" % (strategy, ", ".join(map(repr, STRATEGIES)))
            )
        check_number("FailoverPolicy", "max_failures", max_failures, minimum=1, integer=True)
        check_number("FailoverPolicy", "retry_after", retry_after)
        if rng is not None and not isinstance(rng, random.Random):
            raise InvalidArgumentError("FailoverPolicy(rng=...) must be a random.Random")
        if not (callable(getattr(clock, "monotonic", None)) and callable(getattr(clock, "sleep", None))):
            raise InvalidArgumentError("FailoverPolicy(clock=...) needs monotonic() and sleep() methods")
        self.strategy = strategy
        self.max_failures = max_failures
        self.retry_after = float(retry_after)
        self.clock = clock
        self._rng = rng if rng is not None else random.Random()
        self._lock = threading.Lock()
        self._endpoints: List[_Endpoint] = []
        self._current = 0
        self._guards: List[CircuitBreaker] = []  # the distinct breakers the clients were handed
        if endpoints is not None:
            self._bind(check_endpoints(endpoints, "FailoverPolicy(endpoints=...)", allow_insecure_http=True))

    @safe_repr
    def __repr__(self) -> str:
        return "<FailoverPolicy %s %s>" % (self.strategy, [e.url for e in self._endpoints])

    # -- reading and manual control ---------------------------------------------------------------

    @property
    def endpoints(self) -> List[str]:
        """The endpoints, in the configured order."""
        return [e.url for e in self._endpoints]

    def endpoint_health(self) -> List[EndpointHealth]:
        """A snapshot of every endpoint's health, in the configured order (taken under the lock;
        each breaker's state is read from that breaker)."""
        with self._lock:
            now = self.clock.monotonic()
            snapshot = [
                EndpointHealth(
                    e.url,
                    self._status(e),
                    e.failures,
                    max(0.0, e.cooldown_until - now) if e.failures >= self.max_failures else 0.0,
                    e.successes_total,
                    e.failures_total,
                )
                for e in self._endpoints
            ]
            guard = self._guards[0] if len(self._guards) == 1 else None
        if guard is None:
            return snapshot
        return [
            dataclasses.replace(health, breaker=(guard if i == 0 else guard._sibling(health.url)).state)
            for i, health in enumerate(snapshot)
        ]

    def current_endpoint(self) -> str:
        """The endpoint the next call tries first."""
        self._require_endpoints()
        with self._lock:
            return self._endpoints[self._first_locked()].url

    def rotate(self) -> str:
        """Take the current endpoint out of use for ``retry_after`` seconds (as if it had failed
        ``max_failures`` times) and return the endpoint now current: application-controlled
        failover."""
        self._require_endpoints()
        with self._lock:
            now = self.clock.monotonic()
            index = self._first_locked()
            endpoint = self._endpoints[index]
            endpoint.failures = max(endpoint.failures, self.max_failures)
            endpoint.cooldown_until = now + self.retry_after
            self._current = (index + 1) % len(self._endpoints)
            new = self._endpoints[self._first_locked()].url
        log_decision("failover_rotate", "failover: rotated away from %s to %s", endpoint.url, new,
                     from_endpoint=endpoint.url, to_endpoint=new)
        return new

    def call(self, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """Call ``fn(endpoint, *args, **kwargs)`` on the endpoints in strategy order until one
        succeeds, failing over on the xai_lite errors the retry rules allow for a create
        (unsent requests, 429, ``x-should-retry: true``); any other error is raised at once,
        and when every endpoint failed the last error is raised with the others in ``previous``."""
        self._require_endpoints()
        errors: List[XaiError] = []
        order = self._order()
        for position, url in enumerate(order):
            trial = self._admit(url, alone=not errors and position + 1 == len(order))
            if trial is None:
                continue
            try:
                result = fn(url, *args, **kwargs)
            except XaiError as exc:
                error = exc
            except BaseException as exc:
                self._record(url, outcome_of(exc), trial=trial)
                raise
            else:
                self._record(url, SUCCESS, trial=trial)
                return result
            self._record(url, outcome_of(error), trial=trial)
            errors.append(error)
            allowed, why = classify(error, "POST")
            if not allowed or position + 1 == len(order):
                break
            self._log_hop(url, order[position + 1], why)
        raise finish(errors)

    # -- used by the client's pipeline ------------------------------------------------------------

    def _bind(self, urls: List[str]) -> None:
        """Give the policy its endpoints (once; a second client must bring the same list)."""
        with self._lock:
            if not self._endpoints:
                self._endpoints = [_Endpoint(url) for url in urls]
                return
            if [e.url for e in self._endpoints] != urls:
                raise InvalidArgumentError(
                    "this FailoverPolicy already serves the endpoints %r, not %r; give the endpoints once, "
                    "and create one FailoverPolicy per list of endpoints" % ([e.url for e in self._endpoints], urls)
                )

    def _note_breaker(self, breaker: CircuitBreaker) -> None:
        """Remember that a client guards these endpoints with ``breaker`` (and its siblings), so
        that ``endpoint_health()`` can report their state while all clients share one breaker.
        The breakers themselves belong to each client's pipeline, not to the policy."""
        with self._lock:
            if not any(guard is breaker for guard in self._guards):
                self._guards.append(breaker)

    def _order(self) -> List[str]:
        """The endpoints one round of a call tries, in order (at least one); those left out
        because they are resting are logged."""
        with self._lock:
            now = self.clock.monotonic()
            order, resting = self._order_locked(peek=False)
            skipped = [(self._endpoints[i], self._endpoints[i].cooldown_until - now) for i in resting]
        for endpoint, retry_in in skipped:
            self._log_skip(endpoint.url, retry_in)
        return [self._endpoints[i].url for i in order]

    def _admit(self, url: str, *, alone: bool) -> Optional[bool]:
        """Whether a call may try ``url`` now: ``None`` to skip it (another call is trying it
        after its cooldown), ``True`` if this call is that trial (pass it to ``_record``),
        ``False`` to go on without one. ``alone``: nothing else is left to try in this round,
        so the call goes even while another trial runs."""
        with self._lock:
            endpoint = self._endpoints[self._index(url)]
            due = endpoint.failures >= self.max_failures and self.clock.monotonic() >= endpoint.cooldown_until
            if not due:
                return False
            if not endpoint.trial:
                endpoint.trial = True
                return True
            if alone:
                return False
        self._log_skip(url, 0.0)
        return None

    def _record(self, url: str, outcome: str, *, trial: bool = False) -> None:
        """Count an attempt's outcome (see breaker ``outcome_of``) against ``url``'s health, and
        end its trial if this call was it."""
        with self._lock:
            index = self._index(url)
            endpoint = self._endpoints[index]
            if trial:
                endpoint.trial = False
            if outcome not in (SUCCESS, FAILURE):
                return
            before = self._status(endpoint)
            if outcome == SUCCESS:
                endpoint.successes_total += 1
                endpoint.failures = 0
                if self.strategy in ("sticky", "random"):
                    self._current = index
            else:
                endpoint.failures_total += 1
                endpoint.failures += 1
                if endpoint.failures >= self.max_failures:
                    endpoint.cooldown_until = self.clock.monotonic() + self.retry_after
                if self.strategy == "sticky" and index == self._current:
                    self._current = (index + 1) % len(self._endpoints)
            after = self._status(endpoint)
        if after is not before:
            log_decision("endpoint_health", "failover: %s is now %s (%d consecutive failures)", url, after.value,
                         endpoint.failures, endpoint=url, from_state=before.value, to_state=after.value)

    def _log_hop(self, from_url: str, to_url: str, why: str) -> None:
        log_decision("failover", "failover: %s failed (%s); trying %s", from_url, why, to_url,
                     from_endpoint=from_url, to_endpoint=to_url, reason=why)

    def _log_skip(self, url: str, retry_in: float) -> None:
        if retry_in > 0:
            why = "unhealthy, cooling down for another %.3g s" % retry_in
        else:
            why = "another call is trying it again after its cooldown"
        log_decision("endpoint_skipped", "failover: skipping %s: %s", url, why, endpoint=url,
                     retry_in=max(retry_in, 0.0), reason=why)

    # -- internals (the lock is held) -------------------------------------------------------------

    def _status(self, endpoint: _Endpoint) -> HealthStatus:
        if endpoint.failures == 0:
            return HealthStatus.HEALTHY
        return HealthStatus.DEGRADED if endpoint.failures < self.max_failures else HealthStatus.UNHEALTHY

    def _first_locked(self) -> int:
        return self._order_locked(peek=True)[0][0]

    def _index(self, url: str) -> int:
        return next(i for i, e in enumerate(self._endpoints) if e.url == url)

    def _order_locked(self, *, peek: bool) -> Tuple[List[int], List[int]]:
        """The indices to try, in order, and those left out as resting (cooling down, or on
        trial after it); if every one rests, the first to recover is tried anyway."""
        count = len(self._endpoints)
        start = self._current
        if self.strategy == "priority" or (self.strategy == "random" and not peek):
            start = 0
        elif self.strategy == "round_robin" and not peek:
            self._current = (start + 1) % count
        indices = [(start + k) % count for k in range(count)]
        if self.strategy == "random" and not peek:
            indices = self._rng.sample(indices, count)
        now = self.clock.monotonic()
        usable: List[int] = []
        resting: List[int] = []
        for i in indices:
            e = self._endpoints[i]
            rests = e.failures >= self.max_failures and (now < e.cooldown_until or e.trial)
            (resting if rests else usable).append(i)
        if not usable:
            first = min(indices, key=lambda i: self._endpoints[i].cooldown_until)
            usable.append(first)
            resting.remove(first)
        return usable, resting

    def _require_endpoints(self) -> None:
        if not self._endpoints:
            raise InvalidArgumentError(
                "this FailoverPolicy has no endpoints; pass FailoverPolicy(endpoints=[...]) or "
                "Client(endpoints=[...], failover=...)"
            )


def check_endpoints(endpoints: object, source: str, *, allow_insecure_http: bool) -> List[str]:
    """Validate a list of endpoint base URLs and return them normalised (no trailing slash)."""
    if isinstance(endpoints, (str, bytes)) or not isinstance(endpoints, Sequence):
        raise InvalidArgumentError("%s must be a list of base URLs such as ['https://api.x.ai/v1']" % source)
    if not endpoints:
        raise InvalidArgumentError("%s is empty; give at least one base URL" % source)
    urls = [
        validate_base_url(url, allow_insecure_http=allow_insecure_http, source="%s[%d]" % (source, i))
        for i, url in enumerate(endpoints)
    ]
    if len(set(urls)) != len(urls):
        raise InvalidArgumentError("%s lists the same base URL twice" % source)
    return urls
