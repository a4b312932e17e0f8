"""RateLimiter: a token bucket in fake time for the schedules, one real-time smoke test, and its
use by a client over loopback sockets (reliability.md R4, L8, B7)."""

from __future__ import annotations

import math
import threading
import time

import pytest
from harness import FakeClock, VirtualClock, error_reply, ok_completion, ok_models

from xai_lite import (
    Client,
    InvalidArgumentError,
    RateLimiter,
    RateLimiterTimeoutError,
    RateLimitError,
    Timeout,
)

MESSAGES = [{"role": "user", "content": "Hi"}]


def test_never_over_admits_and_keeps_the_rate_under_contention():
    """R4, L8: at 50/s with burst 10, 32 threads x 100 acquisitions (in virtual time): at every
    moment t the number started is at most 10 + 50 t, and the limiter uses at least 90 % of the
    rate."""
    clock = VirtualClock(workers=32)
    limiter = RateLimiter(requests_per_second=50, burst=10, clock=clock)
    started = []
    lock = threading.Lock()

    def worker():
        try:
            for _ in range(100):
                limiter.acquire()
                with lock:
                    started.append(clock.monotonic())
        finally:
            clock.done()

    threads = [threading.Thread(target=worker) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    started.sort()
    assert len(started) == 3200
    for k, at in enumerate(started, 1):
        assert k <= 10 + 50 * at + 1e-6, (k, at)
    assert 3200 / started[-1] >= 0.9 * 50


def test_waiters_are_served_first_come_first_served():
    """Callers that queue one after the other are let through in that order, 1/rate apart."""
    clock = VirtualClock(workers=8)
    limiter = RateLimiter(requests_per_second=4, burst=1, clock=clock)
    limiter.acquire()  # empty the bucket: everyone below has to wait
    order = []

    def worker(i):
        try:
            limiter.acquire()
            order.append((clock.monotonic(), i))
        finally:
            clock.done()

    threads = []
    for i in range(8):
        t = threading.Thread(target=worker, args=(i,))
        t.start()
        threads.append(t)
        deadline = time.monotonic() + 5
        while clock.sleepers < i + 1 and not order and time.monotonic() < deadline:
            time.sleep(0.001)
    for t in threads:
        t.join(10)
    assert [i for _, i in order] == list(range(8))
    assert [at for at, _ in order] == pytest.approx([0.25 * (i + 1) for i in range(8)])


def test_timeout_says_how_long_the_wait_would_be():
    """acquire(timeout=...) that would wait longer raises RateLimiterTimeoutError at once, with
    the wait in seconds, and gives back its tokens (the next caller's wait is unchanged)."""
    clock = FakeClock()
    limiter = RateLimiter(requests_per_second=0.5, burst=1, clock=clock)
    assert limiter.acquire() == 0.0
    with pytest.raises(RateLimiterTimeoutError) as info:
        limiter.acquire(timeout=0.5)
    assert info.value.wait == pytest.approx(2.0) and "wait 2 s" in str(info.value)
    assert isinstance(info.value, TimeoutError) and clock.sleeps == []
    assert limiter.acquire(timeout=2.0) == pytest.approx(2.0) and clock.sleeps == [pytest.approx(2.0)]


def test_bucket_refills_up_to_the_burst():
    """A quiet spell refills the bucket to `burst`, never more; n tokens can be taken at once."""
    clock = FakeClock()
    limiter = RateLimiter(requests_per_second=10, burst=5, clock=clock)
    assert [limiter.acquire() for _ in range(5)] == [0.0] * 5
    assert limiter.acquire() == pytest.approx(0.1)
    clock.advance(100)
    assert limiter.acquire(n=5) == 0.0
    assert limiter.acquire(n=2) == pytest.approx(0.2)
    with limiter:
        pass
    assert clock.sleeps == [pytest.approx(0.1), pytest.approx(0.2), pytest.approx(0.1)]


def test_default_burst_is_one_second_of_requests():
    """burst defaults to requests_per_second (at least 1), as Guava stores one second of permits."""
    assert RateLimiter(10).burst == 10 and RateLimiter(0.2).burst == 1 and RateLimiter(2.5).burst == 2


def test_per_kind_limits_apply_on_top_of_the_shared_one(serve, client_for):
    """Endpoint kinds have their own buckets: two model listings are spaced by the models
    limit, while a chat call in between is not held up by it."""
    server = serve(lambda req, reply: (ok_models if req.path.endswith("/models") else ok_completion)(req, reply))
    clock = FakeClock()
    limiter = RateLimiter(requests_per_second=100, burst=100, per_kind={"models": (1.0, 1), "images": 0.5}, clock=clock)
    client = client_for(server, rate_limiter=limiter)
    client.models.list()
    client.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert clock.sleeps == []
    client.models.list()
    assert clock.sleeps == [pytest.approx(1.0)] and len(server.requests) == 3
    assert "models: 1 requests/s, burst 1" in repr(limiter)


def test_a_429_pauses_the_whole_limiter(serve, client_for):
    """R4: a 429 with Retry-After 2 pauses the limiter for every caller, not only the one refused;
    a Retry-After over 60 s or an exhausted-credits 429 does not freeze it."""
    server = serve(error_reply(429, {"Retry-After": "2"}))
    clock = FakeClock()
    limiter = RateLimiter(requests_per_second=100, burst=10, clock=clock)
    with pytest.raises(RateLimitError):
        client_for(server, rate_limiter=limiter).models.list()
    assert limiter.acquire() == pytest.approx(2.0)  # another caller waits out the pause
    assert limiter.acquire() == pytest.approx(0.01)  # then the normal pace resumes

    for headers, message in (({"Retry-After": "3600"}, "slow down"), ({"Retry-After": "5"}, "out of credits")):
        clock = FakeClock()
        limiter = RateLimiter(requests_per_second=100, burst=10, clock=clock)
        with pytest.raises(RateLimitError):
            client_for(serve(error_reply(429, headers, message=message)), rate_limiter=limiter).models.list()
        assert limiter.acquire() == 0.0


def test_limiter_wait_never_passes_the_deadline(serve, client_for):
    """A call whose limiter wait would outlast its total deadline raises RateLimiterTimeoutError
    at once and sends nothing."""
    server = serve(ok_models)
    clock = FakeClock()
    client = client_for(server, rate_limiter=RateLimiter(requests_per_second=0.1, burst=1, clock=clock),
                        timeout=Timeout(connect=1, read=1, total=1))
    client.models.list()
    with pytest.raises(RateLimiterTimeoutError) as info:
        client.models.list()
    assert info.value.wait == pytest.approx(10.0, abs=0.01) and info.value.attempts == 0
    assert len(server.requests) == 1 and clock.sleeps == []


def test_real_clock_smoke(serve, canary):
    """R4: with the real clock, 200 calls from 4 threads at 100/s (burst 1) take 1.9-2.6 s."""
    server = serve(ok_models)
    client = Client(api_key=canary, base_url=server.url + "/v1",
                    rate_limiter=RateLimiter(requests_per_second=100, burst=1))
    errors = []

    def work():
        try:
            for _ in range(50):
                client.models.list()
        except Exception as exc:  # every call must succeed; keep any failure for the assert
            errors.append(exc)

    start = time.monotonic()
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    elapsed = time.monotonic() - start
    client.close()
    assert errors == [] and len(server.requests) == 200
    assert 1.9 <= elapsed <= 2.6, elapsed


BAD_LIMITERS = [
    dict(requests_per_second=0), dict(requests_per_second=-1), dict(requests_per_second=math.nan),
    dict(requests_per_second=math.inf), dict(requests_per_second="10"), dict(requests_per_second=True),
    dict(requests_per_second=10, burst=0), dict(requests_per_second=10, burst=1.5),
    dict(requests_per_second=10, burst=True), dict(requests_per_second=10, per_kind={"Chat Completions": 1}),
    dict(requests_per_second=10, per_kind=[("chat", 1)]), dict(requests_per_second=10, per_kind={"chat": (0, 1)}),
    dict(requests_per_second=10, clock=object()),
]


@pytest.mark.parametrize("kwargs", BAD_LIMITERS, ids=range(len(BAD_LIMITERS)))
def test_invalid_limiter_settings_are_refused(kwargs):
    """B7: a rate that is not a positive finite number, a burst under 1 or fractional, and
    malformed per-kind limits raise InvalidArgumentError at construction."""
    with pytest.raises(InvalidArgumentError):
        RateLimiter(**kwargs)


def test_invalid_acquire_arguments_are_refused(canary):
    """B7: acquire(n=0), a negative timeout, and a client given something else than a
    RateLimiter are refused."""
    limiter = RateLimiter(10)
    for kwargs in (dict(n=0), dict(n=1.5), dict(timeout=-1), dict(timeout=math.nan)):
        with pytest.raises(InvalidArgumentError):
            limiter.acquire(**kwargs)
    with pytest.raises(InvalidArgumentError):
        limiter.pause(-1)
    with pytest.raises(InvalidArgumentError, match="RateLimiter"):
        Client(api_key=canary, base_url="http://127.0.0.1:9/v1", rate_limiter=10)


def test_limiter_waits_are_logged(log_records):
    """Each wait is a DEBUG record with the delay as a field."""
    clock = FakeClock()
    limiter = RateLimiter(requests_per_second=2, burst=1, clock=clock)
    limiter.acquire()
    limiter.acquire()
    waits = [r for r in log_records if getattr(r, "event", "") == "limiter_wait"]
    assert len(waits) == 1 and waits[0].delay == pytest.approx(0.5)


class HookClock(FakeClock):
    """A fake clock that runs ``hook`` once, at the start of the next sleep (another thread's
    action while a caller waits), then sleeps as usual."""

    def __init__(self):
        super().__init__()
        self.hook = None

    def sleep(self, seconds):
        hook, self.hook = self.hook, None
        if hook is not None:
            hook()
        super().sleep(seconds)


def test_per_kind_refusal_waits_for_nothing_and_spends_no_token():
    """R4: when a kind's bucket and the shared one together would wait longer than the timeout,
    acquire raises at once with the whole wait, sleeps not at all and leaves both buckets as
    they were, whichever of the two had the token."""
    clock = FakeClock()
    limiter = RateLimiter(requests_per_second=1, burst=1, per_kind={"images": (0.5, 1)}, clock=clock)
    limiter.acquire(kind="chat")  # the shared bucket is empty: its next token is 1 s away
    with pytest.raises(RateLimiterTimeoutError) as info:
        limiter.acquire(timeout=0.5, kind="images")  # its own bucket has a token, the shared one not
    assert info.value.wait == pytest.approx(1.0) and clock.sleeps == []
    assert limiter.acquire(kind="images") == pytest.approx(1.0)  # and it still has it

    clock = FakeClock()
    limiter = RateLimiter(requests_per_second=1, burst=1, per_kind={"files": (2.5, 1)}, clock=clock)
    limiter.acquire(kind="files")  # both empty: files has a token in 0.4 s, the shared bucket in 1 s
    with pytest.raises(RateLimiterTimeoutError) as info:
        limiter.acquire(timeout=0.5, kind="files")
    assert info.value.wait == pytest.approx(1.0) and clock.sleeps == []
    assert limiter.acquire(kind="files") == pytest.approx(1.0) and clock.sleeps == [pytest.approx(1.0)]


def test_an_interrupted_wait_gives_its_tokens_back():
    """R4: a caller interrupted (KeyboardInterrupt) while it waits returns its tokens, so the
    next caller does not queue behind a request that will never be sent."""
    clock = HookClock()
    limiter = RateLimiter(requests_per_second=1, burst=1, per_kind={"images": (0.5, 1)}, clock=clock)
    limiter.acquire(kind="images")

    def interrupt():
        raise KeyboardInterrupt

    clock.hook = interrupt
    with pytest.raises(KeyboardInterrupt):
        limiter.acquire(kind="images")
    assert limiter.acquire() == pytest.approx(1.0)  # not 2 s: the interrupted turn is free
    assert limiter.acquire(kind="images") == pytest.approx(1.0)  # its own bucket: 1 s, not 3 s


def test_a_pause_pushes_back_callers_already_waiting():
    """R4: a 429 pause that begins while callers wait pushes each of them back by the pause, in
    their order and at the limiter's pace, instead of letting them through during it."""
    clock = VirtualClock(workers=5)
    limiter = RateLimiter(requests_per_second=4, burst=1, clock=clock)
    limiter.acquire()  # empty the bucket: the four callers below are due at 0.25, 0.5, 0.75, 1 s
    started = []

    def caller(i):
        try:
            limiter.acquire()
            started.append((clock.monotonic(), i))
        finally:
            clock.done()

    def rate_limited():
        try:
            clock.sleep(0.3)
            limiter.pause(2.0)  # a 429 at 0.3 s: nothing before 2.3 s
        finally:
            clock.done()

    threads = []
    for i in range(4):
        threads.append(threading.Thread(target=caller, args=(i,)))
        threads[-1].start()
        deadline = time.monotonic() + 5
        while clock.sleepers < i + 1 and time.monotonic() < deadline:
            time.sleep(0.001)
    threads.append(threading.Thread(target=rate_limited))
    threads[-1].start()
    for t in threads:
        t.join(10)
    assert [i for _, i in started] == [0, 1, 2, 3]
    assert [at for at, _ in started] == pytest.approx([0.25, 2.5, 2.75, 3.0])


def test_a_pause_past_the_timeout_refuses_a_waiting_caller(log_records):
    """R4: a waiting caller whose turn a pause pushes past its timeout raises
    RateLimiterTimeoutError then, with the whole wait, and frees its turn for the next caller."""
    clock = HookClock()
    limiter = RateLimiter(requests_per_second=2, burst=1, clock=clock)
    limiter.acquire()
    clock.hook = lambda: limiter.pause(5.0)
    with pytest.raises(RateLimiterTimeoutError) as info:
        limiter.acquire(timeout=1.0)
    assert info.value.wait == pytest.approx(5.5) and "pause" in str(info.value)
    assert clock.sleeps == [pytest.approx(0.5)]
    assert limiter.acquire() == pytest.approx(5.0)  # at 5.5 s, as if the refused caller never queued
    refused = [r for r in log_records if getattr(r, "event", "") == "limiter_refused"]
    assert len(refused) == 1 and refused[0].reason == "paused" and refused[0].delay == pytest.approx(5.5)


def test_limiter_refusals_are_logged(log_records):
    """Each refusal is a DEBUG record with the wait, the timeout and the kind."""
    clock = FakeClock()
    limiter = RateLimiter(requests_per_second=1, burst=1, per_kind={"images": (0.5, 1)}, clock=clock)
    limiter.acquire(kind="images")
    with pytest.raises(RateLimiterTimeoutError):
        limiter.acquire(timeout=0.1, kind="images")
    refused = [r for r in log_records if getattr(r, "event", "") == "limiter_refused"]
    assert len(refused) == 1 and refused[0].kind == "images" and refused[0].reason == "rate"
    assert refused[0].delay == pytest.approx(2.0) and refused[0].timeout == pytest.approx(0.1)
