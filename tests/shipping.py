"""Helpers of the packaging tests (test_ship.py, test_lambda.py): the CLI run in-process, a
loopback xAI, and the CPython interpreters of the cross-version tests (3.8 to 3.13 under pyenv).

A missing interpreter fails the test under ``CI=true`` (CI installs them all) and is skipped, with
the reason shown, everywhere else.
"""

from __future__ import annotations

import glob
import io
import json
import os
import subprocess
from typing import Any, Dict, List, Tuple

import pytest
from harness import LoopbackServer, Recorded, Reply, chunk_event, completion_body, models_body

from xai_lite import cli

VERSIONS = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]


def run(argv: List[str]) -> Tuple[int, str, str]:
    """``cli.main(argv)``: the exit status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def api(request: Recorded, reply: Reply) -> None:
    """A loopback xAI: models, chat completions and streamed chat completions."""
    if request.method == "GET":
        reply.json(models_body("grok-4", "grok-4.3"))
    elif request.json.get("stream"):
        reply.sse([chunk_event(role="assistant"), chunk_event("Hello"), chunk_event(", world"),
                   chunk_event(finish="stop")])
    else:
        reply.json(completion_body("Hello from the server"))


USE_COPY = """if 1:
    import json, sys
    assert not [p for p in sys.path if "site-packages" in p], sys.path
    sys.path.insert(0, sys.argv[1])
    %s
    client = xai_lite.Client()
    ask = dict(model="grok-4", messages=[{"role": "user", "content": "hi"}])
    r = client.chat.completions.create(**ask)
    with client.chat.completions.create(stream=True, **ask) as stream:
        streamed = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    print(json.dumps({"answer": r.choices[0].message.content, "streamed": streamed,
                      "models": [m.id for m in client.models.list()], "python": "%%d.%%d" %% sys.version_info[:2],
                      "from_copy": xai_lite.__file__.startswith(sys.argv[1]),
                      "modules": sorted(m for m in sys.modules if m.split(".")[0] == "xai_lite")}))
"""


def use_copy(python: str, path: str, server: LoopbackServer, key: str, import_line: str = "import xai_lite",
             ) -> Dict[str, Any]:
    """Under ``python -I -S`` with only ``path`` added to sys.path, import a copy of the package
    (``import_line`` binds ``xai_lite``) and make a chat, a streamed and a models call to
    ``server`` with ``key`` from XAI_API_KEY; return what the process saw."""
    env = {"XAI_API_KEY": key, "XAI_BASE_URL": server.url + "/v1"}
    proc = subprocess.run([python, "-I", "-S", "-c", USE_COPY % import_line, path], env=env, capture_output=True,
                          text=True, timeout=120, cwd=path)
    assert proc.returncode == 0, proc.stderr
    assert key not in proc.stdout + proc.stderr
    result: Dict[str, Any] = json.loads(proc.stdout)
    return result


def _pyenv_root() -> str:
    if os.environ.get("PYENV_ROOT"):
        return os.environ["PYENV_ROOT"]
    try:
        out = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=30)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except OSError:
        pass
    return os.path.expanduser("~/.pyenv")


def _patch(path: str) -> List[int]:
    return [int(part) if part.isdigit() else 0 for part in path.split(os.sep)[-3].split(".")]


def interpreter(version: str) -> str:
    """The newest pyenv CPython ``version`` (``"3.12"``): its python's path, or skip/fail."""
    found = [p for p in glob.glob(os.path.join(_pyenv_root(), "versions", version + ".*", "bin", "python"))
             if os.access(p, os.X_OK)]
    if not found:
        message = "CPython %s is not installed under %s/versions" % (version, _pyenv_root())
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return max(found, key=_patch)
