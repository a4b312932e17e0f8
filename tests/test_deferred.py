"""Deferred chat completions over real sockets: start, poll through 202s, fetch once, 404 after,
and a deadline that holds even when the server stalls."""

from __future__ import annotations

import copy
import pickle
import time

import pytest
from harness import completion_body

from xai_lite import DeferredChatCompletion, InvalidArgumentError, NotFoundError, RequestTimeoutError

MESSAGES = [{"role": "user", "content": "Write a poem"}]


def deferred_server(serve, *, pending: int, after=None):
    """POST answers {"request_id"}; GET answers 202 ``pending`` times, then the completion once,
    then 404 (results can be fetched once)."""
    state = {"polls": 0}

    def handler(req, reply):
        if req.method == "POST":
            reply.json({"request_id": "req/42"})
            return
        state["polls"] += 1
        if state["polls"] <= pending:
            reply.respond(202, b"", content_type=None)
        elif state["polls"] == pending + 1:
            reply.json(after or completion_body("A poem"), headers={"x-request-id": "srv-1"})
        else:
            reply.json({"code": "not-found", "error": "No deferred completion could be found"}, status=404)

    return serve(handler), state


def test_create_deferred_returns_a_handle_and_wait_polls_until_done(serve, client_for):
    """deferred=True sends "deferred": true and returns the request id; wait() polls through two
    202s (on one kept-alive connection) and returns the completion."""
    server, state = deferred_server(serve, pending=2)
    client = client_for(server)
    handle = client.chat.completions.create(model="grok-4", messages=MESSAGES, deferred=True)
    assert isinstance(handle, DeferredChatCompletion) and handle.request_id == "req/42"
    assert server.requests[0].json == {"model": "grok-4", "messages": MESSAGES, "deferred": True}
    started = time.monotonic()
    completion = client.chat.deferred.wait(handle.request_id, timeout=5, interval=0.05)
    assert completion.choices[0].message.content == "A poem" and completion.request_id == "srv-1"
    assert state["polls"] == 3 and 0.1 <= time.monotonic() - started < 2
    assert [r.target for r in server.requests[1:]] == ["/v1/chat/deferred-completion/req%2F42"] * 3
    assert server.accepted == 1


def test_retrieve_is_none_while_pending_and_the_handle_can_wait(serve, client_for):
    """retrieve() is None on 202; the handle's own wait() fetches the result."""
    server, _ = deferred_server(serve, pending=1)
    client = client_for(server)
    handle = client.chat.completions.create(model="grok-4", messages=MESSAGES, deferred=True)
    assert client.chat.deferred.retrieve(handle.request_id) is None
    assert handle.wait(timeout=5, interval=0.05).choices[0].message.content == "A poem"


def test_second_fetch_is_not_found_and_says_why(serve, client_for):
    """After the one fetch, 404 raises NotFoundError saying results are fetched once, within 24 hours."""
    server, _ = deferred_server(serve, pending=0)
    client = client_for(server)
    assert client.chat.deferred.retrieve("req/42") is not None
    with pytest.raises(NotFoundError) as info:
        client.chat.deferred.retrieve("req/42")
    error = info.value
    assert "already fetched" in error.message and "24 hours" in error.message and "req/42" in error.message
    assert "No deferred completion could be found" in error.message and error.client_request_id
    assert "models.list" not in str(error) and "within 24 hours" in str(error)


def test_wait_raises_at_the_deadline(serve, client_for):
    """A result that never arrives raises RequestTimeoutError (phase "deadline") once the
    deadline passes, after several polls."""
    server, state = deferred_server(serve, pending=10_000)
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError, match="not ready within 0.3 s.*24 hours") as info:
        client_for(server).chat.deferred.wait("req/42", timeout=0.3, interval=0.05)
    assert info.value.phase == "deadline" and 0.3 <= time.monotonic() - started < 1.5
    assert state["polls"] >= 3


def test_a_stalled_poll_does_not_outlast_the_deadline(serve, client_for):
    """A server that stops answering cannot hold wait() past its deadline."""
    server = serve(lambda req, reply: reply.hang(5))
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError):
        client_for(server).chat.deferred.wait("req", timeout=0.3, interval=0.05)
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize("call, match", [
    (lambda c: c.chat.completions.create(model="grok-4", messages=MESSAGES, deferred=True, stream=True), "cannot be streamed"),
    (lambda c: c.chat.deferred.wait("r", timeout=0), "timeout must be a positive"),
    (lambda c: c.chat.deferred.wait("r", interval=float("nan")), "interval must be a positive"),
    (lambda c: c.chat.deferred.retrieve(""), "request_id must be a non-empty id"),
])
def test_bad_deferred_arguments_are_refused_before_any_request(serve, client_for, call, match):
    """Streaming a deferred request and unusable timeouts or ids raise before any connection."""
    server = serve(lambda req, reply: reply.json({"request_id": "x"}))
    with pytest.raises(InvalidArgumentError, match=match):
        call(client_for(server))
    assert server.accepted == 0


def test_a_handle_pickles_and_copies_without_its_client(serve, client_for):
    """A handle pickles and deep-copies with its request id; the copy's wait() says to use
    client.chat.deferred.wait(request_id), which fetches the result, and the original keeps its client."""
    server, _ = deferred_server(serve, pending=1)
    client = client_for(server)
    handle = client.chat.completions.create(model="grok-4", messages=MESSAGES, deferred=True)
    for twin in (pickle.loads(pickle.dumps(handle)), copy.deepcopy(handle), copy.copy(handle)):
        assert isinstance(twin, DeferredChatCompletion) and twin.to_dict() == {"request_id": "req/42"}
        with pytest.raises(RuntimeError, match=r"client\.chat\.deferred\.wait\('req/42'\)"):
            twin.wait(timeout=1)
        with pytest.raises(RuntimeError, match="unpickled or copied"):
            twin.retrieve()
    assert handle.retrieve() is None
    assert client.chat.deferred.wait(twin.request_id, timeout=5, interval=0.05).choices[0].message.content == "A poem"
    assert len(server.requests) == 3
