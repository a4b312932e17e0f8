"""On-demand health probes: ``health_check``, ``liveness_check``, ``readiness_check``.

Nothing runs in the background: a probe is one call made when asked. A background thread would
be frozen with its process between two AWS Lambda invocations, and report stale health after.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from ..errors import XaiError
from .._config import check_number
from ._clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from .._client import Client

__all__ = ["DEGRADED_AFTER_S", "HealthReport", "HealthStatus", "health_check", "liveness_check", "readiness_check"]

# A model list normally answers in well under a second; 2 s is the threshold of the api_xai seed
# (its health_check hard-codes 2,000 ms), slow enough to mean "something is wrong", not yet down.
DEGRADED_AFTER_S = 2.0
# How long a probe may take in all: a health check that hangs is worse than one that fails.
PROBE_TIMEOUT_S = 5.0


class HealthStatus(enum.Enum):
    """How well an endpoint is doing."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"  # answering, but slowly (probe) or after recent failures (failover)
    UNHEALTHY = "unhealthy"  # not answering properly


@dataclass(frozen=True)
class HealthReport:
    """The result of :func:`health_check`: ``status``, the probe's ``response_time_ms``, a
    one-line ``message`` (the error's, when it failed; never the key) and the ``endpoint`` probed
    (the client's base URL)."""

    status: HealthStatus
    response_time_ms: float
    message: str
    endpoint: str

    @property
    def ok(self) -> bool:
        """True unless the status is UNHEALTHY."""
        return self.status is not HealthStatus.UNHEALTHY


def health_check(
    client: Client,
    *,
    timeout: float = PROBE_TIMEOUT_S,
    degraded_after: float = DEGRADED_AFTER_S,
    clock: Optional[Clock] = None,
) -> HealthReport:
    """Probe ``client`` with ``GET /v1/models`` (read-only, checks the key, costs nothing) and
    report HEALTHY if it answered within ``degraded_after`` seconds (2 s), DEGRADED if it answered
    more slowly, UNHEALTHY if it failed. The probe goes through the client's own policies
    (retries, breaker, limiter, failover), so it measures what a call would see now. ``timeout``
    bounds the whole probe (5 s); ``clock`` times it (injectable for tests).

    >>> report = health_check(client)
    >>> report.status, report.response_time_ms, report.message
    """
    check_number("health_check", "timeout", timeout, inclusive=False)
    check_number("health_check", "degraded_after", degraded_after)
    timer = clock if clock is not None else SYSTEM_CLOCK
    endpoint = client.base_url
    start = timer.monotonic()
    failure: Optional[XaiError] = None
    try:
        models = client.models.list(timeout=timeout)
    except XaiError as exc:
        failure = exc
    elapsed = max(0.0, timer.monotonic() - start)
    ms = round(elapsed * 1000.0, 3)
    if failure is not None:
        return HealthReport(
            HealthStatus.UNHEALTHY, ms, "%s: %s" % (type(failure).__name__, failure), endpoint
        )
    count = len(models.data)
    if elapsed >= degraded_after:
        return HealthReport(
            HealthStatus.DEGRADED,
            ms,
            "GET /models answered in %.0f ms, at or over the %.0f ms threshold (%d models)"
            % (ms, degraded_after * 1000, count),
            endpoint,
        )
    return HealthReport(HealthStatus.HEALTHY, ms, "GET /models answered in %.0f ms (%d models)" % (ms, count), endpoint)


def liveness_check(client: Optional[Client] = None) -> bool:
    """Kubernetes-style liveness: always True. A client holds no state that can wedge (no
    background thread, no session), so the only fix a restart could bring is never needed;
    whether the API answers is :func:`readiness_check`'s question."""
    return True


def readiness_check(client: Client, *, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Kubernetes-style readiness: True if :func:`health_check` finds the API HEALTHY or
    DEGRADED (answering, even slowly), False if UNHEALTHY."""
    return health_check(client, timeout=timeout).ok
