"""Conversation keeps the history across plain, streamed and tool turns, and leaves it alone when
a turn fails; image() builds image parts and checks local images before anything is sent."""

from __future__ import annotations

import base64
import json

import pytest
from harness import chunk_event, completion_body, scripted, tool_call_completion

from xai_lite import Conversation, InvalidArgumentError, MaxTurnsError, ServerError, StreamingError, image, tool

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 16
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 8


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def test_send_keeps_both_turns_and_sends_the_history(serve, client_for):
    """Each send() sends the whole history and appends the user turn and the reply."""
    replies = [completion_body("Paris."), completion_body("About 2.1 million.")]
    server = serve(lambda req, reply: reply.json(replies[len(server.requests) - 1]))
    chat = Conversation(client_for(server), model="grok-4", system="Be brief.", temperature=0)
    assert chat.send("Capital of France?").content == "Paris."
    reply = chat.send("Population?", max_completion_tokens=20)
    assert reply.content == "About 2.1 million." and chat.last_completion.id == "cmpl-1"
    expected = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"},
                {"role": "assistant", "content": "Paris."}, {"role": "user", "content": "Population?"}]
    assert server.requests[1].json == {"model": "grok-4", "messages": expected, "temperature": 0, "max_completion_tokens": 20}
    assert chat.messages == expected + [{"role": "assistant", "content": "About 2.1 million."}]


def test_stream_yields_deltas_and_appends_the_assembled_reply(serve, client_for):
    """stream() yields the text pieces and appends the whole reply once the stream ended."""
    server = serve(lambda req, reply: reply.sse([chunk_event("Hel", role="assistant"), chunk_event("lo"), chunk_event(finish="stop")]))
    chat = Conversation(client_for(server), system="S")
    assert list(chat.stream("Hi")) == ["Hel", "lo"]
    assert chat.messages[1:] == [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    assert server.requests[0].json["stream"] is True


def test_tool_turns_are_kept_in_the_history(serve, client_for):
    """With tools, the assistant's tool calls and the tool results are appended between the user
    turn and the reply, and the next turn sends them all."""
    server = serve(scripted(tool_call_completion(("c1", "add", {"a": 2, "b": 3})), completion_body("5"), completion_body("Yes")))
    chat = Conversation(client_for(server), tools=[add])
    assert chat.send("2+3?").content == "5"
    assert [m["role"] for m in chat.messages] == ["user", "assistant", "tool", "assistant"]
    assert chat.messages[2] == {"role": "tool", "tool_call_id": "c1", "content": "5"}
    chat.send("Sure?")
    assert server.requests[2].json["messages"] == chat.messages[:5]
    assert server.requests[2].json["tools"] == [add.chat_spec()]


def test_streamed_tool_turns(serve, client_for):
    """stream() runs the tools the streamed reply asks for and streams the next answer."""
    call = {"index": 0, "id": "c1", "type": "function", "function": {"name": "add", "arguments": '{"a": 1, "b": 1}'}}
    streams = [[chunk_event(tool_calls=[call]), chunk_event(finish="tool_calls")], [chunk_event("2"), chunk_event(finish="stop")]]
    server = serve(lambda req, reply: reply.sse(streams[len(server.requests) - 1]))
    chat = Conversation(client_for(server), tools=[add])
    assert list(chat.stream("1+1?")) == ["2"]
    assert [m["role"] for m in chat.messages] == ["user", "assistant", "tool", "assistant"]
    assert chat.messages[1]["tool_calls"][0]["function"]["arguments"] == '{"a": 1, "b": 1}'
    assert server.requests[1].json["messages"][2] == {"role": "tool", "tool_call_id": "c1", "content": "2"}


def test_a_failed_turn_leaves_the_history_as_it_was(serve, client_for):
    """A server error, a cut stream, a stream left early and max_turns leave messages unchanged."""
    def handler(req, reply):
        n = len(server.requests)
        if n == 1:
            reply.json(completion_body("ok"))
        elif n == 2:
            reply.json({"error": {"message": "overloaded"}}, status=503)
        else:
            reply.sse([chunk_event("par"), chunk_event("tial")], done=False)

    server = serve(handler)
    chat = Conversation(client_for(server))
    chat.send("one")
    before = list(chat.messages)
    with pytest.raises(ServerError):
        chat.send("two")
    with pytest.raises(StreamingError):
        list(chat.stream("three"))
    pieces = chat.stream("four")
    assert next(pieces) == "par"
    pieces.close()
    assert chat.messages == before


def test_max_turns_in_a_conversation_leaves_the_history(serve, client_for):
    """A model that never stops calling tools raises MaxTurnsError and the turn is not kept."""
    server = serve(scripted(tool_call_completion(("c", "add", {"a": 1, "b": 2}))))
    chat = Conversation(client_for(server), tools=[add], max_turns=2)
    with pytest.raises(MaxTurnsError, match="left as it was"):
        chat.send("loop")
    assert chat.messages == [] and len(server.requests) == 2


def test_fork_copies_the_history(serve, client_for):
    """A fork starts from the same history and then goes its own way."""
    server = serve(scripted(completion_body("A"), completion_body("B")))
    chat = Conversation(client_for(server), system="S")
    chat.send("first")
    twin = chat.fork()
    twin.send("second")
    assert len(chat.messages) == 3 and len(twin.messages) == 5 and twin.messages[:3] == chat.messages


def test_image_parts_in_a_turn(serve, client_for, tmp_path):
    """Text and image(...) parts make one user turn; local files become data URLs."""
    path = tmp_path / "cat.png"
    path.write_bytes(PNG)
    server = serve(scripted(completion_body("A cat.")))
    Conversation(client_for(server)).send(["What is this?", image(str(path), detail="high"), image("https://x.ai/a.jpg")])
    content = server.requests[0].json["messages"][0]["content"]
    assert content == [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(PNG).decode(), "detail": "high"}},
        {"type": "image_url", "image_url": {"url": "https://x.ai/a.jpg"}}]


def test_image_detects_jpeg_and_webp_and_keeps_valid_data_urls():
    """Bytes are sniffed for JPEG and WebP; a well-formed data URL is kept as it is."""
    assert image(JPEG)["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert image(WEBP)["image_url"]["url"].startswith("data:image/webp;base64,")
    url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert image(url) == {"type": "image_url", "image_url": {"url": url}}


def test_image_refusals(tmp_path):
    """Too large (over 20 MiB), unknown formats, missing files, bad data URLs and bad detail are
    refused with InvalidArgumentError."""
    big = tmp_path / "big.png"
    with open(big, "wb") as fh:
        fh.write(PNG)
        fh.truncate(20 * 1024 * 1024 + 1)
    gif = tmp_path / "a.gif"
    gif.write_bytes(b"GIF89a" + b"\x00" * 10)
    cases = [
        (lambda: image(str(big)), "20.0 MiB; xAI accepts images up to 20 MiB"),
        (lambda: image(PNG + b"\x00" * (20 * 1024 * 1024)), "up to 20 MiB"),
        (lambda: image(str(gif)), "not a JPEG, PNG or WebP"),
        (lambda: image(str(tmp_path / "missing.png")), "cannot read the image"),
        (lambda: image("data:image/gif;base64,AAAA"), "data:image/jpeg|png|webp"),
        (lambda: image("data:image/png;base64,@@@@"), "not valid base64"),
        (lambda: image("https://x.ai/a.png", detail="max"), "detail must be"),
    ]
    for make, message in cases:
        with pytest.raises(InvalidArgumentError, match=message.replace("|", "\\|").replace("(", "\\(")):
            make()


def test_bad_turns_are_refused_before_any_request(serve, client_for):
    """An empty turn or a part that is neither text nor a content part raises before any request."""
    server = serve(scripted(completion_body()))
    chat = Conversation(client_for(server))
    for turn in ([], [b"bytes"], [{"no": "type"}]):
        with pytest.raises(InvalidArgumentError):
            chat.send(turn)
    with pytest.raises(InvalidArgumentError, match="not allowed"):
        Conversation(client_for(server), tools=[{"type": "function", "function": {"name": "a b"}}])
    assert server.accepted == 0 and json.dumps(chat.messages) == "[]"


def test_a_streamed_turn_out_of_turns_keeps_a_valid_history_on_the_error(serve, client_for):
    """stream() out of max_turns leaves the conversation alone, and the error's history answers
    every tool call it holds (the last answer's calls, not run, are in run.response)."""
    call = {"index": 0, "id": "c1", "type": "function", "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'}}
    server = serve(lambda req, reply: reply.sse([chunk_event(tool_calls=[call]), chunk_event(finish="tool_calls")]))
    chat = Conversation(client_for(server), tools=[add], max_turns=2)
    with pytest.raises(MaxTurnsError) as info:
        list(chat.stream("loop"))
    run = info.value.run
    assert [m["role"] for m in run.messages] == ["user", "assistant", "tool"] and run.messages[2]["content"] == "3"
    assert run.response.choices[0].message.tool_calls[0].id == "c1" and chat.messages == []


def test_image_refuses_plain_http_urls():
    """An http:// URL is refused with a message asking for https or the image itself."""
    with pytest.raises(InvalidArgumentError, match="must be https://.*bytes or file path"):
        image("http://example.com/cat.png")
    with pytest.raises(InvalidArgumentError, match="must be https://"):
        image("HTTP://example.com/cat.png")


def test_data_urls_are_checked_like_files():
    """A data URL's bytes must be the image type it declares (jpg written as jpeg), a JPEG, PNG
    or WebP image, and at most 20 MiB."""
    jpeg = base64.b64encode(JPEG).decode()
    assert image("data:image/jpg;base64," + jpeg)["image_url"]["url"] == "data:image/jpeg;base64," + jpeg
    assert image("data:IMAGE/JPEG;base64," + jpeg)["image_url"]["url"] == "data:image/jpeg;base64," + jpeg
    with pytest.raises(InvalidArgumentError, match="says image/png, but its bytes are a JPEG image"):
        image("data:image/png;base64," + jpeg)
    with pytest.raises(InvalidArgumentError, match="not a JPEG, PNG or WebP"):
        image("data:image/webp;base64," + base64.b64encode(b"GIF89a" + b"\x00" * 10).decode())
    huge = base64.b64encode(PNG + b"\x00" * (20 * 1024 * 1024)).decode()
    with pytest.raises(InvalidArgumentError, match="up to 20 MiB"):
        image("data:image/png;base64," + huge)
