"""Out-of-range numbers, query parameters of the wrong type and flags that are not bools are
refused with an InvalidArgumentError naming the setting, before any connection: B5-B7 extended
to huge and tiny numbers (issue 7 item 17), and two new cases, B16 "flags are True, False or None"
(item 18) and B17 "extra_query is a mapping of scalar values" (item 17)."""

from __future__ import annotations

import time

import pytest
from harness import FakeClock, ok_completion, ok_models, response_body, scripted
from harness import check_raised as assert_clean

from xai_lite import Client, Conversation, InvalidArgumentError, RateLimiterTimeoutError, Timeout, run_tools, tool
from xai_lite.reliability import CircuitBreaker, FailoverPolicy, RateLimiter, RetryPolicy

MESSAGES = [{"role": "user", "content": "Hi"}]
HUGE = 10 ** 400  # float() of it raises OverflowError




@pytest.mark.parametrize("value", [1e10, HUGE, 10 ** 5000, 1_000_001], ids=["1e10", "1e400", "1e5000", "1000001"])
def test_a_timeout_past_the_range_is_refused_before_io(serve, client_for, canary, value):
    """B5: a call-level timeout beyond 10**6 s (1e10 used to reach socket.settimeout and die
    with OverflowError; 10**400 and a 5,000-digit int overflow float()) is refused, naming it."""
    server = serve(ok_completion)
    client = client_for(server)
    with pytest.raises(InvalidArgumentError, match="timeout") as info:
        client.chat.completions.create(model="grok-4", messages=MESSAGES, timeout=value)
    with pytest.raises(InvalidArgumentError, match="timeout"):
        client.models.list(timeout=value)
    assert server.accepted == 0
    if value != 10 ** 5000:  # repr() of it raises, so no frame holding it (the test's too) prints with locals
        assert_clean(info.value, canary)


@pytest.mark.parametrize("field", ["connect", "read", "total"])
def test_timeout_fields_past_the_range_are_refused(canary, field):
    """B5: each Timeout field, and a client-level timeout, takes at most 10**6 s."""
    for value in (1e10, HUGE):
        with pytest.raises(InvalidArgumentError, match="Timeout\\(%s=" % field):
            Timeout(**{field: value})
        with pytest.raises(InvalidArgumentError, match="timeout="):
            Client(api_key=canary, timeout=value)
    assert Timeout(read=1_000_000).read == 1e6


@pytest.mark.parametrize(
    "make,name",
    [
        (lambda v: RateLimiter(requests_per_second=v), "requests_per_second"),
        (lambda v: RateLimiter(5.0, burst=v), "burst"),
        (lambda v: RateLimiter(5.0, per_kind={"chat": (v, 1)}), "requests_per_second"),
        (lambda v: RateLimiter(5.0).acquire(timeout=v), "timeout"),
        (lambda v: RateLimiter(5.0).acquire(n=v), "n"),
        (lambda v: RateLimiter(5.0).pause(v), "seconds"),
        (lambda v: RetryPolicy(max_retries=v), "max_retries"),
        (lambda v: RetryPolicy(initial_delay=1.0, max_delay=v), "max_delay"),
        (lambda v: RetryPolicy(initial_delay=v), "initial_delay"),
        (lambda v: RetryPolicy(multiplier=v), "multiplier"),
        (lambda v: RetryPolicy(max_retry_after=v), "max_retry_after"),
        (lambda v: RetryPolicy(timeout=v), "timeout"),
        (lambda v: CircuitBreaker(failure_threshold=v), "failure_threshold"),
        (lambda v: CircuitBreaker(recovery_timeout=v), "recovery_timeout"),
        (lambda v: CircuitBreaker(success_threshold=v), "success_threshold"),
        (lambda v: FailoverPolicy(max_failures=v), "max_failures"),
        (lambda v: FailoverPolicy(retry_after=v), "retry_after"),
        (lambda v: Client(api_key="xai-0123456789abcdef", max_response_bytes=v), "max_response_bytes"),
    ],
)
def test_huge_numbers_for_reliability_settings_are_refused(make, name):
    """B6/B7: 10**400 (and 1e10 where a float is allowed) is refused with an InvalidArgumentError
    naming the setting and its range, never an OverflowError from float()."""
    for value in (HUGE, 10 ** 10):
        with pytest.raises(InvalidArgumentError, match=r"\b%s\b.* (to|at most) " % name):
            make(value)


def test_a_rate_too_slow_to_wait_for_is_refused():
    """B7: RateLimiter(requests_per_second=1e-10) used to raise OverflowError on its second
    acquire() (a 1e10 s sleep); any rate under one request per 10**6 s is refused up front."""
    with pytest.raises(InvalidArgumentError, match="requests_per_second=1e-10"):
        RateLimiter(requests_per_second=1e-10)
    assert RateLimiter(requests_per_second=1e-6).requests_per_second == 1e-6


def test_a_wait_past_the_range_is_refused_not_overflowed():
    """B7: on the real clock, a wait longer than 10**6 s (a slow bucket asked for many tokens)
    raises RateLimiterTimeoutError at once, without waiting or using tokens; time.sleep() of it
    would raise OverflowError."""
    limiter = RateLimiter(requests_per_second=1e-6, burst=1)
    limiter.acquire()
    started = time.monotonic()
    with pytest.raises(RateLimiterTimeoutError, match="nothing was sent"):
        limiter.acquire(n=1_000_000)
    with pytest.raises(RateLimiterTimeoutError):
        limiter.acquire(n=2, timeout=None)
    assert time.monotonic() - started < 5.0


def test_a_pause_cannot_push_a_waiter_past_the_range():
    """B7: pauses that push a caller waiting without a timeout beyond 10**6 s refuse it and
    give its tokens back (the fake clock stands in for time.sleep)."""
    clock = FakeClock()
    limiter = RateLimiter(requests_per_second=1.0, burst=1, clock=clock)
    limiter.acquire()
    original = clock.sleep

    def sleep(seconds):
        if len(clock.sleeps) == 0:
            limiter.pause(1_000_000.0)  # begins while the caller sleeps for its turn
        original(seconds)

    clock.sleep = sleep
    with pytest.raises(RateLimiterTimeoutError, match="pause"):
        limiter.acquire()


@pytest.mark.parametrize("value", [HUGE, 1e10, float("nan"), 0], ids=["1e400", "1e10", "nan", "0"])
def test_deferred_wait_numbers_are_checked(serve, client_for, canary, value):
    """B5: wait(timeout=10**400) used to raise OverflowError adding it to the clock."""
    server = serve(scripted({"request_id": "x"}))
    client = client_for(server)
    for kwargs in ({"timeout": value}, {"interval": value}):
        with pytest.raises(InvalidArgumentError, match="wait\\(%s=" % list(kwargs)[0]) as info:
            client.chat.deferred.wait("req-1", **kwargs)
        assert_clean(info.value, canary)
    assert server.accepted == 0


@pytest.mark.parametrize("value", [HUGE, 0, 2.5, "3"], ids=["1e400", "0", "2.5", "str"])
def test_max_turns_is_checked_like_every_number(serve, client_for, value):
    """run_tools() and Conversation take max_turns as an integer from 1 to 10**6."""
    server = serve(ok_completion)
    client = client_for(server)
    with pytest.raises(InvalidArgumentError, match="max_turns"):
        run_tools(client, model="grok-4", messages=MESSAGES, tools=[], max_turns=value)
    with pytest.raises(InvalidArgumentError, match="max_turns"):
        Conversation(client, max_turns=value)
    assert server.accepted == 0


# -- extra_query (B17) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query,match",
    [
        ("a=b", "must be a mapping"),
        ([("a", "b")], "must be a mapping"),
        ({"a": None}, "value of 'a'"),
        ({"a": object()}, "value of 'a'"),
        ({"a": b"bytes"}, "value of 'a'"),
        ({"a": float("nan")}, "value of 'a'"),
        ({"a": [1, {"x": 1}]}, "value of 'a'"),
        ({1: "x"}, "names must be non-empty strings"),
        ({"": "x"}, "names must be non-empty strings"),
    ],
)
def test_bad_extra_query_is_refused_before_io(serve, client_for, canary, query, match):
    """B17: extra_query must map names to str/int/float/bool values (or lists of them); anything
    else (a string raised urllib's TypeError, None was sent as "None") is an InvalidArgumentError
    naming extra_query, on every endpoint, before any connection."""
    server = serve(ok_models)
    client = client_for(server)
    calls = [
        lambda: client.models.list(extra_query=query),
        lambda: client.chat.completions.create(model="grok-4", messages=MESSAGES, extra_query=query),
        lambda: client.chat.completions.create(model="grok-4", messages=MESSAGES, stream=True, extra_query=query),
        lambda: client.responses.input_items("resp-1", limit=5, extra_query=query),
    ]
    for call in calls:
        with pytest.raises(InvalidArgumentError, match="extra_query.*" + match) as info:
            call()
        assert_clean(info.value, canary)
    assert server.accepted == 0


def test_extra_query_values_are_encoded_as_documented(serve, client_for):
    """B17: bools are sent as true/false (as httpx sends them), numbers as written, and a list
    repeats the name."""
    server = serve(ok_models)
    client_for(server).models.list(extra_query={"flag": True, "off": False, "n": 3, "x": 1.5, "tag": ["a", "b c"]})
    assert server.requests[0].query == "flag=true&off=false&n=3&x=1.5&tag=a&tag=b+c"


# -- flags (B16) ---------------------------------------------------------------------------------


@tool
def noop() -> str:
    """Does nothing."""
    return ""


CHAT_FLAGS = [
    ({"stream": "false"}, "stream"),
    ({"stream": 0}, "stream"),
    ({"deferred": "no"}, "deferred"),
    ({"deferred": 1}, "deferred"),
    ({"logprobs": "yes"}, "logprobs"),
    ({"parallel_tool_calls": "false"}, "parallel_tool_calls"),
    ({"extra_body": {"stream": True}}, "extra_body must not set 'stream'"),
    ({"extra_body": {"deferred": True}}, "extra_body must not set 'deferred'"),
    ({"extra_body": "stream=true"}, "extra_body must be a mapping"),
]


@pytest.mark.parametrize("kwargs,match", CHAT_FLAGS, ids=[m for _, m in CHAT_FLAGS])
def test_chat_flags_must_be_bools(serve, client_for, canary, kwargs, match):
    """B16: stream="false" and deferred="no" were truth-tested, so the wrong request was sent (and
    billed) before the client failed; every flag must be True, False or None, and extra_body may
    not set the fields the client acts on. Nothing is sent."""
    server = serve(ok_completion)
    with pytest.raises(InvalidArgumentError, match=match) as info:
        client_for(server).chat.completions.create(model="grok-4", messages=MESSAGES, **kwargs)
    assert server.accepted == 0
    assert_clean(info.value, canary)


RESPONSES_FLAGS = [
    ({"stream": "false"}, "stream"),
    ({"store": "false"}, "store"),
    ({"background": "no"}, "background"),
    ({"logprobs": 1}, "logprobs"),
    ({"parallel_tool_calls": "true"}, "parallel_tool_calls"),
    ({"extra_body": {"stream": False}}, "extra_body must not set 'stream'"),
]


@pytest.mark.parametrize("kwargs,match", RESPONSES_FLAGS, ids=[m for _, m in RESPONSES_FLAGS])
def test_responses_flags_must_be_bools(serve, client_for, canary, kwargs, match):
    """B16: the Responses API's flags are checked the same way, before anything is sent."""
    server = serve(scripted(response_body()))
    with pytest.raises(InvalidArgumentError, match=match) as info:
        client_for(server).responses.create(model="grok-4", input="Hi", **kwargs)
    assert server.accepted == 0
    assert_clean(info.value, canary)


def test_tool_loop_and_client_flags_must_be_bools(serve, client_for, canary):
    """B16: run_tools(stream="false", parallel="no"), Conversation(parallel_tools="no") and
    Client(allow_insecure_http="no") (which used to allow plain http to a remote host) are
    refused before any request."""
    server = serve(ok_completion)
    client = client_for(server)
    with pytest.raises(InvalidArgumentError, match="stream must be True or False"):
        run_tools(client, model="grok-4", messages=MESSAGES, tools=[noop], stream="false")
    with pytest.raises(InvalidArgumentError, match="parallel must be True or False"):
        run_tools(client, model="grok-4", messages=MESSAGES, tools=[noop], parallel="no")
    with pytest.raises(InvalidArgumentError, match="parallel_tools"):
        Conversation(client, parallel_tools="no")
    with pytest.raises(InvalidArgumentError, match="allow_insecure_http"):
        Client(api_key=canary, base_url="http://inference.internal:8000/v1", allow_insecure_http="no")
    with pytest.raises(InvalidArgumentError, match="check_key_format"):
        Client(api_key=canary, check_key_format="off")
    assert server.accepted == 0


def test_false_and_none_flags_still_work(serve, client_for):
    """False and None remain valid: stream=False is sent as false, None as null."""
    server = serve(ok_completion)
    client = client_for(server)
    client.chat.completions.create(model="grok-4", messages=MESSAGES, stream=False, logprobs=None)
    assert server.requests[0].json["stream"] is False and server.requests[0].json["logprobs"] is None
