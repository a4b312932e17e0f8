"""client.responses over real sockets: requests, streams (ends, errors, truncation, connection
reuse), retrieve/delete/input_items/compact, continuing a conversation, and client-side refusals."""

from __future__ import annotations

import copy
import json
import pickle

import pytest
from corpus import body_bytes, load, replay
from harness import consume, open_fds, response_body, response_event, response_stream

from xai_lite import (
    ApiError, InvalidArgumentError, NotFoundError, StreamingError, StructuredOutputError, code_interpreter, web_search,
)
from xai_lite import responses as R

INPUT = [{"role": "user", "content": "Hi"}]


def sse(frames, done=False):
    return lambda req, reply: reply.sse(frames, done=done)


def test_create_sends_every_given_field_and_parses_the_result(serve, client_for):
    """Keywords become body fields as given, extra_body adds more, and the result is typed."""
    server = serve(lambda req, reply: reply.json(response_body("Hi there"), headers={"x-request-id": "r-9"}))
    r = client_for(server).responses.create(
        model="grok-4", input="What is xAI?", store=False, include=["reasoning.encrypted_content"],
        max_output_tokens=50, reasoning={"effort": "low"}, temperature=None, extra_body={"new_field": 1},
    )
    assert server.requests[0].json == {
        "model": "grok-4", "input": "What is xAI?", "store": False, "include": ["reasoning.encrypted_content"],
        "max_output_tokens": 50, "reasoning": {"effort": "low"}, "temperature": None, "new_field": 1}
    assert (server.requests[0].method, server.requests[0].path) == ("POST", "/v1/responses")
    assert r.output_text == "Hi there" and r.status == "completed" and r.request_id == "r-9"
    assert r.usage.output_tokens_details.reasoning_tokens == 4 and r.usage.reasoning_tokens == 4


def test_unknown_keyword_is_a_type_error_pointing_to_extra_body(serve, client_for):
    """A misspelt field raises TypeError naming it and extra_body, before any connection."""
    server = serve(lambda req, reply: reply.json(response_body()))
    with pytest.raises(TypeError, match="'max_tokens'.*extra_body"):
        client_for(server).responses.create(model="grok-4", input="x", max_tokens=5)
    assert server.accepted == 0


@pytest.mark.parametrize("kwargs, match", [
    ({"search_parameters": {"mode": "auto"}}, "removed by xAI.*410.*web_search\\(\\).*x_search\\(\\)"),
    ({"extra_body": {"search_parameters": {}}}, "Live Search"),
    ({"tools": [{"type": "live_search"}]}, "410"),
    ({"tools": [{"type": "web_search", "search_context_size": "medium"}]}, "search_context_size.*rejects"),
    ({"tools": [{"type": "web_search", "user_location": {"country": "DE"}}]}, "user_location"),
    ({"tools": [{"type": "code_interpreter", "container": "auto"}]}, "container"),
    ({"tools": [{"type": "file_search", "vector_store_ids": ["c1"], "filters": {}}]}, "filters"),
    ({"tools": [{"type": "web_search", "allowed_domains": ["a.com"], "excluded_domains": ["b.com"]}]}, "not both"),
    ({"tools": [{"type": "x_search", "allowed_x_handles": ["h%d" % i for i in range(11)]}]}, "at most 10"),
    ({"instructions": "Be brief.", "previous_response_id": "r1"}, "instructions cannot be used with previous_response_id"),
    ({"tools": [{"type": "function", "name": "f", "parameters": {}}], "tool_choice": {"type": "function", "name": "g"}},
     "'g', which is not among the tools \\(f\\)"),
    ({"input": ""}, "input is empty"),
    ({"input": ["just a string"]}, "input\\[0\\] is a str"),
    ({"model": ""}, "model must be"),
])
def test_refused_before_any_request(serve, client_for, kwargs, match):
    """Arguments the API would reject raise InvalidArgumentError with a clear message, and no
    connection is opened."""
    server = serve(lambda req, reply: reply.json(response_body()))
    args = dict(model="grok-4", input=INPUT)
    args.update(kwargs)
    with pytest.raises(InvalidArgumentError, match=match):
        client_for(server).responses.create(**args)
    assert server.accepted == 0


def test_server_tool_helpers_build_what_the_api_takes_and_refuse_what_it_rejects():
    """web_search() and code_interpreter() build their specs; rejected fields are refused by name."""
    assert web_search(allowed_domains=("x.ai",), enable_image_understanding=True) == {
        "type": "web_search", "allowed_domains": ["x.ai"], "enable_image_understanding": True}
    assert code_interpreter() == {"type": "code_interpreter"}
    with pytest.raises(InvalidArgumentError, match="web_search does not accept 'search_context_size'.*leave it out"):
        web_search(search_context_size="high")
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        web_search(colour="red")


def test_chat_shaped_function_tools_are_flattened_for_responses(serve, client_for):
    """A function tool in the chat shape is sent in the flat Responses shape."""
    server = serve(lambda req, reply: reply.json(response_body()))
    fn = {"name": "f", "description": "d", "parameters": {"type": "object", "properties": {}}}
    client_for(server).responses.create(model="grok-4", input="x", tools=[{"type": "function", "function": fn}],
                                        tool_choice={"type": "function", "name": "f"})
    assert server.requests[0].json["tools"] == [dict(fn, type="function")]


def test_stream_ends_at_completed_without_done_and_reuses_the_connection(serve, client_for):
    """A stream ends at response.completed (xAI sends no [DONE]); its connection is reused."""
    server = serve(sse(response_stream(["Hel", "lo"])))
    client = client_for(server)
    for _ in range(2):
        with client.responses.create(model="grok-4", input=INPUT, stream=True) as stream:
            events = list(stream)
        assert [e.type for e in events] == ["response.created", "response.output_text.delta",
                                            "response.output_text.delta", "response.completed"]
        assert isinstance(events[1], R.DeltaEvent) and events[1].delta == "Hel"
        assert stream.finished and stream.get_final_response().output_text == "Hello"
    assert server.accepted == 1
    assert server.requests[0].json["stream"] is True and server.requests[0].headers["accept"] == "text/event-stream"


def test_stream_with_done_after_the_terminal_event(serve, client_for):
    """A stream that does send data: [DONE] after response.completed ends cleanly too."""
    server = serve(sse(response_stream(["a"]), done=True))
    events, error = consume(client_for(server).responses.create(model="grok-4", input=INPUT, stream=True))
    assert error is None and events[-1].type == "response.completed"


@pytest.mark.parametrize("terminal", ["response.failed", "response.incomplete"])
def test_failed_and_incomplete_end_the_stream(serve, client_for, terminal):
    """response.failed and response.incomplete end the stream; the final response says why."""
    final = response_body("part", status=terminal.split(".")[1], error={"code": "x", "message": "broke"},
                          incomplete_details={"reason": "max_output_tokens"})
    server = serve(sse(response_stream(["part"], terminal=terminal, final=final)))
    stream = client_for(server).responses.create(model="grok-4", input=INPUT, stream=True)
    events, error = consume(stream)
    assert error is None and events[-1].type == terminal
    assert stream.get_final_response().to_dict() == final


@pytest.mark.parametrize("frame", [
    b'event: error\ndata: {"type":"error","code":null,"message":"Service temporarily unavailable. The model did not respond to this request.","param":null}\n\n',
    b'data: {"type":"error","code":null,"message":"Service temporarily unavailable. The model did not respond to this request.","param":null}\n\n',
])
def test_error_event_raises_after_the_events_before_it(serve, client_for, frame):
    """An error event (with or without an event: line) raises ApiError after the two events before it."""
    frames = response_stream(["a", "b"])[:3] + [frame]
    stream = client_for(serve(sse(frames))).responses.create(model="grok-4", input=INPUT, stream=True)
    events, error = consume(stream)
    assert [e.type for e in events] == ["response.created", "response.output_text.delta", "response.output_text.delta"]
    assert isinstance(error, ApiError) and error.chunks_delivered == 3
    assert "The model did not respond" in error.message and error.client_request_id


@pytest.mark.parametrize("done", [False, True])
def test_stream_cut_before_its_terminal_event_raises(serve, client_for, done):
    """A stream that ends (or sends [DONE]) before response.completed raises StreamingError after
    delivering every event that arrived, and get_final_response() then refuses."""
    frames = response_stream(["a", "b"])[:-1]
    stream = client_for(serve(sse(frames, done=done))).responses.create(model="grok-4", input=INPUT, stream=True)
    events, error = consume(stream)
    assert len(events) == 3 and isinstance(error, StreamingError) and error.chunks_delivered == 3
    assert "response.completed" in error.message and "cut off" in error.message
    with pytest.raises(RuntimeError, match="ended with an error"):
        stream.get_final_response()


def test_a_final_event_without_its_response_is_a_streaming_error(serve, client_for):
    """response.completed without a response object raises instead of ending with nothing."""
    frames = response_stream(["a"])[:-1] + [response_event("response.completed", sequence_number=9)]
    events, error = consume(client_for(serve(sse(frames))).responses.create(model="grok-4", input=INPUT, stream=True))
    assert len(events) == 2 and isinstance(error, StreamingError) and "event 3 does not have the shape" in error.message


def test_event_name_stands_in_for_a_missing_type(serve, client_for):
    """A payload without "type" takes its type from the event: line, as xai-sdk-ts does; unknown
    types are delivered as plain ResponseStreamEvent with their fields."""
    frames = [b'event: ping\ndata: {"sequence_number": 0}\n\n',
              response_event("response.new_thing.happened", sequence_number=1, extra=True)] + response_stream([])[1:]
    events, error = consume(client_for(serve(sse(frames))).responses.create(model="grok-4", input=INPUT, stream=True))
    assert error is None and [e.type for e in events[:2]] == ["ping", "response.new_thing.happened"]
    assert type(events[1]) is R.ResponseStreamEvent and events[1].extra is True


def test_leaving_a_stream_early_closes_its_connection(serve, client_for):
    """break out of a stream, and the next request needs a new connection (nothing half-read is reused)."""
    server = serve(sse(response_stream(["a", "b", "c"])))
    client = client_for(server)
    with client.responses.create(model="grok-4", input=INPUT, stream=True) as stream:
        next(iter(stream))
    with pytest.raises(RuntimeError, match="closed before its end"):
        iter(stream)
    list(client.responses.create(model="grok-4", input=INPUT, stream=True))
    assert server.accepted == 2


def test_a_dropped_stream_closes_its_connection_at_once(serve, client_for):
    """A stream dropped before its end closes its socket at once, without the cycle collector."""
    server = serve(sse(response_stream(["a"] * 50)))
    client = client_for(server)
    assert client.responses.create(model="grok-4", input=INPUT, stream=True).get_final_response().output_text == "a" * 50
    before = open_fds()
    stream = client.responses.create(model="grok-4", input=INPUT, stream=True)  # takes the pooled connection
    next(iter(stream))
    del stream
    assert open_fds() <= before - 1
    assert client.responses.create(model="grok-4", input=INPUT, stream=True).get_final_response().output_text == "a" * 50
    assert server.accepted == 2


def test_json_error_answer_to_a_stream_request(serve, client_for):
    """A 200 JSON {"code","error"} answer to stream=True raises the server's words."""
    body = {"code": "The service is currently unavailable", "error": "Timed out waiting for first token"}
    with pytest.raises(ApiError, match="Timed out waiting for first token"):
        client_for(serve(lambda req, reply: reply.json(body))).responses.create(model="grok-4", input="x", stream=True)


def test_retrieve_delete_and_paginated_input_items(serve, client_for):
    """retrieve/delete/input_items use the documented paths (ids percent-encoded), and
    iter_all() follows has_more with after=last_id."""
    pages = {"": {"object": "list", "data": [{"type": "message", "id": "i1", "role": "user",
                                             "content": [{"type": "input_text", "text": "a"}]}],
                  "first_id": "i1", "last_id": "i1", "has_more": True},
             "i1": {"object": "list", "data": [{"type": "function_call_output", "id": "i2", "call_id": "c", "output": "4"}],
                    "first_id": "i2", "last_id": "i2", "has_more": False}}

    def handler(req, reply):
        if req.method == "DELETE":
            reply.json({"id": "r/1", "object": "response", "deleted": True})
        elif req.path.endswith("/input_items"):
            after = dict(p.split("=") for p in req.query.split("&")).get("after", "")
            reply.json(pages[after])
        else:
            reply.json(response_body(rid="r/1"))

    server = serve(handler)
    responses = client_for(server).responses
    assert responses.retrieve("r/1").id == "r/1"
    assert responses.delete("r/1").deleted is True
    page = responses.input_items("r/1", limit=1, order="asc")
    items = list(page.iter_all())
    assert [type(i) for i in items] == [R.MessageItem, R.FunctionCallOutputItem] and items[1].output == "4"
    assert [(r.method, r.target) for r in server.requests] == [
        ("GET", "/v1/responses/r%2F1"), ("DELETE", "/v1/responses/r%2F1"),
        ("GET", "/v1/responses/r%2F1/input_items?limit=1&order=asc"),
        ("GET", "/v1/responses/r%2F1/input_items?limit=1&order=asc&after=i1")]
    with pytest.raises(InvalidArgumentError, match="limit"):
        responses.input_items("r", limit=101)
    assert server.accepted == 1


def test_retrieve_unknown_response_is_not_found(serve, client_for):
    """404 on retrieve raises NotFoundError with the server's words."""
    server = serve(lambda req, reply: reply.json({"code": "not-found", "error": "No responses could be found"}, status=404))
    with pytest.raises(NotFoundError, match="No responses could be found"):
        client_for(server).responses.retrieve("nope")


def test_compact_returns_the_compaction_to_continue_with(serve, client_for):
    """compact() posts model and input and returns the compaction item, usage fields kept."""
    body = {"id": "cmp_1", "object": "response.compaction", "created_at": 1, "model": "grok-4",
            "output": [{"type": "compaction", "id": "cmp_1", "encrypted_content": "SECRET"}],
            "usage": {"input_tokens": 10, "output_tokens": 2, "total_tokens": 12, "dropped_message_count": 3}}
    server = serve(lambda req, reply: reply.json(body))
    compacted = client_for(server).responses.compact(model="grok-4", input=INPUT * 3)
    assert server.requests[0].path == "/v1/responses/compact" and server.requests[0].json == {"model": "grok-4", "input": INPUT * 3}
    assert isinstance(compacted.output[0], R.CompactionItem) and compacted.output[0].encrypted_content == "SECRET"
    assert compacted.usage.dropped_message_count == 3 and compacted.to_dict() == body


def test_previous_response_id_continues_a_stored_conversation(serve, client_for):
    """The follow-up names the previous response and sends only the new turn."""
    server = serve(lambda req, reply: reply.json(response_body(rid="r%d" % len(server.requests))))
    client = client_for(server)
    first = client.responses.create(model="grok-4", input="My name is Ada.")
    client.responses.create(model="grok-4", input="What is my name?", previous_response_id=first.id)
    assert server.requests[1].json == {"model": "grok-4", "input": "What is my name?", "previous_response_id": "r1"}


def test_stateless_replay_sends_recorded_output_items_back_unchanged(serve, client_for):
    """With store=False the reply's output items (encrypted reasoning included) go back as input
    exactly as the server sent them."""
    record = load("responses_basic__ruby_llm_34.json")
    server = serve(replay(record))
    client = client_for(server)
    history = [{"role": "user", "content": "What's 2 + 2?"}]
    r = client.responses.create(model="grok-4.3", input=history, store=False, include=["reasoning.encrypted_content"])
    history += r.output + [{"role": "user", "content": "And times 3?"}]
    client.responses.create(model="grok-4.3", input=history, store=False, include=["reasoning.encrypted_content"])
    raw_output = json.loads(body_bytes(record))["output"]
    sent = server.requests[1].json["input"]
    assert sent[1:3] == raw_output and sent[1]["encrypted_content"] == raw_output[0]["encrypted_content"]


def test_both_shapes_of_server_tool_items_parse():
    """2025 (name/arguments) and 2026 (action, code, custom_tool_call) server-tool items parse,
    keep unknown fields, and read the same through their properties."""
    old = R.OutputItem.from_dict({"type": "web_search_call", "name": "web_search", "arguments": '{"query":"q1"}', "call_id": ""})
    new = R.OutputItem.from_dict({"type": "web_search_call", "action": {"type": "search", "query": "q1", "sources": []}})
    code_old = R.OutputItem.from_dict({"type": "code_interpreter_call", "arguments": '{"code":"print(1)"}'})
    code_new = R.OutputItem.from_dict({"type": "code_interpreter_call", "code": "print(1)", "outputs": [], "future": 1})
    unknown = R.OutputItem.from_dict({"type": "tool_search_output", "id": "t", "tools": ["a"]})
    plain = R.OutputItem.from_dict({"type": "message", "role": "user", "content": "Hi"})
    assert type(plain) is R.MessageItem and plain.text == "Hi" and plain.to_dict()["content"] == "Hi"
    assert old.query == new.query == "q1" and code_old.code == code_new.code == "print(1)"
    assert code_new.future == 1 and code_new.to_dict()["future"] == 1
    assert type(unknown) is R.OutputItem and unknown.tools == ["a"]
    mcp = R.OutputItem.from_dict({"type": "mcp_call", "name": "t", "server_label": "s", "output": "o"})
    image = R.OutputItem.from_dict({"type": "image_generation_call", "result": "aGk=", "status": "generating"})
    files = R.OutputItem.from_dict({"type": "file_search_call", "queries": ["q"], "results": []})
    assert (type(mcp), type(image), type(files)) == (R.McpCallItem, R.ImageGenerationCallItem, R.FileSearchCallItem)


def test_usage_cost_from_ticks_or_nano_usd():
    """cost_usd reads cost_in_usd_ticks (10^-10 USD), else cost_in_nano_usd (10^-9 USD)."""
    assert R.ResponseUsage.from_dict({"cost_in_usd_ticks": 5743500}).cost_usd == 5743500 / 1e10
    assert R.ResponseUsage.from_dict({"cost_in_nano_usd": 2500}).cost_usd == 2500 / 1e9
    assert R.ResponseUsage.from_dict({}).cost_usd is None


def test_named_keep_alive_events_without_a_json_object_are_skipped(serve, client_for):
    """Mid-stream "event: ping" frames with empty or non-JSON data are skipped (not delivered,
    not an error), while named events carrying a JSON object are still delivered."""
    frames = response_stream(["a", "b"])
    frames[2:2] = [b"event: ping\ndata: \n\n", b"event: ping\ndata: keep-alive\n\n", b"event: ping\ndata: [1]\n\n",
                   b'event: ping\ndata: {"sequence_number": 5}\n\n']
    events, error = consume(client_for(serve(sse(frames))).responses.create(model="grok-4", input=INPUT, stream=True))
    assert error is None
    assert [e.type for e in events] == ["response.created", "response.output_text.delta", "ping",
                                        "response.output_text.delta", "response.completed"]


def test_a_typed_event_with_an_error_field_is_delivered(serve, client_for):
    """An event whose type is not "error" but which carries an "error" field (a failed tool call)
    is delivered and the stream goes on; an untyped {"error": ...} still raises ApiError."""
    failed = response_event("response.mcp_call.failed", sequence_number=2, item_id="mcp_1", output_index=0,
                            error={"message": "the MCP server refused"})
    frames = response_stream(["a"])
    events, error = consume(client_for(serve(sse(frames[:2] + [failed] + frames[2:]))).responses.create(
        model="grok-4", input=INPUT, stream=True))
    assert error is None and events[2].type == "response.mcp_call.failed"
    assert events[2].error == {"message": "the MCP server refused"} and events[-1].type == "response.completed"
    untyped = b'data: {"error": {"message": "overloaded", "code": 503}}\n\n'
    events, error = consume(client_for(serve(sse(frames[:2] + [untyped]))).responses.create(
        model="grok-4", input=INPUT, stream=True))
    assert len(events) == 2 and isinstance(error, ApiError) and "overloaded" in error.message


def test_null_lists_read_as_empty(serve, client_for):
    """A response with "output": null, or a message with "content": null, reads as having no
    text and no calls, and to_dict() still gives the nulls the server sent."""
    message = {"type": "message", "id": "m", "role": "assistant", "status": "completed", "content": None}
    bodies = [dict(response_body(), output=None), response_body(output=[message])]
    server = serve(lambda req, reply: reply.json(bodies[len(server.requests) - 1]))
    client = client_for(server)
    r = client.responses.create(model="grok-4", input="x")
    assert (r.output_text, r.function_calls, r.to_dict()["output"]) == ("", [], None)
    with pytest.raises(StructuredOutputError, match="not valid JSON"):
        client.responses.parse(model="grok-4", input="x", text_format={"type": "object"})
    r = R.Response.from_dict(response_body(output=[message]))
    assert r.output_text == "" and r.output[0].text == "" and r.to_dict()["output"] == [message]
    page = R.InputItemsPage.from_dict({"object": "list", "data": None, "has_more": False})
    assert list(page) == [] and len(page) == 0 and list(page.iter_all()) == []


def test_an_input_items_page_pickles_and_copies_without_its_client(serve, client_for):
    """A page pickles and deep-copies with its items; the copy cannot fetch the next page and
    says how to, while the original still can."""
    pages = [{"object": "list", "data": [{"type": "message", "id": "i1", "role": "user", "content": "a"}],
              "first_id": "i1", "last_id": "i1", "has_more": True},
             {"object": "list", "data": [{"type": "message", "id": "i2", "role": "user", "content": "b"}],
              "first_id": "i2", "last_id": "i2", "has_more": False}]
    server = serve(lambda req, reply: reply.json(pages[len(server.requests) - 1]))
    page = client_for(server).responses.input_items("r1", limit=1)
    for twin in (pickle.loads(pickle.dumps(page)), copy.deepcopy(page), copy.copy(page)):
        assert twin.to_dict() == pages[0] and [i.text for i in twin] == ["a"]
        with pytest.raises(RuntimeError, match=r"client.responses.input_items\(response_id, after='i1'\)"):
            twin.next_page()
    assert [i.id for i in page.iter_all()] == ["i1", "i2"] and len(server.requests) == 2
