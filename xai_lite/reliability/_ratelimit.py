"""RateLimiter: a token bucket that spaces out calls on the client side, so that a burst of
work does not turn into a burst of 429s."""

from __future__ import annotations

import re
import threading
from typing import Dict, List, Mapping, Optional, Tuple, Union

from .._repr import safe_repr
from ..errors import InvalidArgumentError, RateLimiterTimeoutError
from .._config import MAX_SETTING, check_number
from ._clock import SYSTEM_CLOCK, Clock, log_decision

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
    ``shift`` adds up how far pauses have pushed back the callers waiting, and ``paused_until``
    is when the latest pause ends. Not thread-safe by itself: the RateLimiter's lock guards it."""

    __slots__ = ("rate", "burst", "tokens", "stamp", "shift", "paused_until")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.stamp = now
        self.shift = 0.0
        self.paused_until = now

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

    def refund(self, n: int, now: float) -> None:
        """Give back ``n`` tokens a caller reserved and will not use. The callers queued behind
        it keep their turns; the next new caller gets the freed one."""
        self.reserve(0, now)
        self.tokens = min(float(self.burst), self.tokens + n)

    def pause(self, until: float, now: float) -> None:
        """Admit nothing before ``until``, then one call, then resume the normal pace; callers
        already waiting are pushed back by as much, in the same order."""
        self.reserve(0, now)
        if until > self.stamp:
            self.shift += until - self.stamp
            self.stamp = self.paused_until = until
            self.tokens = min(self.tokens, 1.0)

    def describe(self) -> str:
        return "%g requests/s, burst %d" % (self.rate, self.burst)


class _Turn:
    """A caller's reservation in one bucket: when it may go, and the bucket's ``shift`` then."""

    __slots__ = ("bucket", "due", "shift")

    def __init__(self, bucket: _Bucket, due: float) -> None:
        self.bucket = bucket
        self.due = due
        self.shift = bucket.shift

    def moved(self) -> bool:
        """Push ``due`` back if a pause began since it was set (the lock is held); whether it moved.
        A caller whose turn had already come when the pause began waits for the pause to end."""
        bucket = self.bucket
        if bucket.shift == self.shift:
            return False
        self.due = max(self.due + bucket.shift - self.shift, bucket.paused_until)
        self.shift = bucket.shift
        return True


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
    ``(rate, burst)`` pair. A call of that kind reserves a token in its own bucket and in the
    shared one in the same step, and waits for the later of the two turns; its shared token
    counts against the shared rate from that moment, so a slow kind costs the others one token
    per waiting call and never more.

    ``pause(seconds)`` (a client given a limiter calls it when the server answers 429 with a
    ``Retry-After`` of at most 60 s) admits nothing until the pause ends: new callers queue
    behind it, and callers already waiting are pushed back by as much, keeping their order and
    pace, so every caller backs off, not only the one that was refused.

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

    @safe_repr
    def __repr__(self) -> str:
        kinds = "".join(", %s: %s" % (k, b.describe()) for k, b in sorted(self._kinds.items()))
        return "<RateLimiter %s%s>" % (self._bucket.describe(), kinds)

    def acquire(self, n: int = 1, timeout: Optional[float] = None, *, kind: Optional[str] = None) -> float:
        """Wait until ``n`` requests may be sent and return the seconds waited.

        ``timeout``: the longest acceptable wait; a longer one raises
        :class:`RateLimiterTimeoutError` without waiting and without using any tokens. If a
        pause that begins while the caller waits pushes its turn past ``timeout``, it raises
        then, and gives its tokens back.
        ``kind``: the endpoint kind, for the ``per_kind`` limits (ignored if it has none).
        Without a ``timeout``, a wait longer than 1,000,000 s (11.6 days) is refused the same way.

        A caller interrupted while it waits (``KeyboardInterrupt``, ...) gives its tokens back,
        so later callers do not wait for a call that will never be made.
        """
        check_number("acquire", "n", n, minimum=1, integer=True)
        # The longest wait: past it, time.sleep() and friends would overflow on a slow bucket.
        limit = float(MAX_SETTING) if timeout is None else check_number("acquire", "timeout", timeout)
        own = self._kinds.get(kind) if kind else None
        buckets = [self._bucket] if own is None else [own, self._bucket]
        with self._lock:
            start = self.clock.monotonic()
            turns = [_Turn(bucket, start + bucket.reserve(n, start)) for bucket in buckets]
            last = max(turns, key=lambda turn: turn.due)
            refused = last.due - start > limit
            if refused:
                for bucket in buckets:
                    bucket.refund(n, start)  # nobody reserved after us: we hold the lock
        label = "%s limit (%s)" % (kind, last.bucket.describe()) if last.bucket is own else (
            "rate limiter (%s)" % last.bucket.describe()
        )
        if refused:
            raise _refusal(label, last.due - start, limit, kind, paused=False)
        try:
            return self._wait(turns, start, limit, label, kind)
        except BaseException:
            with self._lock:
                now = self.clock.monotonic()
                for bucket in buckets:
                    bucket.refund(n, now)
            raise

    def pause(self, seconds: float) -> None:
        """Admit nothing for ``seconds`` (a server's ``Retry-After``): callers already waiting
        keep their order and are pushed back by as much; new callers queue behind them."""
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

    def _wait(
        self, turns: List[_Turn], start: float, limit: float, label: str, kind: Optional[str]
    ) -> float:
        """Sleep until every turn has come, waiting again whenever a pause that began meanwhile
        moved one; the seconds waited in all."""
        due = max(turn.due for turn in turns)
        if due > start:
            log_decision("limiter_wait", "%s: waiting %.3f s", label, due - start, delay=due - start, kind=kind)
            self.clock.sleep(due - start)
        while True:
            with self._lock:
                now = self.clock.monotonic()
                moved = [turn.moved() for turn in turns]  # a list, not any(): every turn must move
                due = max(turn.due for turn in turns)
            if not any(moved):
                return max(due - start, 0.0)
            if due - start > limit:
                raise _refusal(label, due - start, limit, kind, paused=True)
            if due > now:
                log_decision("limiter_wait", "%s: paused while waiting; waiting %.3f s more", label, due - now,
                             delay=due - now, kind=kind, reason="paused")
                self.clock.sleep(due - now)


def _refusal(label: str, wait: float, timeout: float, kind: Optional[str], *, paused: bool) -> RateLimiterTimeoutError:
    """The error for a caller that may not wait ``wait`` seconds (logged as ``limiter_refused``)."""
    why = "A pause (a 429's Retry-After) that began while it waited" if paused else "The %s" % label
    log_decision("limiter_refused", "%s: refusing a wait of %.3f s (the call may wait %.3f s)", label, wait, timeout,
                 delay=wait, timeout=timeout, kind=kind, reason="paused" if paused else "rate")
    return RateLimiterTimeoutError(
        "%s would make this call wait %.3g s, longer than the %.3g s it may wait; nothing was sent. Lower the "
        "request rate, or allow a longer wait (the call's timeout)" % (why, wait, timeout),
        wait=wait,
    )


def _new_bucket(owner: str, rate: object, burst: object, now: float) -> _Bucket:
    # At least one request per MAX_SETTING seconds: a slower bucket's first wait is already
    # longer than any wait acquire() allows.
    value = check_number(owner, "requests_per_second", rate, minimum=1.0 / MAX_SETTING)
    if burst is None:
        burst = max(1, int(value))
    check_number(owner, "burst", burst, minimum=1, integer=True)
    return _Bucket(value, int(burst), now)  # type: ignore[call-overload]
