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


def tls_and_proxies(error: xai_lite.NetworkError) -> None:
    import ssl

    Client(client_cert=("cert.pem", "key.pem"), client_key_password="pw", proxy="proxy.example:3128")
    Client(client_cert="combined.pem", client_key_password=Secret("pw"), ca_file="ca.pem")
    client = Client(ssl_context=ssl.create_default_context())
    client.with_options(client_cert="combined.pem", client_key_password=b"pw", ssl_context=None)
    client.with_options(ssl_context=ssl.create_default_context(), ca_file=None)
    proxy: Optional[str] = error.proxy
    phase: Optional[str] = error.proxy_phase
    del proxy, phase


def responses_api(client: Client) -> None:
    from dataclasses import dataclass

    from xai_lite import Response, ResponseStream, web_search, x_search
    from xai_lite.responses import DeltaEvent, FunctionCallItem, ResponseStreamEvent

    r: Response = client.responses.create(
        model="grok-4", input="What is xAI?", tools=[web_search(), x_search(from_date="2026-01-01")], store=False,
        include=["reasoning.encrypted_content"], previous_response_id=None, max_output_tokens=100,
        extra_body={"x": 1}, timeout=30,
    )
    text: str = r.output_text
    details = r.usage.output_tokens_details if r.usage else None
    reasoning: Optional[int] = details.reasoning_tokens if details else None
    cost = r.usage.cost_usd if r.usage else None
    calls: List[FunctionCallItem] = r.function_calls
    s: ResponseStream = client.responses.create(model="grok-4", input=[{"role": "user", "content": "Hi"}], stream=True)
    with s:
        for event in s:
            e: ResponseStreamEvent = event
            if isinstance(event, DeltaEvent):
                piece: str = event.delta
                del piece
            del e
    final: Response = s.get_final_response()
    client.responses.retrieve(r.id)
    deleted: bool = client.responses.delete(r.id).deleted
    items = list(client.responses.input_items(r.id, limit=10, order="desc").iter_all())
    compacted = client.responses.compact(model="grok-4", input=[*r.output, {"role": "user", "content": "Hi"}])

    @dataclass
    class Person:
        name: str

    parsed = client.responses.parse(model="grok-4", input="Who?", text_format=Person).output_parsed
    del text, reasoning, cost, calls, final, deleted, items, compacted, parsed


def chat_extras(client: Client) -> None:
    from xai_lite import (
        Conversation,
        DeferredChatCompletion,
        FunctionTool,
        MaxTurnsError,
        StructuredOutputError,
        ToolRun,
        image,
        run_tools,
        tool,
    )

    handle: DeferredChatCompletion = client.chat.completions.create(model="grok-4", messages=[], deferred=True)
    done: ChatCompletion = client.chat.deferred.wait(handle.request_id, timeout=600, interval=1.0)
    maybe: Optional[ChatCompletion] = client.chat.deferred.retrieve(handle.request_id)
    parsed = client.chat.completions.parse(model="grok-4", messages=[], response_format={"type": "object"})
    value = parsed.choices[0].message.parsed

    @tool
    def add(a: int, b: int) -> int:
        """Add."""
        return a + b

    named: FunctionTool = tool(name="sub", description="Subtract.")(lambda a, b: a - b)
    run: ToolRun = run_tools(client, model="grok-4", messages=[{"role": "user", "content": "2+3?"}], tools=[add, named],
                             max_turns=4, parallel=False)
    answer: Optional[str] = run.text
    chat = Conversation(client, model="grok-4", system="Be brief.", tools=[add])
    reply: Optional[str] = chat.send(["What is this?", image("https://x.ai/a.png", detail="low")]).content
    pieces: List[str] = list(chat.stream("More?"))
    twin: Conversation = chat.fork()
    errors: List[type] = [MaxTurnsError, StructuredOutputError]
    del done, maybe, value, answer, reply, pieces, twin, errors


def reliability(client: Client) -> None:
    import random

    from xai_lite import (
        BreakerStats,
        CircuitBreaker,
        CircuitState,
        EndpointHealth,
        FailoverPolicy,
        HealthReport,
        HealthStatus,
        RateLimiter,
        RateLimiterTimeoutError,
        RetryPolicy,
        Transition,
        health_check,
        liveness_check,
        readiness_check,
    )
    from xai_lite.reliability import Clock, SystemClock

    clock: Clock = SystemClock()
    retry = RetryPolicy(max_retries=3, initial_delay=0.5, max_delay=8.0, multiplier=2.0, jitter=0.25,
                        rate_limit_delay=1.0, rate_limit_max_delay=30.0, max_retry_after=60.0, timeout=None,
                        retry_non_idempotent=False, clock=clock, rng=random.Random(0))
    breaker = CircuitBreaker(failure_threshold=5, recovery_timeout=60.0, success_threshold=1, name="x", clock=clock)
    limiter = RateLimiter(requests_per_second=10.0, burst=20, per_kind={"images": (1.0, 2), "chat": 5.0}, clock=clock)
    failover = FailoverPolicy(strategy="priority", max_failures=3, retry_after=60.0, rng=random.Random(0), clock=clock)
    Client(retry=retry, circuit_breaker=breaker, rate_limiter=limiter,
           endpoints=["https://api.x.ai/v1", "https://us.api.x.ai/v1"], failover=failover)
    Client(retry=3)
    models: ModelList = retry.call(client.models.list)
    other: ModelList = breaker.call(client.models.list)
    wait: Optional[float] = retry.delay(RateLimiterTimeoutError("x", wait=1.0), 1, method="GET", remaining=5.0)
    step: float = retry.backoff(2, rate_limited=True)
    ok: bool = retry.is_retryable(RateLimiterTimeoutError("x"), "POST")
    waited: float = limiter.acquire(1, timeout=2.0, kind="chat")
    limiter.pause(1.5)
    with limiter:
        pass
    state: CircuitState = breaker.state
    stats: BreakerStats = breaker.stats()
    history: List[Transition] = breaker.transitions
    health: List[EndpointHealth] = failover.endpoint_health()
    current: str = failover.current_endpoint()
    rotated: str = failover.rotate()
    served: str = failover.call(lambda url, suffix: url + suffix, "/models")
    report: HealthReport = health_check(client, timeout=5.0, degraded_after=2.0)
    status: HealthStatus = report.status
    ms: float = report.response_time_ms
    alive: bool = liveness_check(client)
    ready: bool = readiness_check(client)
    del models, other, wait, step, ok, waited, state, stats, history, health, current, rotated, served
    del status, ms, alive, ready
