"""RateLimiter: a token bucket that spaces out calls on the client side, so that a burst of
work does not turn into a burst of 429s."""

from __future__ import annotations

import re
import threading
from typing import Dict, Mapping, Optional, Tuple, Union

from ..errors import InvalidArgumentError, RateLimiterTimeoutError
from ._clock import SYSTEM_CLOCK, Clock, check_number, log_decision

__all__ = ["RateLimiter", "kind_of"]

LimitSpec = Union[float, int, Tuple[float, int]]
_KIND = re.compile(r"[a-z0-9][a-z0-9_-]*")


def kind_of(path: str) -> str:
    """The endpoint kind of a request path relative to the base URL: its first segment
    (``/chat/completions`` -> ``chat``, ``/models/grok-4`` -> ``models``, ``/images/...`` -> ``images``)."""
    return path.lstrip("/").split("/", 1)[0].split("?", 1)[0].lower()


class _Bucket:
    """One token bucket. ``tokens`` is what it holds at time ``stamp``; it may be negative
    (tokens promised to callers already waiting) and ``stamp`` may lie in the future (a pause).
    Not thread-safe by itself: the RateLimiter's lock guards it."""

    __slots__ = ("rate", "burst", "tokens", "stamp")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.stamp = now

    def reserve(self, n: int, now: float) -> float:
        """Take ``n`` tokens and return how long the caller must wait for them. Reservations are
        served strictly in the order they are made, which is what makes the limiter FIFO-fair:
        a later caller can never take tokens an earlier one is waiting for."""
        if now > self.stamp:
            self.tokens = min(float(self.burst), self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
        self.tokens -= n
        debt = -self.tokens / self.rate if self.tokens < 0 else 0.0
        return self.stamp - now + debt

    def pause(self, until: float, now: float) -> None:
        """Admit nothing before ``until``, then one call, then resume the normal pace."""
        self.reserve(0, now)
        if until > self.stamp:
            self.stamp = until
            self.tokens = min(self.tokens, 1.0)

    def describe(self) -> str:
        return "%g requests/s, burst %d" % (self.rate, self.burst)


class RateLimiter:
    """A client-side token bucket: ``requests_per_second`` on average, up to ``burst`` at once
    after a quiet spell.

    ``acquire()`` blocks until the call may go (the bucket refills continuously on a monotonic
    clock), or, when the wait would be longer than ``timeout``, raises
    :class:`RateLimiterTimeoutError` at once, saying how long the wait would have been. Callers
    are served strictly first come, first served: each reserves its tokens under the lock and
    then sleeps outside it, so nobody can overtake a caller that is already waiting.

    ``burst`` defaults to one second's worth of requests (at least 1), as Guava's RateLimiter
    stores at most one second of unused permits: xAI's limits are per second, so a client that
    saves more than that only earns 429s when it spends them.

    ``per_kind`` adds limits for kinds of endpoint: the first path segment after the base URL
    (``chat``, ``responses``, ``models``, ``images``, ``files``, ...), each a rate or a
    ``(rate, burst)`` pair. A call of that kind waits for its own bucket first and then for the
    shared one, so a slow kind never holds up the others.

    A client given a limiter also pauses it when the server answers 429 with a ``Retry-After``
    of at most 60 s: every caller then waits, not only the one that was refused.

    Thread-safe: one lock guards every bucket. Standalone::

        limiter = RateLimiter(requests_per_second=10.0, burst=20)
        limiter.acquire()              # or: with limiter: ...
        client = Client(rate_limiter=limiter)
    """

    def __init__(
        self,
        requests_per_second: float,
        burst: Optional[int] = None,
        *,
        per_kind: Optional[Mapping[str, LimitSpec]] = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        if not (callable(getattr(clock, "monotonic", None)) and callable(getattr(clock, "sleep", None))):
            raise InvalidArgumentError("RateLimiter(clock=...) needs monotonic() and sleep() methods")
        self.clock = clock
        now = clock.monotonic()
        self._lock = threading.Lock()
        self._bucket = _new_bucket("RateLimiter", requests_per_second, burst, now)
        self.requests_per_second = self._bucket.rate
        self.burst = self._bucket.burst
        self._kinds: Dict[str, _Bucket] = {}
        if per_kind is not None:
            if not isinstance(per_kind, Mapping):
                raise InvalidArgumentError("RateLimiter(per_kind=...) must map endpoint kinds to rates")
            for kind, spec in per_kind.items():
                if not isinstance(kind, str) or not _KIND.fullmatch(kind):
                    raise InvalidArgumentError(
                        "RateLimiter(per_kind=...): %r is not an endpoint kind; kinds are the first path "
                        "segment after /v1, such as 'chat', 'responses', 'models' or 'images'" % (kind,)
                    )
                rate, kind_burst = spec if isinstance(spec, tuple) and len(spec) == 2 else (spec, None)
                self._kinds[kind] = _new_bucket("RateLimiter(per_kind[%r])" % kind, rate, kind_burst, now)

    def __repr__(self) -> str:
        kinds = "".join(", %s: %s" % (k, b.describe()) for k, b in sorted(self._kinds.items()))
        return "<RateLimiter %s%s>" % (self._bucket.describe(), kinds)

    def acquire(self, n: int = 1, timeout: Optional[float] = None, *, kind: Optional[str] = None) -> float:
        """Wait until ``n`` requests may be sent and return the seconds waited.

        ``timeout``: the longest acceptable wait; a longer one raises
        :class:`RateLimiterTimeoutError` without waiting and without using any tokens.
        ``kind``: the endpoint kind, for the ``per_kind`` limits (ignored if it has none).
        """
        check_number("acquire", "n", n, minimum=1, integer=True)
        if timeout is not None:
            check_number("acquire", "timeout", timeout)
        waited = 0.0
        bucket = self._kinds.get(kind) if kind else None
        if bucket is not None:
            waited += self._take(bucket, n, timeout, kind)
        return waited + self._take(self._bucket, n, None if timeout is None else timeout - waited, None)

    def pause(self, seconds: float) -> None:
        """Admit nothing for ``seconds`` (a server's ``Retry-After``); callers already waiting
        keep their turn."""
        check_number("pause", "seconds", seconds)
        with self._lock:
            now = self.clock.monotonic()
            for bucket in [self._bucket, *self._kinds.values()]:
                bucket.pause(now + seconds, now)
        log_decision("limiter_pause", "rate limiter paused for %.3f s", seconds, delay=seconds)

    def __enter__(self) -> RateLimiter:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def _take(self, bucket: _Bucket, n: int, timeout: Optional[float], kind: Optional[str]) -> float:
        with self._lock:
            wait = bucket.reserve(n, self.clock.monotonic())
            refused = timeout is not None and wait > timeout
            if refused:
                bucket.tokens += n  # nobody reserved after us: we hold the lock
        label = "%s limit (%s)" % (kind, bucket.describe()) if kind else "rate limiter (%s)" % bucket.describe()
        if timeout is not None and refused:
            raise RateLimiterTimeoutError(
                "the %s would make this call wait %.3g s, longer than the %.3g s it may wait; nothing was "
                "sent. Lower the request rate, or allow a longer wait (the call's timeout)" % (label, wait, timeout),
                wait=wait,
            )
        if wait > 0:
            log_decision("limiter_wait", "%s: waiting %.3f s", label, wait, delay=wait, kind=kind)
            self.clock.sleep(wait)
        return max(wait, 0.0)


def _new_bucket(owner: str, rate: object, burst: object, now: float) -> _Bucket:
    check_number(owner, "requests_per_second", rate, inclusive=False)
    value = float(rate)  # type: ignore[arg-type]
    if burst is None:
        burst = max(1, int(value))
    check_number(owner, "burst", burst, minimum=1, integer=True)
    return _Bucket(value, int(burst), now)  # type: ignore[call-overload]
