"""The client over real loopback sockets: what it sends, what it parses, how errors surface."""

from __future__ import annotations

import json
import pickle
import re

import pytest
from harness import chunk_event, completion_body, ok_completion

import xai_lite
from xai_lite import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    HttpError,
    InvalidArgumentError,
    Message,
    NotFoundError,
    RateLimitError,
    ServerError,
)

MESSAGES = [{"role": "user", "content": "Hi"}]
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_chat_completion_request_and_response(serve, client_for, canary):
    """A call sends the documented headers and exactly the given fields, and parses the reply."""
    server = serve(ok_completion)
    client = client_for(server)
    r = client.chat.completions.create(model="grok-4", messages=MESSAGES, temperature=0.5, max_completion_tokens=10)
    assert r.choices[0].message.content == "Hello"
    assert r.usage.total_tokens == 4
    assert r.request_id == "req-123"
    (req,) = server.requests
    assert (req.method, req.path) == ("POST", "/v1/chat/completions")
    assert req.json == {"model": "grok-4", "messages": MESSAGES, "temperature": 0.5, "max_completion_tokens": 10}
    assert req.headers["authorization"] == "Bearer " + canary
    assert req.headers["content-type"] == "application/json"
    assert req.headers["accept"] == "application/json"
    assert req.headers["user-agent"].startswith("xai-lite/%s python/" % xai_lite.__version__)
    assert UUID.match(req.headers["x-client-request-id"])
    assert req.headers["accept-encoding"] == "identity"


def test_each_call_gets_its_own_client_request_id(serve, client_for):
    """x-client-request-id is a fresh UUID per logical call."""
    server = serve(ok_completion)
    client = client_for(server)
    for _ in range(3):
        client.chat.completions.create(model="grok-4", messages=MESSAGES)
    ids = [r.headers["x-client-request-id"] for r in server.requests]
    assert len(set(ids)) == 3


def test_caller_can_supply_the_client_request_id(serve, client_for):
    """A caller-supplied x-client-request-id is sent as given."""
    server = serve(ok_completion)
    client_for(server).chat.completions.create(
        model="grok-4", messages=MESSAGES, extra_headers={"x-client-request-id": "my-id-1"}
    )
    assert server.requests[0].headers["x-client-request-id"] == "my-id-1"


def test_caller_headers_replace_ours_whatever_their_case(serve, client_for):
    """A caller's X-Client-Request-Id, Accept or User-Agent replaces the client's, never duplicates it."""
    server = serve(ok_completion)
    client = client_for(server, default_headers={"USER-AGENT": "my-tool/1.0"})
    client.chat.completions.create(model="grok-4", messages=MESSAGES,
                                   extra_headers={"X-Client-Request-Id": "mine-1", "ACCEPT": "application/json"})
    raw = server.requests[0].raw_headers
    names = [name.lower() for name, _ in raw]
    assert names.count("x-client-request-id") == names.count("accept") == names.count("user-agent") == 1
    assert dict((k.lower(), v) for k, v in raw)["x-client-request-id"] == "mine-1"
    assert server.requests[0].headers["user-agent"] == "my-tool/1.0"


def test_extra_body_query_headers_and_none_values(serve, client_for):
    """extra_body adds fields, extra_query adds a query, extra_headers add headers; None sends null."""
    server = serve(ok_completion)
    client = client_for(server, default_headers={"X-Team": "a"})
    client.chat.completions.create(
        model="grok-4",
        messages=MESSAGES,
        seed=None,
        extra_body={"new_field": [1, 2]},
        extra_query={"trace": "yes"},
        extra_headers={"X-Team": "b", "X-Other": "c"},
    )
    req = server.requests[0]
    assert req.json == {"model": "grok-4", "messages": MESSAGES, "seed": None, "new_field": [1, 2]}
    assert req.query == "trace=yes"
    assert (req.headers["x-team"], req.headers["x-other"]) == ("b", "c")


def test_typed_messages_serialise_like_dicts(serve, client_for):
    """Message helpers and a previous reply serialise to the wire shape, without null fields."""
    server = serve(ok_completion)
    client = client_for(server)
    previous = client.chat.completions.create(model="grok-4", messages=MESSAGES).choices[0].message
    client.chat.completions.create(
        model="grok-4",
        messages=[
            Message.system("Be brief."),
            Message.user([{"type": "text", "text": "What is this?"},
                          {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]),
            previous,
            Message.assistant(tool_calls=[{"id": "c1", "type": "function",
                                           "function": {"name": "f", "arguments": "{}"}}]),
            Message.tool('{"ok": true}', tool_call_id="c1"),
        ],
    )
    sent = server.requests[1].json["messages"]
    assert sent == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                     {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]},
        {"role": "assistant", "content": "Hello"},
        {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                                              "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "content": '{"ok": true}', "tool_call_id": "c1"},
    ]


def test_unknown_response_fields_are_kept(serve, client_for):
    """A field the client does not know is an attribute and comes back from to_dict()."""
    body = completion_body(brand_new={"x": 1})
    body["choices"][0]["message"]["annotations"] = ["a"]
    server = serve(lambda req, reply: reply.json(body))
    r = client_for(server).chat.completions.create(model="grok-4", messages=MESSAGES)
    assert r.brand_new == {"x": 1}
    assert r.choices[0].message.annotations == ["a"]
    assert r.to_dict() == body


def test_usage_reasoning_and_cost(serve, client_for):
    """Usage exposes reasoning tokens apart from completion tokens, and the cost in USD."""
    usage = {"prompt_tokens": 12, "completion_tokens": 1, "total_tokens": 241,
             "completion_tokens_details": {"reasoning_tokens": 228}, "cost_in_usd_ticks": 1176500}
    server = serve(lambda req, reply: reply.json(completion_body(usage=usage)))
    r = client_for(server).chat.completions.create(model="grok-4", messages=MESSAGES)
    assert r.usage.completion_tokens_details.reasoning_tokens == 228
    assert r.usage.reasoning_tokens == 228
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens + r.usage.reasoning_tokens
    assert r.usage.cost_usd == pytest.approx(0.000117650)


def test_models_list_and_retrieve(serve, client_for):
    """models.list() is iterable and models.retrieve() percent-encodes the id into one segment."""
    models = {"object": "list", "data": [{"id": "grok-4", "object": "model", "created": 1, "owned_by": "xai"},
                                         {"id": "grok-3", "object": "model", "created": 1, "owned_by": "xai"}]}

    def handler(req, reply):
        if req.path == "/v1/models":
            reply.json(models)
        else:
            reply.json({"id": req.path.rsplit("/", 1)[1], "object": "model", "created": 1, "owned_by": "xai"})

    server = serve(handler)
    client = client_for(server)
    listed = client.models.list()
    assert [m.id for m in listed] == ["grok-4", "grok-3"] and len(listed) == 2 and listed[1].id == "grok-3"
    assert client.models.retrieve("a/b?c#d").id == "a%2Fb%3Fc%23d"
    assert server.requests[1].path == "/v1/models/a%2Fb%3Fc%23d"
    assert all(r.method == "GET" and "content-type" not in r.headers for r in server.requests)


@pytest.mark.parametrize("bad", ["", ".", ".."])
def test_path_ids_that_would_change_the_path_are_refused(serve, client_for, bad):
    """An empty or dot-segment id is refused before any request (B9)."""
    server = serve(ok_completion)
    with pytest.raises(InvalidArgumentError):
        client_for(server).models.retrieve(bad)
    assert server.accepted == 0


ERROR_CASES = [
    (400, {"code": "Client specified an invalid argument", "error": "max_tokens too big"}, BadRequestError,
     "max_tokens too big"),
    (400, {"code": "invalid-argument", "error": "Incorrect API key provided. You can obtain one."},
     AuthenticationError, "Incorrect API key provided"),
    (401, {"error": {"message": "No credentials", "type": "auth", "code": "unauthenticated"}}, AuthenticationError,
     "No credentials"),
    (403, {"error": "team blocked"}, AuthenticationError, "team blocked"),
    (404, {"error": {"message": "Model not found"}}, NotFoundError, "Model not found"),
    (422, "Unprocessable Entity. missing field", BadRequestError, "missing field"),
    (429, {"error": "slow down"}, RateLimitError, "slow down"),
    (500, "<html><head><title>500 oops</title></head><body>x</body></html>", ServerError, "oops"),  # str(): "500 oops"
    (503, {"code": "The service is currently unavailable", "error": "at capacity"}, ServerError, "at capacity"),
    (410, {"error": "gone"}, ApiError, "gone"),
]


@pytest.mark.parametrize("status,body,cls,text", ERROR_CASES)
def test_error_statuses_raise_typed_errors(serve, client_for, status, body, cls, text):
    """Each status maps to its class, and every xAI error body shape yields the server's message."""
    raw = json.dumps(body).encode() if isinstance(body, dict) else body.encode()
    ctype = "application/json" if isinstance(body, dict) else "text/html"
    server = serve(lambda req, reply: reply.respond(status, raw, {"x-request-id": "rid-9"}, content_type=ctype))
    with pytest.raises(cls) as info:
        client_for(server).chat.completions.create(model="grok-4", messages=MESSAGES)
    err = info.value
    assert type(err) is cls
    assert text in err.message and err.status_code == status and err.request_id == "rid-9"
    assert err.client_request_id == server.requests[0].headers["x-client-request-id"]
    assert str(status) in str(err)
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is cls and copy.message == err.message and copy.status_code == status


def test_error_message_says_what_to_do(serve, client_for):
    """An auth error tells how to set the key; a 429 tells how long to wait."""
    server = serve(lambda req, reply: reply.respond(401, b'{"error":"bad key"}'))
    with pytest.raises(AuthenticationError, match="XAI_API_KEY"):
        client_for(server).models.list()
    server = serve(lambda req, reply: reply.respond(429, b'{"error":"slow"}', {"Retry-After": "7"}))
    with pytest.raises(RateLimitError) as info:
        client_for(server).models.list()
    assert info.value.retry_after == 7.0 and "7 s" in str(info.value)


def test_not_implemented_does_not_suggest_retrying(serve, client_for):
    """A 501 says the server does not implement the request instead of suggesting a retry."""
    server = serve(lambda req, reply: reply.respond(501, b"", content_type=None))
    with pytest.raises(ServerError) as info:
        client_for(server).models.list()
    assert "does not implement" in str(info.value) and "retry" not in str(info.value)


def test_json_error_in_a_200_response_raises(serve, client_for):
    """xAI's {"code","error"} body with status 200 is an error, not an empty completion."""
    body = {"code": "The service is currently unavailable", "error": "Timed out waiting for first token"}
    server = serve(lambda req, reply: reply.json(body))
    with pytest.raises(ApiError, match="Timed out waiting for first token") as info:
        client_for(server).chat.completions.create(model="grok-4", messages=MESSAGES)
    assert info.value.status_code == 200


@pytest.mark.parametrize(
    "body,ctype,match",
    [
        (b"", "application/json", "not valid JSON"),
        (b"<html>proxy</html>", "text/html", "expected a JSON response"),
        (b'{"choices": [', "application/json", "not valid JSON"),
        (b"[1, 2]", "application/json", "expected a JSON object"),
        (b'{"id": "x"}', "application/json", "no 'choices' field"),
        (b'{"choices": "nope"}', "application/json", "shape"),
        (b"\xef\xbb\xbf{}", "application/json", "not valid JSON"),
        (b'{"a": "\xff"}', "application/json", "not valid UTF-8"),
        (b"[" * 100000, "application/json", "nested too deeply|not valid JSON"),
        (b'{"n": ' + b"9" * 5000 + b"}", "application/json", "not valid JSON|no 'choices'"),
        (b'{"choices": []}', None, "expected a JSON response"),
    ],
)
def test_invalid_success_bodies_raise_http_error(serve, client_for, body, ctype, match):
    """A 200 body that is not a JSON completion raises HttpError with an excerpt (B11, B12)."""
    server = serve(lambda req, reply: reply.respond(200, body, {"x-request-id": "r1"}, content_type=ctype))
    with pytest.raises(HttpError, match=match) as info:
        client_for(server).chat.completions.create(model="grok-4", messages=MESSAGES)
    assert info.value.client_request_id


@pytest.mark.parametrize("status", [204, 101, 299, 600, 999])
def test_odd_statuses_raise(serve, client_for, status):
    """Statuses a JSON endpoint cannot answer with raise a typed error (B13)."""
    server = serve(lambda req, reply: reply.respond(status, b"", content_type=None))
    with pytest.raises((HttpError, ApiError)):
        client_for(server).chat.completions.create(model="grok-4", messages=MESSAGES)


def test_stream_chunks_and_final_usage(serve, client_for):
    """stream=True yields typed chunks, ending with the usage-only chunk, then stops at [DONE]."""
    usage = {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4}
    events = [chunk_event("Hel", role="assistant"), chunk_event("lo"), chunk_event(finish="stop"),
              chunk_event(choices=False, usage=usage)]
    server = serve(lambda req, reply: reply.sse(events))
    stream = client_for(server).chat.completions.create(model="grok-4", messages=MESSAGES, stream=True)
    chunks = list(stream)
    assert [c.choices[0].delta.content for c in chunks[:2]] == ["Hel", "lo"]
    assert chunks[2].choices[0].finish_reason == "stop"
    assert chunks[3].choices == [] and chunks[3].usage.total_tokens == 4
    assert stream.finished
    req = server.requests[0]
    assert req.json["stream"] is True and req.headers["accept"] == "text/event-stream"


def test_with_options_shares_pool_and_changes_settings(serve, client_for):
    """with_options() returns a client with new settings that reuses the same connections."""
    server = serve(ok_completion)
    client = client_for(server)
    client.models.list
    client.chat.completions.create(model="grok-4", messages=MESSAGES)
    other = client.with_options(timeout=5, default_headers={"X-A": "1"})
    other.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert other.timeout.total == 5 and client.timeout.total == xai_lite.Timeout().total
    assert server.requests[1].headers["x-a"] == "1" and "x-a" not in server.requests[0].headers
    assert server.accepted == 1


def test_base_url_setter_validates_and_keeps_old_value(serve, client_for):
    """Setting base_url to an invalid value raises and leaves the old one in place (B4)."""
    server = serve(ok_completion)
    client = client_for(server)
    old = client.base_url
    with pytest.raises(InvalidArgumentError):
        client.base_url = "http://api.x.ai@evil.example/v1"
    assert client.base_url == old
    client.base_url = server.url + "/v1/"
    assert client.base_url == server.url + "/v1"


def test_unknown_keyword_is_a_type_error_before_io(serve, client_for):
    """A misspelt field raises TypeError naming it, and pointing to extra_body."""
    server = serve(ok_completion)
    with pytest.raises(TypeError, match="temprature.*extra_body"):
        client_for(server).chat.completions.create(model="grok-4", messages=MESSAGES, temprature=1)
    assert server.accepted == 0


def test_live_search_is_refused_client_side(serve, client_for):
    """search_parameters is refused before any request, naming its replacement."""
    server = serve(ok_completion)
    with pytest.raises(InvalidArgumentError, match="410.*web_search"):
        client_for(server).chat.completions.create(model="grok-4", messages=MESSAGES, search_parameters={"mode": "on"})
    assert server.accepted == 0
