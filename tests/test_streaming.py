"""Chat streams over real sockets: exact delivery, errors after the chunks before them,
truncation never looking like success, timeouts, and connections released or closed."""

from __future__ import annotations

import gc
import json
import time

import pytest
from harness import chunk_event, completion_body, consume, open_fds

from xai_lite import (
    ApiError,
    ChatCompletionAccumulator,
    HttpError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    StreamingError,
    Timeout,
)

MESSAGES = [{"role": "user", "content": "Hi"}]
PIECES = ["one ", "two ", "three ", "four "]


def stream(client, **kwargs):
    return client.chat.completions.create(model="grok-4", messages=MESSAGES, stream=True, **kwargs)


def contents(chunks):
    return [c.choices[0].delta.content for c in chunks if c.choices]


def test_done_ends_the_stream_and_keeps_the_connection(serve, client_for):
    """E20: [DONE] ends the stream; bytes after it are ignored; the connection is reused."""
    def handler(req, reply):
        reply.start_chunked()
        for piece in PIECES:
            reply.chunk(b"data: " + json.dumps(chunk_event(piece)).encode() + b"\n\n")
        reply.chunk(b"data: [DONE]\n\ndata: " + json.dumps(chunk_event("ignored")).encode() + b"\n\n")
        reply.end_chunks()

    server = serve(handler)
    client = client_for(server)
    for _ in range(2):
        s = stream(client)
        assert contents(s) == PIECES and s.finished
    assert server.accepted == 1


def test_bare_cr_event_is_delivered_without_waiting(serve, client_for):
    """E4, E27: an event ended by CR CR, then a second of silence, arrives within 100 ms."""
    def handler(req, reply):
        reply.start_chunked()
        reply.chunk(b"data: " + json.dumps(chunk_event("now")).encode() + b"\r\r")
        time.sleep(1.0)
        reply.chunk(b"data: [DONE]\r\r")
        reply.end_chunks()

    s = stream(client_for(serve(handler)))
    start = time.monotonic()
    first = next(iter(s))
    assert first.choices[0].delta.content == "now"
    assert time.monotonic() - start < 0.1
    assert contents(s) == []


def test_error_payload_raises_after_the_chunks_before_it(serve, client_for):
    """E21, F16: an {"error":...} event after two chunks raises the API error after them."""
    events = [chunk_event("a"), chunk_event("b"),
              {"error": {"message": "Service temporarily unavailable.", "code": 503}}]
    server = serve(lambda req, reply: reply.sse(events, done=False))
    got, err = consume(stream(client_for(server)))
    assert contents(got) == ["a", "b"]
    assert isinstance(err, ServerError) and err.chunks_delivered == 2
    assert "Service temporarily unavailable." in err.message and err.client_request_id


def test_error_event_before_any_chunk(serve, client_for):
    """E21, F16: an `event: error` before any data raises at once with the server's words."""
    events = [b'event: error\ndata: {"error": {"message": "rate limited", "type": "rate_limit", "code": 429}}\n\n']
    server = serve(lambda req, reply: reply.sse(events, done=False))
    got, err = consume(stream(client_for(server)))
    assert got == [] and isinstance(err, RateLimitError) and err.chunks_delivered == 0
    assert "rate limited" in err.message


def test_plain_text_error_event(serve, client_for):
    """An `event: error` whose data is plain text still raises ApiError carrying that text."""
    server = serve(lambda req, reply: reply.sse([chunk_event("a"), b"event: error\ndata: model overloaded\n\n"]))
    got, err = consume(stream(client_for(server)))
    assert contents(got) == ["a"] and isinstance(err, ApiError) and "model overloaded" in err.message


def test_json_error_answer_to_a_stream_request(serve, client_for):
    """F17: xAI's 200 application/json {"code","error"} answer to stream=True raises its words."""
    body = {"code": "The service is currently unavailable", "error": "Timed out waiting for first token"}
    server = serve(lambda req, reply: reply.json(body))
    with pytest.raises(ApiError, match="Timed out waiting for first token") as info:
        stream(client_for(server))
    assert info.value.status_code == 200 and info.value.client_request_id


def test_json_completion_answer_to_a_stream_request(serve, client_for):
    """F17: a server that ignores stream=True and sends a completion gets a clear HttpError."""
    server = serve(lambda req, reply: reply.json(completion_body()))
    with pytest.raises(HttpError, match="not support streaming|instead of an event stream"):
        stream(client_for(server))


@pytest.mark.parametrize("status", [400, 404, 410, 503])
def test_error_status_on_a_stream_request(serve, client_for, status):
    """E22: a non-2xx answer to a stream request raises the status error without SSE parsing."""
    server = serve(lambda req, reply: reply.respond(status, b'{"error": "nope"}'))
    with pytest.raises(ApiError) as info:
        stream(client_for(server))
    assert info.value.status_code == status and "nope" in info.value.message
    req = server.requests[0]
    assert req.headers["accept"] == "text/event-stream" and "last-event-id" not in req.headers


@pytest.mark.parametrize("ctype", ["text/html", "text/plain", None])
def test_wrong_content_type_on_a_stream(serve, client_for, ctype):
    """F18, E22: a 200 that is not an event stream raises HttpError with an excerpt."""
    server = serve(lambda req, reply: reply.respond(200, b"<html>gateway</html>", content_type=ctype))
    with pytest.raises(HttpError, match="event stream"):
        stream(client_for(server))


def test_event_stream_with_parameters_is_accepted(serve, client_for):
    """F18: `text/event-stream; charset=utf-8` is an event stream."""
    def handler(req, reply):
        reply.start_chunked(content_type="text/event-stream; charset=utf-8")
        reply.chunk(b"data: " + json.dumps(chunk_event("x")).encode() + b"\n\ndata: [DONE]\n\n")
        reply.end_chunks()

    assert contents(stream(client_for(serve(handler)))) == ["x"]


@pytest.mark.parametrize("ending", ["chunked", "close"])
def test_stream_without_done_raises_after_delivering_everything(serve, client_for, ending):
    """F15, E19: a clean end without [DONE] delivers every whole event, then StreamingError."""
    def handler(req, reply):
        if ending == "chunked":
            reply.sse([chunk_event(p) for p in PIECES], done=False)
        else:
            reply.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
            for p in PIECES:
                reply.send(b"data: " + json.dumps(chunk_event(p)).encode() + b"\n\n")
            reply.send(b"data: {\"partial")
            reply.close()

    got, err = consume(stream(client_for(serve(handler))))
    assert contents(got) == PIECES
    assert isinstance(err, StreamingError) and err.chunks_delivered == 4 and "without [DONE]" in str(err)
    if ending == "close":
        assert "incomplete event was discarded" in str(err)


@pytest.mark.parametrize("fault", ["reset", "fin"])
def test_stream_cut_mid_event(serve, client_for, fault):
    """F14, E28: a stream cut inside the 4th event delivers 3 chunks once, then StreamingError;
    it is not retried and its connection is not reused."""
    def handler(req, reply):
        if len(server.requests) > 1:
            reply.sse([chunk_event("again")])
            return
        reply.start_chunked()
        for p in PIECES[:3]:
            reply.chunk(b"data: " + json.dumps(chunk_event(p)).encode() + b"\n\n")
        reply.send(b"40\r\ndata: {\"id\": ")  # a chunk announced with 64 bytes, cut after 13
        time.sleep(0.05)
        reply.reset() if fault == "reset" else reply.close()

    server = serve(handler)
    client = client_for(server)
    got, err = consume(stream(client))
    assert contents(got) == PIECES[:3]
    assert isinstance(err, StreamingError) and err.chunks_delivered == 3
    assert len(server.requests) == 1
    assert contents(stream(client)) == ["again"] and server.accepted == 2


def test_stream_silence_trips_the_read_timeout(serve, client_for):
    """F13: three events, then silence: the three arrive, then RequestTimeoutError at the read limit."""
    def handler(req, reply):
        reply.start_chunked()
        for p in PIECES[:3]:
            reply.chunk(b"data: " + json.dumps(chunk_event(p)).encode() + b"\n\n")
        reply.hang(5)

    client = client_for(serve(handler), timeout=Timeout(connect=1, read=0.5, total=10))
    s = stream(client)
    start = time.monotonic()
    got, err = consume(s)
    assert contents(got) == PIECES[:3]
    assert isinstance(err, RequestTimeoutError) and err.phase == "read" and err.chunks_delivered == 3
    assert 0.45 <= time.monotonic() - start < 1.5


def test_comments_keep_an_idle_stream_alive(serve, client_for):
    """E30: keep-alive comments every 0.2 s keep a stream with a 0.5 s read timeout alive."""
    def handler(req, reply):
        reply.start_chunked()
        for _ in range(8):
            reply.chunk(b": keep-alive\n")
            time.sleep(0.2)
        reply.chunk(b"data: " + json.dumps(chunk_event("late")).encode() + b"\n\ndata: [DONE]\n\n")
        reply.end_chunks()

    client = client_for(serve(handler), timeout=Timeout(connect=1, read=0.5, total=10))
    assert contents(stream(client)) == ["late"]


SIZES = [1, 128, 512, 1023, 1024, 1025, 2048, 3999, 4094, 4096, 4098, 6144, 8189, 8192, 8195, 12288, 16384,
         32768, 65536, 262144, 1048576]


def test_payload_size_sweep(serve, client_for):
    """E23: contents from 1 byte to 1 MiB, plus a 2 MiB multi-byte one in 4,093-byte writes, all
    arrive intact over a socket, each within 3 s."""
    texts = ["x" * n for n in SIZES] + ["é€\u2028" * (2 * 1024 * 1024 // 8)]

    def handler(req, reply):
        text = texts[int(req.json["messages"][0]["content"])]
        data = b"data: " + json.dumps(chunk_event(text), ensure_ascii=False).encode() + b"\n\ndata: [DONE]\n\n"
        reply.start_chunked()
        for i in range(0, len(data), 4093):
            reply.chunk(data[i:i + 4093])
        reply.end_chunks()

    client = client_for(serve(handler))
    for i, text in enumerate(texts):
        start = time.monotonic()
        s = client.chat.completions.create(model="grok-4", messages=[{"role": "user", "content": str(i)}],
                                           stream=True)
        assert contents(s) == [text]
        assert time.monotonic() - start < 3


@pytest.mark.parametrize("how", ["break", "close", "with", "gc"])
def test_abandoned_stream_closes_its_connection(serve, client_for, how):
    """F32, E28: leaving a stream early closes its socket instead of pooling an unread body."""
    def handler(req, reply):
        reply.sse([chunk_event(p) for p in PIECES], delay=0.01)

    server = serve(handler)
    client = client_for(server)
    client.chat.completions.create(model="grok-4", messages=MESSAGES, stream=True).get_final_completion()
    before = open_fds()
    s = stream(client)
    if how == "break":
        for _ in s:
            break
        s.close()
    elif how == "close":
        next(iter(s))
        s.close()
    elif how == "with":
        with s:
            next(iter(s))
    else:
        next(iter(s))
        del s
        gc.collect()
    assert open_fds() <= before - 1  # the pooled connection was taken and then closed
    assert contents(stream(client)) == PIECES and server.accepted == 2


def test_iterating_a_closed_stream_is_an_error(serve, client_for):
    """Iterating a stream closed before its end raises RuntimeError saying what to do."""
    s = stream(client_for(serve(lambda req, reply: reply.sse([chunk_event("a")]))))
    s.close()
    with pytest.raises(RuntimeError, match="new request"):
        list(s)


@pytest.mark.parametrize("payload", [b"data: {not json}\n\n", b"data: [1, 2]\n\n", b'data: {"choices": 5}\n\n'])
def test_malformed_chunk_raises_streaming_error(serve, client_for, payload):
    """B14: a data payload that is not a chunk object raises StreamingError naming its index."""
    server = serve(lambda req, reply: reply.sse([chunk_event("a"), payload]))
    got, err = consume(stream(client_for(server)))
    assert contents(got) == ["a"] and isinstance(err, StreamingError) and "chunk 2" in str(err)


def test_json_with_surrounding_whitespace_is_a_chunk(serve, client_for):
    """A payload with extra spaces around the JSON parses as json.loads would parse it."""
    payload = b"data:   " + json.dumps(chunk_event("spaced")).encode() + b"  \n\n"
    assert contents(stream(client_for(serve(lambda req, reply: reply.sse([payload]))))) == ["spaced"]


def test_named_non_error_events_are_not_chunks(serve, client_for):
    """E11: `event: ping` blocks, with or without data, are skipped, never delivered as chunks."""
    server = serve(lambda req, reply: reply.sse([b"event: ping\n\n", b"event: ping\ndata: {}\n\n", chunk_event("a")]))
    assert contents(stream(client_for(server))) == ["a"]


def test_get_final_completion_assembles_everything(serve, client_for):
    """The accumulator assembles content, reasoning, fragmented tool calls by index, usage."""
    usage = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 20,
             "completion_tokens_details": {"reasoning_tokens": 12}}
    call0 = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "weather", "arguments": '{"ci'}}
    call0b = {"index": 0, "function": {"arguments": 'ty": "Paris"}'}}
    call1 = {"index": 1, "id": "call_2", "type": "function", "function": {"name": "time", "arguments": "{}"}}
    events = [
        chunk_event(role="assistant", reasoning_content="Think"),
        chunk_event(reasoning_content="ing."),
        chunk_event("It is "),
        chunk_event("sunny.", tool_calls=[call0]),
        chunk_event(tool_calls=[call0b, call1]),
        chunk_event(finish="tool_calls"),
        chunk_event(choices=False, usage=usage),
    ]
    server = serve(lambda req, reply: reply.sse(events, headers={"x-request-id": "rid-7"}))
    final = stream(client_for(server)).get_final_completion()
    message = final.choices[0].message
    assert message.content == "It is sunny." and message.reasoning_content == "Thinking."
    assert [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls] == [
        ("call_1", "weather", '{"city": "Paris"}'), ("call_2", "time", "{}")]
    assert json.loads(message.tool_calls[0].function.arguments) == {"city": "Paris"}
    assert final.choices[0].finish_reason == "tool_calls"
    assert final.usage.total_tokens == 20 and final.usage.reasoning_tokens == 12
    assert final.request_id == "rid-7" and final.id == "chunk-1"


def test_accumulator_while_iterating_and_several_choices(serve, client_for):
    """ChatCompletionAccumulator.add() works during iteration and keeps choices apart (n=2)."""
    def two(idx, text, finish=None):
        e = chunk_event(text, finish=finish)
        e["choices"][0]["index"] = idx
        return e

    events = [two(0, "A"), two(1, "B"), two(0, "a", "stop"), two(1, "b", "length")]
    s = stream(client_for(serve(lambda req, reply: reply.sse(events))), n=2)
    acc = ChatCompletionAccumulator()
    seen = [acc.add(c) for c in s]
    assert len(seen) == 4 and acc.chunks == 4
    final = acc.completion()
    assert [(c.index, c.message.content, c.finish_reason) for c in final.choices] == [
        (0, "Aa", "stop"), (1, "Bb", "length")]


def test_get_final_completion_after_iterating_is_refused(serve, client_for):
    """get_final_completion() on a partly read stream raises, pointing to the accumulator."""
    s = stream(client_for(serve(lambda req, reply: reply.sse([chunk_event("a"), chunk_event("b")]))))
    next(iter(s))
    with pytest.raises(RuntimeError, match="ChatCompletionAccumulator"):
        s.get_final_completion()
    s.close()
