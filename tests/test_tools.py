"""Function tools from Python functions, validation of tool definitions, and the tool-call loop
over chat completions and the Responses API (parallel and sequential, failing and unknown
tools, max_turns), over real sockets."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import List, Literal, Optional

import pytest
from corpus import body_bytes, load
from harness import chunk_event, completion_body, error_reply, in_turn, response_body, scripted, tool_call_completion

from xai_lite import (
    ApiError, Conversation, InvalidArgumentError, MaxTurnsError, RequestTimeoutError, ServerError, run_tools, tool,
    web_search,
)

MESSAGES = [{"role": "user", "content": "Weather in Paris and Rome?"}]


@tool
def get_weather(city: str, unit: Literal["C", "F"] = "C") -> str:
    """The current weather in a city.

    Args:
        city: The city, e.g. "Paris".
        unit: Degrees Celsius or
            Fahrenheit.
    """
    return "%s: 21 %s" % (city, unit)


@dataclass
class Point:
    x: float
    y: float


def distance(a: Point, b: Point, *, scale: Optional[float] = None) -> float:
    """Distance between two points.

    :param a: The first point.
    :param b: The second point.
    :returns: the distance
    """
    return ((a.x - b.x) ** 2 + (a.y - b.y) ** 2) ** 0.5 * (scale or 1)


def test_tool_builds_the_spec_from_signature_hints_and_docstring():
    """Name, summary, parameter types, defaults (not required) and Args: descriptions become the
    schema; the decorated function stays callable."""
    assert get_weather("Oslo") == "Oslo: 21 C"
    assert get_weather.chat_spec() == {"type": "function", "function": {
        "name": "get_weather", "description": "The current weather in a city.",
        "parameters": {"type": "object", "additionalProperties": False, "required": ["city"], "properties": {
            "city": {"type": "string", "description": 'The city, e.g. "Paris".'},
            "unit": {"type": "string", "enum": ["C", "F"], "description": "Degrees Celsius or Fahrenheit."}}}}}
    spec = tool(distance, name="dist").responses_spec()
    assert spec["name"] == "dist" and spec["type"] == "function" and spec["description"] == "Distance between two points."
    assert spec["parameters"]["required"] == ["a", "b"]
    assert spec["parameters"]["properties"]["a"]["description"] == "The first point."
    assert spec["parameters"]["properties"]["scale"] == {"anyOf": [{"type": "number"}, {"type": "null"}]}
    assert tool(distance).invoke('{"a": {"x": 0, "y": 0}, "b": {"x": 3, "y": 4}}') == 5.0


def test_tool_matches_a_recorded_function_definition():
    """A decorated function gives the tool definition ruby_llm sent to the real API (apart from
    the "strict" it put inside the parameters)."""
    @tool(strict=False)
    def weather(latitude: str, longitude: str) -> str:
        """Gets current weather for a location

        Args:
            latitude: Latitude (e.g., 52.5200)
            longitude: Longitude (e.g., 13.4050)
        """
        return ""

    (recorded,) = load("responses_function_call__ruby_llm_36.json")["request"]["json"]["tools"]
    recorded["parameters"].pop("strict")
    assert weather.responses_spec() == recorded


@pytest.mark.parametrize("tools, choice, match", [
    ([{"type": "function", "function": {"name": "bad name", "parameters": {}}}], None, "'bad name' is not allowed"),
    ([{"type": "function", "function": {"name": "x" * 65, "parameters": {}}}], None, "1 to 64"),
    ([{"type": "function", "function": {"name": "f", "description": "d" * 1025}}], None, "1025 characters"),
    ([get_weather, {"type": "function", "function": {"name": "get_weather"}}], None, "used twice"),
    ([{"type": "function", "function": {"name": "f%d" % i}} for i in range(351)], None, "at most 350"),
    ([get_weather], {"type": "function", "function": {"name": "nope"}}, "'nope', which is not among the tools"),
    (None, "required", "needs tools"),
    ([get_weather], "sometimes", "tool_choice must be"),
    ([42], None, r"tools\[0\] is a int"),
])
def test_bad_tool_definitions_are_refused_before_any_request(serve, client_for, tools, choice, match):
    """Names, descriptions, duplicates, the 350-tool limit and tool_choice are checked before any
    connection, for chat completions and for run_tools."""
    server = serve(scripted(completion_body()))
    client = client_for(server)
    kwargs = {"tools": tools} if tools is not None else {}
    if choice is not None:
        kwargs["tool_choice"] = choice
    with pytest.raises(InvalidArgumentError, match=match):
        client.chat.completions.create(model="grok-4", messages=MESSAGES, **kwargs)
    if tools is not None:
        with pytest.raises(InvalidArgumentError, match=match):
            run_tools(client, model="grok-4", messages=MESSAGES, **kwargs)
    assert server.accepted == 0
    with pytest.raises(InvalidArgumentError, match="no \\*args"):
        tool(lambda *args: None)


def test_functions_in_chat_tools_become_specs(serve, client_for):
    """A plain function or tool() object in chat tools=[...] is sent as its definition."""
    server = serve(scripted(completion_body()))
    client_for(server).chat.completions.create(model="grok-4", messages=MESSAGES, tools=[get_weather, distance])
    assert server.requests[0].json["tools"] == [get_weather.chat_spec(), tool(distance).chat_spec()]


def test_run_tools_runs_parallel_calls_in_threads_and_returns_the_answer(serve, client_for):
    """Two calls in one answer run at the same time (each waits for the other at a barrier),
    their results go back in call order, and the final answer ends the loop."""
    barrier = threading.Barrier(2, timeout=5)

    @tool
    def slow_weather(city: str) -> dict:
        """Weather, slowly."""
        barrier.wait()
        return {"city": city, "temp": 21}

    server = serve(scripted(tool_call_completion(("c1", "slow_weather", {"city": "Paris"}), ("c2", "slow_weather", {"city": "Rome"})),
                            completion_body("Both 21")))
    run = run_tools(client_for(server), model="grok-4", messages=MESSAGES, tools=[slow_weather], temperature=0)
    assert run.text == "Both 21" and run.turns == 2 and [r.error for r in run.results] == [None, None]
    second = server.requests[1].json
    assert second["temperature"] == 0 and second["tools"] == [slow_weather.chat_spec()]
    assert second["messages"][0] == MESSAGES[0] and second["messages"][1]["tool_calls"][1]["id"] == "c2"
    assert second["messages"][2:] == [
        {"role": "tool", "tool_call_id": "c1", "content": json.dumps({"city": "Paris", "temp": 21})},
        {"role": "tool", "tool_call_id": "c2", "content": json.dumps({"city": "Rome", "temp": 21})}]
    assert run.messages == second["messages"] + [{"role": "assistant", "content": "Both 21"}]


def test_parallel_false_runs_calls_one_after_the_other(serve, client_for):
    """With parallel=False the second call starts only after the first has finished."""
    log: List[str] = []

    def step(name: str) -> str:
        """Log a step."""
        log.append("start " + name)
        time.sleep(0.05)
        log.append("end " + name)
        return name

    server = serve(scripted(tool_call_completion(("c1", "step", {"name": "a"}), ("c2", "step", {"name": "b"})),
                            completion_body("done")))
    run_tools(client_for(server), model="grok-4", messages=MESSAGES, tools=[step], parallel=False)
    assert log == ["start a", "end a", "start b", "end b"]


def test_failing_unknown_and_misused_tools_become_error_results(serve, client_for):
    """A tool that raises, an unknown tool and bad arguments each send an error to the model and
    are kept in run.results; the loop goes on to the answer."""
    def explode(reason: str) -> str:
        """Always fails."""
        raise ValueError("boom: " + reason)

    server = serve(scripted(tool_call_completion(("c1", "explode", {"reason": "x"}), ("c2", "teleport", {}),
                                                 ("c3", "get_weather", {"city": 5})),
                            completion_body("Sorry")))
    run = run_tools(client_for(server), model="grok-4", messages=MESSAGES, tools=[explode, get_weather])
    sent = {m["tool_call_id"]: json.loads(m["content"])["error"] for m in server.requests[1].json["messages"][2:]}
    assert sent == {"c1": "ValueError: boom: x",
                    "c2": "LookupError: unknown tool 'teleport'; the tools are: explode, get_weather",
                    "c3": 'ValueError: invalid arguments: city: expected string, got 5'}
    assert [type(r.error) for r in run.results] == [ValueError, LookupError, ValueError]
    assert run.text == "Sorry"


def unanswered(history):
    """The ids of the tool calls (chat) or function_call items (Responses) in ``history`` that
    have no result after them."""
    waiting = []
    for entry in history:
        entry = entry if isinstance(entry, dict) else entry.to_dict()
        waiting += [c["id"] for c in entry.get("tool_calls") or ()]
        if entry.get("type") == "function_call":
            waiting.append(entry["call_id"])
        answered = entry.get("tool_call_id") if entry.get("role") == "tool" else None
        if entry.get("type") == "function_call_output":
            answered = entry["call_id"]
        if answered in waiting:
            waiting.remove(answered)
    return waiting


def test_max_turns_reached_raises_with_a_history_that_can_be_sent_again(serve, client_for):
    """A model that keeps asking for tools stops after max_turns calls with MaxTurnsError; the
    error's history ends with the last tool results (every call in it answered), and the last
    answer, whose calls were not run, is run.response."""
    server = serve(scripted(tool_call_completion(("c", "get_weather", {"city": "Paris"}))))
    with pytest.raises(MaxTurnsError, match="max_turns=3") as info:
        run_tools(client_for(server), model="grok-4", messages=MESSAGES, tools=[get_weather], max_turns=3)
    run = info.value.run
    assert len(server.requests) == 3 and run.turns == 3 and len(run.results) == 2
    assert [r.output for r in run.results] == ["Paris: 21 C"] * 2
    assert [m["role"] for m in run.messages] == ["user", "assistant", "tool", "assistant", "tool"]
    assert unanswered(run.messages) == [] and run.messages == server.requests[2].json["messages"]
    assert run.response.choices[0].message.tool_calls[0].id == "c"


def test_max_turns_on_the_responses_api_leaves_no_call_unanswered(serve, client_for):
    """On the Responses API too, the history of MaxTurnsError has an output for every
    function_call item it holds."""
    call = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_weather",
            "arguments": '{"city": "Rome"}', "status": "completed"}
    server = serve(scripted(response_body(output=[call])))
    with pytest.raises(MaxTurnsError) as info:
        run_tools(client_for(server), model="grok-4", input="Weather?", tools=[get_weather], max_turns=2, store=False)
    run = info.value.run
    assert [i["type"] if isinstance(i, dict) else i.type for i in run.messages[1:]] == ["function_call", "function_call_output"]
    assert unanswered(run.messages) == [] and run.response.function_calls[0].call_id == "call_1"


def test_run_tools_on_the_responses_api_continues_with_previous_response_id(serve, client_for):
    """On the Responses API, function_call items are answered with function_call_output items
    sent with previous_response_id; instructions go with the first turn only."""
    call = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_weather",
            "arguments": '{"city": "Paris", "unit": "F"}', "status": "completed"}
    server = serve(scripted(response_body(output=[call], rid="r1"), response_body("It is 21 F.", rid="r2")))
    run = run_tools(client_for(server), model="grok-4", input="Weather?", tools=[get_weather], instructions="Be brief.")
    first, second = (r.json for r in server.requests)
    assert first["input"] == [{"role": "user", "content": "Weather?"}] and first["instructions"] == "Be brief."
    assert first["tools"] == [get_weather.responses_spec()]
    assert second["previous_response_id"] == "r1" and "instructions" not in second
    assert second["input"] == [{"type": "function_call_output", "call_id": "call_1", "output": "Paris: 21 F"}]
    assert run.text == "It is 21 F." and run.messages[1].to_dict() == call


def test_run_tools_stateless_replays_the_recorded_turns(serve, client_for):
    """With store=False the second request replays the recorded reasoning and function_call items
    and adds the tool's output, and the recorded follow-up answer ends the run."""
    first = load("responses_function_call__ruby_llm_36.json")
    second = load("responses_function_call_output_followup__ruby_llm_37.json")
    bodies = [json.loads(body_bytes(first)), json.loads(body_bytes(second))]
    server = serve(scripted(*bodies))

    def weather(latitude: str, longitude: str) -> str:
        """Gets current weather for a location"""
        return "Current weather at %s, %s: 15°C, Wind: 10 km/h" % (latitude, longitude)

    request = first["request"]["json"]
    run = run_tools(client_for(server), model=request["model"], input=request["input"], tools=[weather],
                    store=False, include=request["include"])
    sent = server.requests[1].json["input"]
    recorded = second["request"]["json"]["input"]
    assert sent[0] == recorded[0] and sent[1:3] == bodies[0]["output"] and sent[3] == recorded[3]
    assert "previous_response_id" not in server.requests[1].json
    assert run.text == bodies[1]["output"][-1]["content"][0]["text"] and run.turns == 2


CALL = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_weather",
        "arguments": '{"city": "Oslo"}', "status": "completed"}


@pytest.mark.parametrize("api, given, sent", [
    ("chat", {"type": "function", "name": "get_weather"}, {"type": "function", "function": {"name": "get_weather"}}),
    ("chat", {"type": "function", "function": {"name": "get_weather"}}, {"type": "function", "function": {"name": "get_weather"}}),
    ("responses", {"type": "function", "function": {"name": "get_weather"}}, {"type": "function", "name": "get_weather"}),
    ("responses", {"type": "function", "name": "get_weather"}, {"type": "function", "name": "get_weather"}),
])
def test_tool_choice_is_sent_in_the_shape_of_each_api(serve, client_for, api, given, sent):
    """A tool_choice naming a function, in either API's shape, is sent nested on chat and flat on
    the Responses API, by create() and by run_tools() alike."""
    server = serve(lambda req, reply: reply.json(completion_body() if api == "chat" else response_body()))
    client = client_for(server)
    if api == "chat":
        client.chat.completions.create(model="grok-4", messages=MESSAGES, tools=[get_weather], tool_choice=given)
        run_tools(client, model="grok-4", messages=MESSAGES, tools=[get_weather], tool_choice=given)
    else:
        client.responses.create(model="grok-4", input="Weather?", tools=[get_weather], tool_choice=given)
        run_tools(client, model="grok-4", input="Weather?", tools=[get_weather], tool_choice=given)
    assert [r.json["tool_choice"] for r in server.requests] == [sent, sent]


def forcing_model(api):
    """A handler that calls get_weather whenever the request's tool_choice forces a call (as the
    API does), and answers otherwise."""
    def handler(request, reply):
        forced = request.json.get("tool_choice") not in (None, "auto", "none")
        if api == "chat":
            reply.json(tool_call_completion(("c1", "get_weather", {"city": "Oslo"})) if forced else completion_body("Cold."))
        else:
            reply.json(response_body(output=[CALL], rid="r1") if forced else response_body("Cold.", rid="r2"))
    return handler


@pytest.mark.parametrize("api", ["chat", "responses"])
@pytest.mark.parametrize("choice", ["required", {"type": "function", "name": "get_weather"}])
def test_a_forcing_tool_choice_is_relaxed_after_the_tools_ran(serve, client_for, api, choice):
    """tool_choice "required" (or naming a function) goes with the first turn only; after the
    tools ran, "auto" lets the model answer, and the other keywords stay."""
    server = serve(forcing_model(api))
    args = {"messages": MESSAGES} if api == "chat" else {"input": "Weather?"}
    run = run_tools(client_for(server), model="grok-4", tools=[get_weather], tool_choice=choice, temperature=0, **args)
    assert run.text == "Cold." and run.turns == 2 and [r.output for r in run.results] == ["Oslo: 21 C"]
    assert server.requests[0].json["tool_choice"] != "auto"
    assert server.requests[1].json["tool_choice"] == "auto" and server.requests[1].json["temperature"] == 0


def test_a_conversation_with_a_forcing_tool_choice_ends_its_turns(serve, client_for):
    """A Conversation with tool_choice="required" finishes each send() and stream() turn, and
    forces the tool again at the start of the next turn."""
    def handler(request, reply):
        forced = request.json.get("tool_choice") == "required"
        if not request.json.get("stream"):
            forcing_model("chat")(request, reply)
            return
        call = {"index": 0, "id": "c2", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'}}
        reply.sse([chunk_event(tool_calls=[call]), chunk_event(finish="tool_calls")] if forced
                  else [chunk_event("Warm."), chunk_event(finish="stop")])

    server = serve(handler)
    chat = Conversation(client_for(server), tools=[get_weather], tool_choice="required")
    assert chat.send("Oslo?").content == "Cold."
    assert "".join(chat.stream("Rome?")) == "Warm."
    assert [r.json["tool_choice"] for r in server.requests] == ["required", "auto", "required", "auto"]
    assert [m["role"] for m in chat.messages] == ["user", "assistant", "tool", "assistant"] * 2


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_a_failed_model_call_keeps_the_run_so_far(serve, client_for, api):
    """When the model call after a tool round fails, the error is raised as it is (not chained)
    with the run so far as error.run: the tool results, and a history that can be sent again."""
    first = tool_call_completion(("c1", "get_weather", {"city": "Oslo"})) if api == "chat" else response_body(output=[CALL])
    server = serve(in_turn(lambda req, reply: reply.json(first), error_reply(500, message="model crashed")))
    args = {"messages": MESSAGES} if api == "chat" else {"input": "Weather?", "store": False}
    with pytest.raises(ServerError, match="model crashed") as info:
        run_tools(client_for(server), model="grok-4", tools=[get_weather], **args)
    error = info.value
    assert error.__cause__ is None and error.__context__ is None
    run = error.run
    assert run.turns == 1 and [r.output for r in run.results] == ["Oslo: 21 C"]
    assert unanswered(run.messages) == [] and len(run.messages) == 3
    history = [m if isinstance(m, dict) else m.to_dict() for m in run.messages]
    assert server.requests[1].json[next(iter(args))] == history


def test_a_model_call_that_times_out_keeps_the_run_so_far(serve, client_for):
    """A timeout on a later turn carries the tool results too; a failure on the first turn
    carries an empty run."""
    def handler(request, reply):
        if len(server.requests) == 1:
            reply.json(tool_call_completion(("c1", "get_weather", {"city": "Oslo"})))
        else:
            reply.hang(5)

    server = serve(handler)
    with pytest.raises(RequestTimeoutError) as info:
        run_tools(client_for(server, timeout=0.3), model="grok-4", messages=MESSAGES, tools=[get_weather])
    assert [r.output for r in info.value.run.results] == ["Oslo: 21 C"]
    refused = serve(error_reply(400, message="bad model"))
    with pytest.raises(ApiError) as info:
        run_tools(client_for(refused), model="grok-4", messages=MESSAGES, tools=[get_weather])
    assert info.value.run.turns == 0 and info.value.run.results == [] and info.value.run.text is None


@pytest.mark.parametrize("spec", [
    {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}},
    {"type": "function", "name": "lookup", "parameters": {"type": "object"}},
])
def test_function_definitions_without_a_function_are_refused_by_the_loops(serve, client_for, spec):
    """run_tools and a Conversation with tools refuse a function tool given only as a dict (every
    call of it would fail) before any request; server-side tool dicts are fine."""
    server = serve(lambda req, reply: reply.json(response_body()))
    client = client_for(server)
    for args in ({"messages": MESSAGES}, {"input": "Weather?"}):
        with pytest.raises(InvalidArgumentError, match=r"tools\[1\]: the function tool 'lookup'.*tool\(fn\)"):
            run_tools(client, model="grok-4", tools=[get_weather, spec], **args)
    with pytest.raises(InvalidArgumentError, match="pass the Python function"):
        Conversation(client, tools=[spec])
    assert server.accepted == 0
    assert run_tools(client, model="grok-4", input="Weather?", tools=[get_weather, web_search()]).text == "Hello"
