"""A copy of the package vendored as ``mytool._vendor.xai_lite`` works like the installed one
(S12, extended to vendoring):

S12e  no module named ``xai_lite`` is ever imported: a decoy top-level ``xai_lite`` that refuses
      to import sits on sys.path, and sys.modules is checked, in the process and in pool workers.
S12f  every public class, error, result and deferred handle reports the copy's own module, and
      pickles and unpickles, also through a ``ProcessPoolExecutor`` (spawned workers) round trip;
      an error raised by a call in a worker arrives whole and without the key.
S12g  loggers are named after the copy (``mytool._vendor.xai_lite.reliability``), the copy's
      package logger has the NullHandler, and no ``xai_lite`` logger is created.

The copy runs in a child ``python -I`` that talks to a loopback server of the test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from harness import chunk_event, completion_body, error_reply, models_body, package_dir, response_body

VENDORED = "mytool._vendor.xai_lite"

JOBS = '''"""Work a tool sends to a process pool, with the vendored client."""
import os
import sys

from ._vendor import xai_lite


def echo(value):
    return value


def call_busy(base_url):
    with xai_lite.Client(api_key=os.environ["XAI_API_KEY"], base_url=base_url) as client:
        client.chat.completions.create(model="busy", messages=[{"role": "user", "content": "hi"}])


def top_level_modules():
    return sorted(name for name in sys.modules if name.split(".")[0] == "xai_lite")
'''

# Runs in the child: exercises the copy and prints a JSON report of what it found.
CHECK = '''
import concurrent.futures, importlib, json, logging, multiprocessing, os, pickle, pkgutil, sys
sys.path.insert(0, sys.argv[1])
base_url, key = sys.argv[2], os.environ["XAI_API_KEY"]
PKG = "mytool._vendor.xai_lite"
import mytool._vendor.xai_lite as x
from mytool import jobs

records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append(record.name)
logging.getLogger(PKG).addHandler(Keep(logging.DEBUG))
logging.getLogger(PKG).setLevel(logging.DEBUG)

def problem(what, exc):
    return "%s: %s: %s" % (what, type(exc).__name__, exc)

report = {"problems": [], "classes": 0}
for info in pkgutil.walk_packages(x.__path__, PKG + "."):
    if info.name != PKG + ".__main__":
        importlib.import_module(info.name)

for module in (x, x.errors, x.types, x.responses, x.reliability):
    for name in module.__all__:
        cls = getattr(module, name)
        if not isinstance(cls, type):
            continue
        report["classes"] += 1
        try:
            assert cls.__module__.split(".")[:3] == PKG.split("."), cls.__module__
            assert getattr(importlib.import_module(cls.__module__), cls.__qualname__) is cls, "not found there"
            assert pickle.loads(pickle.dumps(cls)) is cls, "pickled by reference to another class"
        except Exception as exc:
            report["problems"].append(problem("%s.%s" % (module.__name__, name), exc))

for name in x.errors.__all__:
    try:
        error = getattr(x.errors, name)("something broke")
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and str(copy) == str(error)
    except Exception as exc:
        report["problems"].append(problem("pickling " + name, exc))

messages = [{"role": "user", "content": "hi"}]
policy = x.RetryPolicy(max_retries=1, initial_delay=0.01, max_delay=0.01, jitter=0)
with x.Client(api_key=key, base_url=base_url, retry=policy) as client:
    completion = client.chat.completions.create(model="grok-4", messages=messages)
    with client.chat.completions.create(model="grok-4", messages=messages, stream=True) as stream:
        chunks = list(stream)
    results = [completion, chunks[0], chunks[-1], client.models.list(), policy,
               client.chat.completions.create(model="grok-4", messages=messages, deferred=True),
               client.responses.create(model="grok-4", input="hi")]
    try:
        client.chat.completions.create(model="busy", messages=messages)
    except x.ServerError as exc:
        retried = exc
report["results"] = sorted("%s.%s" % (type(r).__module__, type(r).__qualname__) for r in results)
for result in results:
    try:
        copy = pickle.loads(pickle.dumps(result))
        assert type(copy) is type(result) and pickle.dumps(copy) == pickle.dumps(result), "changed"
    except Exception as exc:
        report["problems"].append(problem("pickling a " + type(result).__name__, exc))

context = multiprocessing.get_context("spawn")  # a fresh interpreter imports everything by name
with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
    echoed = pool.submit(jobs.echo, results).result(timeout=120)
    report["echoed"] = [type(a) is type(b) and pickle.dumps(a) == pickle.dumps(b) for a, b in zip(echoed, results)]
    try:
        pool.submit(jobs.call_busy, base_url).result(timeout=120)
    except Exception as exc:
        error = exc
    report["worker_modules"] = pool.submit(jobs.top_level_modules).result(timeout=120)
report["pool_error"] = [type(error).__module__, type(error).__name__, type(error) is x.ServerError,
                        getattr(error, "status_code", None)]
report["error_texts"] = [str(error), repr(error), repr(error.args), pickle.dumps(error).decode("latin-1"),
                         str(retried), repr(retried)]
report["retry_logged_to"] = sorted(set(records))
report["reliability_logger"] = x.reliability._clock.logger.name
report["null_handler"] = any(isinstance(h, logging.NullHandler) for h in logging.getLogger(PKG).handlers)
report["xai_lite_loggers"] = sorted(n for n in logging.Logger.manager.loggerDict if n.split(".")[0] == "xai_lite")
report["top_level_modules"] = sorted(name for name in sys.modules if name.split(".")[0] == "xai_lite")
print(json.dumps(report))
'''


def fake_xai(request, reply) -> None:
    """Chat (plain, streamed, deferred; model "busy" answers 503), models and responses."""
    body = request.json or {}
    if request.path.endswith("/models"):
        reply.json(models_body("grok-4"))
    elif request.path.endswith("/responses"):
        reply.json(response_body("An answer."))
    elif body.get("model") == "busy":
        error_reply(503, message="at capacity")(request, reply)
    elif body.get("deferred"):
        reply.json({"request_id": "deferred-1"})
    elif body.get("stream"):
        reply.sse([chunk_event("Hello", role="assistant"), chunk_event(finish="stop")])
    else:
        reply.json(completion_body("Hello"))


def vendor_into(tmp_path) -> str:
    """A tool's tree with the package copied to mytool/_vendor/xai_lite/, next to a decoy
    top-level xai_lite/ that fails on import; returns the folder to put on sys.path."""
    site = tmp_path / "site"
    vendor = site / "mytool" / "_vendor"
    shutil.copytree(package_dir(), str(vendor / "xai_lite"), ignore=shutil.ignore_patterns("__pycache__"))
    (site / "mytool" / "__init__.py").write_text("")
    (vendor / "__init__.py").write_text("")
    (site / "mytool" / "jobs.py").write_text(JOBS)
    (site / "xai_lite").mkdir()
    (site / "xai_lite" / "__init__.py").write_text('raise ImportError("the top-level xai_lite was imported")\n')
    return str(site)


def test_a_vendored_copy_works_under_its_own_name(tmp_path, serve, canary):
    """S12e, S12f, S12g: see the module docstring."""
    server = serve(fake_xai)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["XAI_API_KEY"] = canary
    proc = subprocess.run([sys.executable, "-I", "-c", CHECK, vendor_into(tmp_path), server.url + "/v1"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert report["problems"] == []
    assert report["classes"] >= 60  # every public class of the package, errors, types, responses, reliability
    assert report["results"] == sorted(VENDORED + suffix for suffix in (
        ".DeferredChatCompletion", ".RetryPolicy", ".responses.Response",
        ".types.ChatCompletion", ".types.ChatCompletionChunk", ".types.ChatCompletionChunk", ".types.ModelList"))
    assert report["echoed"] == [True] * 7
    assert report["pool_error"] == [VENDORED, "ServerError", True, 503]
    assert all(canary not in text for text in report["error_texts"])
    assert "at capacity" in report["error_texts"][0]
    assert report["retry_logged_to"] == [VENDORED + ".reliability"]
    assert report["reliability_logger"] == VENDORED + ".reliability"
    assert report["null_handler"] is True
    assert report["xai_lite_loggers"] == []
    assert report["top_level_modules"] == [] and report["worker_modules"] == []
