"""Shared fixtures: a clean environment, a per-test canary key, loopback servers, and a check
that no log record ever carries the key."""

from __future__ import annotations

import logging
import os
import secrets
import sys
from typing import Any, Callable, Iterator, List

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import ROOT, LoopbackServer, package_dir  # noqa: E402

import xai_lite  # noqa: E402

# Set by .ci/run, which installs the wheel: the suite must then test it, not the checkout.
INSTALLED_ONLY = "XAI_LITE_TEST_INSTALLED"

try:
    from hypothesis import settings

    # No example database: CI runs several Pythons in one tree at once, and nothing is written into it.
    settings.register_profile("default", deadline=None, max_examples=200, database=None)
    settings.load_profile("default")
except ImportError:  # pragma: no cover - hypothesis is in the test extra
    pass


def pytest_report_header(config: pytest.Config) -> str:
    """Say which xai_lite the run tests: the installed wheel or the source tree."""
    return "xai_lite %s imported from %s" % (xai_lite.__version__, package_dir())


def pytest_configure(config: pytest.Config) -> None:
    """Under $XAI_LITE_TEST_INSTALLED=1 (CI), refuse to test the checkout's own xai_lite/."""
    checkout = os.path.realpath(ROOT)
    inside = os.path.commonpath([os.path.realpath(package_dir()), checkout]) == checkout
    if os.environ.get(INSTALLED_ONLY) == "1" and inside:
        raise pytest.UsageError(
            "%s=1 but xai_lite was imported from the checkout (%s), not the installed wheel; run the "
            "suite with `pytest`, not `python -m pytest` (which puts the working directory first on sys.path)"
            % (INSTALLED_ONLY, package_dir())
        )


ENV_PREFIXES = ("XAI_",)
ENV_NAMES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "SSL_CERT_FILE")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Every test starts without XAI_* or proxy variables, in an empty working directory."""
    for name in list(os.environ):
        if name.startswith(ENV_PREFIXES) or name in ENV_NAMES:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


_RAISES = pytest.raises


@pytest.fixture(autouse=True)
def canary(monkeypatch: pytest.MonkeyPatch) -> str:
    """A unique API key per test, looked for wherever it must not appear: every exception a
    ``pytest.raises`` block or ``harness.consume()`` catches is checked for it (S3, S4)."""
    key = "xai-canary-" + secrets.token_hex(12)
    monkeypatch.setattr(harness, "CANARY", key)
    monkeypatch.setattr(pytest, "raises", harness.checked_raises(_RAISES))
    return key


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: List[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def log_records(canary: str) -> Iterator[List[logging.LogRecord]]:
    """Every xai_lite log record of the test, at DEBUG; none may contain the canary key (S1)."""
    logger = logging.getLogger("xai_lite")
    handler = _Records()
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    formatter = logging.Formatter("%(message)s")
    for record in handler.records:
        text = formatter.format(record) + repr(record.args) + repr(record.__dict__)
        assert canary not in text, "the API key leaked into a log record: %r" % record.getMessage()


@pytest.fixture
def serve() -> Iterator[Callable[..., LoopbackServer]]:
    """Start loopback servers for a test: ``serve(handler, host=..., tls=...)``."""
    servers: List[LoopbackServer] = []

    def start(handler: Any, **kwargs: Any) -> LoopbackServer:
        server = LoopbackServer(handler, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def client_for(canary: str) -> Iterator[Callable[..., xai_lite.Client]]:
    """``client_for(server, **options)``: a Client for a loopback server, with the canary key."""
    clients: List[xai_lite.Client] = []

    def make(server: LoopbackServer, **kwargs: Any) -> xai_lite.Client:
        kwargs.setdefault("api_key", canary)
        kwargs.setdefault("base_url", server.url + "/v1")
        client = xai_lite.Client(**kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
