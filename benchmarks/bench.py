#!/usr/bin/env python3
"""xai_lite next to the raw stdlib floor, against a loopback server; prints a markdown table.

    python benchmarks/bench.py [--rounds 7] [--requests 2000] [--chunks 20000]

The floor is what any client must do at least: one keep-alive ``http.client`` connection,
``json.loads``, and a line-splitting SSE loop over ``read1``. Every figure is the median of
``--rounds`` runs, each in a fresh process, the two clients alternating; ratios are taken run by
run (xai_lite / floor, so above 1 is slower) and their median shown. The target for every ratio
is about 1.2. Times on a shared machine drift by tens of percent: compare ratios, not times.
Stdlib only; the server is ``benchmarks/_server.py`` on 127.0.0.1, stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

CLIENT = r'''
import json, sys, time, threading
mode, port, count, who = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
MESSAGES = [{"role": "user", "content": "What is the meaning of life?"}]
t0 = time.perf_counter()
if who == "floor":
    import http.client, ssl
    ssl.create_default_context()
    local = threading.local()
    HEADERS = {"Authorization": "Bearer xai-bench", "Content-Type": "application/json", "Accept": "application/json"}
    def post(body):
        c = getattr(local, "c", None)
        if c is None:
            c = local.c = http.client.HTTPConnection("127.0.0.1", port)
        c.request("POST", "/v1/chat/completions", json.dumps(body).encode(), HEADERS)
        return c.getresponse()
    def complete():
        return json.loads(post({"model": "grok-4", "messages": MESSAGES})
                          .read())["choices"][0]["message"]["content"]
    def stream(n):
        r = post({"model": "grok-4", "messages": MESSAGES, "stream": True, "max_tokens": n})
        buf = b""
        while True:
            data = r.read1(65536)
            if not data:
                return
            buf += data
            *lines, buf = buf.split(b"\n")
            for line in lines:
                if line[:6] == b"data: ":
                    if line[6:] == b"[DONE]":
                        r.read()
                        return
                    choices = json.loads(line[6:])["choices"]
                    if choices and choices[0]["delta"].get("content"):
                        yield choices[0]["delta"]["content"]
else:
    import xai_lite
    client = xai_lite.Client(api_key="xai-bench-key-0000", base_url="http://127.0.0.1:%d/v1" % port)
    def complete():
        return client.chat.completions.create(model="grok-4", messages=MESSAGES).choices[0].message.content
    def stream(n):
        for chunk in client.chat.completions.create(model="grok-4", messages=MESSAGES, stream=True, max_tokens=n):
            if chunk.choices and chunk.choices[0].delta.content:
                yield chunk.choices[0].delta.content
if mode == "seq":
    complete()
    t, c = time.perf_counter(), time.process_time()
    for _ in range(count):
        complete()
    print(json.dumps({"us_per_request": (time.perf_counter() - t) / count * 1e6,
                      "cpu_us_per_request": (time.process_time() - c) / count * 1e6}))
elif mode == "stream":
    assert sum(1 for _ in stream(10)) == 10
    t, c = time.perf_counter(), time.process_time()
    first = None
    n = 0
    for piece in stream(count):
        if first is None:
            first = time.perf_counter() - t
        n += 1
    assert n == count, n
    print(json.dumps({"us_per_chunk": (time.perf_counter() - t) / n * 1e6, "ttfc_ms": first * 1e3,
                      "cpu_us_per_chunk": (time.process_time() - c) / n * 1e6}))
elif mode == "conc":
    complete()
    barrier = threading.Barrier(count + 1)
    done = []
    def work():
        barrier.wait()
        done.append(complete())
    threads = [threading.Thread(target=work) for _ in range(count)]
    for th in threads:
        th.start()
    barrier.wait()
    t = time.perf_counter()
    for th in threads:
        th.join()
    assert len(done) == count
    import resource
    print(json.dumps({"wall_ms": (time.perf_counter() - t) * 1e3,
                      "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''

IMPORTS = {"floor": "import http.client, json, ssl", "xai_lite": "import xai_lite"}


def run(args, env=None):
    out = subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    if out.returncode:
        raise SystemExit("benchmark process failed: %s\n%s" % (args, out.stderr[-2000:]))
    return out.stdout


def wall(code):
    t = time.perf_counter()
    run([sys.executable, "-c", code])
    return time.perf_counter() - t


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--chunks", type=int, default=20000)
    parser.add_argument("--threads", type=int, default=100)
    opts = parser.parse_args()

    # Import with bytecode, as an installed package (pip compiles at install time) or a layer
    # shipped with __pycache__ would; without it every import recompiles the source.
    import compileall

    compileall.compile_dir(os.path.join(ROOT, "xai_lite"), quiet=1)
    server = subprocess.Popen([sys.executable, os.path.join(HERE, "_server.py")], stdout=subprocess.PIPE, text=True)
    port = int(server.stdout.readline().split()[1])
    env = dict(os.environ, PYTHONPATH=ROOT)
    results = {}  # (figure, who) -> list of values
    try:
        for _ in range(2):  # warm the disk cache for the import timings
            wall("pass"), wall(IMPORTS["floor"]), wall(IMPORTS["xai_lite"])
        for round_ in range(opts.rounds):
            order = ["floor", "xai_lite"] if round_ % 2 == 0 else ["xai_lite", "floor"]
            base = wall("pass")
            for who in order:
                results.setdefault(("import, net of `python -c pass` (ms)", who), []).append(
                    (wall(IMPORTS[who]) - base) * 1e3)
            for mode, count, fields in (("seq", opts.requests, ("us_per_request", "cpu_us_per_request")),
                                        ("stream", opts.chunks, ("us_per_chunk", "cpu_us_per_chunk", "ttfc_ms")),
                                        ("conc", opts.threads, ("wall_ms", "rss_mib"))):
                for who in order:
                    data = json.loads(run([sys.executable, "-c", CLIENT, mode, str(port), str(count), who], env))
                    for field in fields:
                        results.setdefault((LABELS[field], who), []).append(data[field])
    finally:
        server.terminate()
        server.wait(10)

    print("| figure | floor | xai_lite | xai_lite / floor |")
    print("| --- | --- | --- | --- |")
    for label in [LABELS[k] for k in ORDER]:
        floor, lite = results[(label, "floor")], results[(label, "xai_lite")]
        ratio = statistics.median(b / a for a, b in zip(floor, lite))
        print("| %s | %.2f | %.2f | %.2fx |" % (label, statistics.median(floor), statistics.median(lite), ratio))
    print("\nmedians of %d rounds; Python %s; %d requests, %d-chunk stream, %d threads"
          % (opts.rounds, sys.version.split()[0], opts.requests, opts.chunks, opts.threads))


LABELS = {
    "import": "import, net of `python -c pass` (ms)",
    "us_per_request": "sequential request, keep-alive, wall (us)",
    "cpu_us_per_request": "sequential request, client CPU (us)",
    "us_per_chunk": "stream chunk, wall (us)",
    "cpu_us_per_chunk": "stream chunk, client CPU (us)",
    "ttfc_ms": "time to first chunk, warm (ms)",
    "wall_ms": "concurrent requests, threads, wall (ms)",
    "rss_mib": "concurrent requests, peak RSS (MiB)",
}
ORDER = ["import", "us_per_request", "cpu_us_per_request", "us_per_chunk", "cpu_us_per_chunk", "ttfc_ms", "wall_ms",
         "rss_mib"]

if __name__ == "__main__":
    main()
