"""An echoed key is masked on every error surface, in every form a server or a proxy may echo it
(reliability.md S5, S10 and their extensions S5a-S5f), and server text (reason phrases, HTML and
event-stream error bodies) is shown sanitised, bounded and once."""

from __future__ import annotations

import json
import pickle

import pytest
from harness import canary_pieces, check_raised, response_event

from xai_lite import ApiError, HttpError, ServerError, StreamingError, XaiError
from xai_lite._config import DEFAULT_MAX_ERROR_BYTES

MESSAGES = [{"role": "user", "content": "Hi"}]


def json_escaped(key: str) -> str:
    """The key as JSON may carry it: every other character a \\uXXXX escape, hex in upper and
    lower case by turns (json.dumps(ensure_ascii=True) of a str never escapes ASCII, a proxy may)."""
    out = []
    for i, char in enumerate(key):
        if i % 2:
            escape = "\\u%04x" % ord(char)
            out.append(escape.upper().replace("\\U", "\\u") if i % 4 == 1 else escape)
        else:
            out.append(char)
    return "".join(out)


def percent_encoded(key: str) -> str:
    """The key as a URL or a form may carry it: every character as %XX."""
    return "".join("%%%02X" % ord(c) for c in key)


FORMS = {"json-escaped": json_escaped, "percent-encoded": percent_encoded, "verbatim": lambda key: key}


def assert_masked(error: BaseException, canary: str) -> None:
    """The key (or 8 characters of it) is nowhere: str, repr, args, body, headers, pickle, frames."""
    check_raised(error, canary)
    texts = [str(error), repr(error), repr(error.args), repr(vars(error)), repr(pickle.dumps(error))]
    for piece in canary_pieces(canary):
        assert not any(piece in text for text in texts)


@pytest.mark.parametrize("form", sorted(FORMS))
def test_echoed_key_is_masked_in_every_form(serve, client_for, canary, form):
    """S5a: a 401 whose JSON body, header and message echo the key JSON-escaped (any mix of
    \\uXXXX and plain characters, either hex case), percent-encoded or verbatim raises with the
    key masked in message, args, body, headers and pickle; the last four characters may show."""
    echoed = FORMS[form](canary)
    body = '{"error": {"message": "Incorrect API key: %s", "code": "%s"}, "key": "%s"}' % (echoed, echoed, echoed)
    server = serve(lambda req, reply: reply.respond(401, body.encode(), {"X-Echo": echoed}))
    with pytest.raises(ApiError) as info:
        client_for(server).models.list()
    error = info.value
    assert_masked(error, canary)
    assert "***" + canary[-4:] in error.message and error.body["key"] == "***" + canary[-4:]


def test_key_in_the_reason_phrase_is_masked(serve, client_for, canary):
    """S5b: a reason phrase carrying the key (percent-encoded) is masked where it is shown."""
    server = serve(lambda req, reply: reply.respond(403, b"", reason="Forbidden for " + percent_encoded(canary)))
    with pytest.raises(ApiError) as info:
        client_for(server).models.list()
    assert_masked(info.value, canary)
    assert info.value.message == "Forbidden for ***" + canary[-4:]


@pytest.mark.parametrize("form", ["json-escaped", "percent-encoded"])
def test_stream_errors_mask_the_key(serve, client_for, canary, form):
    """S5c: stream calls mask it too, in str(e) as everywhere: a 200 JSON error body answering a
    stream request, a chat error event, and a Responses error event."""
    echoed = FORMS[form](canary)
    error_json = '{"error": {"message": "bad key %s", "type": "auth"}}' % echoed
    replies = {
        "json-200": lambda req, reply: reply.respond(200, error_json.encode()),
        "chat-event": lambda req, reply: reply.sse([b"data: " + error_json.encode() + b"\n\n"], done=False),
        "responses-event": lambda req, reply: reply.sse(
            [b"event: error\ndata: " + error_json.encode() + b"\n\n"], done=False),
    }
    for name, handler in replies.items():
        client = client_for(serve(handler))
        with pytest.raises(XaiError) as info:
            if name == "responses-event":
                list(client.responses.create(model="grok-4", input="Hi", stream=True))
            else:
                list(client.chat.completions.create(model="grok-4", messages=MESSAGES, stream=True))
        assert_masked(info.value, canary)
        assert "***" + canary[-4:] in str(info.value), name


def test_error_event_payload_is_not_left_in_the_stream_frames(serve, client_for, canary):
    """S4a: the frames a stream error passed through (which held the raw event) keep no locals
    showing the key, although the server sent it verbatim."""
    event = response_event("error", message="bad key " + canary)
    client = client_for(serve(lambda req, reply: reply.sse([event], done=False)))
    with pytest.raises(ApiError) as info:
        list(client.responses.create(model="grok-4", input="Hi", stream=True))
    assert_masked(info.value, canary)


def test_key_straddling_the_excerpt_cut_is_masked(serve, client_for, canary):
    """S5d: a key that the 256-character excerpt cuts through shows none of itself."""
    body = ("x" * 230 + canary + "y" * 100).encode()
    server = serve(lambda req, reply: reply.respond(200, body, content_type="text/html"))
    with pytest.raises(HttpError) as info:
        client_for(server).models.list()
    assert_masked(info.value, canary)
    assert "x" * 200 in str(info.value)  # the excerpt is still there


def test_key_straddling_the_excerpt_window_is_masked(serve, client_for, canary):
    """S5e: a key that the 512-byte decoding window cuts through (whitespace before it collapses,
    so the cut part would be in the excerpt) shows none of itself."""
    body = (" " * 490 + canary + " tail").encode()
    server = serve(lambda req, reply: reply.respond(200, body, content_type="text/plain"))
    with pytest.raises(HttpError) as info:
        client_for(server).models.list()
    assert_masked(info.value, canary)


def test_key_straddling_the_error_body_cap_is_masked(serve, client_for, canary):
    """S5f: an error body cut at the 1 MiB cap in the middle of the key keeps none of it (the
    cut prefix is masked in body, message and pickle)."""
    filler = b"z" * (DEFAULT_MAX_ERROR_BYTES - 30)
    body = filler + canary.encode() + b" and more"
    server = serve(lambda req, reply: reply.respond(500, body, content_type="text/plain"))
    with pytest.raises(ServerError) as info:
        client_for(server).models.list()
    assert_masked(info.value, canary)
    assert info.value.body.endswith("z***")


def test_reason_phrase_is_sanitised_and_bounded(serve, client_for):
    """B15a: a reason phrase with terminal escapes, a BEL and 60 KB of text is shown on one line,
    without control characters, cut to a short length (error statuses and redirects alike)."""
    hostile = "\x1b[2J\x1b[31mPWNED\x07" + "R" * 60000
    for status in (503, 302):
        server = serve(lambda req, reply, status=status: reply.respond(status, b"", {"Location": "/x"}, reason=hostile))
        with pytest.raises((ApiError, HttpError)) as info:
            client_for(server).models.list()
        text = str(info.value)
        assert "\x1b" not in text and "\x07" not in text and "PWNED" in text
        assert len(text) < 1000, len(text)


NGINX_413 = (
    b"<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n"
    b"<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def test_nginx_413_shows_the_status_once_and_a_hint(serve, client_for):
    """B12a: nginx's HTML 413 reads "413 Request Entity Too Large -- <hint>", not "413 413 ...",
    and the hint says a server or proxy on the way refuses the body size."""
    server = serve(lambda req, reply: reply.respond(413, NGINX_413, content_type="text/html"))
    with pytest.raises(ApiError) as info:
        client_for(server).chat.completions.create(model="grok-4", messages=MESSAGES)
    text = str(info.value)
    assert text.startswith("413 Request Entity Too Large") and "413 413" not in text
    assert "larger than a server or proxy on the way accepts" in text


@pytest.mark.parametrize("stream", [False, True])
def test_sse_framed_error_body_gives_its_message(serve, client_for, stream):
    """B12b: a 500 whose body is an event stream (``data: {"error": ...}``, as some proxies send
    a failed stream) raises with the JSON error's message and code, stream or not."""
    payload = json.dumps({"error": {"message": "upstream model crashed", "type": "server_error"}})
    body = ("data: %s\n\n" % payload).encode()
    server = serve(lambda req, reply: reply.respond(500, body, content_type="text/event-stream"))
    with pytest.raises(ServerError) as info:
        list(client_for(server).chat.completions.create(model="grok-4", messages=MESSAGES, stream=stream) or ())
    assert info.value.message == "upstream model crashed" and info.value.code == "server_error"
    assert info.value.body == json.loads(payload)


def test_key_split_by_control_characters_is_masked(serve, client_for, canary):
    """S5g: a key broken by control characters or a folded line (which the message cleanup joins
    or spaces) is still masked."""
    broken = canary[:14] + "\x00" + canary[14:30] + "\r\n " + canary[30:]
    server = serve(lambda req, reply: reply.respond(400, json.dumps({"error": "key " + broken}).encode()))
    with pytest.raises(ApiError) as info:
        client_for(server).models.list()
    assert_masked(info.value, canary)


def test_stream_errors_stay_typed_streaming_errors(serve, client_for, canary):
    """The masking at a stream's exit keeps the error as raised: a malformed chunk echoing the
    key is still a StreamingError with its count, the key masked."""
    client = client_for(serve(lambda req, reply: reply.sse([b"data: [" + canary.encode() + b"\n\n"])))
    with pytest.raises(StreamingError) as info:
        list(client.chat.completions.create(model="grok-4", messages=MESSAGES, stream=True))
    assert info.value.chunks_delivered == 0
    assert_masked(info.value, canary)


def test_key_in_a_malformed_status_line_is_masked_at_the_cut(serve, client_for, canary):
    """S5h: transport messages quote server bytes too (a malformed status line): a key that the
    160-character cut of such a message goes through is masked when the error leaves the client."""
    line = b"XTTP/1.1 " + b"p" * 110 + canary.encode() + b"\r\n\r\n"
    server = serve(lambda req, reply: (reply.send(line), reply.close()))
    with pytest.raises(HttpError) as info:
        client_for(server).models.list()
    assert "malformed" in str(info.value) and "ppp" in str(info.value)
    assert_masked(info.value, canary)
