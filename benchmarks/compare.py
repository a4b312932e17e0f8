#!/usr/bin/env python3
"""Two source trees of xai_lite side by side: per-request and per-chunk client CPU, alternating
fresh processes against one loopback server, so both see the same machine load.

    python benchmarks/compare.py OTHER_TREE [--rounds 16]

``OTHER_TREE`` is a checkout of another commit (``git worktree add /tmp/base <rev>``); the tree
this script lives in is the other side. Prints the medians and their ratio (this tree / other).
It reuses ``bench.py``'s client code and ``_server.py``. Stdlib only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

from bench import CLIENT, HERE, ROOT

MODES = (("seq", "1500", "cpu_us_per_request", "sequential request, client CPU (us)"),
         ("stream", "15000", "cpu_us_per_chunk", "stream chunk, client CPU (us)"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("other", help="the source tree to compare with (a checkout holding xai_lite/)")
    parser.add_argument("--rounds", type=int, default=16)
    args = parser.parse_args()
    trees = {"this": ROOT, "other": os.path.abspath(args.other)}
    server = subprocess.Popen([sys.executable, os.path.join(HERE, "_server.py")], stdout=subprocess.PIPE, text=True)
    try:
        port = server.stdout.readline().split()[-1]  # "PORT n"
        results = {(tree, mode[0]): [] for tree in trees for mode in MODES}  # type: dict
        for _ in range(args.rounds):
            for tree, path in trees.items():
                env = dict(os.environ, PYTHONPATH=path)
                for mode, count, key, _label in MODES:
                    out = subprocess.run([sys.executable, "-c", CLIENT, mode, port, count, "xai_lite"],
                                         capture_output=True, text=True, env=env, timeout=600, check=True)
                    results[tree, mode].append(json.loads(out.stdout)[key])
    finally:
        server.terminate()
        server.wait()
    print("| figure | other | this | this / other |\n| --- | --- | --- | --- |")
    for mode, _count, _key, label in MODES:
        other, this = statistics.median(results["other", mode]), statistics.median(results["this", mode])
        print("| %s | %.2f | %.2f | %.3fx |" % (label, other, this, this / other))
    print("\nmedians of %d alternating rounds; Python %s" % (args.rounds, sys.version.split()[0]))


if __name__ == "__main__":
    main()
