"""The example scripts for the Responses API, deferred completions, structured outputs, tools and
conversations run to the end against a loopback stand-in for xAI (XAI_BASE_URL), as their
docstrings promise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any, Dict

import pytest
from harness import (ROOT, chunk_event, completion_body, package_env, response_body, response_stream,
                     tool_call_completion)


def sample(schema: Dict[str, Any]) -> Any:
    """A value that fits ``schema`` (the subset the examples use)."""
    if "anyOf" in schema:
        return sample(schema["anyOf"][0])
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return {name: sample(sub) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [sample(schema.get("items", {}))]
    return {"string": "Paris", "integer": 3, "number": 2.5, "boolean": True}.get(kind)


def fake_xai(request, reply) -> None:
    """Answers like xAI would, from what the request asks for."""
    body = request.json or {}
    if request.method == "DELETE":
        reply.json({"id": request.path.rsplit("/", 1)[1], "object": "response", "deleted": True})
    elif request.method == "GET":
        reply.json(completion_body("A limerick."))
    elif request.path.endswith("/chat/completions"):
        tools = [t["function"] for t in body.get("tools") or []]
        answered = any(m.get("role") == "tool" for m in body["messages"])
        if body.get("deferred"):
            reply.json({"request_id": "deferred-1"})
        elif body.get("stream"):
            reply.sse([chunk_event("It is ", role="assistant"), chunk_event("Tuesday."), chunk_event(finish="stop")])
        elif "response_format" in body:
            reply.json(completion_body(json.dumps(sample(body["response_format"]["json_schema"]["schema"]))))
        elif tools and not answered:
            calls = [("call_%d" % i, t["name"], sample(t["parameters"])) for i, t in enumerate(tools)]
            reply.json(tool_call_completion(*calls))
        else:
            reply.json(completion_body("Done."))
    elif body.get("stream"):
        reply.sse(response_stream(["Hallo, ", "hola, ", "salut."]), done=False)
    else:
        text = json.dumps(sample(body["text"]["format"]["schema"])) if "text" in body else "An answer."
        output = [{"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "c2VjcmV0"}]
        tools = body.get("tools") or []
        if any(t["type"] == "web_search" for t in tools):
            output.append({"type": "web_search_call", "id": "ws_1", "status": "completed",
                           "action": {"type": "search", "query": "xai", "sources": []}})
        functions = [t for t in tools if t["type"] == "function"]
        if functions and not any(isinstance(i, dict) and i.get("type") == "function_call_output" for i in body["input"]):
            output += [{"type": "function_call", "id": "fc_%d" % i, "call_id": "c%d" % i, "name": t["name"],
                        "arguments": json.dumps(sample(t["parameters"]))} for i, t in enumerate(functions)]
            reply.json(response_body(output=output, rid="resp-%d" % len(body["input"])))
        else:
            reply.json(response_body(text, output=output + response_body(text)["output"], rid="resp-x"))


@pytest.mark.parametrize("script, expected", [
    ("responses.py", "An answer."),
    ("responses_conversation.py", "stateless, turn 2: An answer."),
    ("deferred.py", "A limerick."),
    ("structured.py", "Invoice(number='Paris'"),
    ("tools.py", "Done."),
    ("conversation.py", "It is Tuesday."),
])
def test_example_runs_against_a_compatible_server(serve, canary, script, expected):
    """The script exits 0 and prints its answer, given only XAI_BASE_URL and XAI_API_KEY."""
    server = serve(fake_xai)
    env = package_env(XAI_BASE_URL=server.url + "/v1", XAI_API_KEY=canary)
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "examples", script)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert expected in proc.stdout
    assert canary not in proc.stdout + proc.stderr
    assert all(r.headers["authorization"] == "Bearer " + canary for r in server.requests)
