"""Every recorded chat completion exchange, replayed through the public API over a socket.

Expected values are computed from the recorded JSON itself (not from the client), and the
request the client sends must be the recorded request.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List

import pytest
from corpus import body_bytes, exchanges, load, replay, response_header, sse_payloads

from xai_lite import ApiError, AuthenticationError, BadRequestError, ChatCompletionAccumulator, ServerError
from xai_lite._chat import CHAT_FIELDS

CHAT = exchanges("/v1/chat/completions", "/api/v1/chat/completions")


def call(serve, client_for, record: Dict[str, Any]):
    """Replay ``record`` and make the recorded call; return (result, server)."""
    server = serve(replay(record))
    base = "/api/v1" if record["endpoint"].startswith("/api/") else "/v1"
    client = client_for(server, base_url=server.url + base)
    request = record["request"].get("json")
    if request is None:  # vercel fixtures: the request was not recorded
        request = {"model": "grok-3-mini", "messages": [{"role": "user", "content": "(not recorded)"}]}
        if record["streaming"]:
            request["stream"] = True
    kwargs = {k: v for k, v in request.items() if k in CHAT_FIELDS or k in ("model", "messages", "stream")}
    extra = {k: v for k, v in request.items() if k not in kwargs}
    return client.chat.completions.create(**kwargs, extra_body=extra or None), server, request


def expected_messages(raw: Dict[str, Any]) -> List[Dict[str, Any]]:
    out = []
    for choice in raw["choices"]:
        message = choice["message"]
        out.append({
            "index": choice["index"],
            "content": message.get("content"),
            "reasoning": message.get("reasoning_content"),
            "calls": [(c["id"], c["function"]["name"], c["function"]["arguments"]) for c in message.get("tool_calls") or []],
            "finish": choice.get("finish_reason"),
        })
    return out


def check_usage(usage: Any, raw: Dict[str, Any]) -> None:
    assert usage.prompt_tokens == raw["prompt_tokens"]
    assert usage.completion_tokens == raw["completion_tokens"]
    assert usage.total_tokens == raw["total_tokens"]
    details = raw.get("completion_tokens_details") or {}
    assert usage.reasoning_tokens == (details.get("reasoning_tokens") or 0)
    prompt = raw.get("prompt_tokens_details")
    if prompt:
        assert usage.prompt_tokens_details.cached_tokens == prompt.get("cached_tokens")
    ticks = raw.get("cost_in_usd_ticks")
    assert usage.cost_usd == (None if ticks is None else ticks / 1e10)


@pytest.mark.parametrize("name", CHAT)
def test_recorded_chat_exchange(serve, client_for, name):
    """The recorded exchange parses to the recorded values (or raises the recorded error), and
    the client sends the recorded request."""
    record = load(name)
    status = record["response"]["status"]
    raw_body = body_bytes(record)
    if status >= 400:
        check_error(serve, client_for, record, json.loads(raw_body))
        return
    result, server, request = call(serve, client_for, record)
    if record["streaming"]:
        check_stream(result, record)
    else:
        raw = json.loads(raw_body)
        assert result.to_dict() == raw
        got = [{"index": c.index, "content": c.message.content, "reasoning": c.message.reasoning_content,
                "calls": [(t.id, t.function.name, t.function.arguments) for t in c.message.tool_calls or []],
                "finish": c.finish_reason} for c in result.choices]
        assert got == expected_messages(raw)
        if raw.get("usage"):
            check_usage(result.usage, raw["usage"])
        assert result.request_id == response_header(record, "x-request-id")
    (sent,) = server.requests
    assert sent.json == request
    assert sent.path == record["endpoint"]


def check_stream(stream: Any, record: Dict[str, Any]) -> None:
    payloads = list(sse_payloads(record["response"]["body_text"]))
    accumulator = ChatCompletionAccumulator()
    chunks = [accumulator.add(chunk) for chunk in stream]
    assert stream.finished
    assert [c.to_dict() for c in chunks] == payloads
    # What the pieces add up to, computed from the recorded payloads.
    content: Dict[int, List[str]] = {}
    reasoning: Dict[int, List[str]] = {}
    calls: Dict[int, Dict[int, List[str]]] = {}
    finish: Dict[int, str] = {}
    usage = None
    for payload in payloads:
        usage = payload.get("usage") or usage
        for choice in payload["choices"]:
            i, delta = choice["index"], choice.get("delta") or {}
            if delta.get("content") is not None:
                content.setdefault(i, []).append(delta["content"])
            if delta.get("reasoning_content") is not None:
                reasoning.setdefault(i, []).append(delta["reasoning_content"])
            for call in delta.get("tool_calls") or []:
                entry = calls.setdefault(i, {}).setdefault(call["index"], ["", "", ""])
                entry[0] = call.get("id") or entry[0]
                entry[1] = (call.get("function") or {}).get("name") or entry[1]
                entry[2] += (call.get("function") or {}).get("arguments") or ""
            if choice.get("finish_reason"):
                finish[i] = choice["finish_reason"]
    final = accumulator.completion()
    for choice in final.choices:
        i = choice.index
        assert choice.message.content == ("".join(content[i]) if i in content else None)
        assert choice.message.reasoning_content == ("".join(reasoning[i]) if i in reasoning else None)
        assert [(t.id, t.function.name, t.function.arguments) for t in choice.message.tool_calls or []] == [
            tuple(v) for _, v in sorted(calls.get(i, {}).items())]
        assert choice.finish_reason == finish.get(i)
    assert sorted(c.index for c in final.choices) == sorted(set(content) | set(reasoning) | set(calls) | set(finish))
    if usage is not None:
        check_usage(final.usage, usage)
    else:
        assert final.usage is None


def check_error(serve, client_for, record: Dict[str, Any], body: Dict[str, Any]) -> None:
    status = record["response"]["status"]
    message = body["error"] if isinstance(body["error"], str) else body["error"]["message"]
    if status == 400 and "Incorrect API key" in message:
        expected = AuthenticationError
    else:
        expected = {400: BadRequestError, 503: ServerError}.get(status, ApiError)
    with pytest.raises(ApiError) as info:
        call(serve, client_for, record)
    error = info.value
    assert type(error) is expected and error.status_code == status
    assert error.message == " ".join(message.split())
    assert error.code == body.get("code")
    assert error.body == body


def test_corpus_has_every_chat_exchange():
    """The replay covers the 62 recorded xAI chat exchanges and the 2 OpenRouter ones (a
    shrinking corpus would hide gaps)."""
    if CHAT == ["(corpus missing)"]:
        load(CHAT[0])  # fails under CI=true, skips elsewhere
    assert len(CHAT) == 64 and sum(name.startswith("bonus_") for name in CHAT) == 2
