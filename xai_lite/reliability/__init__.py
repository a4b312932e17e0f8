"""Reliability as plain classes: retry, circuit breaker, rate limiter, failover and health checks.

Each is thread-safe, works on its own (``policy.call(fn)``, ``breaker.call(fn)``,
``limiter.acquire()``, ``failover.call(fn)``), and is used by a :class:`~xai_lite.Client` only
when handed to it: a default client makes exactly one attempt.

>>> from xai_lite import Client, RetryPolicy, CircuitBreaker, RateLimiter
>>> client = Client(retry=RetryPolicy(max_retries=3), circuit_breaker=CircuitBreaker(),
...                 rate_limiter=RateLimiter(requests_per_second=10.0, burst=20))
"""

from ..errors import reexported
from ._breaker import BreakerStats, CircuitBreaker, CircuitState, Transition
from ._clock import Clock, SystemClock
from ._failover import EndpointHealth, FailoverPolicy
from ._health import HealthReport, HealthStatus, health_check, liveness_check, readiness_check
from ._ratelimit import RateLimiter
from ._retry import RetryPolicy

__all__ = [
    "BreakerStats",
    "CircuitBreaker",
    "CircuitState",
    "Clock",
    "EndpointHealth",
    "FailoverPolicy",
    "HealthReport",
    "HealthStatus",
    "RateLimiter",
    "RetryPolicy",
    "SystemClock",
    "Transition",
    "health_check",
    "liveness_check",
    "readiness_check",
]

# The names xai_lite re-exports read as xai_lite.X in tracebacks and reprs (and pickle by that
# path); Clock and SystemClock live here only.
reexported(*(globals()[_name] for _name in __all__ if _name not in ("Clock", "SystemClock")))
