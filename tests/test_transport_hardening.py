"""Issue 7, transport items over real loopback sockets: Ctrl-C during an upload, interim 1xx
answers, chunked trailers, the drain after a stream's end, the keep-alive reuse race, the count
in a cut stream's message, and os.fork()."""

from __future__ import annotations

import json
import os
import pickle
import signal
import socket
import threading
import time
import traceback
import warnings
from typing import Any, Dict, List

import pytest
from harness import as_event, chunk_event, completion_body, consume, models_body, ok_completion, response_stream

import xai_lite
from xai_lite import HttpError, NetworkError, StreamingError, Timeout

MESSAGES = [{"role": "user", "content": "Hi"}]


def chat(client: xai_lite.Client, **kwargs: Any) -> Any:
    return client.chat.completions.create(model="grok-4", messages=kwargs.pop("messages", MESSAGES), **kwargs)


def assert_no_key(exc: BaseException, canary: str) -> None:
    """The canary is in no str, repr, args, pickle or locals-capturing traceback of ``exc``
    (the frames of this test module, which hold the canary fixture, are left out)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_globals.get("__name__") == __name__:
        tb = tb.tb_next
    rendered = "".join(traceback.TracebackException(type(exc), exc, tb, capture_locals=True).format())
    for text in (str(exc), repr(exc), repr(exc.args), rendered):
        assert canary not in text
    assert canary.encode() not in pickle.dumps(exc)


def after_done(then: Any) -> Any:
    """A handler whose first answer is a one-chunk stream ending in [DONE], followed by
    ``then(reply)`` before the end of the body; later requests get a plain completion."""
    first = []

    def handler(req: Any, reply: Any) -> None:
        if first:
            return ok_completion(req, reply)
        first.append(req)
        reply.start_chunked()
        reply.chunk(as_event(chunk_event("Hi")))
        reply.chunk(b"data: [DONE]\n\n")
        then(reply)

    return handler


def keep_alive_comments(reply: Any, seconds: float = 15.0) -> None:
    """Send an SSE comment chunk every 0.3 s, never ending the body (until the client leaves)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end and not reply.server.stopping.is_set():
        try:
            reply.chunk(b": keep-alive\n\n")
        except OSError:
            return
        time.sleep(0.3)


# -- item 3: Ctrl-C while the request body is being sent ------------------------------------------


class CallerDeadline(Exception):
    """What a caller's own signal-based time limit might raise (not an OSError)."""


def raise_caller_deadline(signum: int, frame: Any) -> None:
    raise CallerDeadline("the caller's own time limit")


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs signal.pthread_kill")
@pytest.mark.parametrize(
    "on_signal, raised",
    [(signal.default_int_handler, KeyboardInterrupt), (raise_caller_deadline, CallerDeadline)],
    ids=["KeyboardInterrupt", "other-exception"],
)
def test_ctrl_c_during_an_upload_leaves_no_key_in_the_traceback(serve, client_for, canary, on_signal, raised):
    """S4, M7, F33 (extended to a single call): SIGINT while a 32 MiB body is blocked in
    sendall raises the same KeyboardInterrupt (or whatever the caller's handler raises), but its
    traceback (with locals) holds no frame of http.client and no key, and the interrupted
    connection is closed, never reused."""
    headers_in = threading.Event()
    release = threading.Event()
    stalled: List[int] = []

    def stall_first(sock: Any) -> bool:
        if stalled:
            return True
        stalled.append(1)
        data = b""
        while b"\r\n\r\n" not in data:  # read the head, then stop reading: the client's send blocks
            piece = sock.recv(65536)
            if not piece:
                return False
            data += piece
        headers_in.set()
        release.wait(20)
        return False

    server = serve(ok_completion, on_connect=stall_first)
    client = client_for(server, timeout=Timeout(connect=5, read=30, total=60))
    main = threading.main_thread().ident
    assert main == threading.get_ident()

    def interrupt() -> None:
        if headers_in.wait(20):
            time.sleep(0.3)  # the 32 MiB body is far larger than the socket buffers: sendall is blocked
            signal.pthread_kill(main, signal.SIGINT)

    old = signal.signal(signal.SIGINT, on_signal)
    interrupter = threading.Thread(target=interrupt, daemon=True)
    interrupter.start()
    try:
        with pytest.raises(raised) as info:
            chat(client, messages=[{"role": "user", "content": "x" * (32 * 1024 * 1024)}])
    finally:
        signal.signal(signal.SIGINT, old)
        release.set()
        interrupter.join(5)
    assert headers_in.is_set()
    assert_no_key(info.value, canary)
    frames = [frame.name for frame in traceback.extract_tb(info.value.__traceback__)]
    assert "_send_output" not in frames and "sendall" not in frames
    assert chat(client).choices[0].message.content == "Hello"
    assert server.accepted == 2  # the interrupted connection was discarded


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs signal.pthread_kill")
def test_ctrl_c_during_the_drain_after_done_closes_the_connection(serve, client_for):
    """F33 (extended), F32: a KeyboardInterrupt while the rest of the body is drained after
    [DONE] propagates and the connection is closed at once, not left open with the stream."""
    gone = threading.Event()

    def comments_until_gone(reply: Any) -> None:
        end = time.monotonic() + 15
        while time.monotonic() < end and not reply.server.stopping.is_set():
            try:
                reply.chunk(b": keep-alive\n\n")
            except OSError:
                gone.set()
                return
            time.sleep(0.05)

    client = client_for(serve(after_done(comments_until_gone)), timeout=Timeout(connect=5, read=5, total=8))
    stream = chat(client, stream=True)
    assert next(stream).choices[0].delta.content == "Hi"
    main = threading.get_ident()
    timer = threading.Timer(0.25, signal.pthread_kill, (main, signal.SIGINT))
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            timer.start()
            next(stream)  # reads [DONE], then drains for up to 0.5 s
            time.sleep(5)  # (the drain ended before the signal: let it land here instead)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, old)
    assert gone.wait(3), "the connection stayed open after the interrupt"
    del stream


# -- item 19: interim 1xx responses -----------------------------------------------------------------

EARLY_HINTS = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"


def test_interim_responses_are_skipped(serve, client_for):
    """F27 (extended): 103 Early Hints and 102 Processing before the answer are skipped (RFC 9110
    section 15.2), on a JSON call and a stream, and the connection stays reusable."""
    def handler(req: Any, reply: Any) -> None:
        reply.send(EARLY_HINTS)
        if req.json.get("stream"):
            reply.sse([chunk_event("Hi")])
        else:
            ok_completion(req, reply)

    server = serve(handler)
    client = client_for(server)
    assert chat(client).choices[0].message.content == "Hello"
    chunks, error = consume(chat(client, stream=True))
    assert error is None and chunks[0].choices[0].delta.content == "Hi"
    assert server.accepted == 1


def test_endless_interim_responses_are_refused(serve, client_for, canary):
    """F27 (extended): more interim answers than any server sends is HttpError, not a wait for
    the deadline nor 'unexpected status 103'."""
    def handler(req: Any, reply: Any) -> None:
        reply.send(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" * 25)
        ok_completion(req, reply)

    with pytest.raises(HttpError, match="interim") as info:
        chat(client_for(serve(handler)))
    assert_no_key(info.value, canary)


# -- item 11: chunked trailers ----------------------------------------------------------------------

TRAILER_LINE = b"X-Pad: " + b"a" * 1000 + b"\r\n"


def endless_trailer(reply: Any, limit: int, sent: List[int]) -> None:
    """Trailer lines after the last chunk, up to ``limit`` bytes or until the client leaves."""
    block = TRAILER_LINE * 64
    reply.send(b"0\r\n")
    while sent[0] < limit and not reply.server.stopping.is_set():
        try:
            reply.send(block)
        except OSError:
            return
        sent[0] += len(block)
    reply.send(b"\r\n")


def test_an_endless_trailer_after_a_small_body_is_refused(serve, client_for, canary):
    """F10 (extended): megabytes of trailer lines after a 27-byte chunked body are HttpError,
    not a success after reading them all."""
    sent = [0]

    def handler(req: Any, reply: Any) -> None:
        reply.start_chunked(content_type="application/json")
        reply.chunk(json.dumps(completion_body()).encode())
        endless_trailer(reply, 16 * 1024 * 1024, sent)

    with pytest.raises(HttpError, match="trailer") as info:
        chat(client_for(serve(handler)))
    assert_no_key(info.value, canary)


def test_an_endless_trailer_after_done_does_not_hold_the_stream(serve, client_for):
    """F10 (extended), streams: after [DONE] the drain stops at the trailer cap and closes the
    connection; the stream still ends cleanly, and the server could not push 256 MiB through."""
    sent = [0]
    server = serve(after_done(lambda reply: endless_trailer(reply, 256 * 1024 * 1024, sent)))
    client = client_for(server)
    chunks, error = consume(chat(client, stream=True))
    assert error is None and len(chunks) == 1
    chat(client)
    assert server.accepted == 2  # the connection with the trailer was not pooled
    assert sent[0] < 128 * 1024 * 1024


# -- item 10: the drain after the end of a stream ---------------------------------------------------


def test_keep_alive_comments_after_done_do_not_hold_the_caller(serve, client_for):
    """F12 (extended): comments every 0.3 s after [DONE] end the stream within the drain's
    wall-clock bound (0.5 s), not at the total deadline; that connection is closed, not pooled."""
    server = serve(after_done(keep_alive_comments))
    client = client_for(server, timeout=Timeout(connect=5, read=5, total=8))
    start = time.monotonic()
    stream = chat(client, stream=True)
    chunks, error = consume(stream)
    elapsed = time.monotonic() - start
    assert error is None and len(chunks) == 1 and stream.finished
    assert elapsed < 3.0
    chat(client)
    assert server.accepted == 2


def test_a_responses_stream_delivers_its_final_event_before_the_drain(serve, client_for):
    """F12 (extended), Responses: response.completed reaches the caller at once although the
    server keeps the body open with comments; the stream then ends within the drain bound."""
    def handler(req: Any, reply: Any) -> None:
        reply.start_chunked()
        for frame in response_stream(["Hel", "lo"]):
            reply.chunk(frame)
        keep_alive_comments(reply)

    client = client_for(serve(handler), timeout=Timeout(connect=5, read=5, total=8))
    start = time.monotonic()
    stream = client.responses.create(model="grok-4", input="Hi", stream=True)
    arrived = {}
    for event in stream:
        arrived[event.type] = time.monotonic() - start
    assert arrived["response.completed"] < 3.0
    assert time.monotonic() - start < 3.0
    assert stream.get_final_response().status == "completed"


# -- item 23: a kept-alive connection closed at the moment of reuse --------------------------------


def race_on_reuse(close: str, every_connection: bool = False) -> Any:
    """Answer the first request on each connection; read the second and hang up without a byte
    (the server's keep-alive timeout fired as the request arrived). With ``every_connection``
    even a fresh connection's first request gets no answer."""
    seen: Dict[int, int] = {}

    def handler(req: Any, reply: Any) -> None:
        seen[req.connection] = seen.get(req.connection, 0) + 1
        if seen[req.connection] == 2 or every_connection:
            return reply.reset() if close == "reset" else reply.close()
        if req.path.endswith("/models"):
            reply.json(models_body("grok-4"))
        else:
            ok_completion(req, reply)

    return handler


@pytest.mark.parametrize("close", ["fin", "reset"])
@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda client: client.models.list(), id="GET"),
        pytest.param(lambda client: chat(client, extra_headers={"Idempotency-Key": "k-1"}), id="POST+Idempotency-Key"),
    ],
)
def test_a_request_lost_to_the_keep_alive_race_is_replayed_once(serve, client_for, log_records, close, call):
    """F26, I3 (extended): a reused connection that ends before any byte of the answer is replayed
    once on a fresh connection for an idempotent method or an Idempotency-Key (Go's rule), and
    the replay is logged as an attempt."""
    server = serve(race_on_reuse(close))
    client = client_for(server)
    call(client)
    call(client)
    assert len(server.requests) == 3 and server.accepted == 2
    replays = [r for r in log_records if getattr(r, "event", None) == "connection_replayed"]
    assert len(replays) == 1 and replays[0].attempt == 1


def test_a_replay_refused_still_says_the_request_may_have_been_sent(serve, client_for, canary):
    """F26, F1, I3: when the replay's new connection is refused, the error is the refusal, but
    with request_sent=True: the lost copy went out whole and may have reached the server."""
    def handler(req: Any, reply: Any) -> None:
        if len(server.requests) == 1:
            return reply.json(models_body("grok-4"))
        server.listener.shutdown(socket.SHUT_RDWR)  # from now on, connecting is refused
        reply.close()

    server = serve(handler)
    client = client_for(server)
    client.models.list()
    with pytest.raises(NetworkError) as info:
        client.models.list()
    assert info.value.reason == "refused" and info.value.request_sent is True
    assert len(server.requests) == 2
    assert_no_key(info.value, canary)


def test_a_plain_post_lost_to_the_race_is_not_replayed(serve, client_for, canary):
    """F26, F4, I3: a POST without an Idempotency-Key that was written whole is not replayed: the
    server may have acted on it."""
    server = serve(race_on_reuse("fin"))
    client = client_for(server)
    chat(client)
    with pytest.raises(NetworkError, match="without answering") as info:
        chat(client)
    assert len(server.requests) == 2
    assert_no_key(info.value, canary)


def test_a_fresh_connection_is_never_replayed(serve, client_for, canary):
    """F26, F4, I3: on a connection opened for this request, no answer is an error at once."""
    server = serve(race_on_reuse("fin", every_connection=True))
    with pytest.raises(NetworkError) as info:
        client_for(server).models.list()
    assert len(server.requests) == 1
    assert_no_key(info.value, canary)


# -- item 25 (transport part): a cut stream's message -----------------------------------------------


@pytest.mark.parametrize("cut", [b"64\r\ndata: {\"id\"", b""], ids=["inside-a-chunk", "between-chunks"])
def test_a_cut_stream_counts_what_arrived(serve, client_for, canary, cut):
    """F14 (extended): a chunked stream cut after 3 events (inside the 4th HTTP chunk, or
    before it) says it broke after 3 chunks and never claims that 0 bytes were received."""
    def handler(req: Any, reply: Any) -> None:
        reply.start_chunked()
        for piece in ("a", "b", "c"):
            reply.chunk(as_event(chunk_event(piece)))
        reply.send(cut)
        reply.close()

    chunks, error = consume(chat(client_for(serve(handler)), stream=True))
    assert len(chunks) == 3 and isinstance(error, StreamingError)
    assert error.chunks_delivered == 3
    assert "after 3 chunks" in str(error) and "0 bytes" not in str(error)
    assert_no_key(error, canary)


# -- item 8: os.fork() --------------------------------------------------------------------------------


def echo_connection(req: Any, reply: Any) -> None:
    """Answer with the asked content and the connection the request came on."""
    reply.json(completion_body("%s@%d" % (req.json["messages"][0]["content"], req.connection)))


def run_forked(child: Any, parent: Any) -> Any:
    """Fork; the child runs ``child()`` and sends back its JSON result (then os._exit), while the
    parent runs ``parent()``. Returns (parent's result, child's result); fails if the child hung."""
    reader, writer = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork() with threads running
        pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        status = 1
        try:
            os.write(writer, json.dumps(child()).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(writer)
    try:
        mine = parent()
    finally:
        deadline = time.monotonic() + 20
        done, status = os.waitpid(pid, os.WNOHANG)
        while not done and time.monotonic() < deadline:
            time.sleep(0.05)
            done, status = os.waitpid(pid, os.WNOHANG)
        if not done:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        output = os.read(reader, 65536)
        os.close(reader)
    assert done and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "the child hung or failed"
    return mine, json.loads(output)


def asker(client: xai_lite.Client) -> Any:
    def ask(who: str) -> str:
        return str(chat(client, messages=[{"role": "user", "content": who}]).choices[0].message.content)

    return ask


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_after_fork_parent_and_child_never_share_a_connection(serve, client_for):
    """I1, I3 (extended to os.fork): a child forked while the parent's pool holds a kept-alive connection opens its
    own connection and gets its own answers; the parent keeps its connection and its answers."""
    server = serve(echo_connection)
    ask = asker(client_for(server, timeout=Timeout(connect=5, read=5, total=10)))
    assert ask("parent") == "parent@1"
    parent, child = run_forked(lambda: [ask("child"), ask("child")], lambda: [ask("parent") for _ in range(3)])
    assert parent == ["parent@1"] * 3
    assert child[0] == child[1] and child[0].startswith("child@") and child[0] != "child@1"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_pool_lock_held_at_fork_time_does_not_deadlock_the_child(serve, client_for):
    """I1, I4 (extended to os.fork): the pool's lock, held by the parent at the moment of the fork (as another
    thread may hold it), is replaced in the child, whose calls go through."""
    server = serve(echo_connection)
    client = client_for(server, timeout=Timeout(connect=5, read=5, total=10))
    ask = asker(client)
    ask("parent")
    lock = client._transport._pool._lock
    lock.acquire()

    def parent() -> str:
        lock.release()
        return ask("parent")

    mine, child = run_forked(lambda: ask("child"), parent)
    assert mine == "parent@1" and child.startswith("child@") and child != "child@1"
