"""The command line, driven through cli.main() and once as `python -m xai_lite`."""

from __future__ import annotations

import io
import subprocess
import sys

from harness import chunk_event, package_env

from xai_lite import cli


def run(argv, env=None):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def streaming_server(serve):
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 9,
             "completion_tokens_details": {"reasoning_tokens": 4}, "cost_in_usd_ticks": 25000000}
    events = [chunk_event(role="assistant", reasoning_content="hmm"), chunk_event("Hello"), chunk_event(", world"),
              chunk_event(finish="stop"), chunk_event(choices=False, usage=usage)]
    return serve(lambda req, reply: reply.sse(events) if req.method == "POST" else reply.json(
        {"object": "list", "data": [{"id": "grok-4"}, {"id": "grok-4.3"}]}))


def test_chat_streams_the_answer(serve, canary, monkeypatch):
    """`chat PROMPT` streams the content to stdout and sends the model and prompt given."""
    server = streaming_server(serve)
    monkeypatch.setenv("XAI_API_KEY", canary)
    code, out, err = run(["--base-url", server.url + "/v1", "chat", "Say hi", "--model", "grok-4", "--usage",
                          "--reasoning", "--system", "Be brief."])
    assert (code, out) == (0, "Hello, world\n")
    assert "hmm" in err and "4 reasoning" in err and "$0.002500" in err
    body = server.requests[0].json
    assert body["model"] == "grok-4" and body["stream"] is True
    assert body["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hi"}]


def test_models_lists_ids(serve, canary, monkeypatch):
    """`models` prints one model id per line."""
    server = streaming_server(serve)
    monkeypatch.setenv("XAI_API_KEY", canary)
    assert run(["--base-url", server.url + "/v1", "models"]) == (0, "grok-4\ngrok-4.3\n", "")


def test_missing_key_is_one_line_and_exit_2():
    """Without a key the CLI exits 2 with one line that says how to set one."""
    code, out, err = run(["chat", "hi"])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "export XAI_API_KEY=" in err


def test_api_error_is_one_line_and_exit_1(serve, canary, monkeypatch):
    """A failed call exits 1 with the error class and message on one line."""
    server = serve(lambda req, reply: reply.respond(503, b'{"error": "at capacity"}'))
    monkeypatch.setenv("XAI_API_KEY", canary)
    code, out, err = run(["--base-url", server.url + "/v1", "chat", "hi"])
    assert code == 1 and err.startswith("xai_lite: ServerError: 503 at capacity") and err.count("\n") == 1
    assert canary not in err


def test_no_command_prints_help():
    """Without a command the CLI prints usage and exits 2."""
    code, out, err = run([])
    assert code == 2 and "chat" in err and "models" in err


def test_python_dash_m_entry_point(serve, canary):
    """`python -m xai_lite chat` works as a real process."""
    server = streaming_server(serve)
    env = package_env(XAI_API_KEY=canary, XAI_BASE_URL=server.url + "/v1")
    proc = subprocess.run([sys.executable, "-m", "xai_lite", "chat", "hi"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "Hello, world\n", "")
