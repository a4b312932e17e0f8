"""CircuitBreaker: stop calling a service that keeps failing, and let one probe find out when it
is back (CLOSED -> OPEN -> HALF_OPEN -> CLOSED, as pybreaker)."""

from __future__ import annotations

import collections
import enum
import threading
from dataclasses import dataclass
from typing import Any, Callable, Deque, Dict, List, Optional, TypeVar

from .._repr import safe_repr
from ..errors import (
    ApiError,
    CircuitOpenError,
    HttpError,
    InvalidArgumentError,
    RateLimiterTimeoutError,
)
from .._config import check_number
from ._clock import SYSTEM_CLOCK, Clock, log_decision

__all__ = ["BreakerStats", "CircuitBreaker", "CircuitState", "Transition", "outcome_of"]

_T = TypeVar("_T")
_HISTORY = 100  # transitions kept for reading; older ones are dropped

SUCCESS, FAILURE, RELEASE = "success", "failure", "release"


class CircuitState(enum.Enum):
    """The state of a :class:`CircuitBreaker`."""

    CLOSED = "closed"  # calls pass; consecutive failures are counted
    OPEN = "open"  # calls fail fast with CircuitOpenError until recovery_timeout passes
    HALF_OPEN = "half_open"  # one probe call at a time decides: close again or re-open


@dataclass(frozen=True)
class Transition:
    """One change of state: from, to, when (on the breaker's clock) and why."""

    from_state: CircuitState
    to_state: CircuitState
    at: float
    reason: str


@dataclass(frozen=True)
class BreakerStats:
    """A consistent snapshot of a breaker's counters.

    ``admitted`` calls were let through and each ended as one of ``successes``, ``failures`` or
    ``released`` (neither: the call never reached the service, or was interrupted), once it
    finished; ``rejected`` calls failed fast. ``consecutive_failures`` and
    ``half_open_successes`` drive the state; ``opened`` counts how often it opened.
    """

    state: CircuitState
    consecutive_failures: int
    half_open_successes: int
    admitted: int
    rejected: int
    successes: int
    failures: int
    released: int
    opened: int


class _Ticket:
    """An admitted call: the state generation it was admitted in, and whether it is the probe."""

    __slots__ = ("generation", "probe")

    def __init__(self, generation: int, probe: bool) -> None:
        self.generation = generation
        self.probe = probe


def outcome_of(error: Optional[BaseException]) -> str:
    """How a call's result counts: ``"failure"`` for transport errors, malformed responses, 5xx
    and any exception that is not an xai_lite error; ``"success"`` for a result or an answer
    from a working server (4xx, 429, a redirect): pybreaker counts excluded errors as successes;
    ``"release"`` for a call that never reached the service (bad arguments, an open breaker, a
    rate-limiter timeout) or was interrupted (KeyboardInterrupt)."""
    if error is None:
        return SUCCESS
    if not isinstance(error, Exception) or isinstance(
        error, (InvalidArgumentError, CircuitOpenError, RateLimiterTimeoutError)
    ):
        return RELEASE
    if isinstance(error, ApiError):
        return FAILURE if error.status_code >= 500 else SUCCESS
    if isinstance(error, HttpError) and error.status_code is not None and 300 <= error.status_code < 400:
        return SUCCESS
    return FAILURE


class CircuitBreaker:
    """Fails fast while a service is down, instead of sending it more requests.

    CLOSED: calls pass, and ``failure_threshold`` consecutive failures (transport errors,
    malformed responses and 5xx; a 4xx or 429 proves the server is up) open the circuit. OPEN:
    calls raise :class:`CircuitOpenError` at once, without opening a socket, for
    ``recovery_timeout`` seconds. HALF_OPEN: exactly one probe call at a time is let through, even
    with many concurrent callers (the others fail fast); ``success_threshold`` successful probes
    close the circuit, a failed one re-opens it. Results of calls admitted before a change of
    state are counted in the totals but do not move the state.

    Defaults are pybreaker's (``fail_max=5``, ``reset_timeout=60``, ``success_threshold=1``):
    five failures in a row is past bad luck, and a minute lets an overloaded service drain.

    Thread-safe: one lock guards the state and the counters. Standalone::

        breaker = CircuitBreaker(failure_threshold=5, recovery_timeout=60.0)
        models = breaker.call(client.models.list)

    or hand it to a client (``Client(circuit_breaker=breaker)``), which then checks it before
    every attempt. ``name`` labels logs and errors; ``clock`` is injectable for tests.
    """

    def __init__(
        self,
        failure_threshold: int = 5,
        recovery_timeout: float = 60.0,
        success_threshold: int = 1,
        *,
        name: Optional[str] = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        check_number("CircuitBreaker", "failure_threshold", failure_threshold, minimum=1, integer=True)
        check_number("CircuitBreaker", "recovery_timeout", recovery_timeout)
        check_number("CircuitBreaker", "success_threshold", success_threshold, minimum=1, integer=True)
        if name is not None and not isinstance(name, str):
            raise InvalidArgumentError("CircuitBreaker(name=...) must be a string")
        if not (callable(getattr(clock, "monotonic", None)) and callable(getattr(clock, "sleep", None))):
            raise InvalidArgumentError("CircuitBreaker(clock=...) needs monotonic() and sleep() methods")
        self.failure_threshold = failure_threshold
        self.recovery_timeout = float(recovery_timeout)
        self.success_threshold = success_threshold
        self.name = name
        self.clock = clock
        self._lock = threading.Lock()
        self._state = CircuitState.CLOSED
        self._generation = 0
        self._failures = 0
        self._half_open_successes = 0
        self._probe = False
        self._opened_at = 0.0
        self._counts = {"admitted": 0, "rejected": 0, SUCCESS: 0, FAILURE: 0, RELEASE: 0, "opened": 0}
        self._history: Deque[Transition] = collections.deque(maxlen=_HISTORY)
        self._siblings: Dict[str, CircuitBreaker] = {}

    @safe_repr
    def __repr__(self) -> str:
        return "<CircuitBreaker%s state=%s failures=%d/%d>" % (
            " %r" % self.name if self.name else "",
            self.state.value,
            self._failures,
            self.failure_threshold,
        )

    # -- reading ----------------------------------------------------------------------------------

    @property
    def state(self) -> CircuitState:
        """The current state (an OPEN circuit whose recovery timeout has passed reads HALF_OPEN)."""
        with self._lock:
            self._refresh(self.clock.monotonic())
            return self._state

    @property
    def failure_count(self) -> int:
        """Consecutive failures counted toward ``failure_threshold``."""
        return self._failures

    @property
    def retry_in(self) -> float:
        """Seconds until an OPEN circuit lets a probe through (0 when not OPEN)."""
        with self._lock:
            now = self.clock.monotonic()
            self._refresh(now)
            return max(0.0, self._opened_at + self.recovery_timeout - now) if self._state is CircuitState.OPEN else 0.0

    @property
    def transitions(self) -> List[Transition]:
        """The most recent state changes (up to 100), oldest first."""
        with self._lock:
            return list(self._history)

    def stats(self) -> BreakerStats:
        """A snapshot of the state and every counter, taken under the lock."""
        with self._lock:
            self._refresh(self.clock.monotonic())
            c = self._counts
            return BreakerStats(
                state=self._state,
                consecutive_failures=self._failures,
                half_open_successes=self._half_open_successes,
                admitted=c["admitted"],
                rejected=c["rejected"],
                successes=c[SUCCESS],
                failures=c[FAILURE],
                released=c[RELEASE],
                opened=c["opened"],
            )

    # -- using ------------------------------------------------------------------------------------

    def call(self, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """Call ``fn(*args, **kwargs)`` through the breaker: raise :class:`CircuitOpenError`
        without calling it while the circuit is open, else call it and count the outcome
        (see :func:`outcome_of`). Exceptions from ``fn`` propagate unchanged."""
        ticket = self._admit()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            self._record(ticket, outcome_of(exc))
            raise
        self._record(ticket, SUCCESS)
        return result

    def reset(self) -> None:
        """Close the circuit and clear the consecutive-failure count (manual recovery)."""
        with self._lock:
            if self._state is not CircuitState.CLOSED:
                self._move(CircuitState.CLOSED, self.clock.monotonic(), "reset() called")
            self._failures = 0

    def _sibling(self, url: str) -> CircuitBreaker:
        """The breaker with these settings and its own state that guards failover endpoint
        ``url`` for every client handed this breaker (made on first use)."""
        with self._lock:
            sibling = self._siblings.get(url)
            if sibling is None:
                sibling = self._siblings[url] = CircuitBreaker(
                    self.failure_threshold, self.recovery_timeout, self.success_threshold, name=url, clock=self.clock
                )
            return sibling

    # -- the state machine (every method below holds or takes the lock) ---------------------------

    def _admit(self, label: Optional[str] = None) -> _Ticket:
        """Let a call through (returning its ticket) or raise CircuitOpenError."""
        with self._lock:
            now = self.clock.monotonic()
            self._refresh(now)
            if self._state is CircuitState.CLOSED or (self._state is CircuitState.HALF_OPEN and not self._probe):
                probe = self._state is CircuitState.HALF_OPEN
                self._probe = probe
                self._counts["admitted"] += 1
                return _Ticket(self._generation, probe)
            self._counts["rejected"] += 1
            state = self._state
            if state is CircuitState.OPEN:
                retry_in = max(0.0, self._opened_at + self.recovery_timeout - now)
                why = "is open after %d consecutive failures; no request was sent; it lets a probe through in %.3g s" % (
                    self._failures,
                    retry_in,
                )
            else:
                retry_in = 0.0
                why = "is half-open and its probe call is still running; no request was sent; try again shortly"
        endpoint = label or self.name
        log_decision(
            "breaker_rejected",
            "circuit breaker%s is %s: call rejected, nothing sent (retry in %.3f s)",
            " " + endpoint if endpoint else "",
            state.value,
            retry_in,
            breaker=self.name,
            endpoint=endpoint,
            state=state.value,
            retry_in=retry_in,
        )
        raise CircuitOpenError(
            "the circuit breaker%s %s" % (" for " + endpoint if endpoint else "", why),
            endpoint=endpoint,
            retry_in=retry_in,
        )

    def _record(self, ticket: _Ticket, outcome: str) -> None:
        """Count the outcome of an admitted call and move the state if it decides one."""
        with self._lock:
            self._counts[outcome] += 1
            if ticket.generation != self._generation:
                return  # admitted before the last change of state: too old to decide anything
            now = self.clock.monotonic()
            if self._state is CircuitState.CLOSED:
                if outcome == FAILURE:
                    self._failures += 1
                    if self._failures >= self.failure_threshold:
                        self._move(CircuitState.OPEN, now, "%d consecutive failures" % self._failures)
                elif outcome == SUCCESS:
                    self._failures = 0
            elif self._state is CircuitState.HALF_OPEN and ticket.probe:
                self._probe = False
                if outcome == FAILURE:
                    self._move(CircuitState.OPEN, now, "the probe failed")
                elif outcome == SUCCESS:
                    self._half_open_successes += 1
                    if self._half_open_successes >= self.success_threshold:
                        self._move(CircuitState.CLOSED, now, "%d probe(s) succeeded" % self._half_open_successes)

    def _refresh(self, now: float) -> None:
        if self._state is CircuitState.OPEN and now >= self._opened_at + self.recovery_timeout:
            self._move(CircuitState.HALF_OPEN, now, "recovery_timeout (%g s) passed" % self.recovery_timeout)

    def _move(self, to: CircuitState, now: float, reason: str) -> None:
        before = self._state
        self._history.append(Transition(before, to, now, reason))
        self._state = to
        self._generation += 1
        self._probe = False
        self._half_open_successes = 0
        if to is CircuitState.OPEN:
            self._opened_at = now
            self._counts["opened"] += 1
        elif to is CircuitState.CLOSED:
            self._failures = 0
        log_decision(
            "breaker_transition",
            "circuit breaker%s: %s -> %s (%s)",
            " " + self.name if self.name else "",
            before.value,
            to.value,
            reason,
            breaker=self.name,
            from_state=before.value,
            to_state=to.value,
            reason=reason,
        )
