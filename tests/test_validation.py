"""Bad input is refused with a clear error before any socket is opened (B1-B10)."""

from __future__ import annotations

import datetime
import math

import pytest
from harness import ok_completion

from xai_lite import Client, InvalidArgumentError, Message, Timeout

MESSAGES = [{"role": "user", "content": "Hi"}]

BAD_URLS = [
    "http://api.x.ai/v1",  # plain http to a remote host
    "ftp://api.x.ai/v1",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "api.x.ai/v1",
    "/v1",
    "https://u:p@api.x.ai/v1",
    "https://api.x.ai@evil.example/v1",
    " https://api.x.ai/v1",
    "https://api.x.ai/v1 ",
    "https://api.x.ai/\tv1",
    "https://api.x.ai\r\n/v1",
    "https://api.x.ai:0/v1",
    "https://api.x.ai:65536/v1",
    "https://api.x.ai:99999/v1",
    "https://api.x.ai:https/v1",
    "https://[::1/v1",
    "https://api.x.ai/v1?key=1",
    "https://api.x.ai/v1#frag",
    "https://api.x.ai%2fevil.example/v1",
    "https://api.x.ai./v1",
    "https:///v1",
    "https://:443/v1",
    "https://api.x.ai\u2024evil/v1",
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_bad_base_urls_are_refused(canary, url):
    """B4: insecure, odd or ambiguous base URLs are refused at construction."""
    with pytest.raises(InvalidArgumentError):
        Client(api_key=canary, base_url=url)


@pytest.mark.parametrize("url", BAD_URLS[:6])
def test_bad_base_urls_from_the_environment_are_refused(canary, monkeypatch, url):
    """B4: XAI_BASE_URL is validated like the argument, and the error names it."""
    monkeypatch.setenv("XAI_BASE_URL", url)
    with pytest.raises(InvalidArgumentError, match="XAI_BASE_URL"):
        Client(api_key=canary)


@pytest.mark.parametrize(
    "url,kwargs",
    [
        ("http://localhost:8000/v1", {}),
        ("http://127.0.0.5:8000", {}),
        ("http://[::1]:8000/v1", {}),
        ("http://inference.internal:8000/v1", {"allow_insecure_http": True}),
        ("https://us.api.x.ai/v1/", {}),
        ("HTTPS://api.x.ai/v1", {}),
    ],
)
def test_acceptable_base_urls(canary, url, kwargs):
    """Plain http is allowed for loopback hosts or explicitly; a trailing slash is dropped."""
    client = Client(api_key=canary, base_url=url, **kwargs)
    assert not client.base_url.endswith("/")


def test_base_url_from_the_environment(canary, monkeypatch):
    """XAI_BASE_URL is used when base_url is not given."""
    monkeypatch.setenv("XAI_BASE_URL", "https://us.api.x.ai/v1")
    assert Client(api_key=canary).base_url == "https://us.api.x.ai/v1"


@pytest.mark.parametrize("value", [-1, 0, math.nan, math.inf, True, "5", [5]])
def test_bad_timeouts_are_refused(canary, value):
    """B5: negative, zero, NaN, infinite, bool and non-number timeouts are refused."""
    with pytest.raises(InvalidArgumentError):
        Client(api_key=canary, timeout=value)
    with pytest.raises(InvalidArgumentError):
        Timeout(read=value)


def test_connect_longer_than_total_is_refused():
    """B5: a connect limit beyond the total limit is refused."""
    with pytest.raises(InvalidArgumentError, match="total"):
        Timeout(connect=10, read=5, total=5)


def test_timeout_shorthand_and_none():
    """A number bounds the whole call; None disables every limit."""
    assert Timeout.coerce(30) == Timeout(connect=5.0, read=30.0, total=30.0)
    assert Timeout.coerce(2) == Timeout(connect=2.0, read=2.0, total=2.0)
    assert Timeout.coerce(None) == Timeout(connect=None, read=None, total=None)


BAD_HEADERS = [
    {"X-A": "a\r\nInjected: 1"},
    {"X-A": "a\nb"},
    {"X-A": "a\rb"},
    {"X-A": "a\x00b"},
    {"X-A": "a\r\n b"},
    {"X-A\r\nInjected": "1"},
    {" X-A": "1"},
    {"X-A": " lead-value"},
    {"X-A": "trail-value "},
    {"X-A:B": "1"},
    {"X A": "1"},
    {"": "1"},
    {"X-A": 5},
    {"X-A": b"bytes"},
    {"X-A": "caf\u00e9\u20ac"},
    {"Authorization": "Bearer other"},
    {"Host": "evil.example"},
    {"Content-Length": "5"},
    {"Transfer-Encoding": "chunked"},
]


@pytest.mark.parametrize("headers", BAD_HEADERS, ids=range(len(BAD_HEADERS)))
def test_bad_extra_headers_are_refused_before_io(serve, client_for, headers):
    """B8: header injection, odd names, non-str values and client-owned headers are refused,
    before any connection, without echoing the value."""
    server = serve(ok_completion)
    client = client_for(server)
    with pytest.raises(InvalidArgumentError) as info:
        client.chat.completions.create(model="grok-4", messages=MESSAGES, extra_headers=headers)
    assert server.accepted == 0
    for value in headers.values():
        if isinstance(value, str) and len(value) > 2:
            assert value not in str(info.value)
    with pytest.raises(InvalidArgumentError):
        Client(api_key="xai-0123456789abcdef", default_headers=headers)


class Custom:
    pass


def deep(n):
    value = []
    for _ in range(n):
        value = [value]
    return value


@pytest.mark.parametrize(
    "field,value",
    [
        ("temperature", math.nan),
        ("temperature", math.inf),
        ("stop", {"a", "b"}),
        ("user", b"bytes"),
        ("metadata", datetime.datetime(2026, 1, 1)),
        ("metadata", Custom()),
        ("user", "lone \ud800 surrogate"),
        ("metadata", deep(100000)),
    ],
    ids=["nan", "inf", "set", "bytes", "datetime", "object", "surrogate", "deep"],
)
def test_unserialisable_bodies_are_refused_before_io(serve, client_for, field, value):
    """B10: NaN/Infinity, non-JSON types, lone surrogates and absurd nesting are refused."""
    server = serve(ok_completion)
    kwargs = {field: value} if field != "metadata" else {"extra_body": {field: value}}
    with pytest.raises(InvalidArgumentError, match="cannot be sent as JSON"):
        client_for(server).chat.completions.create(model="grok-4", messages=MESSAGES, **kwargs)
    assert server.accepted == 0


def test_oversized_body_is_refused_before_io(serve, client_for):
    """B10: a request body over 50 MiB is refused, pointing to the Files API."""
    server = serve(ok_completion)
    big = [{"role": "user", "content": "x" * (51 * 1024 * 1024)}]
    with pytest.raises(InvalidArgumentError, match="Files API"):
        client_for(server).chat.completions.create(model="grok-4", messages=big)
    assert server.accepted == 0


@pytest.mark.parametrize(
    "model,messages,match",
    [
        ("", MESSAGES, "model"),
        (None, MESSAGES, "model"),
        ("grok-4", [], "empty"),
        ("grok-4", "Hi", "list of messages"),
        ("grok-4", [["user", "Hi"]], "messages\\[0\\]"),
        ("grok-4", [{"content": "Hi"}], "no 'role'"),
    ],
)
def test_bad_chat_arguments_are_refused_before_io(serve, client_for, model, messages, match):
    """A missing model, empty or malformed messages are refused with what to pass instead."""
    server = serve(ok_completion)
    with pytest.raises(InvalidArgumentError, match=match):
        client_for(server).chat.completions.create(model=model, messages=messages)
    assert server.accepted == 0


def test_messages_may_be_any_iterable(serve, client_for):
    """A generator or tuple of messages is sent as a list."""
    server = serve(ok_completion)
    client = client_for(server)
    client.chat.completions.create(model="grok-4", messages=(m for m in [Message.user("Hi")]))
    assert server.requests[0].json["messages"] == [{"role": "user", "content": "Hi"}]


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "1"])
def test_bad_response_cap_is_refused(canary, value):
    """max_response_bytes must be a positive integer."""
    with pytest.raises(InvalidArgumentError, match="max_response_bytes"):
        Client(api_key=canary, max_response_bytes=value)
