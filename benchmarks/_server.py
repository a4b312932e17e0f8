"""The loopback server of benchmarks/bench.py: xAI-shaped chat completions and streams.

Prints ``PORT <n>`` and serves until terminated (or for --max-seconds). HTTP/1.1 keep-alive with
TCP_NODELAY and whole responses in one write (no delayed-ACK stalls). A stream of N chunks
(``max_tokens``) is chunked transfer encoding, one HTTP chunk per event, 64 events per write.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

USAGE = {"prompt_tokens": 37, "completion_tokens": 128, "total_tokens": 165,
         "prompt_tokens_details": {"text_tokens": 37, "audio_tokens": 0, "image_tokens": 0, "cached_tokens": 0},
         "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0,
                                       "rejected_prediction_tokens": 0},
         "num_sources_used": 0, "cost_in_usd_ticks": 1176500}
ANSWER = ("The answer is 42, according to The Hitchhiker's Guide to the Galaxy. " * 10).strip()
COMPLETION = json.dumps({"id": "bench-1", "object": "chat.completion", "created": 1770774046, "model": "grok-4",
                         "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER[:700],
                                                              "refusal": None}, "finish_reason": "stop"}],
                         "usage": USAGE, "system_fingerprint": "fp_bench", "service_tier": "default"}).encode()


def event(obj):
    data = b"data: " + json.dumps(obj).encode() + b"\n\n"
    return b"%x\r\n%s\r\n" % (len(data), data)


CHUNK = event({"id": "bench-1", "object": "chat.completion.chunk", "created": 1770774046, "model": "grok-4",
               "choices": [{"index": 0, "delta": {"content": "tok "}, "finish_reason": None}],
               "system_fingerprint": "fp_bench"})
TAIL = (event({"id": "bench-1", "object": "chat.completion.chunk", "created": 1770774046, "model": "grok-4",
               "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        + event({"id": "bench-1", "object": "chat.completion.chunk", "created": 1770774046, "model": "grok-4",
                 "choices": [], "usage": USAGE})
        + b"%x\r\n%s\r\n" % (len(b"data: [DONE]\n\n"), b"data: [DONE]\n\n") + b"0\r\n\r\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if not body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(COMPLETION)))
            self.end_headers()
            self.wfile.write(COMPLETION)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        n = int(body.get("max_tokens", 10))
        self.wfile.write(CHUNK)  # the first event goes out with the headers
        self.wfile.flush()
        sent = 1
        while sent < n:
            batch = min(64, n - sent)
            self.wfile.write(CHUNK * batch)
            sent += batch
        self.wfile.write(TAIL)
        self.wfile.flush()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().server_bind()


def main():
    server = Server(("127.0.0.1", 0), Handler)
    print("PORT %d" % server.server_address[1], flush=True)
    limit = float(sys.argv[sys.argv.index("--max-seconds") + 1]) if "--max-seconds" in sys.argv else 3600
    timer = threading.Timer(limit, server.shutdown)
    timer.daemon = True
    timer.start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
