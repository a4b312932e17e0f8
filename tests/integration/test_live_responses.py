"""The Responses API, deferred completions, structured outputs, tools and conversations against
the real xAI API (run with -m integration and XAI_API_KEY)."""

from __future__ import annotations

from dataclasses import dataclass

import xai_lite
from xai_lite.responses import ReasoningItem


@dataclass
class City:
    name: str
    country: str
    population_millions: float


def test_response_text_usage_and_stream(live_client, model):
    """A response has text and usage (output tokens include reasoning); a stream's deltas add up
    to its final response."""
    r = live_client.responses.create(model=model, input="Reply with the single word: pong", store=False)
    assert r.status == "completed" and "pong" in r.output_text.lower()
    assert r.usage.output_tokens >= r.usage.reasoning_tokens and r.usage.cost_usd is not None
    with live_client.responses.create(model=model, input="Count from 1 to 5.", stream=True, store=False) as stream:
        text = "".join(stream.text_deltas())
        final = stream.get_final_response()
    assert final.status == "completed" and text == final.output_text and "3" in text


def test_previous_response_id_and_stateless_replay(live_client, model):
    """A stored response is continued by id; a store=False history with encrypted reasoning is
    accepted when sent back."""
    first = live_client.responses.create(model=model, input="My name is Zarathustra. Reply OK.")
    try:
        second = live_client.responses.create(model=model, input="What is my name?", previous_response_id=first.id)
        assert "zarathustra" in second.output_text.lower()
    finally:
        live_client.responses.delete(first.id)
    history = [{"role": "user", "content": "Pick a prime below 10 and say only its square."}]
    options = dict(store=False, include=["reasoning.encrypted_content"])
    turn = live_client.responses.create(model=model, input=history, **options)
    assert any(isinstance(i, ReasoningItem) and i.encrypted_content for i in turn.output)
    history += turn.output + [{"role": "user", "content": "Which prime was it? Digits only."}]
    again = live_client.responses.create(model=model, input=history, **options)
    assert any(ch.isdigit() for ch in again.output_text)


def test_structured_output_into_a_dataclass(live_client, model):
    """parse() returns a City instance on both APIs."""
    question = [{"role": "user", "content": "The capital of France, as structured data."}]
    chat = live_client.chat.completions.parse(model=model, messages=question, response_format=City)
    assert isinstance(chat.choices[0].message.parsed, City) and chat.choices[0].message.parsed.country
    resp = live_client.responses.parse(model=model, input=question, text_format=City, store=False)
    assert isinstance(resp.output_parsed, City) and resp.output_parsed.name


def test_tool_loop_and_conversation(live_client, model):
    """run_tools runs a function the model asks for; a Conversation keeps the tool turns."""
    calls = []

    @xai_lite.tool
    def secret_number() -> int:
        """The secret number of the day."""
        calls.append(1)
        return 4817

    run = xai_lite.run_tools(live_client, model=model, tools=[secret_number],
                             messages=[{"role": "user", "content": "What is the secret number of the day?"}])
    assert calls and "4817" in (run.text or "")
    chat = xai_lite.Conversation(live_client, model=model, tools=[secret_number])
    assert "4817" in (chat.send("Tell me the secret number.").content or "")
    assert [m["role"] for m in chat.messages][-2:] == ["tool", "assistant"]


def test_deferred_completion(live_client, model):
    """A deferred completion is fetched by polling."""
    handle = live_client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Reply with the single word: pong"}], deferred=True)
    completion = live_client.chat.deferred.wait(handle.request_id, timeout=300, interval=1.0)
    assert "pong" in (completion.choices[0].message.content or "").lower()
