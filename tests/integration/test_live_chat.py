"""The core client against the real xAI API (run with -m integration and XAI_API_KEY)."""

from __future__ import annotations

import pytest

import xai_lite


def test_models_list_is_not_empty(live_client, model):
    """The key can list models, and the default test model is among them (or an alias of one)."""
    models = live_client.models.list()
    names = {m.id for m in models} | {a for m in models for a in (m.aliases or [])}
    assert models.data and model in names


def test_chat_completion(live_client, model):
    """A short non-streaming completion returns text, usage and a request id."""
    r = live_client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Reply with the single word: pong"}], max_completion_tokens=20
    )
    assert "pong" in (r.choices[0].message.content or "").lower()
    assert r.usage and r.usage.total_tokens > 0 and r.request_id


def test_chat_stream_ends_with_usage(live_client, model):
    """A stream delivers content and ends with the usage-only chunk when asked for it."""
    stream = live_client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Count from 1 to 5."}], stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "3" in text and stream.finished and chunks[-1].usage is not None


def test_wrong_key_is_an_authentication_error(model):
    """A wrong key raises AuthenticationError (xAI answers it with 400)."""
    client = xai_lite.Client(api_key="xai-this-key-is-not-valid-000000000000")
    with pytest.raises(xai_lite.AuthenticationError):
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
