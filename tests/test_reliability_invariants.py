"""The invariants with every reliability policy switched on: one outcome per call, exact streams,
no duplicate side effects, no leaked descriptors or threads, no secret outside the socket
(reliability.md I1-I5, S1-S4, S6, S9, S11-S13), and 256 calls in flight through one client."""

from __future__ import annotations

import copy
import os
import pickle
import ssl
import subprocess
import sys
import threading
import time
import traceback

import pytest
import trustme
from harness import (
    FakeClock,
    LoopbackServer,
    chunk_event,
    completion_body,
    error_reply,
    in_turn,
    ok_completion,
    ok_models,
    open_fds,
    package_env,
    refused_port,
)

import xai_lite
from xai_lite import (
    AuthenticationError,
    CircuitBreaker,
    CircuitOpenError,
    Client,
    FailoverPolicy,
    HttpError,
    NetworkError,
    RateLimiter,
    RateLimiterTimeoutError,
    RequestTimeoutError,
    RetryPolicy,
    ServerError,
    StreamingError,
    Timeout,
    XaiError,
)

MESSAGES = [{"role": "user", "content": "Hi"}]


def full_client(canary, endpoints, **overrides):
    """A client with every policy: retries (fake clock), a breaker, a limiter and failover."""
    options = dict(
        retry=RetryPolicy(max_retries=2, clock=FakeClock()),
        circuit_breaker=CircuitBreaker(failure_threshold=50),
        rate_limiter=RateLimiter(requests_per_second=10_000, burst=1_000, clock=FakeClock()),
        endpoints=endpoints,
        failover=FailoverPolicy(max_failures=50),
        timeout=Timeout(connect=1, read=0.5, total=5),
    )
    options.update(overrides)
    return Client(api_key=canary, **options)


def _wait_for(predicate, seconds=2.0):
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.02)
    return predicate()


# -- I1: one outcome per call, whatever the fault -------------------------------------------------

def answer(req, reply):
    """A healthy server: a model list, a completion or a stream, whatever was asked."""
    if req.path.endswith("/models"):
        ok_models(req, reply)
    elif req.json.get("stream"):
        reply.sse([chunk_event("hi")])
    else:
        ok_completion(req, reply)


FAULTS = {
    "ok": answer,
    "reset": lambda req, reply: reply.reset(),
    "fin": lambda req, reply: reply.close(),
    "hang": lambda req, reply: reply.hang(3),
    "garbage": lambda req, reply: (reply.send(b"NOT HTTP\r\n\r\n"), reply.close()),
    "cut-body": lambda req, reply: (reply.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                               b"Content-Length: 50\r\n\r\n{"), reply.close()),
    "bad-json": lambda req, reply: reply.respond(200, b"{not json"),
    "html-502": lambda req, reply: reply.respond(502, b"<html>bad gateway</html>", content_type="text/html"),
    "503": error_reply(503),
    "429": error_reply(429, {"Retry-After": "1"}),
    "401": error_reply(401),
    "too-big": lambda req, reply: reply.respond(200, b"{" + b" " * 5000 + b"}"),
}
RESULT = "result"
# fault -> the outcome of (GET, POST, stream): a result (possibly from the backup) or an error class
EXPECTED = {
    "ok": (RESULT, RESULT, RESULT),
    "reset": (RESULT, NetworkError, NetworkError),
    "fin": (RESULT, NetworkError, NetworkError),
    "hang": (RESULT, RequestTimeoutError, RequestTimeoutError),
    "garbage": (HttpError, HttpError, HttpError),
    "cut-body": (HttpError, HttpError, HttpError),
    "bad-json": (HttpError, HttpError, HttpError),
    "html-502": (RESULT, ServerError, ServerError),
    "503": (RESULT, ServerError, ServerError),
    "429": (RESULT, RESULT, RESULT),
    "401": (AuthenticationError, AuthenticationError, AuthenticationError),
    "too-big": (HttpError, HttpError, HttpError),
}


@pytest.mark.parametrize("method", ["GET", "POST", "STREAM"])
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_every_call_ends_in_exactly_one_outcome(serve, canary, fault, method):
    """I1, I3: with every policy on, each fault gives either a whole result or one typed
    xai_lite error, never a raw exception or None; the backup server sees the call only when a
    replay was allowed, with the same x-client-request-id."""
    primary, backup = serve(FAULTS[fault]), serve(answer)
    client = full_client(canary, [primary.url + "/v1", backup.url + "/v1"], max_response_bytes=4096)
    try:
        if method == "GET":
            outcome = client.models.list()
        elif method == "POST":
            outcome = client.chat.completions.create(model="m", messages=MESSAGES)
        else:
            outcome = list(client.chat.completions.create(model="m", messages=MESSAGES, stream=True))
    except XaiError as exc:
        outcome = exc
    expected = EXPECTED[fault][["GET", "POST", "STREAM"].index(method)]
    if expected == RESULT:
        assert outcome and not isinstance(outcome, XaiError), outcome
    else:
        assert type(outcome) is expected or isinstance(outcome, expected), outcome
    ids = {r.headers["x-client-request-id"] for r in primary.requests + backup.requests}
    assert len(ids) == 1
    replayed = fault != "ok" and expected == RESULT
    assert len(backup.requests) == (1 if replayed else 0)
    client.close()


def test_a_stream_is_never_replayed_after_its_first_chunk(serve, canary):
    """I2, I3: a stream cut after three chunks delivers them exactly once, in order, then raises
    StreamingError; neither the primary nor the backup sees the request again."""
    def three_then_cut(req, reply):
        reply.start_chunked()
        for text in ("a", "b", "c"):
            reply.chunk(b"data: " + __import__("json").dumps(chunk_event(text)).encode() + b"\n\n")
        reply.chunk(b'data: {"id": "chunk-1", "choi')
        reply.reset()

    primary, backup = serve(three_then_cut), serve(ok_completion)
    client = full_client(canary, [primary.url + "/v1", backup.url + "/v1"],
                         retry=RetryPolicy(max_retries=5, retry_non_idempotent=True, clock=FakeClock()))
    seen = []
    with pytest.raises((StreamingError, xai_lite.HttpError)):
        for chunk in client.chat.completions.create(model="m", messages=MESSAGES, stream=True):
            seen.append(chunk.choices[0].delta.content)
    assert seen == ["a", "b", "c"]
    assert len(primary.requests) == 1 and backup.accepted == 0


# -- 256 calls in flight ---------------------------------------------------------------------------


def _run_256(client, errors_allowed):
    outcomes = [None] * 256
    barrier = threading.Barrier(256)

    def call(i):
        barrier.wait(10)
        try:
            outcomes[i] = client.chat.completions.create(model="m", messages=[{"role": "user", "content": str(i)}])
        except XaiError as exc:
            outcomes[i] = exc
        except BaseException as exc:  # an outcome that is not allowed: recorded for the assert
            outcomes[i] = ("raw", exc)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(256)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    for outcome in outcomes:
        assert isinstance(outcome, (xai_lite.ChatCompletion,) + errors_allowed), outcome
    return outcomes


def test_256_calls_in_flight_each_end_once_with_consistent_counters(serve, canary):
    """I1, I4: 256 concurrent calls through one client with a breaker and a limiter, all held
    by the server until every one has arrived: each ends in exactly one outcome (every 8th a
    503), the breaker's counters add up exactly, and no descriptor or thread is left behind."""
    threads_before = threading.active_count()
    fds_before = open_fds()
    arrived = []
    all_in = threading.Event()
    lock = threading.Lock()

    def held(req, reply):
        with lock:
            arrived.append(1)
            if len(arrived) == 256:
                all_in.set()
        all_in.wait(10)
        n = int(req.json["messages"][0]["content"])
        if n % 8 == 0:
            error_reply(503)(req, reply)
        else:
            reply.json(completion_body(str(n)))

    server = LoopbackServer(held)
    breaker = CircuitBreaker(failure_threshold=1000)
    client = Client(api_key=canary, base_url=server.url + "/v1", circuit_breaker=breaker,
                    rate_limiter=RateLimiter(requests_per_second=100_000, burst=256))
    outcomes = _run_256(client, (ServerError,))
    assert all_in.is_set() and len(server.requests) == 256  # truly 256 in flight at once
    for i, outcome in enumerate(outcomes):
        if i % 8 == 0:
            assert isinstance(outcome, ServerError) and outcome.attempts == 1
        else:
            assert outcome.choices[0].message.content == str(i)
    stats = breaker.stats()
    assert (stats.admitted, stats.successes, stats.failures, stats.rejected, stats.released) == (256, 224, 32, 0, 0)
    client.close()
    server.stop()
    assert _wait_for(lambda: open_fds() <= fds_before), (open_fds(), fds_before)
    assert _wait_for(lambda: threading.active_count() <= threads_before), threading.enumerate()


def test_256_calls_against_a_dead_service_open_the_breaker_once(serve, canary):
    """I1, F31: 256 concurrent calls to a service that always fails: every call ends as a
    ServerError or a CircuitOpenError, the server saw exactly the admitted calls, the breaker
    opened once with exactly `failure_threshold` consecutive failures, and nothing leaks."""
    fds_before = open_fds()
    server = LoopbackServer(error_reply(503))
    breaker = CircuitBreaker(failure_threshold=5, recovery_timeout=600)
    client = Client(api_key=canary, base_url=server.url + "/v1", circuit_breaker=breaker,
                    rate_limiter=RateLimiter(requests_per_second=100_000, burst=256))
    outcomes = _run_256(client, (ServerError, CircuitOpenError))
    stats = breaker.stats()
    rejected = sum(isinstance(o, CircuitOpenError) for o in outcomes)
    assert stats.rejected == rejected and stats.admitted == 256 - rejected == len(server.requests)
    assert stats.failures == stats.admitted and stats.consecutive_failures == 5 and stats.opened == 1
    client.close()
    server.stop()
    assert _wait_for(lambda: open_fds() <= fds_before)


# -- I5 and the S cases ------------------------------------------------------------------------------


def _all_text(error):
    """Everything a reporter could show of an error, its chain and its previous errors, with
    the locals of xai_lite's frames (the test's own frames hold the key by construction)."""
    library = os.path.dirname(xai_lite.__file__)
    parts = []
    for e in [error] + list(error.previous or []):
        exc = traceback.TracebackException.from_exception(e, capture_locals=True)
        while exc is not None:
            parts += [repr(f.locals) for f in exc.stack if f.filename.startswith(library)]
            parts.append("".join(exc.format_exception_only()))
            exc = exc.__cause__ or exc.__context__
        parts += [str(e), repr(e), repr(e.args), repr(vars(e))]
    return "".join(parts)


def test_errors_after_retries_and_failover_hold_no_key(serve, canary):
    """S3, S4, I5: the errors a policy raises (after retries and failover, an open breaker, a
    limiter timeout), their previous errors and their locals-captured tracebacks hold no key,
    even when the server echoes it, and no low-level exception hangs off them."""
    echo = error_reply(503, message="upstream rejected key %s" % canary)
    a, b = serve(echo), serve(lambda req, reply: reply.reset())
    client = full_client(canary, [a.url + "/v1", b.url + "/v1"], circuit_breaker=CircuitBreaker(failure_threshold=4))
    errors = []
    for _ in range(2):
        try:
            client.models.list()
        except XaiError as exc:
            errors.append(exc)
    limited = Client(api_key=canary, base_url=a.url + "/v1", timeout=5,
                     rate_limiter=RateLimiter(requests_per_second=0.01, burst=1, clock=FakeClock()))
    for _ in range(2):
        try:
            limited.models.list()
        except XaiError as exc:
            errors.append(exc)
    kinds = [type(e) for e in errors]
    assert kinds[0] in (ServerError, NetworkError) and CircuitOpenError in kinds
    assert RateLimiterTimeoutError in kinds and errors[0].previous
    for error in errors:
        assert canary not in _all_text(error)
        assert error.__cause__ is None and (error.__context__ is None or isinstance(error.__context__, XaiError))


def test_decision_logs_hold_no_key_prompt_or_completion(serve, canary, log_records):
    """S1, S9: with the logger at DEBUG, every kind of decision is logged (retry, give-up,
    breaker transition, failover, endpoint health, limiter wait and pause) and no record holds
    the key, the Authorization header, the prompt or the completion."""
    prompt, answer = "PROMPT-" + canary[-8:], "ANSWER-" + canary[-8:]
    good = serve(lambda req, reply: reply.json(completion_body(answer)))
    flaky = serve(in_turn(error_reply(429, {"Retry-After": "0.5"}), error_reply(503), error_reply(503),
                          lambda req, reply: reply.json(completion_body(answer))))
    clock = FakeClock()
    client = Client(api_key=canary, endpoints=[flaky.url + "/v1", good.url + "/v1"],
                    retry=RetryPolicy(clock=clock, retry_non_idempotent=True),
                    circuit_breaker=CircuitBreaker(failure_threshold=1, clock=clock),
                    rate_limiter=RateLimiter(requests_per_second=1, burst=1, clock=clock),
                    failover=FailoverPolicy(max_failures=1, clock=clock))
    for _ in range(3):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": prompt}])
    with pytest.raises(ServerError):
        Client(api_key=canary, base_url=flaky.url + "/v1", retry=RetryPolicy(max_retries=0)).models.list()
    events = {getattr(r, "event", None) for r in log_records}
    assert {"failover", "endpoint_health", "breaker_transition", "limiter_wait", "limiter_pause",
            "retry_give_up"} <= events
    for record in log_records:
        text = record.getMessage() + repr(record.args) + repr(vars(record))
        for secret in (canary, prompt, answer, "Bearer"):
            assert secret not in text, (secret, record.getMessage())


def test_policy_objects_show_no_key(canary):
    """S2: repr, vars and copies of a client with every policy, and the policies themselves,
    show no key; the policies pickle, the client still refuses to."""
    client = full_client(canary, ["https://a.example/v1", "https://b.example/v1"])
    pipeline = client._policies
    objects = [client, copy.copy(client), pipeline, pipeline.retry, pipeline.breaker, pipeline.limiter,
               pipeline.failover, pipeline.failover.endpoint_health(), pipeline.breaker.stats()]
    for obj in objects:
        text = repr(obj) + repr(getattr(obj, "__dict__", ""))
        assert canary not in text and canary[-12:] not in text
    for policy in (RetryPolicy(), RetryPolicy(max_retries=5, jitter=0)):
        assert pickle.loads(pickle.dumps(policy)) == policy
    with pytest.raises(TypeError):
        pickle.dumps(client)


def test_key_goes_only_to_configured_endpoints(serve, canary):
    """S6: through retries and failover over every strategy, only the configured hosts see a
    request; a spy on another loopback address sees nothing."""
    spy = serve(ok_completion, host="127.0.0.2")
    for strategy in ("priority", "round_robin", "random", "sticky"):
        a, b = serve(error_reply(502)), serve(ok_models)
        client = full_client(canary, ["http://127.0.0.1:%d/v1" % refused_port(), a.url + "/v1", b.url + "/v1"],
                             failover=FailoverPolicy(strategy))
        for _ in range(4):
            assert len(client.models.list()) == 2
        assert len(b.requests) == 4
        assert all(r.headers["authorization"] == "Bearer " + canary for r in a.requests + b.requests)
    assert spy.accepted == 0


def test_policies_leave_the_environment_alone(serve, canary):
    """S11: building and using every policy reads no new variable into os.environ and changes
    nothing there."""
    before = dict(os.environ)
    server = serve(ok_completion)
    client = full_client(canary, [server.url + "/v1"])
    client.chat.completions.create(model="m", messages=MESSAGES)
    xai_lite.health_check(client)
    assert dict(os.environ) == before


def test_reliability_imports_only_the_standard_library_and_only_on_use():
    """S12: import xai_lite does not load the reliability package; a client without policies
    does not either; importing it loads only standard-library modules, starting no thread and
    opening no file or socket."""
    code = (
        "import os, sys, threading; fds = len(os.listdir('/proc/self/fd')); n = threading.active_count()\n"
        "import xai_lite\n"
        "xai_lite.Client(api_key='xai-' + 'k' * 20, base_url='http://127.0.0.1:9/v1')\n"
        "assert 'xai_lite.reliability' not in sys.modules\n"
        "before = set(sys.modules)\n"
        "xai_lite.Client(api_key='xai-' + 'k' * 20, base_url='http://127.0.0.1:9/v1', retry=2)\n"
        "assert 'xai_lite.reliability' in sys.modules\n"
        "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "std = getattr(sys, 'stdlib_module_names', None)\n"
        "assert std is None or new - set(std) <= {'xai_lite'}, new\n"
        "assert threading.active_count() == n and len(os.listdir('/proc/self/fd')) == fds\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=package_env(), timeout=60)
    assert proc.stdout.strip() == "ok", proc.stderr


def test_tls_settings_never_share_a_pooled_connection(serve, canary, tmp_path):
    """S13: a client that trusts the test CA pools a connection to a TLS server; another client
    without that CA, to the same host:port, still fails verification (pools are per client and
    the TLS context is fixed at construction), also as a failover endpoint."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    tls = serve(ok_completion, tls=context)
    ca_file = str(tmp_path / "ca.pem")
    ca.cert_pem.write_to_path(ca_file)
    trusting = Client(api_key=canary, base_url=tls.url + "/v1", ca_file=ca_file)
    trusting.chat.completions.create(model="m", messages=MESSAGES)
    for untrusting in (Client(api_key=canary, base_url=tls.url + "/v1"),
                       full_client(canary, [tls.url + "/v1"])):
        with pytest.raises(NetworkError) as info:
            untrusting.chat.completions.create(model="m", messages=MESSAGES)
        assert info.value.reason == "tls-verify"
    assert len(tls.requests) == 1
    trusting.close()
