"""CircuitBreaker on its own and inside a client, over real loopback sockets, with a fake clock
for the recovery timeout (reliability.md F31, L8, B7)."""

from __future__ import annotations

import math
import threading
import time

import pytest
from harness import FakeClock, error_reply, in_turn, ok_models

from xai_lite import (
    ApiError,
    BadRequestError,
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
    InvalidArgumentError,
    RateLimiter,
    RateLimitError,
    RetryPolicy,
    ServerError,
    XaiError,
)


def fail(status=503):
    raise ServerError("down", status_code=status) if status >= 500 else ApiError("no", status_code=status)


def trip(breaker, n=None):
    for _ in range(n if n is not None else breaker.failure_threshold):
        with pytest.raises(ServerError):
            breaker.call(fail)


def test_opens_after_consecutive_failures_and_fails_fast(serve, client_for):
    """F31: five 503s open the circuit; the next call raises CircuitOpenError in under 5 ms
    without opening a socket, and says when a probe will be allowed."""
    server = serve(error_reply(503))
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=5, recovery_timeout=60, clock=clock)
    client = client_for(server, circuit_breaker=breaker)
    for _ in range(5):
        with pytest.raises(ServerError):
            client.models.list()
    assert breaker.state is CircuitState.OPEN and len(server.requests) == 5
    accepted = server.accepted
    clock.advance(15)
    start = time.perf_counter()
    with pytest.raises(CircuitOpenError) as info:
        client.models.list()
    assert time.perf_counter() - start < 1.0  # no wait (retry_in is 45 s); the counters below prove no I/O
    assert server.accepted == accepted and len(server.requests) == 5
    assert info.value.retry_in == pytest.approx(45) and info.value.endpoint == client.base_url
    assert "no request was sent" in str(info.value) and info.value.attempts == 0


def test_half_open_probe_success_closes_and_failure_reopens(serve, client_for):
    """F31: after recovery_timeout one probe goes through; a failed probe re-opens the circuit
    for another full timeout, a successful one closes it."""
    server = serve(in_turn(*[error_reply(500)] * 4, ok_models))
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, recovery_timeout=30, clock=clock)
    client = client_for(server, circuit_breaker=breaker)
    for _ in range(3):
        with pytest.raises(ServerError):
            client.models.list()
    clock.advance(30)
    assert breaker.state is CircuitState.HALF_OPEN
    with pytest.raises(ServerError):
        client.models.list()  # the probe fails
    assert breaker.state is CircuitState.OPEN and breaker.retry_in == pytest.approx(30)
    clock.advance(29.9)
    with pytest.raises(CircuitOpenError):
        client.models.list()
    clock.advance(0.1)
    assert len(client.models.list()) == 2  # the probe succeeds
    assert breaker.state is CircuitState.CLOSED and breaker.failure_count == 0
    assert [(t.from_state, t.to_state) for t in breaker.transitions] == [
        (CircuitState.CLOSED, CircuitState.OPEN),
        (CircuitState.OPEN, CircuitState.HALF_OPEN),
        (CircuitState.HALF_OPEN, CircuitState.OPEN),
        (CircuitState.OPEN, CircuitState.HALF_OPEN),
        (CircuitState.HALF_OPEN, CircuitState.CLOSED),
    ]
    assert len(server.requests) == 5


def test_success_threshold_needs_that_many_probes():
    """success_threshold=2 keeps the circuit half-open after one good probe, closes after two."""
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=10, success_threshold=2, clock=clock)
    trip(breaker)
    clock.advance(10)
    assert breaker.call(lambda: "ok") == "ok"
    assert breaker.state is CircuitState.HALF_OPEN and breaker.stats().half_open_successes == 1
    breaker.call(lambda: "ok")
    assert breaker.state is CircuitState.CLOSED


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422, 429])
def test_client_errors_do_not_count(serve, client_for, status):
    """F31: 4xx and 429 prove the server answers; they never open the circuit and they reset
    the consecutive-failure count."""
    server = serve(in_turn(error_reply(503), error_reply(503), *[error_reply(status)] * 10, error_reply(503)))
    breaker = CircuitBreaker(failure_threshold=3)
    client = client_for(server, circuit_breaker=breaker)
    for _ in range(13):
        with pytest.raises(ApiError):
            client.models.list()
    assert breaker.state is CircuitState.CLOSED and breaker.failure_count == 1
    stats = breaker.stats()
    assert (stats.failures, stats.successes, stats.admitted) == (3, 10, 13)


def test_transport_errors_count(client_for, serve):
    """F31: connection resets count as failures like 5xx do."""
    server = serve(lambda req, reply: reply.reset())
    breaker = CircuitBreaker(failure_threshold=2)
    client = client_for(server, circuit_breaker=breaker)
    for _ in range(2):
        with pytest.raises(XaiError):
            client.models.list()
    with pytest.raises(CircuitOpenError):
        client.models.list()
    assert len(server.requests) == 2


def test_exactly_one_probe_among_32_concurrent_callers(serve, client_for):
    """F31, L8: when the circuit turns half-open, 32 threads call at once through the client;
    exactly one request reaches the server, the other 31 fail fast, and the probe's success
    closes the circuit."""
    release = threading.Event()

    def probe(req, reply):
        release.wait(5)
        ok_models(req, reply)

    server = serve(in_turn(error_reply(503), probe))
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=60, clock=clock)
    client = client_for(server, circuit_breaker=breaker)
    with pytest.raises(ServerError):
        client.models.list()
    clock.advance(60)
    barrier = threading.Barrier(32)
    outcomes = []
    lock = threading.Lock()

    def caller():
        barrier.wait(5)
        try:
            result = client.models.list()
        except CircuitOpenError as exc:
            result = exc
        with lock:
            outcomes.append(result)
            if sum(isinstance(o, CircuitOpenError) for o in outcomes) == 31:
                release.set()

    threads = [threading.Thread(target=caller) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    rejected = [o for o in outcomes if isinstance(o, CircuitOpenError)]
    assert len(outcomes) == 32 and len(rejected) == 31
    assert all("half-open" in str(e) for e in rejected)
    assert len(server.requests) == 2 and breaker.state is CircuitState.CLOSED


def test_standalone_half_open_admits_one_probe_among_32():
    """L8 (pybreaker test_half_open_thread_safety): breaker.call from 32 threads at once in
    HALF_OPEN runs the function exactly once."""
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=1, clock=clock)
    trip(breaker)
    clock.advance(1)
    calls, rejected = [], []
    gate = threading.Event()
    barrier = threading.Barrier(32)

    def slow():
        calls.append(1)
        gate.wait(5)
        return "ok"

    def caller():
        barrier.wait(5)
        try:
            breaker.call(slow)
        except CircuitOpenError:
            rejected.append(1)
            if len(rejected) == 31:
                gate.set()

    threads = [threading.Thread(target=caller) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(calls) == 1 and len(rejected) == 31 and breaker.state is CircuitState.CLOSED


def test_counters_are_race_free_under_contention():
    """F31 (pybreaker test_fail_max_thread_safety): 3 threads x 2,000 failing calls leave the
    failure count at exactly the threshold, and every call is counted exactly once."""
    breaker = CircuitBreaker(failure_threshold=50, recovery_timeout=600)

    def hammer():
        for _ in range(2000):
            try:
                breaker.call(fail)
            except (ServerError, CircuitOpenError):
                pass

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    stats = breaker.stats()
    assert stats.state is CircuitState.OPEN and stats.consecutive_failures == 50 and stats.opened == 1
    assert stats.admitted + stats.rejected == 6000
    assert stats.successes + stats.failures + stats.released == stats.admitted
    assert 50 <= stats.failures <= 52  # at most one late failure per thread, admitted before opening


def test_results_from_before_a_transition_do_not_move_the_state():
    """A call admitted while CLOSED that succeeds after the circuit opened does not close it."""
    breaker = CircuitBreaker(failure_threshold=2, recovery_timeout=60)
    started, finish = threading.Event(), threading.Event()

    def slow_success():
        started.set()
        finish.wait(5)
        return "late"

    result = []
    t = threading.Thread(target=lambda: result.append(breaker.call(slow_success)))
    t.start()
    started.wait(5)
    trip(breaker, 2)
    finish.set()
    t.join(5)
    assert result == ["late"] and breaker.state is CircuitState.OPEN
    assert breaker.stats().successes == 1


def test_interrupted_probe_frees_the_slot():
    """A probe interrupted by KeyboardInterrupt neither closes nor re-opens the circuit, and the
    next caller may probe."""
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=5, clock=clock)
    trip(breaker)
    clock.advance(5)

    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        breaker.call(interrupted)
    assert breaker.state is CircuitState.HALF_OPEN and breaker.stats().released == 1
    assert breaker.call(lambda: 1) == 1 and breaker.state is CircuitState.CLOSED


def test_breaker_stops_retries(serve, client_for):
    """A retry policy stops as soon as the breaker opens: CircuitOpenError is raised with the
    attempts made, the failures in previous, and no more requests are sent."""
    server = serve(error_reply(503))
    breaker = CircuitBreaker(failure_threshold=2)
    client = client_for(server, circuit_breaker=breaker, retry=RetryPolicy(max_retries=5, clock=FakeClock()))
    with pytest.raises(CircuitOpenError) as info:
        client.models.list()
    assert len(server.requests) == 2 and info.value.attempts == 2
    assert [e.status_code for e in info.value.previous] == [503, 503]


def test_reset_and_readouts(log_records):
    """reset() closes the circuit; repr, stats and transitions are readable, and each transition
    is a DEBUG record with from/to fields."""
    breaker = CircuitBreaker(failure_threshold=1, name="primary")
    trip(breaker)
    assert "open" in repr(breaker) and "primary" in repr(breaker)
    breaker.reset()
    assert breaker.state is CircuitState.CLOSED and breaker.retry_in == 0.0
    moves = [(r.from_state, r.to_state) for r in log_records if getattr(r, "event", "") == "breaker_transition"]
    assert moves == [("closed", "open"), ("open", "closed")]
    assert breaker.transitions[-1].reason == "reset() called"


def test_other_exceptions_count_and_propagate():
    """Standalone, an exception that is not an xai_lite error counts as a failure and propagates;
    a 4xx or a bad argument does not count."""
    breaker = CircuitBreaker(failure_threshold=2)
    with pytest.raises(OSError):
        breaker.call(lambda: (_ for _ in ()).throw(OSError("disk")))
    with pytest.raises(BadRequestError):
        breaker.call(lambda: (_ for _ in ()).throw(BadRequestError("bad", status_code=400)))
    with pytest.raises(InvalidArgumentError):
        breaker.call(lambda: (_ for _ in ()).throw(InvalidArgumentError("bad")))
    with pytest.raises(RateLimitError):
        breaker.call(lambda: (_ for _ in ()).throw(RateLimitError("slow", status_code=429)))
    stats = breaker.stats()
    assert (stats.failures, stats.successes, stats.released, stats.consecutive_failures) == (1, 2, 1, 0)


BAD_BREAKERS = [
    dict(failure_threshold=0), dict(failure_threshold=-1), dict(failure_threshold=2.5), dict(failure_threshold=True),
    dict(recovery_timeout=-1), dict(recovery_timeout=math.nan), dict(recovery_timeout="60"),
    dict(success_threshold=0), dict(name=5), dict(clock="now"),
]


@pytest.mark.parametrize("kwargs", BAD_BREAKERS, ids=range(len(BAD_BREAKERS)))
def test_invalid_breaker_settings_are_refused(kwargs):
    """B7: a zero or fractional threshold, a negative or NaN timeout and the like raise
    InvalidArgumentError at construction."""
    with pytest.raises(InvalidArgumentError):
        CircuitBreaker(**kwargs)


def test_client_refuses_something_that_is_not_a_breaker(canary):
    """B7: Client(circuit_breaker=...) takes a CircuitBreaker only."""
    from xai_lite import Client

    with pytest.raises(InvalidArgumentError, match="CircuitBreaker"):
        Client(api_key=canary, base_url="http://127.0.0.1:9/v1", circuit_breaker=5)


class InterruptingClock(FakeClock):
    """A fake clock whose next sleep, once armed, raises KeyboardInterrupt (Ctrl-C mid-wait)."""

    def __init__(self):
        super().__init__()
        self.armed = False

    def sleep(self, seconds):
        if self.armed:
            self.armed = False
            raise KeyboardInterrupt
        super().sleep(seconds)


def test_a_probe_interrupted_in_the_limiter_wait_frees_the_slot(serve, client_for):
    """F31: a half-open probe interrupted (KeyboardInterrupt) while it waits for the rate
    limiter is released, so the next call becomes the probe instead of failing fast for good."""
    server = serve(in_turn(error_reply(503), ok_models))
    clock = InterruptingClock()
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=30, clock=clock)
    limiter = RateLimiter(requests_per_second=0.01, burst=1, clock=clock)  # the probe waits 70 s
    client = client_for(server, circuit_breaker=breaker, rate_limiter=limiter)
    with pytest.raises(ServerError):
        client.models.list()
    clock.advance(30)
    clock.armed = True
    with pytest.raises(KeyboardInterrupt):
        client.models.list()
    stats = breaker.stats()
    assert stats.state is CircuitState.HALF_OPEN and stats.released == 1 and len(server.requests) == 1
    assert len(client.models.list()) == 2  # the next caller is admitted as the probe
    assert breaker.state is CircuitState.CLOSED and len(server.requests) == 2


def test_fail_fast_rejections_are_logged(serve, client_for, canary, log_records):
    """Each call an open breaker rejects is a DEBUG record with the endpoint, the state and the
    time to the next probe, and no query string (here it holds a token)."""
    server = serve(error_reply(503))
    clock = FakeClock()
    client = client_for(server, circuit_breaker=CircuitBreaker(failure_threshold=1, recovery_timeout=60, clock=clock))
    with pytest.raises(ServerError):
        client.models.list()
    clock.advance(20)
    with pytest.raises(CircuitOpenError):
        client.models.list(extra_query={"token": "query-token-5f0c1e"})
    assert all("query-token-5f0c1e" not in repr(r.__dict__) for r in log_records)
    rejected = [r for r in log_records if getattr(r, "event", "") == "breaker_rejected"]
    assert len(rejected) == 1 and rejected[0].endpoint == client.base_url
    assert rejected[0].state == "open" and rejected[0].retry_in == pytest.approx(40)
