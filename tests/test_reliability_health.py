"""Health probes over real loopback sockets: health_check, liveness_check, readiness_check."""

from __future__ import annotations

import threading
import time

import pytest
from harness import error_reply, ok_models, refused_port

from xai_lite import (
    CircuitBreaker,
    Client,
    HealthReport,
    HealthStatus,
    InvalidArgumentError,
    health_check,
    liveness_check,
    readiness_check,
)


class SteppingClock:
    """A clock that reads `start`, then `start + elapsed`: a probe that takes exactly `elapsed`."""

    def __init__(self, elapsed: float) -> None:
        self.readings = [100.0, 100.0 + elapsed]

    def monotonic(self) -> float:
        return self.readings.pop(0)

    def sleep(self, seconds: float) -> None:
        raise AssertionError("a health check never sleeps")


def test_fast_answer_is_healthy(serve, client_for):
    """A /v1/models answer well under 2 s is HEALTHY, with its time in ms and a message."""
    server = serve(ok_models)
    client = client_for(server)
    before = set(threading.enumerate())
    report = health_check(client)
    assert report.status is HealthStatus.HEALTHY and report.ok
    assert 0 < report.response_time_ms < 2000 and "2 models" in report.message
    assert report.endpoint == client.base_url and server.requests[0].path == "/v1/models"
    new = [t.name for t in set(threading.enumerate()) - before]
    assert all(name.startswith("loopback-") for name in new), new  # only the server's own thread


@pytest.mark.parametrize("elapsed,status", [(1.999, HealthStatus.HEALTHY), (2.0, HealthStatus.DEGRADED),
                                            (9.0, HealthStatus.DEGRADED)])
def test_two_seconds_is_the_degraded_threshold(serve, client_for, elapsed, status):
    """An answer under 2 s is HEALTHY; at 2 s or more it is DEGRADED (api_xai's threshold)."""
    report = health_check(client_for(serve(ok_models)), clock=SteppingClock(elapsed))
    assert report.status is status and report.response_time_ms == pytest.approx(elapsed * 1000)


def test_slow_answer_is_degraded_in_real_time(serve, client_for):
    """A server that takes 0.2 s against a 0.1 s threshold is DEGRADED, and still ready."""
    def slow(req, reply):
        time.sleep(0.2)
        ok_models(req, reply)

    client = client_for(serve(slow))
    report = health_check(client, degraded_after=0.1)
    assert report.status is HealthStatus.DEGRADED and report.response_time_ms >= 200
    assert "threshold" in report.message


@pytest.mark.parametrize("fault", ["refused", "503", "401", "hang"])
def test_failures_are_unhealthy(serve, canary, fault):
    """A refused connection, a 5xx, a rejected key or a probe past its timeout is UNHEALTHY,
    with the error in the message and never the key."""
    if fault == "refused":
        url = "http://127.0.0.1:%d/v1" % refused_port()
    else:
        handler = {"503": error_reply(503), "401": error_reply(401, message="bad key " + canary),
                   "hang": lambda req, reply: reply.hang(3)}[fault]
        url = serve(handler).url + "/v1"
    client = Client(api_key=canary, base_url=url)
    start = time.monotonic()
    report = health_check(client, timeout=0.3)
    assert time.monotonic() - start < 1.5
    assert report.status is HealthStatus.UNHEALTHY and not report.ok
    assert canary not in report.message and "Error" in report.message
    assert readiness_check(client, timeout=0.3) is False


def test_probe_goes_through_the_clients_policies(serve, client_for):
    """With an open breaker the probe fails fast as UNHEALTHY without opening a socket."""
    server = serve(error_reply(503))
    client = client_for(server, circuit_breaker=CircuitBreaker(failure_threshold=1))
    assert health_check(client).status is HealthStatus.UNHEALTHY
    report = health_check(client)
    assert "CircuitOpenError" in report.message and server.accepted == 1


def test_liveness_and_readiness(serve, client_for):
    """liveness_check is always True for a stateless client; readiness_check is True while the
    API answers."""
    client = client_for(serve(ok_models))
    assert liveness_check(client) is True and liveness_check() is True
    assert readiness_check(client) is True


def test_report_is_a_frozen_value():
    """A HealthReport compares by value and cannot be changed."""
    report = HealthReport(HealthStatus.HEALTHY, 12.5, "ok", "https://api.x.ai/v1")
    assert report == HealthReport(HealthStatus.HEALTHY, 12.5, "ok", "https://api.x.ai/v1")
    with pytest.raises(AttributeError):
        report.status = HealthStatus.UNHEALTHY


@pytest.mark.parametrize("kwargs", [dict(timeout=0), dict(timeout=-1), dict(degraded_after=-1),
                                    dict(degraded_after=float("nan"))])
def test_invalid_probe_settings_are_refused(canary, kwargs):
    """A zero or negative timeout or threshold raises InvalidArgumentError before any I/O."""
    with pytest.raises(InvalidArgumentError):
        health_check(Client(api_key=canary, base_url="http://127.0.0.1:9/v1"), **kwargs)
