"""The clock every reliability class reads and sleeps on, and the logger they report to.

Time is injectable so that tests run backoff, breaker and limiter schedules in fake time
(tenacity's ``nap``, botocore's ``Clock``): a :class:`Clock` has ``monotonic()`` and ``sleep()``,
nothing else. The default is :data:`SYSTEM_CLOCK`, ``time.monotonic`` and ``time.sleep``.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

from ..errors import PACKAGE

__all__ = ["Clock", "SYSTEM_CLOCK", "SystemClock", "log_decision", "logger"]

#: Every decision (retry scheduled, breaker transition or rejection, failover, endpoint skipped,
#: limiter wait, pause or refusal) is logged here at DEBUG, with structured ``extra`` fields;
#: never keys, headers, bodies or query strings.
#: Named after the package as imported: ``xai_lite.reliability``, or
#: ``mytool._vendor.xai_lite.reliability`` in a vendored copy.
logger = logging.getLogger(__name__.rpartition(".")[0])
# The package logger stays silent unless the application configures logging (urllib3's rule).
logging.getLogger(PACKAGE).addHandler(logging.NullHandler())


class Clock(Protocol):
    """What the reliability classes need of time: a monotonic reading in seconds and a sleep."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds``."""


class SystemClock:
    """The real clock: ``time.monotonic()`` and ``time.sleep()``."""

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """``time.sleep(seconds)``."""
        time.sleep(seconds)

    def __repr__(self) -> str:
        return "SystemClock()"


SYSTEM_CLOCK = SystemClock()


def log_decision(event: str, message: str, *args: Any, **fields: Any) -> None:
    """Log one decision at DEBUG; ``fields`` become attributes of the record (``extra``)."""
    if logger.isEnabledFor(logging.DEBUG):
        fields["event"] = event
        logger.debug(message, *args, extra=fields)
