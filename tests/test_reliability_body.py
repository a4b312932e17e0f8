"""A non-streaming call's attempt includes reading its body: reliability policies see a body
that fails after good headers as that attempt's failure."""

from __future__ import annotations

import pytest
from harness import FakeClock, in_turn, models_body, ok_models

from xai_lite import (
    CircuitBreaker,
    CircuitState,
    HttpError,
    RequestTimeoutError,
    RetryPolicy,
    ServerError,
    Timeout,
)

MESSAGES = [{"role": "user", "content": "Hi"}]


def headers_then_reset(request, reply):
    reply.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"obj")
    reply.reset()


def headers_then_silence(request, reply):
    reply.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{")
    reply.hang(3)


def malformed_200(request, reply):
    reply.respond(200, b"not json{")


@pytest.mark.parametrize("fault", [headers_then_reset, headers_then_silence], ids=["reset", "silence"])
def test_a_get_whose_body_fails_is_retried(serve, client_for, fault):
    """F5, F11: a GET whose body breaks after good headers is replayed, and the replay's answer returned."""
    server = serve(in_turn(fault, ok_models))
    client = client_for(server, retry=RetryPolicy(max_retries=2, clock=FakeClock()),
                        timeout=Timeout(connect=1, read=0.3, total=10))
    assert [m.id for m in client.models.list()] == [m["id"] for m in models_body("grok-4", "grok-3-mini")["data"]]
    assert len(server.requests) == 2
    assert len(set(r.headers["x-client-request-id"] for r in server.requests)) == 1


def test_a_create_whose_body_times_out_is_not_retried(serve, client_for):
    """R1: a POST whose body stalls may have done its work: it is not replayed by default."""
    server = serve(headers_then_silence)
    client = client_for(server, retry=RetryPolicy(max_retries=2, clock=FakeClock()),
                        timeout=Timeout(connect=1, read=0.3, total=10))
    with pytest.raises(RequestTimeoutError) as info:
        client.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert len(server.requests) == 1 and info.value.attempts == 1


def test_a_malformed_body_counts_as_a_breaker_failure(serve, client_for):
    """F31: a 200 with a malformed body is a failure to the breaker, so a half-open probe that
    gets one re-opens the circuit instead of closing it."""
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, recovery_timeout=30.0, clock=clock)
    server = serve(malformed_200)
    client = client_for(server, circuit_breaker=breaker)
    for _ in range(2):
        with pytest.raises(HttpError):
            client.models.list()
    assert breaker.state is CircuitState.OPEN
    clock.advance(31)
    with pytest.raises(HttpError):
        client.models.list()  # the half-open probe
    assert breaker.state is CircuitState.OPEN


def test_earlier_errors_carry_the_client_request_id(serve, client_for):
    """R3: the errors a retry policy attaches as ``previous`` carry the call's client request id too."""
    server = serve(lambda request, reply: reply.respond(503, b'{"error": "busy"}'))
    client = client_for(server, retry=RetryPolicy(max_retries=2, clock=FakeClock()))
    with pytest.raises(ServerError) as info:
        client.models.list()
    error = info.value
    assert error.attempts == 3 and len(error.previous) == 2
    assert {e.client_request_id for e in error.previous + [error]} == {server.requests[0].headers["x-client-request-id"]}
