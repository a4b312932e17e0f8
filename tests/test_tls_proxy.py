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
