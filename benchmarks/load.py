#!/usr/bin/env python3
"""The load and resource targets L1-L8 of reliability.md section 5.6, against an in-process
loopback server; prints a table and exits 1 if a target is missed.

    python benchmarks/load.py            (from the repository root; stdlib only; about a minute)

These are measurements, not tests: they depend on the machine (the targets were set for the
2-core CI box), so they live here and not in the test suite. Each target, and why:

L1  256 calls in flight, 2,560 in all: 0 errors, 0 lost, <= 30 s. M10 measured 512 threads with
    no errors at ~1.3k req/s (about 2 s for this volume); 30 s leaves room for a noisy CI box.
L2  >= 500 req/s with 8 workers and keep-alive: ~30 % of the ~1,750 req/s M10 measured, which
    still catches a new connection per call (3.6x slower) or a Nagle stall (~180 req/s).
L3  p50 <= 10 ms and p99 <= 100 ms at 8 workers (measured 3.8 / 14.8 ms); a 40 ms p50 is the
    delayed-ACK signature.
L4  64 streams x 500 events at once, all in order with matching checksums, >= 10,000 events/s
    in all and a per-event latency p99 <= 50 ms (a Grok stream runs at 50-200 events/s).
L5  a hostile 1 GiB body (declared, chunked, close-delimited, gzip) fails in <= 5 s with the
    traced peak <= the 32 MiB cap + 2 MiB.
L6  5 rounds x 1,000 requests with 5 % faults: traced memory grows <= 1 MiB from round 2 to
    round 5, RSS <= 20 MiB over the run, descriptors and threads back to where they were.
L7  a legitimate 16 MiB JSON body parses in <= 2 s with a traced peak <= 4x the body.
L8  32 threads: exactly one half-open probe per recovery (calls admitted while HALF_OPEN; a late
    thread let in after the probe closed the circuit is not a probe), and the limiter never
    admits more than burst + rate x t.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import random
import sys
import threading
import time
import tracemalloc
from typing import Any, Callable, Dict, List, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from harness import LoopbackServer, Recorded, Reply, completion_body, error_reply, ok_models, open_fds  # noqa: E402

import xai_lite  # noqa: E402
from xai_lite import CircuitBreaker, CircuitOpenError, CircuitState, RateLimiter, RetryPolicy, XaiError  # noqa: E402

KEY = "xai-load-benchmark-key-0000"
MESSAGES = [{"role": "user", "content": "What is the meaning of life?"}]
MiB = 1024 * 1024
Row = Tuple[str, str, str, bool]


def client_for(server: LoopbackServer, **kwargs: Any) -> xai_lite.Client:
    return xai_lite.Client(api_key=KEY, base_url=server.url + "/v1", **kwargs)


def run_threads(count: int, target: Callable[[int], None]) -> float:
    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return time.perf_counter() - start


def percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ok_chat(request: Recorded, reply: Reply) -> None:
    reply.json(completion_body(request.json["messages"][0]["content"]))


# -- L1-L3 ----------------------------------------------------------------------------------------


def l1_concurrency() -> List[Row]:
    server = LoopbackServer(ok_chat)
    client = client_for(server)
    results: Dict[int, str] = {}
    errors: List[BaseException] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        for n in range(10):
            tag = "%d-%d" % (worker, n)
            try:
                content = client.chat.completions.create(model="m", messages=[{"role": "user", "content": tag}])
                with lock:
                    results[worker * 10 + n] = content.choices[0].message.content or ""
            except BaseException as exc:  # counted, not raised: the row reports it
                with lock:
                    errors.append(exc)

    elapsed = run_threads(256, work)
    client.close()
    server.stop()
    lost = 2560 - len(results) - len(errors)
    right = sum(results.get(w * 10 + n) == "%d-%d" % (w, n) for w in range(256) for n in range(10))
    ok = not errors and lost == 0 and right == 2560 and elapsed <= 30
    return [("L1", "256 in flight, 2,560 calls: 0 errors, 0 lost, <= 30 s",
             "%d errors, %d lost, %.1f s" % (len(errors), lost, elapsed), ok)]


def l2_l3_throughput() -> List[Row]:
    server = LoopbackServer(ok_chat)
    client = client_for(server)
    latencies: List[float] = []
    lock = threading.Lock()
    for _ in range(50):  # warm the pool and the code paths
        client.chat.completions.create(model="m", messages=MESSAGES)
    stop_at = time.perf_counter() + 3.0

    def work(worker: int) -> None:
        mine = []
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            client.chat.completions.create(model="m", messages=MESSAGES)
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    elapsed = run_threads(8, work)
    client.close()
    connections = server.accepted
    server.stop()
    rate = len(latencies) / elapsed
    p50, p99 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000
    return [
        ("L2", ">= 500 req/s, 8 workers, keep-alive", "%.0f req/s over %d connections" % (rate, connections), rate >= 500),
        ("L3", "p50 <= 10 ms, p99 <= 100 ms at 8 workers", "p50 %.1f ms, p99 %.1f ms" % (p50, p99),
         p50 <= 10 and p99 <= 100),
    ]


# -- L4 ---------------------------------------------------------------------------------------------


def l4_streams() -> List[Row]:
    origin = time.perf_counter()

    def streamer(request: Recorded, reply: Reply) -> None:
        stream = request.json["messages"][0]["content"]
        reply.start_chunked()
        for batch in range(100):  # 500 events, 5 per write, every 10 ms: 500 events/s per stream
            data = b""
            for k in range(5):
                n = batch * 5 + k
                payload = {"id": "s", "object": "chat.completion.chunk", "created": 1, "model": "m",
                           "choices": [{"index": 0, "delta": {"content": "%s:%d:%.6f;" % (
                               stream, n, time.perf_counter() - origin)}, "finish_reason": None}]}
                data += b"data: " + json.dumps(payload).encode() + b"\n\n"
            reply.chunk(data)
            time.sleep(0.01)
        reply.chunk(b"data: [DONE]\n\n")
        reply.end_chunks()

    server = LoopbackServer(streamer)
    client = client_for(server)
    latencies: List[List[float]] = [[] for _ in range(64)]
    good = [False] * 64

    def consume(i: int) -> None:
        digest, expected = hashlib.sha256(), hashlib.sha256()
        order = []
        for chunk in client.chat.completions.create(model="m", messages=[{"role": "user", "content": str(i)}],
                                                    stream=True):
            arrived = time.perf_counter() - origin
            text = chunk.choices[0].delta.content or ""
            stream, n, sent = text.rstrip(";").split(":")
            latencies[i].append(arrived - float(sent))
            order.append(int(n))
            digest.update(("%s:%s" % (stream, n)).encode())
        for n in range(500):
            expected.update(("%d:%d" % (i, n)).encode())
        good[i] = order == list(range(500)) and digest.digest() == expected.digest()

    elapsed = run_threads(64, consume)
    client.close()
    server.stop()
    events = sum(len(x) for x in latencies)
    p99 = percentile([v for x in latencies for v in x], 0.99) * 1000 if events else float("inf")
    rate = events / elapsed
    ok = all(good) and events == 32000 and rate >= 10000 and p99 <= 50
    return [("L4", "64 x 500 events in order, >= 10k events/s, p99 <= 50 ms",
             "%d/64 streams exact, %.0f events/s, p99 %.1f ms" % (sum(good), rate, p99), ok)]


# -- L5, L7: memory ----------------------------------------------------------------------------------


def hostile(kind: str) -> Callable[[Recorded, Reply], None]:
    block = b" " * 65536

    def handler(request: Recorded, reply: Reply) -> None:
        if kind == "declared":
            reply.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (1 << 30))
        elif kind == "gzip":
            reply.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                       b"Content-Length: %d\r\n\r\n" % (1 << 20))
        elif kind == "chunked":
            reply.start_chunked(content_type="application/json")
        else:
            reply.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
        for _ in range((1 << 30) // len(block)):
            if reply.server.stopping.is_set():
                return
            try:
                reply.chunk(block) if kind == "chunked" else reply.send(block)
            except OSError:
                return
        reply.close()

    return handler


def l5_hostile_bodies() -> List[Row]:
    cap = xai_lite._config.DEFAULT_MAX_RESPONSE_BYTES
    rows = []
    worst_peak, worst_time, outcomes = 0, 0.0, []
    for kind in ("declared", "chunked", "close", "gzip"):
        server = LoopbackServer(hostile(kind))
        client = client_for(server)
        tracemalloc.start()
        start = time.perf_counter()
        try:
            client.chat.completions.create(model="m", messages=MESSAGES)
            outcomes.append("%s: accepted!" % kind)
        except XaiError as exc:
            outcomes.append("%s: %s" % (kind, type(exc).__name__))
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        client.close()
        server.stop()
        worst_peak, worst_time = max(worst_peak, peak), max(worst_time, elapsed)
    refused = all(o.endswith("HttpError") for o in outcomes)
    rows.append(("L5", "1 GiB hostile bodies refused in <= 5 s, peak <= cap + 2 MiB",
                 "all refused: %s, slowest %.2f s, peak %.1f MiB (cap %d MiB)"
                 % (refused, worst_time, worst_peak / MiB, cap // MiB),
                 refused and worst_time <= 5 and worst_peak <= cap + 2 * MiB))
    return rows


def l7_big_body() -> List[Row]:
    content = "x" * (16 * MiB - 300)
    raw = json.dumps(completion_body(content)).encode()
    server = LoopbackServer(lambda request, reply: reply.respond(200, raw))
    client = client_for(server)
    start = time.perf_counter()
    result = client.chat.completions.create(model="m", messages=MESSAGES)
    elapsed = time.perf_counter() - start
    del result
    tracemalloc.start()
    result = client.chat.completions.create(model="m", messages=MESSAGES)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    intact = result.choices[0].message.content == content
    client.close()
    server.stop()
    ratio = peak / len(raw)
    return [("L7", "16 MiB JSON parses in <= 2 s, peak <= 4x the body",
             "%.2f s, peak %.1fx (%.0f MiB), intact: %s" % (elapsed, ratio, peak / MiB, intact),
             intact and elapsed <= 2 and ratio <= 4)]


# -- L6: soak ----------------------------------------------------------------------------------------


def rss() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def l6_soak() -> List[Row]:
    rng = random.Random(6)
    faults = [error_reply(503), lambda req, reply: reply.reset(), error_reply(429), error_reply(401),
              lambda req, reply: reply.respond(200, b"{not json")]
    lock = threading.Lock()

    def handler(request: Recorded, reply: Reply) -> None:
        with lock:
            roll = rng.random()
            fault = rng.choice(faults)
        (fault if roll < 0.05 else ok_models)(request, reply)

    fds0, threads0, rss0 = open_fds(), threading.active_count(), rss()
    server = LoopbackServer(handler)
    server.requests = collections.deque(maxlen=16)  # type: ignore[assignment]  # the server keeps no history
    client = client_for(server, retry=RetryPolicy(max_retries=2, initial_delay=0.001, max_delay=0.005,
                                                  rate_limit_delay=0.001, rate_limit_max_delay=0.005),
                        circuit_breaker=CircuitBreaker(failure_threshold=1000))
    outcomes = {"ok": 0, "error": 0}
    tracemalloc.start()
    snapshots = []
    start = time.perf_counter()
    for _ in range(5):
        def work(worker: int) -> None:
            for _ in range(125):
                try:
                    client.models.list()
                    key = "ok"
                except XaiError:
                    key = "error"
                with lock:
                    outcomes[key] += 1

        run_threads(8, work)
        snapshots.append(tracemalloc.get_traced_memory()[0])
    elapsed = time.perf_counter() - start
    tracemalloc.stop()
    client.close()
    server.stop()
    time.sleep(0.2)
    growth = snapshots[4] - snapshots[1]
    rss_growth = rss() - rss0
    fds_back = open_fds() <= fds0
    threads_back = threading.active_count() <= threads0
    ok = (sum(outcomes.values()) == 5000 and growth <= MiB and rss_growth <= 20 * MiB and fds_back
          and threads_back and elapsed <= 60)
    return [("L6", "5 x 1,000 calls, 5 % faults: <= 1 MiB traced growth, <= 20 MiB RSS, no leaks, <= 60 s",
             "%d ok / %d errors, traced %+.0f KiB, RSS %+.1f MiB, fds back %s, threads back %s, %.1f s"
             % (outcomes["ok"], outcomes["error"], growth / 1024, rss_growth / MiB, fds_back, threads_back, elapsed),
             ok)]


# -- L8 ------------------------------------------------------------------------------------------------


def l8_contention() -> List[Row]:
    probes_per_round = []
    for _ in range(20):
        breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=0.01)
        try:
            breaker.call(lambda: (_ for _ in ()).throw(OSError("down")))
        except OSError:
            pass
        time.sleep(0.011)
        probes: List[int] = []
        barrier = threading.Barrier(32)

        def call() -> None:
            # Admitted while HALF_OPEN, the call is the probe; a thread that starts late and
            # gets in after the probe closed the circuit is an ordinary call, not a second probe.
            if breaker.state is CircuitState.HALF_OPEN:
                probes.append(1)
            time.sleep(0.02)

        def caller(i: int) -> None:
            barrier.wait(5)
            try:
                breaker.call(call)
            except CircuitOpenError:
                pass

        run_threads(32, caller)
        probes_per_round.append(len(probes))

    limiter = RateLimiter(requests_per_second=200, burst=10)
    admitted: List[float] = []
    lock = threading.Lock()
    origin = time.monotonic()
    stop_at = origin + 1.0

    def taker(i: int) -> None:
        while time.monotonic() < stop_at:
            limiter.acquire()
            with lock:
                admitted.append(time.monotonic() - origin)

    run_threads(32, taker)
    admitted.sort()
    over = sum(1 for k, at in enumerate(admitted, 1) if k > 10 + 200 * at + 1)
    ok = set(probes_per_round) == {1} and over == 0
    return [("L8", "32 threads: one half-open probe; limiter <= burst + rate x t",
             "probes per recovery %s, %d admissions over the bound (%d in %.1f s)"
             % (sorted(set(probes_per_round)), over, len(admitted), admitted[-1] if admitted else 0), ok)]


def main() -> int:
    rows: List[Row] = []
    start = time.perf_counter()
    for step in (l1_concurrency, l2_l3_throughput, l4_streams, l5_hostile_bodies, l6_soak, l7_big_body,
                 l8_contention):
        rows.extend(step())
    print("| id | target | measured | |")
    print("|---|---|---|---|")
    for rid, target, measured, ok in rows:
        print("| %s | %s | %s | %s |" % (rid, target, measured, "pass" if ok else "MISS"))
    print("\nPython %s, %d CPUs, %.0f s in all" % (sys.version.split()[0], os.cpu_count() or 0,
                                                   time.perf_counter() - start))
    return 0 if all(row[3] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
