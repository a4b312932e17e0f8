"""The client's connections stay out of http.client's wire dumps (reliability.md S7a)."""

from __future__ import annotations

import http.client

import pytest
from harness import canary_pieces, chunk_event, ok_completion

MESSAGES = [{"role": "user", "content": "Hi"}]


@pytest.mark.parametrize("stream", [False, True])
def test_process_wide_debuglevel_prints_nothing_of_ours(serve, client_for, canary, capfd, monkeypatch, stream):
    """S7a: with ``http.client.HTTPConnection.debuglevel = 1`` set process-wide (to debug another
    library), a call prints no request line, no header and no key: neither "send:" with the
    Authorization header nor the response's "reply:"/"header:" lines."""
    monkeypatch.setattr(http.client.HTTPConnection, "debuglevel", 1)
    handler = (lambda req, reply: reply.sse([chunk_event("a")])) if stream else ok_completion
    client = client_for(serve(handler))
    result = client.chat.completions.create(model="grok-4", messages=MESSAGES, stream=stream)
    if stream:
        list(result)
    captured = capfd.readouterr()
    out = captured.out + captured.err
    assert not any(piece in out for piece in canary_pieces(canary))
    assert "send:" not in out and "reply:" not in out and "header:" not in out, out[:500]
