"""Hostile stream and result payloads (issue 7, items 12, 14 and 15): memory held near the event
cap, JSON nested too deeply to decode, and fields of the wrong type. Each one ends as a typed
XaiError after what came before it was delivered, over real loopback sockets, and no error holds
the key."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tracemalloc

import pytest
from harness import ROOT, chunk_event, completion_body, consume, response_body, response_stream, scripted
from harness import check_raised as assert_no_key

import xai_lite
from xai_lite import (
    ChatCompletionAccumulator,
    StreamingError,
    StructuredOutputError,
    run_tools,
    tool,
)
from xai_lite._sse import SSEDecoder

MESSAGES = [{"role": "user", "content": "Hi"}]
DEEP = "[" * 100_000 + "]" * 100_000  # nested far deeper than any recursion limit (reliability.md M13)


def chat_stream(client):
    return client.chat.completions.create(model="grok-4", messages=MESSAGES, stream=True)


def frames(*payloads):
    """SSE frames of the given data payloads (str as they are, anything else as JSON)."""
    return [b"data: " + (p if isinstance(p, str) else json.dumps(p)).encode() + b"\n\n" for p in payloads]


# -- item 12: memory stays near the event cap ------------------------------------------------------


@pytest.mark.parametrize("piece, cap", [(b"data: ab\n" * 3500, 1 << 19), (b"xy", 1 << 17)],
                         ids=["short-data-lines", "two-byte-reads"])
def test_an_event_of_short_pieces_stays_near_its_cap(piece, cap):
    """E24 (extended): an event grown from `data: ab` lines, or a line from two-byte reads, raises
    at the cap with a traced peak under twice the cap plus a fixed 1 MiB (for the read being
    decoded), not 20-25 times the cap."""
    decoder = SSEDecoder(max_event_chars=cap)
    tracemalloc.start()
    try:
        with pytest.raises(StreamingError, match="limit"):
            for _ in range(4 * cap):
                decoder.feed(piece)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * cap + 1024 * 1024


RSS_SCRIPT = textwrap.dedent("""
    import sys
    sys.path[:0] = [sys.argv[1], sys.argv[1] + "/tests"]
    from harness import LoopbackServer
    import xai_lite

    BLOCK = b"data: abcdefghijkl\\n" * 3000

    def handler(req, reply):
        reply.start_chunked()
        for _ in range(200 * 1024 * 1024 // len(BLOCK)):  # bounded: far more than the cap needs
            try:
                reply.chunk(BLOCK)
            except OSError:
                return
        reply.end_chunks()

    def peak_rss():
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM"))

    server = LoopbackServer(handler)
    client = xai_lite.Client(api_key="xai-" + "k" * 50, base_url=server.url + "/v1")
    before = peak_rss()
    try:
        for _ in client.chat.completions.create(model="grok-4", messages=[{"role": "user", "content": "x"}], stream=True):
            pass
    except xai_lite.StreamingError as exc:
        print(type(exc).__name__, exc.message)
    print(peak_rss() - before)
    client.close()
    server.stop()
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads VmHWM from /proc")
@pytest.mark.timeout(120)
def test_short_data_lines_over_a_socket_keep_rss_near_the_cap():
    """E24, L-targets (extended): a chat stream of short `data:` lines that never ends its event,
    at the default 32 Mi-character cap, fails at the cap with the process's peak RSS growing by
    less than twice the cap plus 16 MiB (with these 12-character lines it grew by 5.6 times the
    cap before, 178 MiB; now by about 34 MiB)."""
    proc = subprocess.run([sys.executable, "-c", RSS_SCRIPT, ROOT], capture_output=True, text=True, timeout=110)
    assert proc.returncode == 0, proc.stderr[-2000:]
    outcome, growth = proc.stdout.strip().splitlines()
    assert outcome.startswith("StreamingError") and "limit" in outcome
    cap = xai_lite._config.DEFAULT_MAX_EVENT_CHARS
    assert int(growth) < 2 * cap + 16 * 1024 * 1024


# -- item 14: JSON nested too deeply -------------------------------------------------------------


def test_deeply_nested_chat_event_is_a_streaming_error(serve, client_for, canary):
    """B11, B14 (extended to streams): a chunk nested 100,000 levels deep raises StreamingError
    after the two chunks before it, not RecursionError."""
    server = serve(lambda req, reply: reply.sse(frames(chunk_event("a"), chunk_event("b"), DEEP)))
    got, error = consume(chat_stream(client_for(server)))
    assert [c.choices[0].delta.content for c in got] == ["a", "b"]
    assert isinstance(error, StreamingError) and error.chunks_delivered == 2
    assert_no_key(error, canary)


def test_deeply_nested_error_event_is_typed(serve, client_for, canary):
    """B14, E21 (extended): an `event: error` whose data is nested 100,000 levels deep still
    raises the stream's API error after the chunk before it."""
    server = serve(lambda req, reply: reply.sse(frames(chunk_event("a")) + [b"event: error\ndata: " + DEEP.encode() + b"\n\n"]))
    got, error = consume(chat_stream(client_for(server)))
    assert len(got) == 1 and isinstance(error, xai_lite.ApiError) and error.chunks_delivered == 1
    assert_no_key(error, canary)


def test_deeply_nested_responses_event_is_a_streaming_error(serve, client_for, canary):
    """B14 (extended): a Responses event nested 100,000 levels deep raises StreamingError after
    the events before it, both as an unnamed and as a named event."""
    head = response_stream(["Hel", "lo"])[:-1]
    for deep in (b"data: " + DEEP.encode() + b"\n\n", b"event: response.output_text.delta\ndata: " + DEEP.encode() + b"\n\n"):
        server = serve(lambda req, reply, deep=deep: reply.sse(head + [deep], done=False))
        got, error = consume(client_for(server).responses.create(model="grok-4", input="Hi", stream=True))
        if deep.startswith(b"event:"):  # a named event that is not a JSON object is a keep-alive: skipped
            assert isinstance(error, StreamingError) and "without response.completed" in error.message
        else:
            assert isinstance(error, StreamingError) and "not a JSON object" in error.message
        assert len(got) == 3 and error.chunks_delivered == 3
        assert_no_key(error, canary)


def test_parse_of_deeply_nested_content_is_a_structured_output_error(serve, client_for, canary):
    """B11 (extended): parse() of content nested 100,000 levels deep raises StructuredOutputError
    (with the completion attached), not RecursionError."""
    server = serve(scripted(completion_body(DEEP)))
    with pytest.raises(StructuredOutputError, match="nested too deeply") as info:
        client_for(server).chat.completions.parse(model="grok-4", messages=MESSAGES, response_format={"type": "array"})
    assert info.value.response.choices[0].message.content == DEEP
    assert_no_key(info.value, canary)


# -- item 15: wrong-typed server fields ------------------------------------------------------------


@pytest.mark.parametrize("kind", [["response.completed"], {"a": 1}, 7], ids=["list", "dict", "int"])
def test_responses_event_with_a_non_string_type_is_a_streaming_error(serve, client_for, canary, kind):
    """B14 (extended): a Responses event whose `type` is a list, an object or a number raises
    StreamingError after the events before it, not TypeError."""
    bad = b"data: " + json.dumps({"type": kind, "sequence_number": 3}).encode() + b"\n\n"
    server = serve(lambda req, reply: reply.sse(response_stream(["a", "b"])[:-1] + [bad], done=False))
    got, error = consume(client_for(server).responses.create(model="grok-4", input="Hi", stream=True))
    assert len(got) == 3
    assert isinstance(error, StreamingError) and error.chunks_delivered == 3 and "shape" in error.message
    assert_no_key(error, canary)


WRONG_CHUNKS = {
    "int-content": (chunk_event(7), "delta.content"),
    "int-arguments": (chunk_event(tool_calls=[{"index": 0, "id": "c1", "type": "function",
                                               "function": {"name": "f", "arguments": 7}}]), "arguments"),
    "list-index": (dict(chunk_event("x"), choices=[{"index": [0], "delta": {"content": "x"}}]), "index"),
    "dict-role": (chunk_event("x", role={"r": 1}), "delta.role"),
}


@pytest.mark.parametrize("case", sorted(WRONG_CHUNKS))
def test_final_completion_with_a_wrong_typed_field_is_a_streaming_error(serve, client_for, canary, case):
    """B14 (extended): get_final_completion() over a stream with a chunk whose content or
    arguments is a number, or whose choice index is a list, raises StreamingError naming the
    field (not TypeError) and closes the connection."""
    bad, field = WRONG_CHUNKS[case]
    server = serve(lambda req, reply: reply.sse(frames(chunk_event("a"), bad, chunk_event("z"))))
    stream = chat_stream(client_for(server))
    with pytest.raises(StreamingError, match=field) as info:
        stream.get_final_completion()
    assert info.value.chunks_delivered == 1 and info.value.client_request_id
    assert not stream.finished
    assert_no_key(info.value, canary)


def test_accumulator_refuses_wrong_types_and_reads_a_null_delta_as_empty(serve, client_for):
    """B14 (extended): a chunk with `"delta": null` iterates and accumulates as an empty delta;
    the accumulator fed a chunk with a numeric content raises StreamingError, not TypeError."""
    null_delta = dict(chunk_event(), choices=[{"index": 0, "delta": None, "finish_reason": "stop"}])
    server = serve(lambda req, reply: reply.sse(frames(chunk_event("a"), null_delta, chunk_event(5))))
    accumulator = ChatCompletionAccumulator()
    stream = chat_stream(client_for(server))
    chunks = list(stream)
    assert chunks[1].choices[0].delta.content is None
    accumulator.add(chunks[0])
    accumulator.add(chunks[1])
    assert accumulator.completion().choices[0].message.content == "a"
    assert accumulator.completion().choices[0].finish_reason == "stop"
    with pytest.raises(StreamingError, match="chunk 3: delta.content is of type int"):
        accumulator.add(chunks[2])


def test_null_choices_read_as_an_empty_list(serve, client_for):
    """B11 (extended): a completion with `"choices": null` has `choices == []` (as a stream chunk
    does), so callers that iterate it or test it meet an empty list, never None."""
    server = serve(scripted(completion_body(choices=None)))
    completion = client_for(server).chat.completions.create(model="grok-4", messages=MESSAGES)
    assert completion.choices == [] and completion.to_dict()["choices"] == []
    chunk = xai_lite.ChatCompletionChunk.from_dict(dict(chunk_event(), choices=None))
    assert chunk.choices == []


def test_parse_of_a_numeric_content_is_a_structured_output_error(serve, client_for, canary):
    """B11 (extended): parse() of a reply whose content is the number 5 raises
    StructuredOutputError naming the type, not TypeError from json.loads."""
    server = serve(scripted(completion_body(5)))
    with pytest.raises(StructuredOutputError, match="of type int") as info:
        client_for(server).chat.completions.parse(model="grok-4", messages=MESSAGES, response_format={"type": "object"})
    assert_no_key(info.value, canary)


def _bad_call_completion(function):
    message = {"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "type": "function", "function": function}]}
    return completion_body(choices=[{"index": 0, "message": message, "finish_reason": "tool_calls"}])


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@pytest.mark.parametrize("function", [None, {"name": ["add"], "arguments": "{}"}, {"name": 7, "arguments": "{}"}],
                         ids=["null-function", "list-name", "int-name"])
def test_run_tools_answers_a_malformed_call_with_an_error_result(serve, client_for, function):
    """B11 (extended): run_tools given a tool call with `"function": null` or a name that is not a
    string sends the model an error result, as for an unknown name, and carries on to the answer."""
    server = serve(scripted(_bad_call_completion(function), completion_body("done")))
    run = run_tools(client_for(server), model="grok-4", messages=MESSAGES, tools=[add])
    assert run.text == "done" and len(run.results) == 1
    result = run.results[0]
    assert isinstance(result.error, LookupError) and "unknown tool" in result.output
    sent = server.requests[1].json["messages"]
    assert sent[-1] == {"role": "tool", "tool_call_id": "c1", "content": result.output}


def test_responses_run_tools_answers_a_non_string_name_with_an_error_result(serve, client_for):
    """B11 (extended): on the Responses API, a function_call item whose name is a list becomes an
    error result for the model too."""
    call = {"type": "function_call", "id": "fc1", "call_id": "c1", "name": ["add"], "arguments": "{}", "status": "completed"}
    server = serve(scripted(response_body(output=[call]), response_body("done")))
    run = run_tools(client_for(server), model="grok-4", input="Hi", tools=[add])
    assert run.text == "done" and isinstance(run.results[0].error, LookupError)
    assert server.requests[1].json["input"][-1]["call_id"] == "c1"



def test_responses_parse_of_a_numeric_text_is_a_structured_output_error(serve, client_for, canary):
    """B11 (extended): responses.parse() of a message whose output_text part holds the number 5
    raises StructuredOutputError with the response attached, not TypeError."""
    message = {"type": "message", "id": "m", "role": "assistant", "status": "completed",
               "content": [{"type": "output_text", "text": 5, "annotations": []}]}
    server = serve(scripted(response_body(output=[message])))
    with pytest.raises(StructuredOutputError, match="malformed") as info:
        client_for(server).responses.parse(model="grok-4", input="Hi", text_format={"type": "object"})
    assert info.value.response.output[0].content[0].text == 5
    assert_no_key(info.value, canary)


def test_final_completion_walks_a_field_nested_as_deep_as_json_decodes(serve, client_for):
    """B11, B14 (extended): a last chunk whose usage carries an array nested 600 levels deep
    (json.loads decodes it) assembles: get_final_completion() and to_dict() copy it without
    RecursionError (a recursive copy needs two frames a level)."""
    nested = json.loads("[" * 600 + "]" * 600)
    last = chunk_event(choices=False, usage={"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3, "x": nested})
    server = serve(lambda req, reply: reply.sse(frames(chunk_event("a"), last)))
    completion = chat_stream(client_for(server)).get_final_completion()
    assert completion.choices[0].message.content == "a" and completion.usage.total_tokens == 3
    assert completion.to_dict()["usage"]["x"] == nested
