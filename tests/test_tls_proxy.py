"""TLS verification with the client's own context, and HTTPS through a CONNECT proxy."""

from __future__ import annotations

import base64
import ssl

import pytest
from harness import ConnectProxy, ok_completion

import xai_lite
from xai_lite import InvalidArgumentError, NetworkError

trustme = pytest.importorskip("trustme")

MESSAGES = [{"role": "user", "content": "Hi"}]


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture
def tls_server(serve, ca):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    return serve(ok_completion, tls=context)


@pytest.fixture
def ca_file(ca, tmp_path):
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def chat(client):
    return client.chat.completions.create(model="grok-4", messages=MESSAGES)


def test_https_with_the_test_ca(tls_server, ca_file, canary):
    """F24: with ca_file naming the CA, an https call succeeds."""
    client = xai_lite.Client(api_key=canary, base_url=tls_server.url + "/v1", ca_file=ca_file)
    assert chat(client).choices[0].message.content == "Hello"


def test_ssl_cert_file_is_honoured(tls_server, ca_file, canary, monkeypatch):
    """F24: SSL_CERT_FILE names the CA file when ca_file is not given."""
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)
    client = xai_lite.Client(api_key=canary, base_url=tls_server.url + "/v1")
    assert chat(client).choices[0].message.content == "Hello"


def test_unknown_certificate_is_rejected_and_nothing_is_sent(tls_server, canary, monkeypatch):
    """F24: a self-signed server fails verification (reason 'tls-verify', request never sent),
    even when the process-global default context was swapped for an unverified one (C21)."""
    monkeypatch.setattr(ssl, "_create_default_https_context", ssl._create_unverified_context)
    client = xai_lite.Client(api_key=canary, base_url=tls_server.url + "/v1")
    with pytest.raises(NetworkError) as info:
        chat(client)
    assert info.value.reason == "tls-verify" and info.value.request_sent is False
    assert "ca_file" in str(info.value)
    assert tls_server.requests == []


def test_wrong_host_name_is_rejected(serve, ca, ca_file, canary):
    """F24: a certificate for another name fails verification."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("other.example").configure_cert(context)
    server = serve(ok_completion, tls=context)
    client = xai_lite.Client(api_key=canary, base_url=server.url + "/v1", ca_file=ca_file)
    with pytest.raises(NetworkError) as info:
        chat(client)
    assert info.value.reason == "tls-verify"


def test_handshake_dropped_is_a_tls_network_error(serve, canary, ca_file):
    """F24: a server that closes during the handshake gives NetworkError, request not sent."""
    server = serve(ok_completion, on_connect=lambda sock: False)
    client = xai_lite.Client(api_key=canary, base_url="https://localhost:%d/v1" % server.port, ca_file=ca_file)
    with pytest.raises(NetworkError) as info:
        chat(client)
    assert info.value.request_sent is False


def test_bad_ca_file_is_refused_at_construction(canary, tmp_path):
    """A ca_file that cannot be loaded is an InvalidArgumentError naming the file."""
    with pytest.raises(InvalidArgumentError, match="missing.pem"):
        xai_lite.Client(api_key=canary, ca_file=str(tmp_path / "missing.pem"))


def test_https_through_a_connect_proxy(tls_server, ca_file, canary):
    """HTTPS goes through an explicit proxy as a CONNECT tunnel; the proxy sees only the CONNECT."""
    proxy = ConnectProxy()
    try:
        with xai_lite.Client(api_key=canary, base_url=tls_server.url + "/v1", ca_file=ca_file,
                             proxy=proxy.url) as client:
            assert chat(client).choices[0].message.content == "Hello"
        assert proxy.first_lines == ["CONNECT localhost:%d HTTP/1.1" % tls_server.port]
        assert all(canary not in str(h) for h in proxy.connects)
        assert tls_server.requests[0].headers["authorization"] == "Bearer " + canary
    finally:
        proxy.stop()


def test_proxy_credentials_go_only_into_connect(tls_server, ca_file, canary):
    """S6: Proxy-Authorization is sent on CONNECT and never through the tunnel to the server."""
    expected = "Basic " + base64.b64encode(b"user:p@ss").decode()
    proxy = ConnectProxy(require_auth=expected)
    try:
        client = xai_lite.Client(api_key=canary, base_url=tls_server.url + "/v1", ca_file=ca_file,
                                 proxy="http://user:p%%40ss@127.0.0.1:%d" % proxy.port)
        chat(client)
        assert proxy.connects[0]["proxy-authorization"] == expected
        assert "proxy-authorization" not in tls_server.requests[0].headers
    finally:
        proxy.stop()


def test_proxy_refusal_is_a_network_error(tls_server, ca_file, canary):
    """A proxy that answers CONNECT with 407 gives NetworkError(reason='proxy'), without its credentials."""
    proxy = ConnectProxy(require_auth="Basic other")
    try:
        client = xai_lite.Client(api_key=canary, base_url=tls_server.url + "/v1", ca_file=ca_file,
                                 proxy="http://user:secret-pw@127.0.0.1:%d" % proxy.port)
        with pytest.raises(NetworkError) as info:
            chat(client)
        assert info.value.reason == "proxy" and "407" in str(info.value)
        assert "secret-pw" not in str(info.value) and tls_server.requests == []
    finally:
        proxy.stop()


def test_https_proxy_environment_variable(serve, ca, ca_file, canary, monkeypatch):
    """HTTPS_PROXY routes https calls through the proxy, which resolves the host name itself."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("api.proxied.test").configure_cert(context)
    server = serve(ok_completion, tls=context)
    proxy = ConnectProxy(upstream_host="127.0.0.1")
    try:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        url = "https://api.proxied.test:%d/v1" % server.port
        with xai_lite.Client(api_key=canary, base_url=url, ca_file=ca_file) as client:
            assert chat(client).choices[0].message.content == "Hello"
        assert proxy.first_lines == ["CONNECT api.proxied.test:%d HTTP/1.1" % server.port]
    finally:
        proxy.stop()


@pytest.mark.parametrize("no_proxy", ["*", "api.proxied.test", ".proxied.test", "proxied.test:443,other"])
def test_no_proxy_bypasses_the_environment_proxy(canary, monkeypatch, no_proxy):
    """NO_PROXY entries (exact host, domain suffix, *, with a port) bypass HTTPS_PROXY."""
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", no_proxy)
    client = xai_lite.Client(api_key=canary, base_url="https://api.proxied.test/v1")
    assert client._transport.proxy(client._origin) is None
    monkeypatch.setenv("NO_PROXY", "elsewhere.test")
    client = xai_lite.Client(api_key=canary, base_url="https://api.proxied.test/v1")
    assert client._transport.proxy(client._origin) is not None


@pytest.mark.parametrize("url", ["https://127.0.0.1:3128", "socks5://127.0.0.1:1080", "http://:8080"])
def test_unsupported_proxy_urls_are_refused(canary, url):
    """Only http:// proxies are supported; others are refused at construction."""
    with pytest.raises(InvalidArgumentError, match="proxy"):
        xai_lite.Client(api_key=canary, proxy=url)


# -- issue 7: proxy failures, proxy URLs, plain http through a proxy, client certificates --------------

import os  # noqa: E402
import pickle  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402

from harness import full_backlog, refused_port  # noqa: E402

from xai_lite import RequestTimeoutError, Secret, Timeout  # noqa: E402

LIBRARY = os.path.dirname(xai_lite.__file__)


def assert_clean(error, *secrets, frames=True):
    """S3, S4: no secret in the error's str, repr, args, attributes, pickle and, with ``frames``,
    the locals of xai_lite's frames in its locals-capturing traceback (chain included)."""
    parts = [str(error), repr(error), repr(error.args), repr(vars(error)),
             pickle.dumps(error).decode("latin-1")]
    exc = traceback.TracebackException.from_exception(error, capture_locals=frames)
    while exc is not None:
        parts += [repr(f.locals) for f in exc.stack if f.filename.startswith(LIBRARY) and f.locals]
        parts.append("".join(exc.format_exception_only()))
        exc = exc.__cause__ or exc.__context__
    text = "".join(parts)
    for secret in secrets:
        assert secret not in text


def failing_call(client):
    with pytest.raises(NetworkError) as info:
        chat(client)
    return info.value


@pytest.mark.parametrize("via_env", [False, True])
def test_refused_proxy_is_blamed_on_the_proxy(canary, monkeypatch, via_env):
    """F1 through a proxy (issue 7 item 20): a proxy port that refuses names the proxy, the
    setting it came from and the phase; the API host is not blamed."""
    proxy = "http://127.0.0.1:%d" % refused_port()
    if via_env:
        monkeypatch.setenv("HTTPS_PROXY", proxy)
    client = xai_lite.Client(api_key=canary, base_url="https://api.example.test/v1",
                             **({} if via_env else {"proxy": proxy}))
    error = failing_call(client)
    assert error.reason == "refused" and error.request_sent is False
    assert error.proxy == proxy and error.proxy_phase == "connect" and error.host == "api.example.test:443"
    assert str(error).startswith("the proxy %s refused the connection" % proxy)
    assert ("HTTPS_PROXY" if via_env else "proxy") in str(error) and "base_url" not in str(error)
    assert_clean(error, canary)


def test_unresolvable_proxy_is_blamed_on_the_proxy(canary):
    """F3 through a proxy (item 20): a proxy host that does not resolve is a dns error naming
    the proxy (credentials masked), in phase 'connect'."""
    client = xai_lite.Client(api_key=canary, base_url="https://api.example.test/v1",
                             proxy="http://user:pw-secret@no-such-proxy.invalid:3128")
    error = failing_call(client)
    assert error.reason == "dns" and error.proxy_phase == "connect"
    assert error.proxy == "http://***@no-such-proxy.invalid:3128"
    assert "the proxy http://***@no-such-proxy.invalid:3128" in str(error)
    assert_clean(error, canary, "pw-secret")


def test_proxy_connect_timeout_is_blamed_on_the_proxy(canary):
    """F2 through a proxy (item 20): a proxy whose accept queue is full times out connecting
    to the proxy, and says so."""
    with full_backlog() as port:
        client = xai_lite.Client(api_key=canary, base_url="https://api.example.test/v1",
                                 proxy="127.0.0.1:%d" % port, timeout=Timeout(connect=0.3, read=5, total=10))
        with pytest.raises(RequestTimeoutError) as info:
            chat(client)
    error = info.value
    assert error.phase == "connect" and error.proxy_phase == "connect" and error.request_sent is False
    assert "connecting to the proxy http://127.0.0.1:%d" % port in str(error)
    assert_clean(error, canary)


def test_env_proxy_is_checked_when_base_url_changes(canary, monkeypatch):
    """Item 21: an unusable HTTP_PROXY is refused when base_url moves to an origin that uses
    it, before any request."""
    monkeypatch.setenv("HTTP_PROXY", "socks5://127.0.0.1:1080")
    client = xai_lite.Client(api_key=canary, allow_insecure_http=True)
    with pytest.raises(InvalidArgumentError, match="SOCKS proxies are not supported"):
        client.base_url = "http://api.example.test/v1"
    assert client.base_url == "https://api.x.ai/v1"


def test_silent_proxy_times_out_in_the_connect_phase(serve, canary):
    """F2/F11 through a proxy (item 20): a proxy that accepts and never answers CONNECT is
    bounded by the connect timeout (not the read timeout) and blamed as the CONNECT handshake."""
    silent = serve(lambda request, reply: reply.hang(30))
    client = xai_lite.Client(api_key=canary, base_url="https://api.example.test/v1", proxy=silent.url,
                             timeout=Timeout(connect=0.5, read=20, total=30))
    start = time.monotonic()
    with pytest.raises(RequestTimeoutError) as info:
        chat(client)
    assert time.monotonic() - start < 10
    error = info.value
    assert error.phase == "connect" and error.timeout == 0.5 and error.request_sent is False
    assert error.proxy == silent.url and error.proxy_phase == "handshake"
    assert "the proxy %s (CONNECT handshake for api.example.test:443)" % silent.url in str(error)
    assert [r.method for r in silent.requests] == ["CONNECT"]
    assert_clean(error, canary)


@pytest.mark.parametrize("status, hint", [
    (407, "the proxy wants credentials"),
    (403, "do not allow this destination"),
    (502, "could not reach the API host"),
])
def test_proxy_refusing_connect_names_status_phase_and_hint(serve, canary, status, hint):
    """S6-adjacent (item 20): a proxy answering CONNECT with 407/403/502 gives
    NetworkError(reason='proxy', proxy_phase='handshake') with the status and what to do."""
    proxy = serve(lambda request, reply: reply.respond(status, b"<html>no</html>", content_type="text/html"))
    client = xai_lite.Client(api_key=canary, base_url="https://api.example.test/v1", proxy=proxy.url)
    error = failing_call(client)
    assert error.reason == "proxy" and error.request_sent is False
    assert error.proxy == proxy.url and error.proxy_phase == "handshake"
    assert "the proxy %s refused to open a tunnel to api.example.test:443" % proxy.url in str(error)
    assert str(status) in str(error) and hint in str(error)
    assert "authorization" not in proxy.requests[0].headers
    assert_clean(error, canary)


def test_tls_failure_inside_the_tunnel_names_the_proxy(tls_server, canary):
    """F24 through a proxy (item 20): the TLS handshake with the API host inside an open
    tunnel fails as phase 'tunnel', naming both the API host and the proxy."""
    proxy = ConnectProxy()
    try:
        client = xai_lite.Client(api_key=canary, base_url=tls_server.url + "/v1", proxy=proxy.url)
        error = failing_call(client)
    finally:
        proxy.stop()
    assert error.reason == "tls-verify" and error.proxy_phase == "tunnel" and error.proxy == proxy.url
    assert error.host == "localhost:%d" % tls_server.port
    assert "localhost:%d (in the tunnel through the proxy %s)" % (tls_server.port, proxy.url) in str(error)
    assert_clean(error, canary)


def test_proxy_without_a_scheme_is_http(tls_server, ca_file, canary, monkeypatch):
    """Item 21: HTTPS_PROXY=host:port (no scheme) is read as http://host:port, as curl and httpx do."""
    proxy = ConnectProxy()
    try:
        monkeypatch.setenv("HTTPS_PROXY", "user:pw@127.0.0.1:%d" % proxy.port)
        url = "https://api.proxied.test:%d/v1" % tls_server.port
        proxy.upstream_host = "127.0.0.1"
        with xai_lite.Client(api_key=canary, base_url=url, ca_file=ca_file) as client:
            assert client._transport.proxy(client._origin).url == "http://***@127.0.0.1:%d" % proxy.port
            with pytest.raises(NetworkError):
                chat(client)  # the certificate is for localhost: the tunnel was used, TLS then failed
        assert proxy.first_lines == ["CONNECT api.proxied.test:%d HTTP/1.1" % tls_server.port]
        assert proxy.connects[0]["proxy-authorization"] == "Basic " + base64.b64encode(b"user:pw").decode()
    finally:
        proxy.stop()


@pytest.mark.parametrize("url, words", [
    ("https://user:pw-secret@proxy.example:3128", "https:// proxies (TLS to the proxy itself) are not supported"),
    ("socks5://user:pw-secret@proxy.example:1080", "SOCKS proxies are not supported"),
    ("ftp://proxy.example:21", "unknown proxy scheme 'ftp'"),
    ("http://user:pw-secret@proxy.example:99999", "has no valid host and port"),
])
def test_proxy_scheme_mistakes_are_worded(canary, monkeypatch, url, words):
    """Item 21: a real scheme mistake says what is wrong and names the setting (HTTPS_PROXY),
    without the proxy's password."""
    monkeypatch.setenv("HTTPS_PROXY", url)
    with pytest.raises(InvalidArgumentError) as info:
        xai_lite.Client(api_key=canary)
    assert words in str(info.value) and "HTTPS_PROXY" in str(info.value)
    assert_clean(info.value, "pw-secret")
    # The key is one of Client.__init__'s own arguments, hence one of its locals.
    assert_clean(info.value, canary, frames=False)


def test_proxy_of_the_wrong_type_is_refused(canary):
    """Item 21: proxy= must be a str or None; anything else is refused naming the argument
    (it used to be ignored silently)."""
    with pytest.raises(InvalidArgumentError, match="proxy must be a URL"):
        xai_lite.Client(api_key=canary, proxy=3128)


def test_plain_http_origin_goes_to_the_proxy_in_absolute_form(serve, canary):
    """Item 22: a plain-http origin through a proxy gets absolute-form requests (no CONNECT),
    with Proxy-Authorization on every request, over one kept-alive connection."""
    proxy = serve(ok_completion)
    client = xai_lite.Client(api_key=canary, base_url="http://api.example.test:8080/v1", allow_insecure_http=True,
                             proxy="http://user:pw@127.0.0.1:%d" % proxy.port)
    chat(client)
    chat(client)
    expected = "Basic " + base64.b64encode(b"user:pw").decode()
    assert [(r.method, r.target) for r in proxy.requests] == [
        ("POST", "http://api.example.test:8080/v1/chat/completions")] * 2
    assert all(r.headers["proxy-authorization"] == expected for r in proxy.requests)
    assert proxy.requests[0].headers["host"] == "api.example.test:8080"
    assert proxy.requests[0].headers["authorization"] == "Bearer " + canary
    assert proxy.accepted == 1


def test_http_proxy_environment_variable_for_plain_http(serve, canary, monkeypatch):
    """Item 22: HTTP_PROXY routes a plain-http origin (port 80: no port in the target) the same
    way; an error through it names the proxy and phase 'forward'."""
    proxy = serve(lambda request, reply: reply.close())
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    client = xai_lite.Client(api_key=canary, base_url="http://api.example.test/v1", allow_insecure_http=True)
    error = failing_call(client)
    assert [(r.method, r.target) for r in proxy.requests] == [("POST", "http://api.example.test/v1/chat/completions")]
    assert error.proxy == proxy.url and error.proxy_phase == "forward"
    assert "api.example.test:80 (via the proxy %s)" % proxy.url in str(error)
    assert_clean(error, canary)


def test_host_name_mismatch_does_not_advise_ca_file(serve, ca, ca_file, canary):
    """F24, item 25: a certificate for another name says to check the host in base_url, and
    does not suggest ca_file= (another CA would not help)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("other.example").configure_cert(context)
    server = serve(ok_completion, tls=context)
    client = xai_lite.Client(api_key=canary, base_url=server.url + "/v1", ca_file=ca_file)
    error = failing_call(client)
    assert error.reason == "tls-verify" and "ca_file" not in str(error) and "base_url" in str(error)
    assert_clean(error, canary)


# -- item 24: client certificates (mTLS) and ssl_context --------------------------------------------


@pytest.fixture
def mtls_server(serve, ca):
    """F24 (mTLS): a server that requires a client certificate issued by the test CA."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    context.verify_mode = ssl.CERT_REQUIRED
    ca.configure_trust(context)
    return serve(ok_completion, tls=context)


@pytest.fixture
def client_files(ca, tmp_path):
    """A client certificate from the test CA: cert.pem, key.pem, combined.pem, and the key
    encrypted with the password 'key-pw-secret' (encrypted.pem)."""
    serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")
    leaf = ca.issue_cert("client@example.test")
    paths = {name: str(tmp_path / (name + ".pem")) for name in ("cert", "key", "combined", "encrypted")}
    leaf.cert_chain_pems[0].write_to_path(paths["cert"])
    leaf.private_key_pem.write_to_path(paths["key"])
    leaf.private_key_and_cert_chain_pem.write_to_path(paths["combined"])
    key = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), None)
    with open(paths["encrypted"], "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(b"key-pw-secret")))
    return paths


@pytest.mark.parametrize("form", ["pair", "combined", "encrypted", "encrypted-secret"])
def test_client_certificate_is_presented(mtls_server, ca_file, client_files, canary, form):
    """F24 (mTLS), item 24: client_cert as a (cert, key) pair, one combined PEM, or a pair
    with an encrypted key and client_key_password (str or Secret) gets through a server that
    requires a client certificate."""
    options = {
        "pair": {"client_cert": (client_files["cert"], client_files["key"])},
        "combined": {"client_cert": client_files["combined"]},
        "encrypted": {"client_cert": (client_files["cert"], client_files["encrypted"]),
                      "client_key_password": "key-pw-secret"},
        "encrypted-secret": {"client_cert": (client_files["cert"], client_files["encrypted"]),
                             "client_key_password": Secret("key-pw-secret")},
    }[form]
    with xai_lite.Client(api_key=canary, base_url=mtls_server.url + "/v1", ca_file=ca_file, **options) as client:
        assert chat(client).choices[0].message.content == "Hello"
        assert "key-pw-secret" not in repr([getattr(client._tls, name) for name in client._tls.__slots__])
    assert len(mtls_server.requests) == 1


def test_missing_client_certificate_fails_with_a_hint(mtls_server, ca_file, canary):
    """F24 (mTLS), item 24: without client_cert, the server's refusal is a NetworkError that
    says to pass client_cert=, and the server saw no request. (TLS 1.3 refuses after the
    client's handshake: the client sees the alert, or a close while writing if it comes first.)"""
    client = xai_lite.Client(api_key=canary, base_url=mtls_server.url + "/v1", ca_file=ca_file)
    error = failing_call(client)
    assert error.reason in ("tls", "reset") and "client_cert=" in str(error)
    assert mtls_server.requests == []
    assert_clean(error, canary)


def test_encrypted_key_needs_its_password(client_files, canary):
    """Item 24: an encrypted key without client_key_password is refused at construction
    (OpenSSL never prompts on the terminal), and a wrong password is refused without being shown."""
    pair = (client_files["cert"], client_files["encrypted"])
    with pytest.raises(InvalidArgumentError, match="encrypted; pass its password as client_key_password="):
        xai_lite.Client(api_key=canary, client_cert=pair)
    with pytest.raises(InvalidArgumentError, match="check client_key_password") as info:
        xai_lite.Client(api_key=canary, client_cert=pair, client_key_password="wrong-pw-secret")
    assert_clean(info.value, "wrong-pw-secret")
    assert_clean(info.value, canary, frames=False)


@pytest.mark.parametrize("options, words", [
    ({"client_cert": 123}, "client_cert must be a PEM file"),
    ({"client_cert": ("only-one",)}, "client_cert must be a PEM file"),
    ({"client_cert": "missing.pem"}, "client_cert: could not read 'missing.pem'"),
    ({"client_key_password": "pw"}, "client_key_password was given without client_cert"),
    ({"client_key_password": 5, "client_cert": "x.pem"}, "client_key_password must be a str, bytes or Secret"),
    ({"ssl_context": "ctx"}, "ssl_context must be an ssl.SSLContext"),
    ({"ssl_context": ssl.create_default_context(), "ca_file": "ca.pem"}, "ssl_context and ca_file exclude each other"),
    ({"ssl_context": ssl.create_default_context(), "client_cert": "c.pem"}, "ssl_context and client_cert"),
])
def test_tls_options_are_checked_before_any_io(canary, options, words):
    """Item 24: bad client_cert / client_key_password / ssl_context values are refused at
    construction, naming the argument."""
    with pytest.raises(InvalidArgumentError) as info:
        xai_lite.Client(api_key=canary, **options)
    assert words in str(info.value)


def test_key_not_matching_the_certificate_is_refused(client_files, ca_file, canary):
    """Item 24: a key that does not belong to the certificate is refused at construction."""
    with pytest.raises(InvalidArgumentError, match="does not belong to the certificate"):
        xai_lite.Client(api_key=canary, client_cert=(ca_file, client_files["key"]))


def test_ssl_context_gives_full_control(mtls_server, ca, client_files, canary):
    """Item 24: ssl_context= is used as given (here: the test CA and the client certificate)."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    context.load_cert_chain(client_files["cert"], client_files["key"])
    with xai_lite.Client(api_key=canary, base_url=mtls_server.url + "/v1", ssl_context=context) as client:
        assert client._transport._context is context
        assert chat(client).choices[0].message.content == "Hello"


def test_with_options_changes_tls_settings_and_pool(mtls_server, ca_file, client_files, canary):
    """Item 24, S13: with_options(client_cert=...) gives a copy with its own TLS context and
    pool; the original keeps its settings (and is still refused)."""
    plain = xai_lite.Client(api_key=canary, base_url=mtls_server.url + "/v1", ca_file=ca_file)
    with_cert = plain.with_options(client_cert=client_files["combined"])
    assert chat(with_cert).choices[0].message.content == "Hello"
    assert with_cert._transport is not plain._transport and with_cert._tls.ca_file == ca_file
    assert "client_cert=" in str(failing_call(plain))
    with pytest.raises(InvalidArgumentError, match="exclude each other"):
        plain.with_options(ssl_context=ssl.create_default_context(), client_cert=client_files["combined"])
    plain.close()
    with_cert.close()


def test_uppercase_http_proxy_is_ignored_under_cgi(canary, monkeypatch):
    """S11 (httpoxy, CVE-2016-5385): in a CGI process (REQUEST_METHOD set) HTTP_PROXY can come
    from a request's Proxy: header, so it is ignored there, as urllib does; http_proxy counts."""
    monkeypatch.setenv("REQUEST_METHOD", "GET")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    url = "http://api.example.test/v1"
    client = xai_lite.Client(api_key=canary, base_url=url, allow_insecure_http=True)
    assert client._transport.proxy(client._origin) is None
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    client = xai_lite.Client(api_key=canary, base_url=url, allow_insecure_http=True)
    assert client._transport.proxy(client._origin).url == "http://127.0.0.1:9"
