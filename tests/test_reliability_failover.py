"""FailoverPolicy over real loopback servers: which endpoint a call tries, when it moves on,
the health of each endpoint, and where the key goes (reliability.md F30, S6, B7)."""

from __future__ import annotations

import random
import ssl
import sys
import threading
import time

import pytest
import trustme
from harness import (
    FakeClock,
    error_reply,
    in_turn,
    ok_completion,
    ok_models,
    refused_port,
)

from xai_lite import (
    CircuitBreaker,
    CircuitState,
    Client,
    EndpointHealth,
    FailoverPolicy,
    HealthStatus,
    InvalidArgumentError,
    NetworkError,
    RetryPolicy,
    ServerError,
    XaiError,
)

MESSAGES = [{"role": "user", "content": "Hi"}]


def v1(server):
    return server.url + "/v1"


def chat(client):
    return client.chat.completions.create(model="grok-4", messages=MESSAGES)


def reset(req, reply):
    reply.reset()


def test_refused_primary_fails_over_to_the_secondary(serve, canary):
    """F30: a primary that refuses connections is skipped for the secondary, which serves the
    call; a spy host that is not configured never hears from the client (S6)."""
    secondary = serve(ok_completion)
    spy = serve(ok_completion, host="127.0.0.2")
    client = Client(api_key=canary, endpoints=["http://127.0.0.1:%d/v1" % refused_port(), v1(secondary)])
    assert chat(client).choices[0].message.content == "Hello"
    assert len(secondary.requests) == 1 and secondary.requests[0].headers["authorization"] == "Bearer " + canary
    assert spy.accepted == 0


def test_server_error_on_a_read_fails_over_with_the_same_request_id(serve, canary):
    """F30, I3: a GET answered 503 by the primary is replayed on the secondary at once, with the
    same x-client-request-id; the key reaches only the two configured hosts."""
    primary, secondary = serve(error_reply(503)), serve(ok_models)
    spy = serve(ok_models, host="127.0.0.2")
    clock = FakeClock()
    client = Client(api_key=canary, endpoints=[v1(primary), v1(secondary)], retry=RetryPolicy(clock=clock))
    assert len(client.models.list()) == 2
    assert clock.sleeps == []  # another server needs no backoff
    ids = [r.headers["x-client-request-id"] for r in primary.requests + secondary.requests]
    assert len(ids) == 2 and ids[0] == ids[1]
    assert spy.accepted == 0


@pytest.mark.parametrize("fault", ["reset", "503", "hang"])
def test_ambiguous_failure_on_a_create_does_not_fail_over(serve, canary, fault):
    """F30: a POST that may have reached the primary (reset, 503, read timeout) is not replayed
    on the secondary: the first error surfaces and the secondary gets nothing."""
    handler = {"reset": reset, "503": error_reply(503), "hang": lambda req, reply: reply.hang(3)}[fault]
    primary, secondary = serve(handler), serve(ok_completion)
    client = Client(api_key=canary, endpoints=[v1(primary), v1(secondary)], timeout=2 if fault != "hang" else 0.3)
    with pytest.raises(XaiError):
        chat(client)
    assert len(primary.requests) == 1 and secondary.accepted == 0


def test_rate_limited_create_fails_over(serve, canary):
    """F30: a 429 refused the work before it started, so a POST moves on to the secondary."""
    primary, secondary = serve(error_reply(429)), serve(ok_completion)
    client = Client(api_key=canary, endpoints=[v1(primary), v1(secondary)])
    assert chat(client).choices[0].message.content == "Hello"
    assert len(primary.requests) == 1 and len(secondary.requests) == 1


def test_unhealthy_primary_is_skipped_until_its_cooldown_then_traffic_returns(serve, canary):
    """F30: three failures make the primary UNHEALTHY; calls go straight to the secondary for
    retry_after seconds; then one call tries the primary again and, as it succeeds, traffic
    returns to it (priority)."""
    primary = serve(in_turn(*[error_reply(502)] * 3, ok_models))
    secondary = serve(ok_models)
    clock = FakeClock()
    failover = FailoverPolicy(max_failures=3, retry_after=60, clock=clock)
    client = Client(api_key=canary, endpoints=[v1(primary), v1(secondary)], failover=failover)
    health = []
    for _ in range(3):
        client.models.list()
        health.append(failover.endpoint_health()[0].status)
    assert health == [HealthStatus.DEGRADED, HealthStatus.DEGRADED, HealthStatus.UNHEALTHY]
    accepted = primary.accepted
    client.models.list()
    assert primary.accepted == accepted and len(primary.requests) == 3 and len(secondary.requests) == 4
    assert failover.endpoint_health()[0].retry_in == pytest.approx(60)
    clock.advance(60)
    client.models.list()
    client.models.list()
    assert len(primary.requests) == 5 and len(secondary.requests) == 4
    assert failover.endpoint_health()[0] == EndpointHealth(v1(primary), HealthStatus.HEALTHY, 0, 0.0, 2, 3, None)


def test_each_endpoint_has_its_own_breaker(serve, canary):
    """F30, F31: with a circuit breaker, each endpoint gets its own; the primary's opens, calls
    skip it without a socket, and after its recovery timeout the half-open probe succeeds and
    traffic returns to the primary."""
    primary = serve(in_turn(error_reply(503), error_reply(503), ok_models))
    secondary = serve(ok_models)
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, recovery_timeout=30, clock=clock)
    failover = FailoverPolicy(max_failures=100)
    client = Client(api_key=canary, endpoints=[v1(primary), v1(secondary)], circuit_breaker=breaker, failover=failover)
    client.models.list()
    client.models.list()
    assert breaker.state is CircuitState.OPEN
    assert [h.breaker for h in failover.endpoint_health()] == [CircuitState.OPEN, CircuitState.CLOSED]
    accepted = primary.accepted
    client.models.list()
    assert primary.accepted == accepted and len(secondary.requests) == 3
    clock.advance(30)
    client.models.list()
    assert len(primary.requests) == 3 and breaker.state is CircuitState.CLOSED and len(secondary.requests) == 3


def test_every_breaker_open_fails_fast(serve, canary):
    """When every endpoint's breaker is open the call raises CircuitOpenError without a socket."""
    from xai_lite import CircuitOpenError

    a, b = serve(error_reply(500)), serve(error_reply(500))
    client = Client(api_key=canary, endpoints=[v1(a), v1(b)], circuit_breaker=CircuitBreaker(failure_threshold=1))
    with pytest.raises(ServerError):
        client.models.list()
    with pytest.raises(CircuitOpenError) as info:
        client.models.list()
    assert a.accepted + b.accepted == 2 and info.value.attempts == 0


def test_retry_rounds_go_over_every_endpoint(serve, canary):
    """A RetryPolicy adds rounds: both endpoints, a backoff, both again; then the last error with
    every attempt counted and the others in previous."""
    a, b = serve(error_reply(503)), serve(error_reply(502))
    clock = FakeClock()
    client = Client(api_key=canary, endpoints=[v1(a), v1(b)], retry=RetryPolicy(max_retries=1, clock=clock),
                    failover=FailoverPolicy(max_failures=10))
    with pytest.raises(ServerError) as info:
        client.models.list()
    assert len(a.requests) == len(b.requests) == 2 and len(clock.sleeps) == 1
    assert info.value.attempts == 4 and [e.status_code for e in info.value.previous] == [503, 502, 503]


def test_round_robin_alternates(serve, canary):
    """round_robin starts each call one endpoint further along."""
    servers = [serve(ok_models) for _ in range(3)]
    client = Client(api_key=canary, endpoints=[v1(s) for s in servers], failover=FailoverPolicy("round_robin"))
    for _ in range(6):
        client.models.list()
    assert [len(s.requests) for s in servers] == [2, 2, 2]


def test_random_is_seedable(serve, canary):
    """random picks a usable endpoint with the given random.Random, so a seed replays a run."""
    servers = [serve(ok_models) for _ in range(3)]
    urls = [v1(s) for s in servers]
    client = Client(api_key=canary, endpoints=urls, failover=FailoverPolicy("random", rng=random.Random(3)))
    for _ in range(30):
        client.models.list()
    mirror = random.Random(3)
    expected = [mirror.sample(range(3), 3)[0] for _ in range(30)]
    assert [len(s.requests) for s in servers] == [expected.count(i) for i in range(3)]
    assert all(len(s.requests) > 0 for s in servers)


def test_sticky_stays_where_it_last_worked(serve, canary):
    """sticky keeps using the endpoint that last worked: after the primary fails once, calls stay
    on the secondary although the primary would answer again."""
    primary = serve(in_turn(reset, ok_models))
    secondary = serve(in_turn(ok_models, ok_models, ok_models, error_reply(500)))
    failover = FailoverPolicy("sticky")
    client = Client(api_key=canary, endpoints=[v1(primary), v1(secondary)], failover=failover)
    for _ in range(3):
        client.models.list()
    assert len(primary.requests) == 1 and len(secondary.requests) == 3
    assert failover.current_endpoint() == v1(secondary)
    client.models.list()  # the secondary fails: back to the primary, and stay there
    assert failover.current_endpoint() == v1(primary) and len(primary.requests) == 2


def test_current_endpoint_and_rotate(serve, canary):
    """rotate() takes the current endpoint out of use for retry_after seconds and returns the new
    current one; after the cooldown, priority goes back to the first."""
    a, b = serve(ok_models), serve(ok_models)
    clock = FakeClock()
    failover = FailoverPolicy(retry_after=10, clock=clock)
    client = Client(api_key=canary, endpoints=[v1(a), v1(b)], failover=failover)
    assert failover.current_endpoint() == v1(a)
    assert failover.rotate() == v1(b) and failover.current_endpoint() == v1(b)
    client.models.list()
    assert len(a.requests) == 0 and len(b.requests) == 1
    assert failover.endpoint_health()[0].status is HealthStatus.UNHEALTHY
    clock.advance(10)
    assert failover.current_endpoint() == v1(a)
    client.models.list()
    assert len(a.requests) == 1 and failover.endpoint_health()[0].status is HealthStatus.HEALTHY


def test_when_every_endpoint_rests_the_first_to_recover_is_tried(serve, canary):
    """If every endpoint is cooling down, the call tries the one whose cooldown ends first
    rather than failing without trying."""
    a, b = serve(ok_models), serve(ok_models)
    clock = FakeClock()
    failover = FailoverPolicy(retry_after=10, clock=clock)
    client = Client(api_key=canary, endpoints=[v1(a), v1(b)], failover=failover)
    failover.rotate()
    clock.advance(1)
    failover.rotate()
    assert [h.status for h in failover.endpoint_health()] == [HealthStatus.UNHEALTHY] * 2
    client.models.list()
    assert len(a.requests) == 1 and len(b.requests) == 0


def test_https_endpoint_gets_the_tls_context(serve, canary, tmp_path):
    """An https endpoint after an http one is reached through the client's own SSL context
    (ca_file honoured), and a proxy setting is validated for it at construction."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    tls = serve(ok_models, tls=context)
    ca_file = str(tmp_path / "ca.pem")
    ca.cert_pem.write_to_path(ca_file)
    endpoints = ["http://127.0.0.1:%d/v1" % refused_port(), tls.url + "/v1"]
    client = Client(api_key=canary, endpoints=endpoints, ca_file=ca_file)
    assert len(client.models.list()) == 2 and len(tls.requests) == 1
    with pytest.raises(InvalidArgumentError, match="proxy"):
        Client(api_key=canary, endpoints=endpoints, proxy="socks5://127.0.0.1:1080")


def test_standalone_call_fails_over_on_unsent_requests():
    """failover.call(fn) passes each endpoint to fn in order, moving on after a request that
    never left, and stops at an error that may have reached the server."""
    failover = FailoverPolicy(endpoints=["https://a.example/v1", "https://b.example/v1/", "https://c.example/v1"])
    assert failover.endpoints == ["https://a.example/v1", "https://b.example/v1", "https://c.example/v1"]
    seen = []

    def fn(url, suffix):
        seen.append(url)
        if "a.example" in url:
            raise NetworkError("refused", reason="refused", request_sent=False)
        if "b.example" in url:
            raise ServerError("down", status_code=503)
        return url + suffix

    with pytest.raises(ServerError) as info:
        failover.call(fn, "/models")
    assert seen == ["https://a.example/v1", "https://b.example/v1"] and info.value.attempts == 2
    assert [h.status for h in failover.endpoint_health()] == [HealthStatus.DEGRADED] * 2 + [HealthStatus.HEALTHY]


def test_failover_hops_are_logged(serve, canary, log_records):
    """Each hop is a DEBUG record naming both endpoints and the reason."""
    b = serve(ok_models)
    dead = "http://127.0.0.1:%d/v1" % refused_port()
    Client(api_key=canary, endpoints=[dead, v1(b)]).models.list()
    hops = [r for r in log_records if getattr(r, "event", "") == "failover"]
    assert len(hops) == 1 and hops[0].from_endpoint == dead and hops[0].to_endpoint == v1(b)
    assert "never reached" in hops[0].reason


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(endpoints=[]), "empty"),
        (dict(endpoints="https://api.x.ai/v1"), "list"),
        (dict(endpoints=["https://a.example/v1", "https://a.example/v1/"]), "twice"),
        (dict(endpoints=["http://api.example.com/v1"]), "plain http"),
        (dict(endpoints=["https://a.example/v1"], base_url="https://b.example/v1"), "endpoints\\[0\\]"),
        (dict(failover=FailoverPolicy()), "needs endpoints"),
        (dict(failover="priority", endpoints=["https://a.example/v1"]), "FailoverPolicy"),
        (dict(endpoints=["https://a.example/v1"], failover=FailoverPolicy(endpoints=["https://b.example/v1"])),
         "already serves"),
    ],
)
def test_invalid_failover_settings_are_refused(canary, kwargs, match):
    """B7: an empty, duplicated, plaintext or non-list endpoint list, a base_url that is not the
    first endpoint, and failover without endpoints raise InvalidArgumentError at construction."""
    with pytest.raises(InvalidArgumentError, match=match):
        Client(api_key=canary, **kwargs)


def test_invalid_failover_policy_arguments(canary):
    """B7: an unknown strategy, zero failures, a negative cooldown or a foreign rng are refused,
    and a policy bound to one list of endpoints refuses another."""
    for kwargs in (dict(strategy="fastest"), dict(max_failures=0), dict(retry_after=-1), dict(rng=42)):
        with pytest.raises(InvalidArgumentError):
            FailoverPolicy(**kwargs)
    policy = FailoverPolicy()
    Client(api_key=canary, endpoints=["https://a.example/v1"], failover=policy)
    Client(api_key=canary, endpoints=["https://a.example/v1"], failover=policy)  # same list: shared health
    with pytest.raises(InvalidArgumentError, match="already serves"):
        Client(api_key=canary, endpoints=["https://b.example/v1"], failover=policy)
    with pytest.raises(InvalidArgumentError, match="no endpoints"):
        FailoverPolicy().current_endpoint()


def test_base_url_cannot_be_changed_on_a_failover_client(canary):
    """A client that fails over between endpoints refuses a new base_url instead of ignoring it."""
    client = Client(api_key=canary, endpoints=["http://127.0.0.1:9/v1", "http://127.0.0.2:9/v1"])
    with pytest.raises(InvalidArgumentError, match="endpoints"):
        client.base_url = "http://127.0.0.3:9/v1"
    assert client.base_url == "http://127.0.0.1:9/v1"


def test_a_shared_policy_leaves_each_client_its_own_breaker(serve, canary):
    """F30, F31: clients sharing one FailoverPolicy are guarded by the breakers they were handed:
    a second breaker is used, not ignored, and a client handed none is never failed fast by
    another's; endpoint_health() reports breaker states only while one breaker guards them all."""
    primary, secondary = serve(error_reply(503)), serve(ok_models)
    urls = [v1(primary), v1(secondary)]
    failover = FailoverPolicy(max_failures=100)
    breaker = CircuitBreaker(failure_threshold=1)
    Client(api_key=canary, endpoints=urls, failover=failover, circuit_breaker=breaker).models.list()
    assert breaker.state is CircuitState.OPEN and len(primary.requests) == 1
    Client(api_key=canary, endpoints=urls, failover=failover, circuit_breaker=breaker).models.list()
    assert len(primary.requests) == 1  # the same breaker: the same open circuit
    assert [h.breaker for h in failover.endpoint_health()] == [CircuitState.OPEN, CircuitState.CLOSED]

    own = CircuitBreaker(failure_threshold=2)
    Client(api_key=canary, endpoints=urls, failover=failover, circuit_breaker=own).models.list()
    assert len(primary.requests) == 2 and own.stats().failures == 1 and own.state is CircuitState.CLOSED
    unguarded = Client(api_key=canary, endpoints=urls, failover=failover)
    unguarded.models.list()
    unguarded.models.list()
    assert len(primary.requests) == 4 and breaker.stats().admitted == 1 and own.stats().admitted == 1
    assert [h.breaker for h in failover.endpoint_health()] == [None, None]


def test_one_call_at_a_time_tries_an_endpoint_back_from_its_cooldown(serve, canary):
    """F30: when an unhealthy primary's cooldown ends, one call tries it again; calls made while
    that trial runs go straight to the secondary, and the trial's success makes it HEALTHY."""
    release = threading.Event()

    def held(request, reply):
        release.wait(5)
        ok_models(request, reply)

    primary, secondary = serve(in_turn(error_reply(502), held)), serve(ok_models)
    clock = FakeClock()
    failover = FailoverPolicy(max_failures=1, retry_after=60, clock=clock)
    client = Client(api_key=canary, endpoints=[v1(primary), v1(secondary)], failover=failover)
    client.models.list()
    assert failover.endpoint_health()[0].status is HealthStatus.UNHEALTHY
    clock.advance(60)
    trial = threading.Thread(target=client.models.list)
    trial.start()
    deadline = time.monotonic() + 5
    while len(primary.requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.001)
    others = [threading.Thread(target=client.models.list) for _ in range(7)]
    for t in others:
        t.start()
    for t in others:
        t.join(10)
    assert len(primary.requests) == 2 and len(secondary.requests) == 8
    assert failover.current_endpoint() == v1(secondary)
    release.set()
    trial.join(10)
    assert failover.endpoint_health()[0].status is HealthStatus.HEALTHY
    assert failover.current_endpoint() == v1(primary)


def test_standalone_call_tries_a_rested_endpoint_once_at_a_time():
    """failover.call(fn): while one call tries an endpoint back from its cooldown, another call
    skips it; a trial cut short by KeyboardInterrupt hands the trial to the next call."""
    a, b = "https://a.example/v1", "https://b.example/v1"
    clock = FakeClock()
    failover = FailoverPolicy(max_failures=1, retry_after=10, endpoints=[a, b], clock=clock)
    failover.rotate()
    clock.advance(10)
    seen = []

    def interrupted(url):
        seen.append(url)
        raise KeyboardInterrupt

    def nested(url):
        seen.append(url)
        return failover.call(lambda inner: seen.append(inner) or inner) if len(seen) == 2 else url

    with pytest.raises(KeyboardInterrupt):
        failover.call(interrupted)
    assert failover.call(nested) == b  # the trial of a, inside which another call goes to b
    assert seen == [a, a, b] and failover.endpoint_health()[0].status is HealthStatus.HEALTHY


def test_skipped_endpoints_are_logged(serve, canary, log_records):
    """Each endpoint a call leaves out because it is cooling down is a DEBUG record with the
    endpoint, the time left and the reason."""
    a, b = serve(ok_models), serve(ok_models)
    clock = FakeClock()
    failover = FailoverPolicy(retry_after=30, clock=clock)
    client = Client(api_key=canary, endpoints=[v1(a), v1(b)], failover=failover)
    failover.rotate()
    clock.advance(10)
    client.models.list()
    skipped = [r for r in log_records if getattr(r, "event", "") == "endpoint_skipped"]
    assert len(skipped) == 1 and skipped[0].endpoint == v1(a) and skipped[0].retry_in == pytest.approx(20)
    assert "cooling down" in skipped[0].reason and len(a.requests) == 0


def test_endpoint_health_snapshots_agree_with_themselves():
    """Each EndpointHealth is copied under the lock: while another thread keeps failing and
    succeeding, every snapshot's status matches its consecutive failures and its totals add up."""
    failover = FailoverPolicy(max_failures=2, retry_after=0, endpoints=["https://a.example/v1"])
    stop = threading.Event()
    calls = []

    def work(url):
        calls.append(1)
        if len(calls) % 3:
            raise ServerError("down", status_code=503)
        return url

    def hammer():
        while not stop.is_set():
            try:
                failover.call(work)
            except ServerError:
                pass

    expected = {0: HealthStatus.HEALTHY, 1: HealthStatus.DEGRADED, 2: HealthStatus.UNHEALTHY}
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    thread = threading.Thread(target=hammer)
    thread.start()
    try:
        for _ in range(20000):
            health = failover.endpoint_health()[0]
            assert expected[health.consecutive_failures] is health.status, health
            assert health.failures - health.successes * 2 in (0, 1, 2), health
    finally:
        stop.set()
        thread.join(10)
        sys.setswitchinterval(old_interval)
