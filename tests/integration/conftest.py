"""Integration tests against the real xAI API.

They run only when asked: ``python -m pytest -m integration tests/integration``. Asked without
``XAI_API_KEY``, every test fails with a message saying so: never a silent skip, never a fake.
Set ``XAI_TEST_MODEL`` to choose the model (default: the CLI's default model).
"""

from __future__ import annotations

import os
from typing import Iterator

import pytest

import xai_lite
from xai_lite.cli import DEFAULT_MODEL

# Read at import: the suite-wide clean-environment fixture removes XAI_* variables afterwards.
KEY = os.environ.get("XAI_API_KEY", "")
BASE_URL = os.environ.get("XAI_BASE_URL") or None
MODEL = os.environ.get("XAI_TEST_MODEL") or DEFAULT_MODEL


def pytest_collection_modifyitems(items: list) -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def live_client() -> Iterator[xai_lite.Client]:
    """A client for the real API; fails the test loudly when no key is configured."""
    if not KEY.strip():
        pytest.fail("integration tests need XAI_API_KEY (export XAI_API_KEY=xai-...); refusing to fake the API")
    with xai_lite.Client(api_key=KEY, base_url=BASE_URL) as client:
        yield client


@pytest.fixture
def model() -> str:
    return MODEL
