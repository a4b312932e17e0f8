"""RetryPolicy: which failures may be replayed, how long to wait before the next attempt, and
the retry loop for standalone use (``policy.call(fn)``).

What is retried follows xAI's own REST SDK (xai-sdk-ts ``src/constants.ts``: ``RETRYABLE_STATUS``,
``IDEMPOTENT_RETRY_STATUS``), the conservative camp of reliability.md 1.1: a request that provably
never reached the server, and a 429, are replayed for every method; a 408, 409, 5xx, 529 or an
ambiguous network failure (reset, read timeout) only for idempotent methods, because a POST that
reached the server may already be generating (and billing) an answer. Stainless SDKs (openai,
anthropic) retry those POSTs too; ``retry_non_idempotent=True`` opts into that rule.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable, List, Optional, Tuple, TypeVar, Union

from .._transport import IDEMPOTENT_METHODS
from ..errors import (
    ApiError,
    InvalidArgumentError,
    NetworkError,
    RequestTimeoutError,
    XaiError,
    _is_quota_exhausted,
)
from .._config import check_number
from ._clock import SYSTEM_CLOCK, Clock, log_decision

__all__ = ["IDEMPOTENT_METHODS", "MAX_RETRIES_LIMIT", "RetryPolicy", "classify", "finish"]

_T = TypeVar("_T")

# max_retries above this is a mistake rather than a policy: 100 retries at the 8 s cap is 13 min.
MAX_RETRIES_LIMIT = 100


@dataclass(frozen=True)
class RetryPolicy:
    """When and how often to replay a failed call. Frozen, and safe to share between threads and
    clients (the jitter generator is a ``random.Random``, whose methods are thread-safe).

    The wait before retry ``n`` (1, 2, ...) is, unless the server says otherwise::

        min(initial_delay * multiplier ** (n - 1), max_delay) * (1 - jitter * U),  U ~ uniform[0, 1)

    so with the defaults 0.5 s, 1 s, 2 s, 4 s, 8 s, 8 s... each cut by up to 25 % (openai's
    ``_calculate_retry_timeout``). A 429 without a usable ``Retry-After`` uses the same formula
    from ``rate_limit_delay`` up to ``rate_limit_max_delay`` (xai-sdk-ts: 1 s doubling to 30 s):
    xAI's limits are per second, so a retry sooner than that mostly earns another 429.

    The server's word wins: ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date) sets
    the wait; above ``max_retry_after`` the call is not retried and the error keeps its
    ``retry_after``. ``x-should-retry: true|false`` overrides the status rules. A 429 saying the
    team's credits or spending limit are exhausted is never retried, whatever that header says.

    Waits never reach past the call's deadline (the client's ``Timeout.total``) nor past
    ``timeout`` seconds after the first attempt: a retry whose wait would end later is not made,
    and the last error is raised at once. When the policy gives up, it raises the last error with
    ``attempts`` set and the earlier errors in ``previous``.

    Arguments:

    - ``max_retries``: retries after the first attempt (default 2, as openai, anthropic and
      xai-sdk-ts); ``0`` disables retrying.
    - ``initial_delay``, ``max_delay``, ``multiplier``, ``jitter``: the backoff above (defaults
      0.5 s, 8 s, 2, 0.25 from openai; xai-sdk-ts also caps at 8 s).
    - ``rate_limit_delay``, ``rate_limit_max_delay``: the backoff for a 429 (1 s, 30 s).
    - ``max_retry_after``: the longest server-requested wait honoured (60 s, as anthropic and
      xai-sdk-ts; a longer wait is better left to the caller).
    - ``timeout``: seconds after the first attempt past which no retry starts (``None``: only the
      call's deadline bounds it; stamina bounds its retries by a 45 s total for the same reason,
      and here ``Timeout.total`` already plays that part).
    - ``retry_non_idempotent``: also replay a POST after an ambiguous failure, 408, 409, 5xx or
      529 (default False: xAI's rule; True: Stainless's).
    - ``clock``, ``rng``: time and jitter, injectable for tests.

    >>> client = Client(retry=RetryPolicy(max_retries=3))
    >>> RetryPolicy().call(client.models.list)
    """

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    multiplier: float = 2.0
    jitter: float = 0.25
    rate_limit_delay: float = 1.0
    rate_limit_max_delay: float = 30.0
    max_retry_after: float = 60.0
    timeout: Optional[float] = None
    retry_non_idempotent: bool = False
    clock: Clock = field(default=SYSTEM_CLOCK, repr=False, compare=False)
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        name = "RetryPolicy"
        check_number(name, "max_retries", self.max_retries, integer=True, maximum=MAX_RETRIES_LIMIT)
        for setting in ("initial_delay", "rate_limit_delay", "max_retry_after"):
            check_number(name, setting, getattr(self, setting))
        check_number(name, "max_delay", self.max_delay, minimum=self.initial_delay)
        check_number(name, "rate_limit_max_delay", self.rate_limit_max_delay, minimum=self.rate_limit_delay)
        check_number(name, "multiplier", self.multiplier, minimum=1.0)
        check_number(name, "jitter", self.jitter, maximum=1.0)
        if self.timeout is not None:
            check_number(name, "timeout", self.timeout, inclusive=False)
        if not isinstance(self.retry_non_idempotent, bool):
            raise InvalidArgumentError("RetryPolicy(retry_non_idempotent=...) must be True or False")
        if not (callable(getattr(self.clock, "monotonic", None)) and callable(getattr(self.clock, "sleep", None))):
            raise InvalidArgumentError("RetryPolicy(clock=...) needs monotonic() and sleep() methods")
        if not isinstance(self.rng, random.Random):
            raise InvalidArgumentError("RetryPolicy(rng=...) must be a random.Random")

    @classmethod
    def coerce(cls, value: Union[RetryPolicy, int]) -> RetryPolicy:
        """A policy from a policy, or from a number of retries (``3`` is ``RetryPolicy(max_retries=3)``)."""
        if isinstance(value, RetryPolicy):
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidArgumentError(
                "retry must be a RetryPolicy or a number of retries, not %s" % type(value).__name__
            )
        return cls(max_retries=value)

    # -- the rules --------------------------------------------------------------------------------

    def backoff(self, retry: int, *, rate_limited: bool = False) -> float:
        """The formula's wait, in seconds, before retry number ``retry`` (1 for the first retry).
        ``rate_limited`` selects the 429 schedule. Safe for any ``retry``: the step is capped
        before it can overflow."""
        check_number("backoff", "retry", retry, minimum=1, integer=True, maximum=float("inf"))
        base, cap = (self.rate_limit_delay, self.rate_limit_max_delay) if rate_limited else (self.initial_delay, self.max_delay)
        try:
            step = min(base * float(self.multiplier) ** (retry - 1), cap)
        except OverflowError:
            step = cap
        return step * (1.0 - self.jitter * self.rng.random())

    def is_retryable(self, error: BaseException, method: str = "POST") -> bool:
        """Whether the rules allow replaying a request with ``method`` that failed with ``error``
        (regardless of attempts left, waits and deadlines)."""
        return self._classify(error, method)[0]

    def delay(
        self, error: BaseException, retry: int, *, method: str = "POST", remaining: Optional[float] = None
    ) -> Optional[float]:
        """Seconds to wait before retry number ``retry`` after ``error``, or ``None`` if the policy
        says to give up: no retries left, not retryable, a server wait over ``max_retry_after``,
        or a wait that would not end within ``remaining`` seconds (the time left to the deadline)."""
        return self._decide(error, retry, method, remaining)[0]

    def _classify(self, error: BaseException, method: str) -> Tuple[bool, str]:
        return classify(error, method, retry_non_idempotent=self.retry_non_idempotent)

    def _decide(
        self, error: BaseException, retry: int, method: str, remaining: Optional[float]
    ) -> Tuple[Optional[float], str]:
        if retry > self.max_retries:
            return None, "no retries left (max_retries=%d)" % self.max_retries
        allowed, why = self._classify(error, method)
        if not allowed:
            return None, why
        hint = error.retry_after if isinstance(error, ApiError) else None
        if hint is not None:
            if hint > self.max_retry_after:
                return None, "the server asks to wait %.3g s, over max_retry_after=%g s" % (hint, self.max_retry_after)
            wait = hint
        else:
            wait = self.backoff(retry, rate_limited=isinstance(error, ApiError) and error.status_code == 429)
        if remaining is not None and wait >= remaining:
            return None, "waiting %.3g s would pass the deadline (%.3g s left)" % (wait, max(remaining, 0.0))
        return wait, why

    # -- standalone use ---------------------------------------------------------------------------

    def call(self, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """Call ``fn(*args, **kwargs)``, retrying the xai_lite errors the rules allow; any other
        exception propagates at once. ``fn`` is treated like a create (POST): with the default
        ``retry_non_idempotent=False`` only unsent requests and 429s are replayed; use
        ``dataclasses.replace(policy, retry_non_idempotent=True)`` for a read."""
        clock = self.clock
        start = clock.monotonic()
        errors: List[XaiError] = []
        while True:
            try:
                return fn(*args, **kwargs)
            except XaiError as exc:
                error = exc
            errors.append(error)
            remaining = None if self.timeout is None else start + self.timeout - clock.monotonic()
            wait, why = self._decide(error, len(errors), "POST", remaining)
            if wait is None:
                log_decision("retry_give_up", "not retrying after attempt %d: %s", len(errors), why,
                             attempt=len(errors), reason=why, error=type(error).__name__)
                raise finish(errors)
            log_decision("retry_scheduled", "retry %d in %.3f s: %s", len(errors), wait, why,
                         attempt=len(errors), delay=wait, reason=why, error=type(error).__name__)
            clock.sleep(wait)


def finish(errors: List[XaiError], attempts: Optional[int] = None) -> XaiError:
    """The error to raise when a call gives up: the last one, with ``attempts`` set and the
    earlier ones in ``previous`` (their tracebacks dropped: the frames of earlier attempts hold
    the request body, and nobody will print them)."""
    last = errors[-1]
    last.attempts = len(errors) if attempts is None else attempts
    if len(errors) > 1:
        for earlier in errors[:-1]:
            earlier.__traceback__ = None
        last.previous = list(errors[:-1])
    return last


# The rules follow xAI's own REST SDK, xai-sdk-ts (src/constants.ts and test/http.test.ts): a
# create is replayed only when the server provably did no work (never reached, or 429); reads
# are replayed on 408/409/5xx/529 and ambiguous network failures as well.
def classify(error: BaseException, method: str, *, retry_non_idempotent: bool = False) -> Tuple[bool, str]:
    """(replay allowed, why) for a request with ``method`` that failed with ``error``: the rules
    of :class:`RetryPolicy`, which failover follows too (it is a replay on another server)."""
    replayable = method.upper() in IDEMPOTENT_METHODS or retry_non_idempotent
    if isinstance(error, ApiError):
        status = error.status_code
        # Exhausted credits come first: no header makes a retry succeed before someone pays.
        if status == 429 and _is_quota_exhausted(error.message):
            return False, "the 429 says the team's credits or spending limit are exhausted"
        flag = error.headers.get("x-should-retry", "").strip().lower()
        if flag in ("true", "false"):
            return flag == "true", "the server sent x-should-retry: %s" % flag
        if status == 429:
            return True, "429: rate limited"
        if status in (408, 409) or status >= 500:
            if replayable:
                return True, "status %d" % status
            return False, "status %d on a %s, which may have started work (retry_non_idempotent is off)" % (
                status,
                method,
            )
        return False, "status %d is not retryable" % status
    if isinstance(error, NetworkError):
        if isinstance(error, RequestTimeoutError) and error.phase == "deadline":
            return False, "the call's total time limit ran out"
        if not error.request_sent:
            if error.reason == "tls-verify":
                return False, "TLS certificate verification failed; a retry would fail the same way"
            return True, "the request never reached the server (%s)" % error.reason
        if replayable:
            return True, "network failure after sending (%s)" % error.reason
        return False, "the %s may have reached the server before the failure (%s) and retry_non_idempotent is off" % (
            method,
            error.reason,
        )
    return False, "%s is not retried" % type(error).__name__
