"""RetryPolicy over real loopback sockets, with a fake clock for the waits: what is replayed,
for how long, and what the caller gets when the policy gives up (reliability.md F1-F4, F11,
F19-F24, R1-R3, B6, B15)."""

from __future__ import annotations

import dataclasses
import math
import random
import ssl
import time
from email.utils import formatdate

import pytest
import trustme
from harness import (
    FakeClock,
    chunk_event,
    error_reply,
    full_backlog,
    in_turn,
    ok_completion,
    ok_models,
    refused_port,
)

import xai_lite
from xai_lite import (
    AuthenticationError,
    Client,
    HttpError,
    InvalidArgumentError,
    NetworkError,
    RateLimitError,
    RequestTimeoutError,
    RetryPolicy,
    ServerError,
    StreamingError,
    Timeout,
    XaiError,
)
from xai_lite.types import Model

MESSAGES = [{"role": "user", "content": "Hi"}]


def policy(**kwargs):
    kwargs.setdefault("clock", FakeClock())
    kwargs.setdefault("rng", random.Random(7))
    return RetryPolicy(**kwargs)


def chat(client, **kwargs):
    return client.chat.completions.create(model="grok-4", messages=MESSAGES, **kwargs)


def reset(request, reply):
    reply.reset()


# -- the backoff formula --------------------------------------------------------------------------


def test_backoff_stays_within_the_documented_interval():
    """R2: retry n waits within [(1 - jitter), 1] x min(initial x multiplier^(n-1), max) for
    both schedules, with seeded jitter, and n = 1,100 does not overflow."""
    p = RetryPolicy(rng=random.Random(1))
    for n in range(1, 40):
        step = min(0.5 * 2 ** (n - 1), 8.0)
        limited = min(1.0 * 2 ** (n - 1), 30.0)
        for _ in range(20):
            assert 0.75 * step <= p.backoff(n) <= step
            assert 0.75 * limited <= p.backoff(n, rate_limited=True) <= limited
    assert 6.0 <= p.backoff(1100) <= 8.0
    assert 22.5 <= p.backoff(1100, rate_limited=True) <= 30.0
    assert RetryPolicy(multiplier=10.0, jitter=0).backoff(10 ** 6) == 8.0
    assert RetryPolicy(jitter=0).backoff(3) == 2.0
    assert RetryPolicy(initial_delay=0.0, jitter=0).backoff(50) == 0.0


def test_seeded_jitter_is_reproducible():
    """Two policies with equally seeded generators wait exactly the same."""
    a, b = RetryPolicy(rng=random.Random(42)), RetryPolicy(rng=random.Random(42))
    assert [a.backoff(n) for n in range(1, 8)] == [b.backoff(n) for n in range(1, 8)]


# -- server hints ----------------------------------------------------------------------------------

IN_20_S = object()
PAST = object()
BAD_WEEKDAY_IN_20_S = object()


def _header_value(value):
    if value is IN_20_S:
        return formatdate(time.time() + 20, usegmt=True)
    if value is BAD_WEEKDAY_IN_20_S:
        return "Xyz," + formatdate(time.time() + 20, usegmt=True)[4:]
    if value is PAST:
        return formatdate(time.time() - 60, usegmt=True)
    return value


RETRY_AFTER_TABLE = [
    # (headers, expected wait: a number, a (low, high) range, "backoff", or "no retry")
    ({"Retry-After": "2"}, 2.0),
    ({"Retry-After": "1.5"}, 1.5),
    ({"retry-after-ms": "1500", "Retry-After": "5"}, 1.5),
    ({"retry-after-ms": "250"}, 0.25),
    ({"Retry-After": IN_20_S}, (18.9, 20.0)),
    ({"Retry-After": BAD_WEEKDAY_IN_20_S}, (18.9, 20.0)),  # the day name is ignored, as email.utils does
    ({"Retry-After": PAST}, "backoff"),
    ({"Retry-After": "0"}, "backoff"),
    ({"Retry-After": "-5"}, "backoff"),
    ({"Retry-After": ""}, "backoff"),
    ({"Retry-After": "abc"}, "backoff"),
    ({"Retry-After": "inf"}, "backoff"),
    ({"Retry-After": "nan"}, "backoff"),
    ({"Retry-After": "1" * 35}, "backoff"),
    ({"Retry-After": "Fri, 31 Dec 100000 23:59:59 GMT"}, "backoff"),
    ({"Retry-After": "1e3"}, "backoff"),
    ({"retry-after-ms": "soon"}, "backoff"),
    ({}, "backoff"),
    ({"Retry-After": "60"}, 60.0),
    ({"retry-after-ms": "60000"}, 60.0),
    ({"Retry-After": "61"}, "no retry"),
    ({"retry-after-ms": "60001"}, "no retry"),
    ({"Retry-After": "3600"}, "no retry"),
]


@pytest.mark.parametrize("headers,expected", RETRY_AFTER_TABLE, ids=range(len(RETRY_AFTER_TABLE)))
def test_retry_after_table(serve, client_for, headers, expected):
    """F20, B15: a 429's Retry-After (seconds, fractions, HTTP date) or retry-after-ms sets the
    wait; unusable values fall back to the 429 backoff (1 s step); above 60 s nothing is retried
    and the error keeps retry_after."""
    sent = {k: _header_value(v) for k, v in headers.items()}
    server = serve(in_turn(error_reply(429, sent), ok_completion))
    clock = FakeClock()
    client = client_for(server, retry=policy(clock=clock))
    if expected == "no retry":
        with pytest.raises(RateLimitError) as info:
            chat(client)
        assert len(server.requests) == 1 and clock.sleeps == []
        assert info.value.retry_after > 60 and info.value.attempts == 1
        return
    assert chat(client).choices[0].message.content == "Hello"
    assert len(server.requests) == 2 and len(clock.sleeps) == 1
    wait = clock.sleeps[0]
    if expected == "backoff":
        assert 0.75 <= wait <= 1.0
    elif isinstance(expected, tuple):
        assert expected[0] <= wait <= expected[1]
    else:
        assert wait == pytest.approx(expected)


def test_server_garbage_in_headers_does_not_crash(serve, client_for):
    """B15: non-ASCII bytes in Retry-After and request-id headers give a clean typed error (the
    garbage Retry-After ignored), and an absurdly long header line is an HttpError, never a crash."""
    def garbled(req, reply):
        reply.send(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: \xff\xfe\x00soon\r\n"
                   b"x-request-id: r\xe9q\x07-1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")

    clock = FakeClock()
    client = client_for(serve(garbled), retry=policy(clock=clock, max_retries=1))
    with pytest.raises(RateLimitError) as info:
        client.models.list()
    assert info.value.attempts == 2 and info.value.retry_after is None
    assert 0.75 <= clock.sleeps[0] <= 1.0
    assert info.value.request_id.startswith("r\xe9q")

    def huge_id(req, reply):
        reply.send(b"HTTP/1.1 503 Busy\r\nx-request-id: " + b"a" * 200_000 + b"\r\nContent-Length: 0\r\n\r\n")
        reply.close()

    with pytest.raises(HttpError, match="malformed"):
        client_for(serve(huge_id), retry=policy()).models.list()


def test_deadline_shorter_than_retry_after_raises_at_once(serve, client_for):
    """F23: with 1 s left and Retry-After 5, the client neither sleeps nor retries: it raises at
    once with retry_after=5."""
    server = serve(error_reply(429, {"Retry-After": "5"}))
    clock = FakeClock()
    client = client_for(server, retry=policy(clock=clock), timeout=Timeout(connect=1, read=1, total=1))
    start = time.monotonic()
    with pytest.raises(RateLimitError) as info:
        chat(client)
    assert time.monotonic() - start < 0.5
    assert info.value.retry_after == 5 and info.value.attempts == 1
    assert clock.sleeps == [] and len(server.requests) == 1


def test_backoff_never_sleeps_past_the_deadline(serve, client_for):
    """F23: waits that would end after the call's total deadline are not taken: with 10 s and
    4 s, 8 s, ... backoff, one wait happens, then the last error is raised."""
    server = serve(error_reply(503))
    clock = FakeClock()
    client = client_for(server, retry=policy(clock=clock, max_retries=10, initial_delay=4.0, max_delay=60, jitter=0),
                        timeout=Timeout(connect=1, read=5, total=10))
    with pytest.raises(ServerError) as info:
        client.models.list()
    assert clock.sleeps == [4.0] and info.value.attempts == 2 and len(server.requests) == 2


def test_policy_timeout_bounds_the_waiting(serve, client_for):
    """RetryPolicy(timeout=5) starts no retry whose wait would end 5 s after the first attempt."""
    server = serve(error_reply(503))
    clock = FakeClock()
    client = client_for(server, retry=policy(clock=clock, max_retries=10, initial_delay=2.0, jitter=0, timeout=5))
    with pytest.raises(ServerError):
        client.models.list()
    assert clock.sleeps == [2.0] and len(server.requests) == 2


# -- what is retried ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504, 529, 408, 409])
@pytest.mark.parametrize("failures", [0, 2, 4])
def test_transient_statuses_then_success_on_a_read(serve, client_for, status, failures):
    """F19: a GET that fails with 5xx/529/408/409 `failures` times and then succeeds returns the
    result after exactly failures + 1 requests, waiting per the formula in between."""
    server = serve(in_turn(*[error_reply(status)] * failures, ok_models))
    clock = FakeClock()
    client = client_for(server, retry=policy(clock=clock, max_retries=4))
    assert [m.id for m in client.models.list()] == ["grok-4", "grok-3-mini"]
    assert len(server.requests) == failures + 1 and len(clock.sleeps) == failures
    for n, wait in enumerate(clock.sleeps, 1):
        step = min(0.5 * 2 ** (n - 1), 8.0)
        assert 0.75 * step <= wait <= step


@pytest.mark.parametrize("failures", [0, 2, 4])
def test_connection_failures_then_success_on_a_read(serve, client_for, failures):
    """F19 (exception mode): a GET whose connection is reset `failures` times is replayed and
    succeeds after failures + 1 requests."""
    server = serve(in_turn(*[reset] * failures, ok_models))
    client = client_for(server, retry=policy(max_retries=4))
    assert len(client.models.list()) == 2 and len(server.requests) == failures + 1


@pytest.mark.parametrize("status", [500, 502, 503, 504, 529, 408, 409])
def test_transient_statuses_on_a_create_are_not_replayed(serve, client_for, status):
    """F19: a POST answered with 5xx/529/408/409 may have started work, so the first error
    surfaces after one request (xai-sdk-ts "does not retry POST 500")."""
    server = serve(in_turn(error_reply(status), ok_completion))
    client = client_for(server, retry=policy(max_retries=4))
    with pytest.raises(xai_lite.ApiError) as info:
        chat(client)
    assert info.value.status_code == status and info.value.attempts == 1 and len(server.requests) == 1


def test_retry_non_idempotent_opts_creates_in(serve, client_for):
    """retry_non_idempotent=True replays a POST after a 503 and after a reset (Stainless's rule)."""
    server = serve(in_turn(error_reply(503), reset, ok_completion))
    client = client_for(server, retry=policy(max_retries=3, retry_non_idempotent=True))
    assert chat(client).choices[0].message.content == "Hello"
    assert len(server.requests) == 3 and len(set(server.by_client_request_id)) == 1


def test_rate_limited_create_is_replayed(serve, client_for):
    """F20: a 429 is replayed for POST too: the server refused the work before starting it."""
    server = serve(in_turn(error_reply(429), ok_completion))
    assert chat(client_for(server, retry=policy())).choices[0].message.content == "Hello"
    assert len(server.requests) == 2


@pytest.mark.parametrize("message", ["Your team has run out of credits", "You have reached your spending limit"])
def test_exhausted_credits_are_not_retried(serve, client_for, message):
    """A 429 saying the team's credits or spending limit are exhausted is raised at once."""
    server = serve(error_reply(429, {"Retry-After": "1"}, message=message))
    with pytest.raises(RateLimitError) as info:
        chat(client_for(server, retry=policy(max_retries=5)))
    assert len(server.requests) == 1 and "credits" in str(info.value)


def test_exhausted_credits_are_not_retried_whatever_x_should_retry_says(serve, client_for):
    """F21: a 429 saying the team's credits are exhausted is raised at once even when it also
    carries x-should-retry: true; no header makes a retry succeed before someone pays."""
    server = serve(error_reply(429, {"x-should-retry": "true"}, message="Your team has run out of credits"))
    with pytest.raises(RateLimitError):
        chat(client_for(server, retry=policy(max_retries=5)))
    assert len(server.requests) == 1
    assert not RetryPolicy().is_retryable(RateLimitError(
        "Your team has run out of credits", status_code=429, headers={"x-should-retry": "true"}))


def test_x_should_retry_overrides_the_status_rules(serve, client_for):
    """F21: x-should-retry: true makes a 400 (and a POST 503) retryable; false stops a GET 503."""
    server = serve(in_turn(error_reply(400, {"x-should-retry": "true"}), ok_completion))
    assert chat(client_for(server, retry=policy())).choices[0].message.content == "Hello"
    assert len(server.requests) == 2

    server = serve(in_turn(error_reply(503, {"x-should-retry": "true"}), ok_completion))
    assert chat(client_for(server, retry=policy())).choices[0].message.content == "Hello"

    server = serve(error_reply(503, {"x-should-retry": "false"}))
    with pytest.raises(ServerError):
        client_for(server, retry=policy(max_retries=3)).models.list()
    assert len(server.requests) == 1


def test_exhaustion_raises_the_last_error_with_attempts(serve, client_for):
    """F22: a 503 forever gives exactly 1 + max_retries requests; the last error is raised with
    attempts set and the earlier ones in previous, after waits that follow the formula."""
    count = {"n": 0}

    def numbered(req, reply):
        count["n"] += 1
        error_reply(503, message="busy %d" % count["n"])(req, reply)

    server = serve(numbered)
    clock = FakeClock()
    client = client_for(server, retry=policy(clock=clock, max_retries=3))
    with pytest.raises(ServerError) as info:
        client.models.list()
    error = info.value
    assert len(server.requests) == 4 and error.attempts == 4 and "busy 4" in error.message
    assert [e.message for e in error.previous] == ["busy 1", "busy 2", "busy 3"]
    assert all(e.__traceback__ is None for e in error.previous)
    for n, wait in enumerate(clock.sleeps, 1):
        assert 0.75 * 0.5 * 2 ** (n - 1) <= wait <= 0.5 * 2 ** (n - 1)


def test_default_client_makes_exactly_one_attempt(serve, client_for):
    """A client without a RetryPolicy sends a failing GET once: nothing happens unasked."""
    server = serve(error_reply(503))
    with pytest.raises(ServerError) as info:
        client_for(server).models.list()
    assert len(server.requests) == 1 and info.value.attempts is None


def test_zero_retries_is_one_attempt(serve, client_for):
    """F11: with max_retries=0 (or retry=0) a read timeout on a GET is raised after one request."""
    server = serve(lambda req, reply: reply.hang(3))
    client = client_for(server, retry=0, timeout=Timeout(connect=1, read=0.2, total=5))
    with pytest.raises(RequestTimeoutError):
        client.models.list()
    assert len(server.requests) == 1


def test_read_timeout_is_replayed_for_reads_only(serve, client_for):
    """F11: a read timeout is ambiguous: a GET is replayed, a POST is not."""
    server = serve(in_turn(lambda req, reply: reply.hang(3), ok_models))
    client = client_for(server, retry=policy(max_retries=2), timeout=Timeout(connect=1, read=0.2, total=5))
    assert len(client.models.list()) == 2 and len(server.requests) == 2

    server = serve(in_turn(lambda req, reply: reply.hang(3), ok_completion))
    client = client_for(server, retry=policy(max_retries=2), timeout=Timeout(connect=1, read=0.2, total=5))
    with pytest.raises(RequestTimeoutError) as info:
        chat(client)
    assert info.value.phase == "read" and len(server.requests) == 1


def test_reset_after_sending_replays_only_what_is_safe(serve, client_for):
    """F4, I3: after a reset the server may have the request: a POST is sent once, a GET is
    replayed, and every attempt carries the same x-client-request-id."""
    server = serve(reset)
    with pytest.raises(NetworkError) as info:
        chat(client_for(server, retry=policy(max_retries=3)))
    assert info.value.request_sent is True and list(server.by_client_request_id.values()) == [1]

    server = serve(reset)
    with pytest.raises(NetworkError) as info:
        client_for(server, retry=policy(max_retries=3)).models.list()
    assert list(server.by_client_request_id.values()) == [4] and info.value.attempts == 4


def test_stale_pooled_connection_is_not_a_retry(serve, client_for, log_records):
    """F26: when the server closes each kept-alive connection after answering, the next call
    reconnects without the retry policy being involved: one request per call, no wait, no retry."""
    def answer_then_close(req, reply):
        ok_models(req, reply)
        time.sleep(0.05)
        reply.close()

    server = serve(answer_then_close)
    clock = FakeClock()
    client = client_for(server, retry=policy(clock=clock))
    for _ in range(3):
        client.models.list()
        time.sleep(0.1)
    assert len(server.requests) == 3 and list(server.by_client_request_id.values()) == [1, 1, 1]
    assert clock.sleeps == [] and not [r for r in log_records if getattr(r, "event", "").startswith("retry")]


def test_refused_connection_is_replayed_for_every_method(canary):
    """F1: a refused connection never reached the server, so even a POST is replayed, with the
    formula's waits, and the error reports every attempt."""
    clock = FakeClock()
    client = Client(api_key=canary, base_url="http://127.0.0.1:%d/v1" % refused_port(), retry=policy(clock=clock))
    with pytest.raises(NetworkError) as info:
        chat(client)
    assert info.value.reason == "refused" and info.value.attempts == 3 and len(clock.sleeps) == 2


def test_connect_timeout_is_replayed(canary):
    """F2: a connect timeout (full accept queue) is replayed; each attempt takes the connect
    limit, and the whole call stays within the deadline."""
    with full_backlog() as port:
        client = Client(api_key=canary, base_url="http://127.0.0.1:%d/v1" % port,
                        retry=policy(max_retries=1), timeout=Timeout(connect=0.2, read=1, total=3))
        start = time.monotonic()
        with pytest.raises(RequestTimeoutError) as info:
            chat(client)
    assert info.value.phase == "connect" and info.value.attempts == 2
    assert 0.35 <= time.monotonic() - start < 1.5


def test_dns_failure_is_replayed(canary):
    """F3: a host that does not resolve is retried (nothing was sent); the error names the host."""
    client = Client(api_key=canary, base_url="https://no-such-host.invalid/v1", retry=policy(max_retries=1))
    with pytest.raises(NetworkError) as info:
        client.models.list()
    assert info.value.reason == "dns" and info.value.attempts == 2 and "no-such-host.invalid" in str(info.value)


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


def test_tls_verification_failure_is_not_retried(serve, ca, canary):
    """F24: a certificate the client does not trust fails the same way every time: one attempt."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    server = serve(ok_completion, tls=context)
    client = Client(api_key=canary, base_url=server.url + "/v1", retry=policy(max_retries=3))
    with pytest.raises(NetworkError) as info:
        chat(client)
    assert info.value.reason == "tls-verify" and info.value.attempts == 1
    assert server.accepted == 1 and server.requests == []


def test_tls_handshake_dropped_is_retried(serve, ca, canary, tmp_path):
    """F24: a server that drops the connection mid-handshake never got the request: retried."""
    ca_file = str(tmp_path / "ca.pem")
    ca.cert_pem.write_to_path(ca_file)
    server = serve(ok_completion, on_connect=lambda sock: False)
    client = Client(api_key=canary, base_url="https://localhost:%d/v1" % server.port, ca_file=ca_file,
                    retry=policy(max_retries=2))
    with pytest.raises(NetworkError) as info:
        chat(client)
    assert info.value.request_sent is False and info.value.attempts == 3 and server.accepted == 3


# -- R1: the replay-safety table -----------------------------------------------------------------------


def _call(client, method):
    if method == "GET":
        return client.models.list()
    if method == "DELETE":  # no public DELETE in the core client: the same request path, by hand
        return client._request("DELETE", "/models/m", expect="id", cls=Model)
    return chat(client)


R1_TABLE = [
    # method, fault, requests the server sees with max_retries=2 (default rule)
    ("GET", "refused", 0), ("POST", "refused", 0),
    ("GET", "429", 3), ("POST", "429", 3), ("DELETE", "429", 3),
    ("GET", "503", 3), ("DELETE", "502", 3), ("POST", "503", 1), ("POST", "529", 1),
    ("GET", "408", 3), ("POST", "409", 1),
    ("GET", "reset", 3), ("DELETE", "reset", 3), ("POST", "reset", 1),
    ("GET", "400", 1), ("POST", "401", 1), ("GET", "404", 1), ("POST", "422", 1),
    ("GET", "redirect", 1), ("POST", "garbage", 1),
]


@pytest.mark.parametrize("method,fault,expected", R1_TABLE, ids=["%s-%s" % row[:2] for row in R1_TABLE])
def test_replay_safety_table(serve, client_for, canary, method, fault, expected):
    """R1: each (method, fault) row is replayed exactly as the rules say, counted by the server;
    refused connections are replayed too (the client reports 3 attempts, the server sees none)."""
    if fault == "refused":
        client = Client(api_key=canary, base_url="http://127.0.0.1:%d/v1" % refused_port(), retry=policy())
        with pytest.raises(NetworkError) as info:
            _call(client, method)
        assert info.value.attempts == 3
        return
    handler = {
        "reset": reset,
        "redirect": lambda req, reply: reply.respond(302, b"", {"Location": "https://elsewhere.example/"}),
        "garbage": lambda req, reply: (reply.send(b"NOT HTTP\r\n\r\n"), reply.close()),
    }.get(fault) or error_reply(int(fault))
    server = serve(handler)
    with pytest.raises(XaiError) as info:
        _call(client_for(server, retry=policy()), method)
    assert len(server.requests) == expected
    assert info.value.attempts == expected
    assert len(server.by_client_request_id) == 1


def test_is_retryable_matches_the_rules():
    """R1: the classification a caller can query agrees with the documented rules."""
    p = RetryPolicy()
    down = NetworkError("refused", reason="refused", request_sent=False)
    reset_error = NetworkError("reset", reason="reset", request_sent=True)
    assert p.is_retryable(down, "POST") and p.is_retryable(reset_error, "GET")
    assert not p.is_retryable(reset_error, "POST")
    assert RetryPolicy(retry_non_idempotent=True).is_retryable(reset_error, "POST")
    assert not p.is_retryable(RequestTimeoutError("t", phase="deadline"), "GET")
    assert not p.is_retryable(NetworkError("tls", reason="tls-verify", request_sent=False), "GET")
    assert not p.is_retryable(AuthenticationError("no", status_code=401), "GET")
    assert not p.is_retryable(ValueError("not ours"), "GET")
    assert p.delay(down, 3) is None  # past max_retries
    assert p.delay(down, 1, remaining=0.1) is None  # would outlast the deadline


# -- R3, I3: request ids and streams --------------------------------------------------------------------


def test_request_id_is_reused_across_attempts_and_new_per_call(serve, client_for):
    """R3, I3: every attempt of a call carries the same x-client-request-id, each call a new
    one, and a caller-supplied id is kept through the retries."""
    server = serve(in_turn(error_reply(503), error_reply(503), ok_models, error_reply(503), ok_models,
                           error_reply(429), ok_completion))
    client = client_for(server, retry=policy())
    client.models.list()
    client.models.list()
    chat(client, extra_headers={"x-client-request-id": "mine-1"})
    counts = server.by_client_request_id
    assert sorted(counts.values()) == [2, 2, 3] and counts["mine-1"] == 2


def test_no_retry_once_a_stream_chunk_reached_the_caller(serve, client_for):
    """I3, F14: a stream cut after two chunks raises StreamingError after delivering them once;
    the call is not replayed, whatever the policy."""
    def cut(req, reply):
        reply.start_chunked()
        reply.chunk(b'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":'
                    b'[{"index":0,"delta":{"content":"a"}}]}\n\n')
        reply.chunk(b'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":'
                    b'[{"index":0,"delta":{"content":"b"}}]}\n\n')
        reply.reset()

    server = serve(cut)
    client = client_for(server, retry=policy(max_retries=5, retry_non_idempotent=True))
    seen = []
    with pytest.raises((StreamingError, HttpError)):
        for chunk in chat(client, stream=True):
            seen.append(chunk.choices[0].delta.content)
    assert seen == ["a", "b"] and len(server.requests) == 1


def test_stream_errors_before_output_follow_the_status_rules(serve, client_for):
    """F16: a 429 before the stream starts is replayed (nothing was generated); a 503 on the
    stream's POST and an error event inside a 200 stream are not."""
    server = serve(in_turn(error_reply(429), lambda req, reply: reply.sse([chunk_event("hi")])))
    text = [c.choices[0].delta.content for c in chat(client_for(server, retry=policy()), stream=True)]
    assert text == ["hi"] and len(server.requests) == 2

    server = serve(error_reply(503))
    with pytest.raises(ServerError):
        chat(client_for(server, retry=policy()), stream=True)
    assert len(server.requests) == 1

    server = serve(lambda req, reply: reply.sse([b'event: error\ndata: {"error": "overloaded"}\n\n'], done=False))
    with pytest.raises(XaiError):
        list(chat(client_for(server, retry=policy()), stream=True))
    assert len(server.requests) == 1


# -- standalone use, settings, logs -------------------------------------------------------------------


def test_policy_call_retries_a_function():
    """policy.call(fn) replays fn on a retryable xai_lite error, sleeping on the policy's clock,
    and passes other exceptions through at once."""
    clock = FakeClock()
    outcomes = [RateLimitError("slow down", status_code=429), RateLimitError("slow down", status_code=429), "done"]

    def flaky(x, *, y):
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return (outcome, x, y)

    assert policy(clock=clock).call(flaky, 1, y=2) == ("done", 1, 2)
    assert len(clock.sleeps) == 2

    calls = []

    def broken():
        calls.append(1)
        raise KeyError("bug")

    with pytest.raises(KeyError):
        policy().call(broken)
    assert calls == [1]

    def always_503():
        raise ServerError("down", status_code=503)

    with pytest.raises(ServerError) as info:
        policy().call(always_503)  # a create by default: 5xx is not replayed
    assert info.value.attempts == 1
    with pytest.raises(ServerError) as info:
        dataclasses.replace(policy(), retry_non_idempotent=True).call(always_503)
    assert info.value.attempts == 3


BAD_POLICIES = [
    dict(max_retries=-1), dict(max_retries=None), dict(max_retries=1.5), dict(max_retries=True),
    dict(max_retries=101), dict(initial_delay=-0.1), dict(initial_delay=math.nan), dict(max_delay=0.1),
    dict(multiplier=0.5), dict(jitter=1.5), dict(jitter=-0.1), dict(rate_limit_delay=-1),
    dict(rate_limit_max_delay=0.5), dict(max_retry_after=-1), dict(max_retry_after=math.inf), dict(timeout=0),
    dict(timeout=-1), dict(retry_non_idempotent="yes"), dict(clock=object()), dict(rng=random),
]


@pytest.mark.parametrize("kwargs", BAD_POLICIES, ids=range(len(BAD_POLICIES)))
def test_invalid_retry_settings_are_refused(kwargs):
    """B6: negative, None, float, bool or absurd retry counts, negative delays, a shrinking
    multiplier, jitter outside [0, 1] and other nonsense raise InvalidArgumentError at once."""
    with pytest.raises(InvalidArgumentError):
        RetryPolicy(**kwargs)


@pytest.mark.parametrize("value", ["3", 2.5, True, object()])
def test_client_refuses_a_retry_that_is_not_a_policy(canary, value):
    """B6: Client(retry=...) takes a RetryPolicy or a whole number of retries, nothing else."""
    with pytest.raises(InvalidArgumentError):
        Client(api_key=canary, base_url="http://127.0.0.1:9/v1", retry=value)


def test_retry_shorthand_and_frozen_policy(canary):
    """Client(retry=3) means RetryPolicy(max_retries=3); a policy is immutable and comparable."""
    client = Client(api_key=canary, base_url="http://127.0.0.1:9/v1", retry=3)
    assert client._policies.retry == RetryPolicy(max_retries=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        RetryPolicy().max_retries = 5


def test_retry_decisions_are_logged_with_fields(serve, client_for, log_records):
    """Each scheduled retry and the final give-up are DEBUG records on the xai_lite logger with
    structured fields (attempt, delay, reason), never headers or bodies."""
    server = serve(error_reply(503))
    with pytest.raises(ServerError):
        client_for(server, retry=policy(max_retries=1)).models.list()
    records = [r for r in log_records if getattr(r, "event", "").startswith("retry")]
    assert [r.event for r in records] == ["retry_scheduled", "retry_give_up"]
    scheduled = records[0]
    assert scheduled.levelname == "DEBUG" and scheduled.name.startswith("xai_lite")
    assert scheduled.attempt == 1 and 0.375 <= scheduled.delay <= 0.5 and "503" in scheduled.reason
    assert "Bearer" not in scheduled.getMessage()
