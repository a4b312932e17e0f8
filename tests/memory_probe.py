"""Make one client call against a loopback server in a fresh interpreter and print, as JSON,
what it raised and its tracemalloc peak. The tests run it in a subprocess: in the test process,
threads other tests left behind allocate too, and tracemalloc would count them.

Usage: ``python memory_probe.py '{"call": "chat", "body": "tiny", "field": "choices", "size": N,
"options": {...}, "canary": "xai-..."}'``; ``body`` is ``"tiny"`` (``{"<field>":[{},{},...]}``
of ``size`` bytes) or ``"worst"`` (empty choices up to the container limit of a ``size``-byte
cap, padded to the cap with a string).
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import traceback
import tracemalloc
from typing import Any, Callable, Dict

sys.path[:0] = [os.path.dirname(os.path.abspath(__file__)), os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]

from harness import LoopbackServer  # noqa: E402

import xai_lite  # noqa: E402

MESSAGES = [{"role": "user", "content": "Hi"}]
CALLS: Dict[str, Callable[[xai_lite.Client], Any]] = {
    "models list": lambda c: c.models.list(),
    "chat": lambda c: c.chat.completions.create(model="grok-4", messages=MESSAGES),
    "responses": lambda c: c.responses.create(model="grok-4", input="Hi"),
}


def make_body(kind: str, field: str, size: int) -> bytes:
    if kind == "tiny":
        head, tail = b'{"object":"list","%s":[' % field.encode(), b"{}]}"
        return head + b"{}," * ((size - len(head) - len(tail)) // 3) + tail
    count = size // 32 - 8  # just under the container limit of a size-byte cap
    head = b'{"object":"chat.completion","%s":[' % field.encode() + b",".join([b"{}"] * count) + b'],"pad":"'
    return head + b"p" * (size - len(head) - 2) + b'"}'


def leaks(error: BaseException, canary: str) -> bool:
    """Whether the canary is in the error's str, repr, args, body, pickle or library frames' locals."""
    text = str(error) + repr(error) + repr(error.args) + repr(getattr(error, "body", None))
    if canary in text or canary.encode() in pickle.dumps(error):
        return True
    summary = traceback.TracebackException.from_exception(error, capture_locals=True)
    frames = [frame for frame in summary.stack if "/xai_lite/" in frame.filename]
    return any(canary in repr(frame.locals) for frame in frames)


def main() -> None:
    spec = json.loads(sys.argv[1])
    body = make_body(spec["body"], spec["field"], spec["size"])
    raw = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    server = LoopbackServer(lambda request, reply: reply.send(raw))
    client = xai_lite.Client(api_key=spec["canary"], base_url=server.url + "/v1", **spec["options"])
    call = CALLS[spec["call"]]
    result, error = None, None
    tracemalloc.start()
    try:
        result = call(client)
    except xai_lite.XaiError as exc:
        error = exc
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    client.close()
    server.stop()
    print(json.dumps({
        "error": type(error).__name__ if error is not None else None,
        "message": str(error) if error is not None else "",
        "leaks": leaks(error, spec["canary"]) if error is not None else False,
        "items": len(getattr(result, spec["field"])) if result is not None else None,
        "peak": peak,
        "body": len(body),
    }))


if __name__ == "__main__":
    main()
