"""Error messages and history that real proxies and servers need (issue 7, item 25): nginx HTML
pages, 413, a certificate for another host, a stream cut mid-chunk, an error body framed as an
event, and assistant history that keeps its ``content``."""

from __future__ import annotations

import json
import ssl

import pytest
from harness import chunk_event, completion_body, consume, scripted
from leaks import assert_no_key

import xai_lite
from xai_lite import ApiError, NetworkError, ServerError, StreamingError, run_tools, tool

MESSAGES = [{"role": "user", "content": "Hi"}]


def chat(client, **kwargs):
    return client.chat.completions.create(model="grok-4", messages=MESSAGES, **kwargs)


def nginx_page(status, reason):
    """The error page stock nginx sends (CRLF line ends, title and h1 repeating the status)."""
    return (
        "<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n"
        "<hr><center>nginx/1.24.0</center>\r\n</body>\r\n</html>\r\n" % (status, reason, status, reason)
    ).encode()


@pytest.mark.parametrize("status, reason", [(413, "Request Entity Too Large"), (502, "Bad Gateway")])
def test_nginx_html_errors_show_the_status_once(serve, client_for, canary, status, reason):
    """F18 (extended): an nginx HTML error page reads "413 Request Entity Too Large", not
    "413 413 ...", for the status it names."""
    server = serve(lambda req, reply: reply.respond(status, nginx_page(status, reason), content_type="text/html"))
    with pytest.raises(ApiError) as info:
        chat(client_for(server))
    text = str(info.value)
    assert text.startswith("%d %s" % (status, reason)) and "%d %d" % (status, status) not in text
    assert info.value.message == reason
    assert_no_key(info.value, canary)


def test_a_413_says_the_body_is_too_large_for_the_way(serve, client_for, canary):
    """F18 (extended): a 413, as JSON or as an nginx page, carries the hint that the body is
    larger than a server or proxy on the way accepts."""
    pages = [nginx_page(413, "Request Entity Too Large"), json.dumps({"error": "payload too large"}).encode()]
    server = serve(lambda req, reply: reply.respond(413, pages[len(server.requests) - 1]))
    client = client_for(server)
    for _ in pages:
        with pytest.raises(ApiError) as info:
            chat(client)
        assert info.value.status_code == 413
        assert "larger than a server or proxy on the way accepts" in str(info.value)
        assert_no_key(info.value, canary)


@pytest.mark.parametrize("framing", ["stream", "json-call"])
def test_an_error_body_framed_as_an_event_gives_its_message(serve, client_for, canary, framing):
    """F17 (extended): a 500 whose body is `data: {"error": {...}}` (an event-stream frame) gives
    the error's own message and code, on a stream call and on a plain call."""
    body = b'data: {"error": {"message": "the model is overloaded", "code": "overloaded"}}\n\n'
    server = serve(lambda req, reply: reply.respond(500, body, content_type="text/event-stream"))
    with pytest.raises(ServerError) as info:
        chat(client_for(server), stream=framing == "stream")
    assert info.value.message == "the model is overloaded" and info.value.code == "overloaded"
    assert info.value.body == {"error": {"message": "the model is overloaded", "code": "overloaded"}}
    assert_no_key(info.value, canary)


def test_a_stream_cut_mid_chunk_does_not_claim_zero_bytes(serve, client_for, canary):
    """F14 (extended): a chunked stream cut inside its fourth chunk after three whole chunks
    says it broke after 3 chunks, and no longer that 0 bytes were received."""
    def handler(req, reply):
        reply.start_chunked()
        for piece in ("a", "b", "c"):
            reply.chunk(b"data: " + json.dumps(chunk_event(piece)).encode() + b"\n\n")
        reply.send(b"400\r\ndata: {\"partial")  # a chunk announced as 1024 bytes, then the connection ends
        reply.close()

    got, error = consume(chat(client_for(serve(handler)), stream=True))
    assert len(got) == 3 and isinstance(error, StreamingError) and error.chunks_delivered == 3
    assert "after 3 chunks" in error.message and "0 bytes" not in error.message
    assert_no_key(error, canary)


def test_a_certificate_for_another_host_does_not_advise_ca_file(serve, canary, tmp_path):
    """F24 (extended): a server whose certificate (from a trusted CA) names another host fails
    verification with advice about the host in base_url, not about ca_file=."""
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("other.example").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server = serve(lambda req, reply: reply.json(completion_body()), tls=context)
    client = xai_lite.Client(api_key=canary, base_url=server.url + "/v1", ca_file=str(ca_file))
    with pytest.raises(NetworkError) as info:
        chat(client)
    assert info.value.reason == "tls-verify" and "ca_file" not in str(info.value)
    assert "another host name" in str(info.value) and "base_url" in str(info.value)
    assert_no_key(info.value, canary)
    client.close()


@tool
def lookup(key: str) -> str:
    """Look a key up."""
    return key.upper()


@pytest.mark.parametrize("content", ["", None], ids=["empty", "null"])
def test_assistant_history_keeps_its_content(serve, client_for, content):
    """An assistant message with tool calls sent back as history keeps `content` as received
    ("" or null) rather than dropping the key, which llama-cpp-python refuses."""
    message = {"role": "assistant", "content": content, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": '{"key": "k"}'}}]}
    first = completion_body(choices=[{"index": 0, "message": message, "finish_reason": "tool_calls"}])
    server = serve(scripted(first, completion_body("done")))
    run = run_tools(client_for(server), model="grok-4", messages=MESSAGES, tools=[lookup])
    assert run.text == "done"
    sent = server.requests[1].json["messages"][1]
    assert sent["role"] == "assistant" and "content" in sent and sent["content"] == content
