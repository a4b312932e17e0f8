"""Cold start, as AWS Lambda pays it: a fresh process that imports the package, builds a client
and makes one chat request to a loopback server, next to the same job done with raw
``http.client`` + ``json``, in alternating pairs (goal: xai_lite at most 1.2x the raw job).

xai_lite runs from a layer built by ``python -m xai_lite layer build`` (so with the layer's
bytecode) and unzipped, with only its ``python/`` folder added to the path; both processes run
under ``python -I``. Stdlib only.

Both jobs do the TLS work a real call to https://api.x.ai pays, and no more: each imports ``ssl``
and builds one verified context with ``ssl.create_default_context()`` (as ``bench.py``'s floor
does). The raw job builds it as an ``http.client.HTTPSConnection`` would need it; the xai_lite job
builds it and hands it to the client as ``ssl_context=`` (the work ``Client()`` does itself for an
``https://`` base URL). The request itself goes over plain HTTP to the loopback server.

    python benchmarks/coldstart.py [--pairs 21] [--importtime]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

BODY = '{"model": "grok-4", "messages": [{"role": "user", "content": "Say hi"}]}'
RAW_JOB = """if 1:
    import sys
    sys.path.insert(0, sys.argv[1])
    import http.client, json, ssl
    context = ssl.create_default_context()
    conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[2]), timeout=60)
    conn.request("POST", "/v1/chat/completions", body=json.dumps(json.loads(%r)).encode(),
                 headers={"Authorization": "Bearer xai-bench", "Content-Type": "application/json"})
    reply = json.loads(conn.getresponse().read())
    assert reply["choices"][0]["message"]["content"]
"""
LITE_JOB = """if 1:
    import sys
    sys.path.insert(0, sys.argv[1])
    import json, ssl, xai_lite
    client = xai_lite.Client(api_key="xai-bench", base_url="http://127.0.0.1:%%s/v1" %% sys.argv[2],
                             ssl_context=ssl.create_default_context())
    r = client.chat.completions.create(**json.loads(%r))
    assert r.choices[0].message.content
""" % BODY
RAW, LITE = "raw http.client + json", "xai_lite"
JOBS = {RAW: RAW_JOB % BODY, LITE: LITE_JOB}
BASE = "python -I -c pass"


def timed(args):
    """Run a process; return its wall time and CPU time (user + system, s) and its stderr."""
    t = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status
    proc.stderr.close()
    if proc.returncode:
        raise SystemExit("benchmark process failed: %s\n%s" % (args[:3], err[-2000:]))
    return elapsed, usage.ru_utime + usage.ru_stime, err


def build_layer(folder):
    out = os.path.join(folder, "layer.zip")
    subprocess.run([sys.executable, "-m", "xai_lite", "layer", "build", "--out", out], check=True, cwd=folder,
                   env=dict(os.environ, PYTHONPATH=ROOT), stdout=subprocess.DEVNULL)
    with zipfile.ZipFile(out) as archive:
        archive.extractall(folder)
    return os.path.join(folder, "python")


def importtime(site, port):
    """The slowest imports of the xai_lite job, from ``-X importtime`` (cumulative, ms)."""
    err = timed([sys.executable, "-I", "-X", "importtime", "-c", JOBS[LITE], site, str(port)])[2]
    rows = []
    for line in err.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]) / 1000, parts[2].rstrip()))
    print("\nslowest imports of the xai_lite job (cumulative ms):")
    for ms, name in sorted(rows, reverse=True)[:15]:
        print("  %7.1f  %s" % (ms, name))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=21, help="alternating pairs (at least 15; default 21)")
    parser.add_argument("--importtime", action="store_true", help="also show where the xai_lite job's imports go")
    opts = parser.parse_args()
    pairs = max(opts.pairs, 15)
    server = subprocess.Popen([sys.executable, os.path.join(HERE, "_server.py")], stdout=subprocess.PIPE, text=True)
    port = int(server.stdout.readline().split()[1])
    times = {name: [] for name in (*JOBS, BASE)}  # wall ms
    cpu = {name: [] for name in (*JOBS, BASE)}  # CPU ms: steadier than wall on a busy machine
    try:
        with tempfile.TemporaryDirectory() as folder:
            site = build_layer(folder)
            commands = {name: [sys.executable, "-I", "-c", code, site, str(port)] for name, code in JOBS.items()}
            commands[BASE] = [sys.executable, "-I", "-c", "pass"]
            for name in commands:  # warm the disk cache
                timed(commands[name])
            for i in range(pairs):  # alternate: raw first, then xai_lite first
                order = [RAW, LITE] if i % 2 == 0 else [LITE, RAW]
                for name in order + [BASE]:
                    wall, used, _ = timed(commands[name])
                    times[name].append(wall * 1e3)
                    cpu[name].append(used * 1e3)
            if opts.importtime:
                importtime(site, port)
    finally:
        server.terminate()
        server.wait(10)
    print("\n| fresh process: import + client + 1 chat request | wall, median | CPU, median |")
    print("| --- | --- | --- |")
    for name in (RAW, LITE, BASE):
        print("| %s | %.1f ms | %.1f ms |" % (name, statistics.median(times[name]), statistics.median(cpu[name])))
    print()
    for label, figures in (("wall", times), ("CPU", cpu)):
        ratios = sorted(b / a for a, b in zip(figures[RAW], figures[LITE]))
        print("xai_lite / raw, %s, per pair: median %.2fx (quartiles %.2fx-%.2fx)"
              % (label, statistics.median(ratios), ratios[len(ratios) // 4], ratios[(3 * len(ratios)) // 4]))
    print("%d alternating pairs; goal <= 1.2x; Python %s" % (pairs, sys.version.split()[0]))

if __name__ == "__main__":
    main()
