"""The API key: where it comes from, what a valid one is, and that it never shows anywhere."""

from __future__ import annotations

import copy
import os
import pickle
import socket
import traceback

import pytest
from harness import LoopbackServer, chunk_event, ok_completion

import xai_lite
from xai_lite import Client, InvalidArgumentError, Secret, Timeout, XaiError, load_api_key

MESSAGES = [{"role": "user", "content": "Hi"}]


def test_secret_masks_itself_and_counts_exposures():
    """repr/str show at most the last four characters; expose() returns the value and counts."""
    key = Secret("xai-0123456789abcdefWXYZ")
    assert repr(key) == str(key) == "Secret('***WXYZ')"
    assert "xai-" not in repr(key) and "%s" % key == "Secret('***WXYZ')"
    assert key.exposures == 0
    assert key.expose() == "xai-0123456789abcdefWXYZ" and key.exposures == 1
    assert repr(Secret("xai-short")) == "Secret('***')"


def test_secret_cannot_be_pickled():
    """Pickling a Secret is refused rather than writing the key to disk."""
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(Secret("xai-0123456789abcdef"))


def test_explicit_key_wins_over_everything(monkeypatch, tmp_path, canary):
    """The api_key argument comes first, then XAI_API_KEY, then the files."""
    monkeypatch.setenv("XAI_API_KEY", "xai-from-environment-0000")
    (tmp_path / ".env").write_text("XAI_API_KEY=xai-from-dotenv-00000\n")
    assert load_api_key(canary).expose() == canary
    key = load_api_key()
    assert key.expose() == "xai-from-environment-0000" and key.source == "environment variable XAI_API_KEY"


def test_workspace_secrets_file_is_found_walking_up(tmp_path, monkeypatch):
    """secret/-secrets.sh in a parent directory is used when the environment has no key."""
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "-secrets.sh").write_text(
        "#!/bin/sh\n# workspace secrets\nexport OTHER=1\nexport XAI_API_KEY='xai-workspace-key-0001'  \n"
    )
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    (deep / ".env").write_text("XAI_API_KEY=xai-dotenv-key-000001\n")
    monkeypatch.chdir(deep)
    key = load_api_key()
    assert key.expose() == "xai-workspace-key-0001"
    assert key.source.endswith(os.path.join("secret", "-secrets.sh"))


@pytest.mark.parametrize(
    "name,text,expected",
    [
        ("secrets.sh", 'export XAI_API_KEY="xai-double-quoted-01"\n', "xai-double-quoted-01"),
        ("secrets.sh", "XAI_API_KEY=xai-bare-value-000001 # a comment\n", "xai-bare-value-000001"),
        (".env", "# comment\n\nOTHER=x\nXAI_API_KEY = 'xai-single-quoted-01'\n", "xai-single-quoted-01"),
        (".env", "XAI_API_KEY=xai-crlf-line-00000001\r\n", "xai-crlf-line-00000001"),
    ],
)
def test_secrets_files_in_the_working_directory(tmp_path, name, text, expected):
    """secrets.sh and .env are read as KEY=VALUE lines (export, quotes, comments)."""
    (tmp_path / name).write_text(text)
    assert load_api_key().expose() == expected


def test_files_are_read_not_sourced_and_environment_is_untouched(tmp_path):
    """Loading a key from a file neither runs it nor changes os.environ (S11)."""
    (tmp_path / "secrets.sh").write_text("XAI_API_KEY=xai-file-key-000000001\n$(touch pwned)\n")
    before = dict(os.environ)
    client = Client()
    assert client.api_key.expose() == "xai-file-key-000000001"
    assert dict(os.environ) == before and not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("value", [None, "", "   ", "\n"])
def test_missing_key_says_how_to_set_one(monkeypatch, value):
    """B1: no key anywhere is an InvalidArgumentError naming XAI_API_KEY."""
    if value is not None:
        monkeypatch.setenv("XAI_API_KEY", value)
    with pytest.raises(InvalidArgumentError, match="XAI_API_KEY"):
        Client()


BAD_KEYS = ["xai-ab\rcd", "xai-ab\ncd", "xai-ab\r\ncd", "xai-ab\r\n cd", "xai-ab\n\tcd", "xai-ab\x00cd",
            "xai-ab\x07cd", "xai-ab\x7fcd", "xai-abécd", "xai-ab cd", "xai-" + "a" * 5000]


@pytest.mark.parametrize("bad", BAD_KEYS, ids=range(len(BAD_KEYS)))
def test_malformed_keys_are_refused_without_echo(bad):
    """B2: control characters, spaces, non-ASCII or absurd length are refused, and the error
    never contains the key."""
    with pytest.raises(InvalidArgumentError) as info:
        Client(api_key=bad)
    error = info.value
    for text in (str(error), repr(error), repr(error.args), repr(vars(error))):
        assert "ab" not in text.replace("about", "") or bad[4:] not in text
        assert bad not in text


def test_surrounding_whitespace_is_stripped(canary):
    """B2: a key read from a file with a trailing newline works (whitespace is stripped)."""
    assert Client(api_key="  %s\n" % canary).api_key.expose() == canary


class Hostile:
    def __str__(self):
        raise RuntimeError("xai-secret-in-str")


@pytest.mark.parametrize("bad", [b"xai-bytes-key-0000", 12345, Hostile()], ids=["bytes", "int", "object"])
def test_key_of_the_wrong_type(bad):
    """B3: a key that is not a str is a TypeError that does not echo it."""
    with pytest.raises(TypeError) as info:
        Client(api_key=bad)
    assert "xai-" not in str(info.value) and "12345" not in str(info.value)


def test_key_prefix_check_can_be_turned_off():
    """The xai- prefix is required by default and can be waived for other servers."""
    with pytest.raises(InvalidArgumentError, match="check_key_format=False"):
        Client(api_key="sk-other-vendor-key-0001")
    assert Client(api_key="sk-other-vendor-key-0001", check_key_format=False).api_key.expose()


def test_key_is_exposed_at_construction_only(serve, client_for):
    """The client reads the raw key when built, not again for each request (audit trail)."""
    client = client_for(serve(ok_completion))
    before = client.api_key.exposures
    for _ in range(3):
        client.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert client.api_key.exposures == before


def test_client_surfaces_never_show_the_key(canary):
    """S2: repr, str, vars, dir, copy of a client show no key, and pickling is refused."""
    client = Client(api_key=canary, base_url="http://127.0.0.1:9/v1")
    texts = [repr(client), str(client), repr(vars(client)), repr(dir(client)), repr(vars(copy.copy(client))),
             repr(client.api_key), repr(vars(client.chat.completions))]
    assert all(canary not in t and canary[-12:] not in t for t in texts)
    with pytest.raises(TypeError):
        pickle.dumps(client)


def _all_text(error: BaseException) -> str:
    """The error as any reporter would show it, and the library's frames with their locals (the
    test's own frame holds the key as a local by construction, so it is left out)."""
    exc = traceback.TracebackException.from_exception(error, capture_locals=True)
    library = os.path.dirname(xai_lite.__file__)
    frames = [repr(frame.locals) for e in _chain(exc) for frame in e.stack if frame.filename.startswith(library)]
    return "".join(frames) + str(error) + repr(error) + repr(error.args) + repr(vars(error))


def _chain(exc):
    while exc is not None:
        yield exc
        exc = exc.__cause__ or exc.__context__


def _refused_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


FAULTS = {
    "refused": None,
    "reset": lambda req, reply: reply.reset(),
    "fin": lambda req, reply: reply.close(),
    "timeout": lambda req, reply: reply.hang(3),
    "garbage": lambda req, reply: (reply.send(b"NOT HTTP\r\n\r\n"), reply.close()),
    "cut-body": lambda req, reply: (reply.send(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{"), reply.close()),
    "stream-cut": lambda req, reply: (reply.start_chunked(), reply.chunk(b"data: {\"x\""), reply.reset()),
    "echoed-key": None,
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_errors_and_their_tracebacks_never_hold_the_key(serve, canary, fault):
    """S3, S4, S5: for every kind of failure, the error's str, repr, args, attributes and a
    traceback formatted with local variables contain no key, and no low-level exception hangs
    off __cause__ or __context__."""
    if fault == "refused":
        url = "http://127.0.0.1:%d/v1" % _refused_port()
    elif fault == "echoed-key":
        server = serve(lambda req, reply: reply.respond(401, ('{"error": "bad key %s"}' % canary).encode()))
        url = server.url + "/v1"
    else:
        url = serve(FAULTS[fault]).url + "/v1"
    client = Client(api_key=canary, base_url=url, timeout=Timeout(connect=1, read=0.3, total=5))
    with pytest.raises(XaiError) as info:
        result = client.chat.completions.create(model="grok-4", messages=MESSAGES, stream=fault == "stream-cut")
        list(result)
    error = info.value
    assert info.traceback[-1].path.is_relative_to(os.path.dirname(xai_lite.__file__)) if hasattr(
        info.traceback[-1].path, "is_relative_to") else True
    assert canary not in _all_text(error)
    assert error.__cause__ is None
    assert error.__context__ is None or isinstance(error.__context__, XaiError)
    if fault == "echoed-key":
        assert "***" + canary[-4:] in error.message


def test_server_masked_key_passes_through(serve, canary):
    """S5: the API's own masked form ("xa***yz") is left as the server wrote it."""
    body = b'{"code": "Client specified an invalid argument", "error": "Incorrect API key provided: xa***yz."}'
    server = serve(lambda req, reply: reply.respond(400, body))
    with pytest.raises(xai_lite.AuthenticationError) as info:
        Client(api_key=canary, base_url=server.url + "/v1").models.list()
    assert "xa***yz" in info.value.message


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize(
    "target", ["other-host", "other-port", "same-origin", "https-to-http", "scheme-relative", "file", "relative"]
)
def test_redirects_are_never_followed(serve, canary, status, target):
    """F25, S6: every redirect raises HttpError with the status and a sanitised Location; the
    target (a second loopback host) receives nothing, for GET and POST alike."""
    other = serve(ok_completion, host="127.0.0.2")
    locations = {
        "other-host": other.url + "/v1/models?api_key=" + canary,
        "other-port": "http://127.0.0.1:%d/v1/models" % other.port,
        "same-origin": "/v1/elsewhere",
        "https-to-http": "http://127.0.0.2:%d/v1" % other.port,
        "scheme-relative": "//127.0.0.2:%d/v1" % other.port,
        "file": "file:///etc/passwd",
        "relative": "elsewhere",
    }
    server = serve(lambda req, reply: reply.respond(status, b"", {"Location": locations[target]}))
    client = Client(api_key=canary, base_url=server.url + "/v1")
    for call in (lambda: client.models.list(), lambda: client.chat.completions.create(model="m", messages=MESSAGES)):
        with pytest.raises(xai_lite.HttpError) as info:
            call()
        assert info.value.status_code == status and "redirect" in str(info.value)
        assert canary not in str(info.value)
    assert other.requests == [] and other.accepted == 0
    assert len(server.requests) == 2


def test_canary_never_reaches_another_host_with_streams(serve, canary):
    """S6: streaming calls too send the key only to the configured host."""
    server = serve(lambda req, reply: reply.sse([chunk_event("a")]))
    spy = LoopbackServer(ok_completion, host="127.0.0.2")
    try:
        client = Client(api_key=canary, base_url=server.url + "/v1")
        list(client.chat.completions.create(model="m", messages=MESSAGES, stream=True))
        assert spy.accepted == 0 and server.requests[0].headers["authorization"] == "Bearer " + canary
    finally:
        spy.stop()
