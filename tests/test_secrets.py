"""The API key: where it comes from, what a valid one is, and that it never shows anywhere."""

from __future__ import annotations

import copy
import os
import pickle
import socket
import traceback

import harness
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


def _rendered_without_the_test_frame(error: BaseException) -> str:
    """The error as a locals-capturing reporter renders it, from the frame below the test's own
    (which holds the key by construction)."""
    tb = error.__traceback__.tb_next if error.__traceback__ is not None else None
    rendered = traceback.TracebackException(type(error), error, tb, capture_locals=True)
    return "".join(rendered.format())


REFUSED = {
    "inner-newline": lambda key: key[:15] + "\n" + key[15:],
    "inner-space": lambda key: key[:15] + " " + key[15:],
    "wrong-prefix": lambda key: "sk-" + key[4:],
}


@pytest.mark.parametrize("source", ["argument", "environment", "dotenv", "workspace-file", "secret-object"])
@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_refused_key_is_in_no_traceback_frame(monkeypatch, tmp_path, canary, source, kind):
    """S4b: a key refused by validation (inner newline or space, wrong prefix) from any source is
    in no frame's locals of the raised error's traceback (load_api_key, _validated,
    Client.__init__), as TracebackException(capture_locals=True) renders it; nor 8 characters
    of it."""
    bad = REFUSED[kind](canary)
    if kind == "inner-newline" and source in ("dotenv", "workspace-file"):
        bad = bad.replace("\n", "\t")  # a file is read line by line: its control character is a tab
    if source == "environment":
        monkeypatch.setenv("XAI_API_KEY", bad)
    elif source == "dotenv":
        (tmp_path / ".env").write_text("XAI_API_KEY='%s'\n" % bad)
    elif source == "workspace-file":
        (tmp_path / "secret").mkdir(mode=0o700)
        (tmp_path / "secret" / "-secrets.sh").write_text("export XAI_API_KEY='%s'\n" % bad)
    with pytest.raises(InvalidArgumentError) as info:
        if source == "argument":
            Client(api_key=bad)
        elif source == "secret-object":
            Client(api_key=Secret(bad))
        else:
            Client()
    text = _rendered_without_the_test_frame(info.value)
    assert "_validated" in text and "load_api_key" in text  # the frames are there, with locals
    pieces = [bad] + harness.canary_pieces(canary)
    assert not any(piece in text for piece in pieces), text


def test_key_argument_is_in_no_frame_when_another_argument_is_refused(canary):
    """S4c: Client.__init__ refusing another argument (a bad timeout) after taking the key keeps
    the key out of its frame's locals (the ``api_key`` parameter is masked)."""
    with pytest.raises(InvalidArgumentError) as info:
        Client(api_key=canary, base_url="ftp://127.0.0.1/v1")
    text = _rendered_without_the_test_frame(info.value)
    assert "api_key" in text and not any(piece in text for piece in harness.canary_pieces(canary))


HALF_BUILT = {
    "Client": lambda key: Client(api_key=key, max_response_bytes=0),
    "CircuitBreaker": lambda key: xai_lite.CircuitBreaker(failure_threshold=0),
    "FunctionTool": lambda key: xai_lite.tool(42),
    "RateLimiter": lambda key: xai_lite.RateLimiter(requests_per_second=-1),
    "FailoverPolicy": lambda key: xai_lite.FailoverPolicy(strategy="nope"),
}


@pytest.mark.parametrize("name", sorted(HALF_BUILT))
def test_repr_of_half_built_objects_never_raises(canary, name):
    """S2a: an object whose __init__ refused an argument is ``self`` in a traceback frame; its
    repr works (and shows no key), so locals-capturing reports (which call repr on every local,
    and on 3.8 to 3.10 abort on the first that raises) show the original error."""
    with pytest.raises(XaiError) as info:
        HALF_BUILT[name](canary)
    selves = []
    tb = info.value.__traceback__
    while tb is not None:
        if "self" in tb.tb_frame.f_locals and tb.tb_frame.f_code.co_name == "__init__":
            selves.append(tb.tb_frame.f_locals["self"])
        tb = tb.tb_next
    assert selves, "no __init__ frame with self"
    for obj in selves:
        assert canary not in repr(obj)
    text = _rendered_without_the_test_frame(info.value)
    assert str(info.value) in text


def test_repr_of_objects_in_odd_states_never_raises():
    """S2b: the library's own reprs never raise, whatever state an object is in (built without
    __init__, as copy or unpickling code may)."""
    from xai_lite._secrets import KeyMask
    from xai_lite._transport import Origin

    classes = [Client, Secret, KeyMask, Origin, xai_lite.CircuitBreaker, xai_lite.RateLimiter,
               xai_lite.FailoverPolicy, xai_lite.FunctionTool, xai_lite.ChatCompletion, xai_lite.ChatStream]
    for cls in classes:
        text = repr(object.__new__(cls))
        assert cls.__name__ in text


def _secret_file(root, key="xai-workspace-key-0001"):
    (root / "secret").mkdir(mode=0o700, exist_ok=True)
    path = root / "secret" / "-secrets.sh"
    path.write_text("export XAI_API_KEY=%s\n" % key)
    path.chmod(0o600)
    return path


def test_secrets_walk_stops_at_the_repository_root(tmp_path, monkeypatch):
    """S11a: the walk up for secret/-secrets.sh stops at the directory holding .git: a file
    above the repository is not used."""
    _secret_file(tmp_path)
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "src").mkdir()
    monkeypatch.chdir(repo / "src")
    with pytest.raises(InvalidArgumentError, match="No xAI API key found"):
        load_api_key()
    _secret_file(repo, "xai-repository-key-01")
    assert load_api_key().expose() == "xai-repository-key-01"


def test_secrets_walk_stops_at_home(tmp_path, monkeypatch):
    """S11b: the walk stops at the user's home: a file in a parent of home is not used."""
    _secret_file(tmp_path)
    home = tmp_path / "home" / "user"
    (home / "project").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home / "project")
    with pytest.raises(InvalidArgumentError, match="No xAI API key found"):
        load_api_key()
    _secret_file(home, "xai-home-key-00000001")
    assert load_api_key().expose() == "xai-home-key-00000001"


@pytest.mark.parametrize("where", ["file", "secret-dir", "parent-dir", "dotenv"])
@pytest.mark.parametrize("problem", ["group-writable", "world-writable", "other-owner"])
def test_secrets_files_others_could_write_are_ignored(tmp_path, monkeypatch, where, problem):
    """S11c: as ssh does, a secrets file is ignored when it, its secret/ directory or the
    directory holding that is writable by group or others, or owned by another user; the
    working directory's .env too."""
    if problem in ("other-owner", "group-writable") and os.geteuid() != 0:
        pytest.skip("changing a file's owner or group needs root")
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o700)
    project = shared / "project"
    project.mkdir(mode=0o700)
    if where == "dotenv":
        target = project / ".env"
        target.write_text("XAI_API_KEY=xai-planted-key-000001\n")
        target.chmod(0o600)
    else:
        path = _secret_file(shared, "xai-planted-key-000001")
        target = {"file": path, "secret-dir": path.parent, "parent-dir": shared}[where]
    monkeypatch.chdir(project)
    assert load_api_key().expose() == "xai-planted-key-000001"  # trusted as it is
    if problem == "other-owner":
        os.chown(target, 65534, 65534)
    elif problem == "group-writable":
        os.chown(target, -1, 65534)  # a group other users are in ("nogroup"), not the owner's own
        target.chmod(target.stat().st_mode | 0o020)
    else:
        target.chmod(target.stat().st_mode | 0o002)
    with pytest.raises(InvalidArgumentError, match="No xAI API key found"):
        load_api_key()


def test_group_writable_in_the_owners_private_group_is_trusted(tmp_path, monkeypatch):
    """S11d: with a umask of 002 (Debian and Fedora give each user a group of their own), files
    and directories writable by the owner's private group are still the owner's: trusted."""
    import grp
    import pwd

    owner = pwd.getpwuid(os.getuid())
    group = grp.getgrgid(owner.pw_gid)
    if group.gr_name != owner.pw_name or set(group.gr_mem) - {owner.pw_name}:
        pytest.skip("this user has no private group")
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o700)
    (shared / "project").mkdir()
    path = _secret_file(shared, "xai-umask-002-key-0001")
    for target in (path, path.parent, shared):
        os.chown(target, -1, owner.pw_gid)
        target.chmod(target.stat().st_mode | 0o020)
    monkeypatch.chdir(shared / "project")
    assert load_api_key().expose() == "xai-umask-002-key-0001"
