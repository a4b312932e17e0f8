"""Pins the public API's types: mypy checks this file (see .ci/run); pytest never runs it.

If a change to xai_lite breaks a line here, it breaks callers' type checking too.
"""

from __future__ import annotations

from typing import List, Optional

import xai_lite
from xai_lite import (
    ChatCompletion,
    ChatCompletionAccumulator,
    ChatCompletionChunk,
    ChatStream,
    Client,
    Message,
    Model,
    ModelList,
    Secret,
    Timeout,
)


def chat(client: Client) -> None:
    r: ChatCompletion = client.chat.completions.create(
        model="grok-4",
        messages=[{"role": "user", "content": "Hi"}, Message.system("Be brief.")],
        temperature=0.2,
        max_completion_tokens=100,
        tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}],
        extra_body={"x": 1},
        extra_headers={"X-Trace": "1"},
        timeout=30,
    )
    content: Optional[str] = r.choices[0].message.content
    reasoning: Optional[str] = r.choices[0].message.reasoning_content
    calls = r.choices[0].message.tool_calls or []
    arguments: str = calls[0].function.arguments
    total: int = r.usage.total_tokens if r.usage else 0
    cost: Optional[float] = r.usage.cost_usd if r.usage else None
    request_id: Optional[str] = r.request_id
    del content, reasoning, arguments, total, cost, request_id


def stream(client: Client) -> None:
    s: ChatStream = client.chat.completions.create(model="grok-4", messages=[], stream=True)
    acc = ChatCompletionAccumulator()
    with s:
        for chunk in s:
            c: ChatCompletionChunk = acc.add(chunk)
            text: Optional[str] = c.choices[0].delta.content if c.choices else None
            del text
    final: ChatCompletion = acc.completion()
    other: ChatCompletion = client.chat.completions.create(model="m", messages=[], stream=True).get_final_completion()
    del final, other


def models(client: Client) -> None:
    listed: ModelList = client.models.list()
    ids: List[str] = [m.id for m in listed]
    one: Model = client.models.retrieve("grok-4")
    del ids, one


def construction() -> None:
    Client(
        api_key=Secret("xai-..."),
        base_url="https://api.x.ai/v1",
        timeout=Timeout(connect=5, read=60, total=120),
        max_response_bytes=1 << 20,
        default_headers={"X-Team": "a"},
        proxy=None,
        ca_file="/etc/ssl/ca.pem",
        allow_insecure_http=False,
        check_key_format=True,
    )
    client = Client(timeout=None).with_options(timeout=10.0)
    key: Secret = client.api_key
    err: type[Exception] = xai_lite.RateLimitError
    del key, err
