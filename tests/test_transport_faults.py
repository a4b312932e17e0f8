"""Transport faults over real loopback sockets: refused, reset, cut, oversized, slow, garbled."""

from __future__ import annotations

import socket
import threading
import time
import tracemalloc

import pytest
from harness import completion_body, full_backlog, ok_completion, open_fds

import xai_lite
from xai_lite import HttpError, NetworkError, RequestTimeoutError, Timeout

MESSAGES = [{"role": "user", "content": "Hi"}]


def chat(client, **kwargs):
    return client.chat.completions.create(model="grok-4", messages=MESSAGES, **kwargs)


def test_connection_refused(canary):
    """F1: a port nobody listens on gives NetworkError(reason='refused', request_sent=False)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # bound, not listening: the kernel refuses connections
    port = sock.getsockname()[1]
    client = xai_lite.Client(api_key=canary, base_url="http://127.0.0.1:%d/v1" % port)
    try:
        with pytest.raises(NetworkError) as info:
            chat(client)
    finally:
        sock.close()
    assert info.value.reason == "refused" and info.value.request_sent is False
    assert "127.0.0.1:%d" % port in str(info.value)


def test_connect_timeout(canary):
    """F2: a server whose accept queue is full times out in the connect phase, within bounds."""
    with full_backlog() as port:
        client = xai_lite.Client(api_key=canary, base_url="http://127.0.0.1:%d/v1" % port,
                                 timeout=Timeout(connect=0.3, read=5, total=10))
        start = time.monotonic()
        with pytest.raises(RequestTimeoutError) as info:
            chat(client)
    elapsed = time.monotonic() - start
    assert info.value.phase == "connect" and info.value.request_sent is False
    assert 0.25 <= elapsed < 1.5


def test_dns_failure(canary):
    """F3: an unresolvable host gives NetworkError(reason='dns') naming the host, never the key."""
    client = xai_lite.Client(api_key=canary, base_url="https://no-such-host.invalid/v1")
    with pytest.raises(NetworkError) as info:
        chat(client)
    assert info.value.reason == "dns" and info.value.request_sent is False
    assert "no-such-host.invalid" in str(info.value) and canary not in str(info.value)


def test_reset_after_request_is_ambiguous(serve, client_for):
    """F4: a reset after the whole request arrived is NetworkError(request_sent=True), sent once."""
    server = serve(lambda req, reply: reply.reset())
    with pytest.raises(NetworkError) as info:
        chat(client_for(server))
    assert info.value.reason == "reset" and info.value.request_sent is True
    assert len(server.requests) == 1


def test_close_without_answer(serve, client_for):
    """F4 (FIN variant): a server that closes without a status line raises NetworkError."""
    server = serve(lambda req, reply: reply.close())
    with pytest.raises(NetworkError, match="without answering"):
        chat(client_for(server))


def test_body_shorter_than_content_length(serve, client_for):
    """F5: a body cut short of its Content-Length is HttpError with the byte counts; the
    connection is not reused."""
    def handler(req, reply):
        if len(server.requests) == 1:
            reply.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\":")
            reply.close()
        else:
            ok_completion(req, reply)

    server = serve(handler)
    client = client_for(server)
    with pytest.raises(HttpError, match=r"cut off: 6 bytes received, 94 more expected"):
        chat(client)
    assert chat(client).choices[0].message.content == "Hello"
    assert server.accepted == 2


def test_chunked_body_cut(serve, client_for):
    """F5 (chunked): a chunked body cut mid-chunk raises HttpError, not IncompleteRead."""
    def handler(req, reply):
        reply.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"20\r\n{\"choices\":")
        reply.close()

    with pytest.raises(HttpError, match="cut off"):
        chat(client_for(serve(handler)))


def test_close_delimited_body_cut(serve, client_for):
    """F6: a close-delimited body cut short fails JSON parsing as HttpError with an excerpt."""
    def handler(req, reply):
        reply.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"choices\": [")
        reply.close()

    with pytest.raises(HttpError, match=r"not valid JSON.*choices"):
        chat(client_for(serve(handler)))


def test_header_block_cut(serve, client_for):
    """F7: a header block cut off by the server never becomes an empty success."""
    def handler(req, reply):
        reply.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Partial: ab")
        reply.close()

    with pytest.raises(HttpError):
        chat(client_for(serve(handler)))


def test_conflicting_content_lengths(serve, client_for):
    """F8: two different Content-Length headers are refused before the body is read."""
    def handler(req, reply):
        reply.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n"
                   b"Content-Length: 13\r\n\r\n{\"choices\":[]}")

    with pytest.raises(HttpError, match="conflicting Content-Length"):
        chat(client_for(serve(handler)))


def test_huge_declared_length_is_refused_before_reading(serve, client_for):
    """F9: Content-Length 10^12 with a 2-byte body fails at once, without allocating (CVE-2025-13836)."""
    def handler(req, reply):
        reply.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n{}")

    client = client_for(serve(handler))
    tracemalloc.start()
    start = time.monotonic()
    try:
        with pytest.raises(HttpError, match="over the .*limit"):
            chat(client)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - start < 1.0
    assert peak < 1024 * 1024


@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
@pytest.mark.parametrize("excess", [-1, 0, 1])
def test_body_size_cap_boundary(serve, client_for, framing, excess):
    """F10: a body of cap-1 or cap bytes is read; cap+1 raises, whatever the framing."""
    cap = 4096
    body = completion_body("x")
    raw = __import__("json").dumps(body).encode()
    raw = raw[:-1] + b" " * (cap + excess - len(raw)) + b"}"
    assert len(raw) == cap + excess

    def handler(req, reply):
        if framing == "length":
            reply.respond(200, raw)
        elif framing == "chunked":
            reply.start_chunked(content_type="application/json")
            for i in range(0, len(raw), 1000):
                reply.chunk(raw[i:i + 1000])
            reply.end_chunks()
        else:
            reply.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n" + raw)
            reply.close()

    client = client_for(serve(handler), max_response_bytes=cap)
    if excess > 0:
        with pytest.raises(HttpError, match="limit"):
            chat(client)
    else:
        assert chat(client).choices[0].message.content == "x"


def test_read_timeout(serve, client_for):
    """F11: headers that never come raise RequestTimeoutError(phase='read') on time."""
    server = serve(lambda req, reply: reply.hang(5))
    client = client_for(server, timeout=Timeout(connect=1, read=0.5, total=10))
    start = time.monotonic()
    with pytest.raises(RequestTimeoutError) as info:
        chat(client)
    assert info.value.phase == "read" and info.value.request_sent is True
    assert 0.45 <= time.monotonic() - start < 1.5
    assert len(server.requests) == 1


@pytest.mark.parametrize("where", ["headers", "body", "stream"])
def test_slow_loris_hits_the_total_deadline(serve, client_for, where):
    """F12: a server trickling one byte every 0.1 s is stopped by the total deadline (2 s), in
    the headers, in a body and in a stream, although no single read ever times out."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"

    def handler(req, reply):
        if where == "headers":
            reply.trickle(head + b"{}", 0.1)
        elif where == "body":
            reply.send(head)
            reply.trickle(b"{" * 1000, 0.1)
        else:
            reply.start_chunked()
            for _ in range(100):
                if reply.server.stopping.is_set():
                    return
                reply.chunk(b":\n")  # a comment: keeps the stream "alive" without an event
                time.sleep(0.1)

    client = client_for(serve(handler), timeout=Timeout(connect=1, read=1, total=2))
    start = time.monotonic()
    with pytest.raises(RequestTimeoutError) as info:
        if where == "stream":
            list(chat(client, stream=True))
        else:
            chat(client)
    elapsed = time.monotonic() - start
    assert info.value.phase == "deadline"
    assert 1.7 <= elapsed < 2.6, elapsed


@pytest.mark.parametrize(
    "raw,match",
    [
        (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n\r\n{}",
         "gzip"),
        (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}", "invalid Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: -5\r\n\r\n{}", "invalid Content-Length"),
        (b"SPDY/9 200 OK\r\n\r\n", "malformed"),
        (b"HTTP/1.1 abc OK\r\n\r\n", "malformed"),
        (b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n", "malformed"),
        (b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(150)) + b"\r\n", "malformed"),
        (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "malformed|cut off"),
    ],
)
def test_protocol_garbage_raises_http_error(serve, client_for, raw, match):
    """F27, F28: malformed framing, bad status lines, huge headers and unasked encodings raise
    HttpError, never a raw http.client exception."""
    def handler(req, reply):
        reply.send(raw)
        reply.close()

    with pytest.raises(HttpError, match=match):
        chat(client_for(serve(handler)))


def test_endless_continue_is_bounded_by_the_deadline(serve, client_for):
    """F27: a server that sends 100 Continue forever is stopped by the total deadline (CVE-2021-3737)."""
    def handler(req, reply):
        for _ in range(1000):
            if reply.server.stopping.is_set():
                return
            try:
                reply.send(b"HTTP/1.1 100 Continue\r\n\r\n")
            except OSError:
                return
            time.sleep(0.01)

    client = client_for(serve(handler), timeout=Timeout(connect=1, read=1, total=1))
    with pytest.raises(RequestTimeoutError):
        chat(client)


def test_keep_alive_reuses_one_connection(serve, client_for):
    """Sequential calls share one kept-alive connection."""
    server = serve(ok_completion)
    client = client_for(server)
    for _ in range(5):
        chat(client)
    assert server.accepted == 1 and len(server.requests) == 5


def test_idle_connection_closed_by_server_is_not_an_error(serve, client_for):
    """F26: the server closes each kept-alive connection after answering; the next call notices
    before reusing it, reconnects, and the server sees exactly one request per call."""
    def handler(req, reply):
        ok_completion(req, reply)
        time.sleep(0.05)
        reply.close()

    server = serve(handler)
    client = client_for(server)
    for _ in range(3):
        chat(client)
        time.sleep(0.15)
    assert len(server.requests) == 3 and server.accepted == 3


def test_concurrent_calls_share_the_pool_safely(serve, client_for):
    """64 threads on one client all get their own answer; no fd is left behind after close()."""
    def handler(req, reply):
        reply.json(completion_body(req.json["messages"][0]["content"]))

    server = serve(handler)
    before = open_fds()
    client = client_for(server)
    results = {}

    def work(i):
        r = client.chat.completions.create(model="grok-4", messages=[{"role": "user", "content": str(i)}])
        results[i] = r.choices[0].message.content

    threads = [threading.Thread(target=work, args=(i,)) for i in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert results == {i: str(i) for i in range(64)}
    client.close()
    deadline = time.monotonic() + 2
    while open_fds() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert open_fds() <= before


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_oversized_body_never_holds_two_copies(serve, client_for, framing):
    """L5, F10: a chunked or close-delimited body over the cap is refused with peak memory
    under cap + 2 MiB (the pieces are not joined before the size check)."""
    cap = 4 * 1024 * 1024
    piece = b" " * (256 * 1024)

    def handler(req, reply):
        if framing == "chunked":
            reply.start_chunked(content_type="application/json")
            for _ in range(32):
                reply.chunk(piece)
            reply.end_chunks()
        else:
            reply.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
            for _ in range(32):
                reply.send(piece)
            reply.close()

    client = client_for(serve(handler), max_response_bytes=cap)
    tracemalloc.start()
    try:
        with pytest.raises(HttpError, match="limit"):
            chat(client)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < cap + 2 * 1024 * 1024


def test_request_ids_from_the_server_are_sanitised(serve, client_for):
    """B15: an x-request-id with control characters is cleaned before it reaches a result or an error."""
    def handler(req, reply):
        status = 200 if req.json["messages"][0]["content"] == "ok" else 500
        reply.respond(status, __import__("json").dumps(completion_body()).encode(), {"x-request-id": "id\x07-\x1b[31m1"})

    client = client_for(serve(handler))
    result = client.chat.completions.create(model="grok-4", messages=[{"role": "user", "content": "ok"}])
    assert result.request_id == "id-[31m1"
    with pytest.raises(xai_lite.ServerError) as info:
        client.chat.completions.create(model="grok-4", messages=[{"role": "user", "content": "fail"}])
    assert info.value.request_id == "id-[31m1" and "\x07" not in str(info.value)
