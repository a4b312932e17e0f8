"""AWS Lambda: `python -m xai_lite layer build`, the layer on every CPython, and the example handler
run the way the Lambda runtime runs it. Nothing here needs the network: extras come from a local
wheel, and pip's failures are provoked with an index that does not exist or cannot be reached.

Case ids extend the test plan (reliability.md S12) with P-cases for packaging: P10 reproducible
layer, P11 the layer on 3.8-3.13, P12 extras, P13 pip failures, P14 the handler.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile

import pytest
from harness import ROOT, refused_port
from shipping import VERSIONS, api, interpreter, run, use_copy

import xai_lite
from xai_lite import _ship

PACKAGE_DIR = os.path.dirname(os.path.abspath(xai_lite.__file__))
IMPORT_ROOT = os.path.dirname(PACKAGE_DIR)
THIS_PYTHON = "%d.%d" % sys.version_info[:2]
TAG = sys.implementation.cache_tag



def build(out, *argv):
    code, stdout, stderr = run(["layer", "build", "--out", str(out), *argv])
    assert (code, stderr) == (0, ""), stderr
    return stdout


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def unpack(layer, into):
    with zipfile.ZipFile(str(layer)) as archive:
        archive.extractall(str(into))
    return str(into / "python")


def digests(root):
    """sha256 of every file under ``root``: shows whether anything was written there."""
    found = {}
    for folder, _, names in os.walk(root):
        for name in names:
            with open(os.path.join(folder, name), "rb") as fh:
                found[os.path.relpath(os.path.join(folder, name), root)] = hashlib.sha256(fh.read()).hexdigest()
    return found



def test_layer_is_reproducible_and_holds_python_xai_lite(tmp_path):
    """P10: two builds are byte-identical; the zip holds python/xai_lite/ (the package's sources and
    their bytecode for this Python) and nothing else, dated 1980-01-01, mode 0644, no host path."""
    first, second = tmp_path / "one.zip", tmp_path / "two.zip"
    report = build(first)
    build(second)
    assert digest(first) == digest(second)  # digests: pytest's diff of two 350 KB blobs takes minutes
    assert report.startswith("wrote %s: " % first) and " KB, " in report and "bytecode for CPython " + THIS_PYTHON \
        in report
    assert ("publish: aws lambda publish-layer-version --layer-name xai-lite --zip-file fileb://%s "
            "--compatible-runtimes python%s --compatible-architectures x86_64" % (first, THIS_PYTHON)) in report
    with zipfile.ZipFile(str(first)) as archive:
        infos = archive.infolist()
        blobs = b"".join(archive.read(info) for info in infos)
    names = [info.filename for info in infos]
    assert names == sorted(names)
    sources = ["python/xai_lite/" + path for path in _ship.package_files()]
    bytecode = ["python/xai_lite/%s__pycache__/%s.%s.pyc" % (os.path.dirname(p) + "/" if "/" in p else "",
                                                             os.path.basename(p)[:-3], TAG)
                for p in _ship.package_files() if p.endswith(".py")]
    assert sorted(names) == sorted(sources + bytecode)
    assert {(info.date_time, info.external_attr >> 16) for info in infos} == {((1980, 1, 1, 0, 0, 0), 0o100644)}
    for host_path in (str(tmp_path), PACKAGE_DIR, "/tmp/", sys.prefix):
        assert host_path.encode() not in blobs + first.read_bytes(), host_path


@pytest.mark.parametrize("version", VERSIONS)
def test_layer_runs_on_every_python(tmp_path, serve, canary, version):
    """P11: a layer built for CPython 3.X, unzipped, with only python/ on the path under
    `python -I -S`: imports the package, builds a client, makes a chat and a streamed call over
    loopback (and a models call), and loads its bytecode from the layer (nothing is written into it)."""
    python = interpreter(version)
    report = build(tmp_path / "layer.zip", "--python", version, "--interpreter", python)
    assert "bytecode for CPython " + version in report
    site = unpack(tmp_path / "layer.zip", tmp_path / "opt")
    before = digests(site)
    seen = use_copy(python, site, serve(api), canary)
    assert "xai_lite._client" in seen.pop("modules")
    assert seen == {"answer": "Hello from the server", "streamed": "Hello, world", "models": ["grok-4", "grok-4.3"],
                    "python": version, "from_copy": True}
    assert digests(site) == before  # every module came from the layer's own bytecode


def fake_wheel(folder, name="tiktoken", version="0.0.1"):
    """A minimal pure-Python wheel, so that pip installs an extra without the network."""
    files = {"%s/__init__.py" % name: b"FAKE = True\n",
             "%s-%s.dist-info/METADATA" % (name, version): b"Metadata-Version: 2.1\nName: %s\nVersion: %s\n"
             % (name.encode(), version.encode()),
             "%s-%s.dist-info/WHEEL" % (name, version): b"Wheel-Version: 1.0\nGenerator: test\n"
                                                       b"Root-Is-Purelib: true\nTag: py3-none-any\n",
             "%s-%s.dist-info/entry_points.txt" % (name, version): b"[console_scripts]\nfake-cli = %s:main\n"
             % name.encode()}
    record = "".join("%s,sha256=%s,%d\n" % (path, base64.urlsafe_b64encode(hashlib.sha256(data).digest())
                                            .rstrip(b"=").decode(), len(data)) for path, data in files.items())
    files["%s-%s.dist-info/RECORD" % (name, version)] = (record + "%s-%s.dist-info/RECORD,,\n"
                                                          % (name, version)).encode()
    folder.mkdir(exist_ok=True)
    with zipfile.ZipFile(str(folder / ("%s-%s-py3-none-any.whl" % (name, version))), "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)


def offline_pip(monkeypatch, index, links=""):
    """Point pip at ``index`` (and ``links``) only, ignoring the machine's pip configuration."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", index)
    monkeypatch.setenv("PIP_FIND_LINKS", links)
    monkeypatch.setenv("PIP_RETRIES", "1")
    monkeypatch.setenv("PIP_DEFAULT_TIMEOUT", "5")
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL", raising=False)
    monkeypatch.delenv("PIP_NO_INDEX", raising=False)


def test_layer_with_extras_installs_their_wheels(tmp_path, monkeypatch):
    """P12: --extras tokens installs tiktoken's wheel for the given Python and platform into
    python/ next to xai_lite (with bytecode), reproducibly, and the layer imports both."""
    fake_wheel(tmp_path / "wheels")
    offline_pip(monkeypatch, "file:///nonexistent", str(tmp_path / "wheels"))
    argv = ("--python", THIS_PYTHON, "--platform", "manylinux2014_aarch64", "--extras", "tokens")
    report = build(tmp_path / "one.zip", *argv)
    build(tmp_path / "two.zip", *argv)
    assert "with tiktoken" in report and "--compatible-architectures arm64" in report
    assert digest(tmp_path / "one.zip") == digest(tmp_path / "two.zip")
    with zipfile.ZipFile(str(tmp_path / "one.zip")) as archive:
        names = set(archive.namelist())
        blobs = b"".join(archive.read(name) for name in names)
    assert not [name for name in names if name.startswith("python/bin/")]  # console scripts hold host paths
    for host_path in (str(tmp_path), sys.prefix, sys.executable):
        assert host_path.encode() not in blobs, host_path
    assert {"python/tiktoken/__init__.py", "python/tiktoken/__pycache__/__init__.%s.pyc" % TAG,
            "python/tiktoken-0.0.1.dist-info/METADATA", "python/xai_lite/__init__.py"} <= names
    site = unpack(tmp_path / "one.zip", tmp_path / "opt")
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                           "import tiktoken, xai_lite; print(tiktoken.FAKE, xai_lite.__version__)", site],
                          capture_output=True, text=True, timeout=60)
    assert proc.stdout.split() == ["True", xai_lite.__version__], proc.stderr


@pytest.mark.parametrize("where, message", [
    ("file:///nonexistent", "xai_lite: no wheel of tiktoken for CPython 3.12 on manylinux2014_x86_64 on the "
                            "package index\n"),
    ("refused", "xai_lite: no network: pip could not reach the package index for tiktoken (set PIP_INDEX_URL to "
                "a mirror you can reach)\n"),
])
def test_layer_extras_fail_with_one_clear_line(tmp_path, monkeypatch, where, message):
    """P13: when pip finds no wheel, or cannot reach its index, `layer build --extras` exits 1 with
    one line saying which, and writes no zip."""
    offline_pip(monkeypatch, "http://127.0.0.1:%d/simple" % refused_port() if where == "refused" else where)
    out = tmp_path / "layer.zip"
    code, stdout, stderr = run(["layer", "build", "--out", str(out), "--python", "3.12", "--extras", "tokens"])
    assert (code, stdout, stderr) == (1, "", message)
    assert not out.exists() and os.listdir(str(tmp_path)) == []


def test_layer_usage_errors(tmp_path):
    """P13: an unknown extra, a malformed --python or an --interpreter of another version exits 2
    before anything is built."""
    for argv, text in ((["--extras", "tokens,nope"], "unknown --extras nope"),
                       (["--python", "3"], "--python must look like 3.12"),
                       (["--python", "3.7", "--interpreter", sys.executable], "is Python %s, not CPython 3.7"
                        % THIS_PYTHON)):
        code, out, err = run(["layer", "build", "--out", str(tmp_path / "x.zip"), *argv])
        assert (code, out) == (2, "") and text in err, err
    with pytest.raises(SystemExit) as exit_info:
        run(["layer", "build", "--platform", "win_amd64"])
    assert exit_info.value.code == 2
    assert os.listdir(str(tmp_path)) == []


RUNTIME = """if 1:
    # What the Lambda runtime does: the function's code and the layer on sys.path, import the
    # handler module once, then call handler(event, context) for each invocation.
    import importlib, json, sys, time
    task_root, layer, invocations = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    sys.path[:0] = [task_root, layer]

    class Context:
        function_name = "xai-lite-test"
        aws_request_id = "req-1"

        def __init__(self, budget_ms):
            self._deadline = time.monotonic() + budget_ms / 1000

        def get_remaining_time_in_millis(self):
            return max(0, int((self._deadline - time.monotonic()) * 1000))

    module = importlib.import_module("lambda_handler")
    results = []
    for event, budget_ms in invocations:
        context = Context(budget_ms)
        result = module.handler(event, context)
        results.append([result, context.get_remaining_time_in_millis() > 0])
    print(json.dumps([results, module.xai_lite.__file__.startswith(layer)]))
"""


def run_handler(tmp_path, server, canary, invocations):
    task = tmp_path / "task"
    task.mkdir()
    shutil.copy(os.path.join(ROOT, "examples", "lambda_handler.py"), str(task))
    build(tmp_path / "layer.zip")
    site = unpack(tmp_path / "layer.zip", tmp_path / "opt")
    env = {"XAI_API_KEY": canary, "XAI_BASE_URL": server.url + "/v1", "XAI_MODEL": "grok-4"}
    proc = subprocess.run([sys.executable, "-I", "-c", RUNTIME, str(task), site, json.dumps(invocations)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert canary not in proc.stdout + proc.stderr
    results, from_layer = json.loads(proc.stdout)
    assert from_layer
    return results


def test_lambda_handler_answers_and_reuses_its_client(tmp_path, serve, canary):
    """P14: examples/lambda_handler.py, imported by a runtime-like loader with the layer on the
    path, answers two invocations over one keep-alive connection (the client is built once, at
    module level), and turns a bad event into an error result."""
    server = serve(api)
    results = run_handler(tmp_path, server, canary, [[{"prompt": "hi"}, 30000], [{"prompt": "again"}, 30000],
                                                     [{"nope": 1}, 30000]])
    assert [r[0]["answer"] for r in results[:2]] == ["Hello from the server"] * 2
    assert results[2][0] == {"error": "BadRequest", "message": 'the event needs a "prompt" string'}
    assert server.accepted == 1 and len(server.requests) == 2
    assert [r.json["messages"][0]["content"] for r in server.requests] == ["hi", "again"]
    assert {r.json["model"] for r in server.requests} == {"grok-4"}


def test_lambda_handler_gives_up_before_the_function_times_out(tmp_path, serve, canary):
    """P14: against a server that never answers, the handler returns a RequestTimeoutError result
    while the invocation still has time left, instead of being killed by the runtime."""
    server = serve(lambda request, reply: reply.hang(60))
    started = time.monotonic()
    results = run_handler(tmp_path, server, canary, [[{"prompt": "hi"}, 4000]])
    (result, time_left), = results
    assert result["error"] == "RequestTimeoutError" and time_left, result
    assert time.monotonic() - started < 60
