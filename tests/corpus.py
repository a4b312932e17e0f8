"""The recorded xAI exchanges (../shared/conformance/recorded, or $XAI_LITE_CONFORMANCE_DIR),
and a loopback handler that replays one of them as the real API sent it.

The corpus is read where it lies, never copied into this repository. Without it, the replay
tests fail under CI=true and are skipped, visibly, elsewhere.
"""

from __future__ import annotations

import base64
import glob
import json
import os
import time
from typing import Any, Dict, Iterator, List, Optional

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOP_BY_HOP = {"transfer-encoding", "content-length", "connection", "keep-alive", "content-encoding"}


def _find_corpus() -> Optional[str]:
    path = os.environ.get("XAI_LITE_CONFORMANCE_DIR") or os.path.join(ROOT, "..", "shared", "conformance", "recorded")
    path = os.path.abspath(path)
    return path if os.path.isfile(os.path.join(path, "index.json")) else None


# Resolved at import: the tests' clean-environment fixture removes XAI_* variables later.
_CORPUS = _find_corpus()
_IN_CI = os.environ.get("CI", "").lower() == "true"


def corpus_dir() -> Optional[str]:
    return _CORPUS


def require_corpus() -> str:
    """The corpus directory; fails under CI=true when it is missing, else skips."""
    path = corpus_dir()
    if path is None:
        message = ("the recorded exchanges were not found: set XAI_LITE_CONFORMANCE_DIR or check out "
                   "../shared/conformance/recorded next to this repository")
        if _IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


def exchanges(*endpoints: str) -> List[str]:
    """File names of the recorded exchanges for the given endpoints (all when none given)."""
    path = corpus_dir()
    if path is None:
        return ["(corpus missing)"]
    names = []
    for file in sorted(glob.glob(os.path.join(path, "*.json"))):
        name = os.path.basename(file)
        if name == "index.json":
            continue
        with open(file, encoding="utf-8") as fh:
            endpoint = json.load(fh)["endpoint"]
        if not endpoints or endpoint in endpoints:
            names.append(name)
    return names


def load(name: str) -> Dict[str, Any]:
    path = require_corpus()
    with open(os.path.join(path, name), encoding="utf-8") as fh:
        return json.load(fh)


def body_bytes(record: Dict[str, Any]) -> bytes:
    response = record["response"]
    if "body_base64" in response:
        return base64.b64decode(response["body_base64"])
    return response["body_text"].encode("utf-8")


def replay(record: Dict[str, Any]) -> Any:
    """A server handler that answers every request with the recorded response. Streams with
    recorded network reads are sent one read per write, with a pause, to reproduce them."""
    response = record["response"]
    body = body_bytes(record)
    headers = [(k, v) for k, v in response["headers"].items() if k.lower() not in HOP_BY_HOP]
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "text/event-stream" if record["streaming"] else "application/json"))
    chunks = [base64.b64decode(c) for c in response.get("body_chunks_base64") or []]

    def handler(request: Any, reply: Any) -> None:
        status = response["status"]
        reason = response.get("reason")
        if record["streaming"] and status == 200:
            reply.send(reply.head(status, headers + [("Transfer-Encoding", "chunked")], reason))
            for piece in chunks or [body]:
                reply.chunk(piece)
                if chunks:
                    time.sleep(0.002)
            reply.end_chunks()
        else:
            reply.send(reply.head(status, headers + [("Content-Length", str(len(body)))], reason) + body)

    return handler


def sse_payloads(text: str) -> Iterator[Dict[str, Any]]:
    """The `data:` payloads of a recorded stream, parsed the simple way (recorded streams are
    regular: LF line ends, one data line per event). Used to compute expected values
    independently of the client's decoder."""
    for block in text.replace("\r\n", "\n").split("\n\n"):
        data = [line[5:].lstrip(" ") for line in block.split("\n") if line.startswith("data:")]
        if data and data[0] != "[DONE]":
            yield json.loads("\n".join(data))


def response_header(record: Dict[str, Any], name: str) -> Optional[str]:
    for k, v in record["response"]["headers"].items():
        if k.lower() == name:
            return str(v)
    return None
