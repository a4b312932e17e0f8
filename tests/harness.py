"""A loopback HTTP/1.1 server for the tests: real sockets, scripted per request, with faults.

A test gives a handler ``handler(request, reply)``; the server calls it for every request it reads
(several per connection with keep-alive) and records every request. ``reply`` writes anything:
well-formed responses, event streams, or faults (a cut body, a reset, a trickle, silence).

Only the standard library is used, and every loop is bounded in count and time.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import socket
import ssl
import struct
import threading
import time
from typing import Iterator, Any, Callable, Dict, Iterable, List, Optional, Tuple, Union

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the repository


def package_dir() -> str:
    """The folder of the xai_lite under test: the installed wheel's (CI runs ``pytest``, which
    does not put the checkout on sys.path) or the source tree's (``python -m pytest`` from it)."""
    import xai_lite

    return os.path.dirname(os.path.abspath(xai_lite.__file__))


def package_env(**names: str) -> Dict[str, str]:
    """``os.environ`` plus ``names``, with PYTHONPATH set so that a child Python imports the same
    xai_lite as the tests (never the checkout's copy when the suite runs against the wheel)."""
    return dict(os.environ, PYTHONPATH=os.path.dirname(package_dir()), **names)


def open_fds() -> int:
    """How many file descriptors this process has open (Linux)."""
    return len(os.listdir("/proc/self/fd"))


REASONS = {200: "OK", 202: "Accepted", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
           403: "Forbidden", 404: "Not Found", 408: "Request Timeout", 409: "Conflict", 410: "Gone",
           422: "Unprocessable Entity", 429: "Too Many Requests", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout", 529: "Overloaded"}
MAX_REQUEST_BYTES = 64 * 1024 * 1024


class Recorded:
    """A request as the server received it."""

    def __init__(self, method: str, target: str, headers: Dict[str, str], body: bytes, connection: int,
                 raw_headers: Optional[List[Tuple[str, str]]] = None) -> None:
        self.raw_headers = raw_headers or list(headers.items())  # as sent, duplicates included
        self.method = method
        self.target = target
        self.path = target.split("?", 1)[0]
        self.query = target.split("?", 1)[1] if "?" in target else ""
        self.headers = headers
        self.body = body
        self.connection = connection  # index of the connection it arrived on

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def __repr__(self) -> str:
        return "<Recorded %s %s>" % (self.method, self.target)


class Reply:
    """Writes the response to one request."""

    def __init__(self, sock: socket.socket, server: LoopbackServer) -> None:
        self.sock = sock
        self.server = server
        self.closed = False

    # -- plain responses ----------------------------------------------------------------------

    def head(self, status: int, headers: Union[Dict[str, str], List[Tuple[str, str]], None] = None,
             reason: Optional[str] = None) -> bytes:
        items = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        lines = ["HTTP/1.1 %d %s" % (status, reason if reason is not None else REASONS.get(status, "Status"))]
        lines += ["%s: %s" % (k, v) for k, v in items]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def send(self, data: bytes) -> None:
        if data:
            self.sock.sendall(data)

    def respond(self, status: int, body: bytes = b"", headers: Optional[Dict[str, str]] = None,
                content_type: Optional[str] = "application/json", reason: Optional[str] = None) -> None:
        """A complete response with Content-Length, sent in one write (no delayed-ACK stalls)."""
        h = dict(headers or {})
        if content_type and not any(k.lower() == "content-type" for k in h):
            h["Content-Type"] = content_type
        h.setdefault("Content-Length", str(len(body)))
        self.send(self.head(status, h, reason) + body)

    def json(self, obj: Any, status: int = 200, headers: Optional[Dict[str, str]] = None) -> None:
        self.respond(status, json.dumps(obj).encode("utf-8"), headers)

    # -- chunked and streamed ------------------------------------------------------------------

    def start_chunked(self, status: int = 200, content_type: str = "text/event-stream",
                      headers: Optional[Dict[str, str]] = None) -> None:
        h = {"Content-Type": content_type, "Transfer-Encoding": "chunked"}
        h.update(headers or {})
        self.send(self.head(status, h))

    def chunk(self, data: bytes) -> None:
        if data:
            self.send(b"%x\r\n%s\r\n" % (len(data), data))

    def end_chunks(self) -> None:
        self.send(b"0\r\n\r\n")

    def sse(self, events: Iterable[Union[bytes, str, Dict[str, Any]]], *, done: bool = True, status: int = 200,
            headers: Optional[Dict[str, str]] = None, delay: float = 0.0) -> None:
        """A chunked event stream, one HTTP chunk per event; dicts become ``data: <json>``."""
        self.start_chunked(status, headers=headers)
        for event in events:
            self.chunk(as_event(event))
            if delay:
                time.sleep(delay)
        if done:
            self.chunk(b"data: [DONE]\n\n")
        self.end_chunks()

    # -- faults ---------------------------------------------------------------------------------

    def close(self) -> None:
        """Close cleanly (FIN)."""
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def reset(self) -> None:
        """Abort the connection (RST)."""
        self.closed = True
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def trickle(self, data: bytes, interval: float, stop: Optional[threading.Event] = None) -> None:
        """Send ``data`` one byte at a time, ``interval`` seconds apart, until the client leaves."""
        for i in range(len(data)):
            if (stop or self.server.stopping).is_set():
                return
            try:
                self.sock.sendall(data[i:i + 1])
            except OSError:
                return
            time.sleep(interval)

    def hang(self, seconds: float = 10.0) -> None:
        """Say nothing until the client gives up (or ``seconds`` pass, or the server stops)."""
        self.server.stopping.wait(seconds)


def as_event(event: Union[bytes, str, Dict[str, Any]]) -> bytes:
    if isinstance(event, dict):
        return b"data: " + json.dumps(event).encode("utf-8") + b"\n\n"
    if isinstance(event, str):
        return event.encode("utf-8")
    return event


Handler = Callable[[Recorded, Reply], None]


class LoopbackServer:
    """A threaded server on ``host``:random port. ``requests`` lists what arrived; ``accepted``
    counts connections; ``by_client_request_id`` counts requests per x-client-request-id."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1", *, tls: Optional[ssl.SSLContext] = None,
                 backlog: int = 128, on_connect: Optional[Callable[[socket.socket], bool]] = None) -> None:
        self.handler = handler
        self.host = host
        self.tls = tls
        self.on_connect = on_connect
        self.requests: List[Recorded] = []
        self.accepted = 0
        self.errors: List[BaseException] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._threads: List[threading.Thread] = []
        self._conns: List[socket.socket] = []
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, 0))
        self.listener.listen(backlog)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        scheme = "https" if tls else "http"
        self.url = "%s://%s:%d" % (scheme, "localhost" if tls else host, self.port)
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True, name="loopback-accept")
        self._acceptor.start()

    @property
    def by_client_request_id(self) -> Dict[str, int]:
        counts: Dict[str, int] = {}
        for r in self.requests:
            rid = r.headers.get("x-client-request-id", "")
            counts[rid] = counts.get(rid, 0) + 1
        return counts

    def _accept_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.accepted += 1
                index = self.accepted
                self._conns.append(sock)
            t = threading.Thread(target=self._serve, args=(sock, index), daemon=True, name="loopback-%d" % index)
            self._threads.append(t)
            t.start()

    def _serve(self, sock: socket.socket, index: int) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            if self.on_connect is not None and not self.on_connect(sock):
                return
            if self.tls is not None:
                sock.settimeout(5)
                sock = self.tls.wrap_socket(sock, server_side=True)
                with self._lock:
                    self._conns.append(sock)
            sock.settimeout(15)
            buffer = bytearray()
            for _ in range(10_000):
                request = _read_request(sock, buffer, index)
                if request is None:
                    return
                with self._lock:
                    self.requests.append(request)
                reply = Reply(sock, self)
                self.handler(request, reply)
                if reply.closed:
                    return
        except (OSError, ValueError, ssl.SSLError):
            return  # the client went away or broke the protocol: that is what many tests do
        except BaseException as exc:  # a bug in a test handler: keep it for the test to see
            self.errors.append(exc)
        finally:
            try:
                sock.close()
            except OSError:
                pass

    def stop(self) -> None:
        self.stopping.set()
        _shut(self.listener)  # wakes the accept loop at once instead of at its next timeout
        self._acceptor.join(2)
        with self._lock:
            conns = list(self._conns)
        for sock in conns:
            _shut(sock)
        for t in self._threads:
            t.join(2)
        if self.errors:
            raise self.errors[0]

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _shut(sock: socket.socket) -> None:
    """Close a socket another thread may be blocked on (shutdown wakes it up)."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def _read_request(sock: socket.socket, buffer: bytearray, index: int) -> Optional[Recorded]:
    while b"\r\n\r\n" not in buffer:
        data = sock.recv(65536)
        if not data:
            return None
        buffer += data
        if len(buffer) > 1024 * 1024:
            raise ValueError("request head too large")
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers: Dict[str, str] = {}
    raw: List[Tuple[str, str]] = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
        raw.append((name.strip(), value.strip()))
    length = int(headers.get("content-length", "0"))
    if length > MAX_REQUEST_BYTES:
        raise ValueError("request body too large")
    body = bytearray(rest)
    while len(body) < length:
        data = sock.recv(min(1 << 20, length - len(body)))
        if not data:
            return None
        body += data
    buffer[:] = body[length:]
    return Recorded(method, target, headers, bytes(body[:length]), index, raw)


# -- helpers for common scripts -------------------------------------------------------------------


def chunk_event(content: Optional[str] = None, *, finish: Optional[str] = None, usage: Optional[Dict[str, Any]] = None,
                choices: bool = True, **delta: Any) -> Dict[str, Any]:
    """A chat.completion.chunk payload."""
    if content is not None:
        delta["content"] = content
    body: Dict[str, Any] = {"id": "chunk-1", "object": "chat.completion.chunk", "created": 1, "model": "grok-4",
                            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if choices else []}
    if usage is not None:
        body["usage"] = usage
    return body


def completion_body(content: str = "Hello", **extra: Any) -> Dict[str, Any]:
    body = {"id": "cmpl-1", "object": "chat.completion", "created": 1, "model": "grok-4",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
    body.update(extra)
    return body


def ok_completion(request: Recorded, reply: Reply) -> None:
    reply.json(completion_body(), headers={"x-request-id": "req-123"})


class ConnectProxy:
    """A loopback HTTP CONNECT proxy that records every CONNECT request it gets and pipes bytes."""

    def __init__(self, *, require_auth: Optional[str] = None, upstream_host: Optional[str] = None) -> None:
        self.require_auth = require_auth
        self.upstream_host = upstream_host  # connect here whatever host CONNECT names
        self.connects: List[Dict[str, str]] = []
        self.first_lines: List[str] = []
        self._stop = threading.Event()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(32)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self._threads: List[threading.Thread] = []
        self._sockets: List[socket.socket] = []
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self._threads.append(t)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self._sockets.append(client)
            t = threading.Thread(target=self._handle, args=(client,), daemon=True)
            t.start()
            self._threads.append(t)

    def _handle(self, client: socket.socket) -> None:
        client.settimeout(10)
        upstream: Optional[socket.socket] = None
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                piece = client.recv(4096)
                if not piece:
                    return
                data += piece
            head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
            self.first_lines.append(head[0])
            headers = {}
            for line in head[1:]:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
            self.connects.append(headers)
            method, target, _ = head[0].split(" ", 2)
            if method != "CONNECT":
                client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            if self.require_auth is not None and headers.get("proxy-authorization") != self.require_auth:
                client.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
                return
            host, _, port = target.rpartition(":")
            upstream = socket.create_connection((self.upstream_host or host.strip("[]"), int(port)), timeout=10)
            self._sockets.append(upstream)
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            pump = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
            pump.start()
            _pipe(client, upstream)
            pump.join(5)
        except OSError:
            return
        finally:
            client.close()
            if upstream is not None:
                upstream.close()

    def stop(self) -> None:
        self._stop.set()
        _shut(self.listener)
        for sock in list(self._sockets):
            _shut(sock)
        for t in self._threads:
            t.join(2)


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


# -- Responses API and tool-calling scripts -------------------------------------------------------


def response_body(text: str = "Hello", *, output: Optional[List[Dict[str, Any]]] = None, rid: str = "resp-1",
                  status: str = "completed", **extra: Any) -> Dict[str, Any]:
    """A /v1/responses result with one message item (or the given ``output`` items)."""
    if output is None:
        output = [{"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                   "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]}]
    body: Dict[str, Any] = {"id": rid, "object": "response", "created_at": 1, "model": "grok-4", "status": status,
                            "output": output,
                            "usage": {"input_tokens": 5, "output_tokens": 7, "total_tokens": 12,
                                      "output_tokens_details": {"reasoning_tokens": 4},
                                      "input_tokens_details": {"cached_tokens": 0}}}
    body.update(extra)
    return body


def response_event(kind: str, **fields: Any) -> bytes:
    """One Responses stream frame as xAI sends it: an ``event:`` line naming the type, then data."""
    payload = dict(type=kind, **fields)
    return b"event: " + kind.encode() + b"\ndata: " + json.dumps(payload).encode("utf-8") + b"\n\n"


def response_stream(text_pieces: Iterable[str], *, terminal: str = "response.completed",
                    final: Optional[Dict[str, Any]] = None) -> List[bytes]:
    """The frames of a small Responses stream: created, text deltas, then the terminal event."""
    pieces = list(text_pieces)
    final = final if final is not None else response_body("".join(pieces), status=terminal.split(".")[1])
    frames = [response_event("response.created", sequence_number=0, response=response_body(output=[], status="in_progress"))]
    for i, piece in enumerate(pieces):
        frames.append(response_event("response.output_text.delta", sequence_number=i + 1, item_id="msg_1",
                                     output_index=0, content_index=0, delta=piece))
    frames.append(response_event(terminal, sequence_number=len(pieces) + 1, response=final))
    return frames


def tool_call_completion(*calls: Tuple[str, str, Dict[str, Any]]) -> Dict[str, Any]:
    """A chat completion whose message asks for the ``(id, name, arguments)`` tool calls."""
    message = {"role": "assistant", "content": "", "tool_calls": [
        {"id": cid, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
        for cid, name, args in calls]}
    return completion_body(choices=[{"index": 0, "message": message, "finish_reason": "tool_calls"}])


def scripted(*replies: Any) -> Handler:
    """A handler answering successive requests with the given JSON bodies (the last one repeats)."""
    queue = list(replies)

    def handler(request: Recorded, reply: Reply) -> None:
        body = queue.pop(0) if len(queue) > 1 else queue[0]
        reply.json(body)

    return handler


# -- Reliability: fake clocks and scripted failures ------------------------------------------------

import heapq  # noqa: E402  (kept with the helpers that use it; this section is appended)


class FakeClock:
    """Fake time for tests that sleep from one thread at a time: ``sleep()`` returns at once,
    moves ``now`` forward and is recorded in ``sleeps``."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: List[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += max(seconds, 0.0)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


class VirtualClock:
    """Fake time for many threads, in discrete-event style: ``sleep()`` blocks until each of
    the ``workers`` threads is asleep or ``done()``, then time jumps to the earliest wake-up.
    Nothing really waits, yet every thread sees a consistent timeline."""

    def __init__(self, workers: int, start: float = 0.0) -> None:
        self.now = start
        self._cond = threading.Condition()
        self._active = workers
        self._wakes: List[float] = []  # a heap of wake-up times

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._cond:
            wake = self.now + seconds
            heapq.heappush(self._wakes, wake)
            self._active -= 1
            self._advance()
            give_up = time.monotonic() + 30
            while self.now < wake:
                if not self._cond.wait(max(0.0, give_up - time.monotonic())):
                    raise RuntimeError("VirtualClock stalled: a worker neither slept nor called done()")

    @property
    def sleepers(self) -> int:
        """How many workers are asleep right now."""
        with self._cond:
            return len(self._wakes)

    def done(self) -> None:
        """The calling worker is finished: time may move on without it."""
        with self._cond:
            self._active -= 1
            self._advance()

    def _advance(self) -> None:
        if self._active == 0 and self._wakes:
            self.now = max(self.now, self._wakes[0])
            while self._wakes and self._wakes[0] <= self.now:
                heapq.heappop(self._wakes)
                self._active += 1  # on behalf of the sleeper this wakes
            self._cond.notify_all()


def in_turn(*handlers: Handler) -> Handler:
    """A handler that answers the n-th request with the n-th handler (the last one repeats)."""
    queue = list(handlers)
    lock = threading.Lock()

    def handler(request: Recorded, reply: Reply) -> None:
        with lock:
            step = queue.pop(0) if len(queue) > 1 else queue[0]
        step(request, reply)

    return handler


def error_reply(status: int, headers: Optional[Dict[str, str]] = None, message: str = "scripted failure") -> Handler:
    """A handler answering with ``status`` and an OpenAI-style JSON error body."""
    body = json.dumps({"error": {"message": message, "type": "scripted"}}).encode("utf-8")

    def handler(request: Recorded, reply: Reply) -> None:
        reply.respond(status, body, headers)

    return handler


def models_body(*ids: str) -> Dict[str, Any]:
    """A /v1/models list."""
    return {"object": "list", "data": [{"id": i, "object": "model", "created": 1, "owned_by": "xai"} for i in ids]}


def ok_models(request: Recorded, reply: Reply) -> None:
    reply.json(models_body("grok-4", "grok-3-mini"))


def refused_port() -> int:
    """A loopback port that refuses connections (bound, never listening, then released)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


# -- the key canary in everything raised (reliability.md S3, S4, S10, I5) -------------------------

CANARY: Optional[str] = None  # the running test's key; conftest sets it, with pytest.raises checked
TESTS = os.path.dirname(os.path.abspath(__file__))


def canary_pieces(canary: str) -> List[str]:
    """What must never show: the key, and every 8-character run of its random part (a mask
    shows at most the last four characters)."""
    secret = canary[len("xai-canary-"):] if canary.startswith("xai-canary-") else canary
    return [canary] + [secret[i:i + 8] for i in range(len(secret) - 7)]


def error_texts(error: BaseException) -> Iterator[str]:
    """Every way a reporter may show an error: its traceback's frames with their locals (as
    ``capture_locals``, Sentry or ``pytest --showlocals`` show them; the tests' own frames left
    out, their locals hold the key by construction), and str, repr, args, attributes and pickle;
    all of it for the errors it chains or carries (``previous``) too."""
    seen: List[BaseException] = []
    shown = set()  # ids of the locals already yielded: a request body is a local of many frames
    todo = [error]
    while todo:
        current = todo.pop()
        if any(current is e for e in seen):
            continue
        seen.append(current)
        tb = current.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            if not frame.f_code.co_filename.startswith(TESTS):
                yield "%s %s" % (frame.f_code.co_filename, frame.f_code.co_name)
                for value in frame.f_locals.values():
                    if id(value) not in shown:
                        shown.add(id(value))
                        yield _local_text(value)
            tb = tb.tb_next
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]
        todo += list(getattr(current, "previous", None) or ())
    for current in seen:
        yield "%s %r %r %r" % (_safe_str(current), current, current.args, getattr(current, "__dict__", {}))
        try:
            yield repr(pickle.dumps(current))
        except Exception:  # noqa: BLE001 - an error that cannot be pickled shows nothing there
            pass


def _local_text(value: Any) -> str:
    """A local as ``capture_locals`` shows it, its ``repr`` (a str or bytes as it is: the same
    characters). A ``repr`` that raises fails the test, as it breaks those reports; only a
    caller's data nested too deeply for any ``repr``, or an int too long for one (Python 3.11's
    digit limit), is passed over. Of a text over 4 MiB (a
    caller's request body: the library's own frames are cleared) its two ends are looked at."""
    if type(value) is str:  # exactly: a HiddenStr shows its masked repr
        text = value
    elif type(value) in (bytes, bytearray):
        text = value[:_LARGE].decode("latin-1") + "\n" + value[-_LARGE:].decode("latin-1")
    else:
        try:
            text = repr(value)
        except RecursionError:
            return ""
        except ValueError:
            if type(value) is int:  # a caller's 5,000-digit setting: no key in it
                return ""
            raise
    return text if len(text) <= 2 * _LARGE else text[:_LARGE] + "\n" + text[-_LARGE:]


_LARGE = 2 * 1024 * 1024


def _safe_str(error: BaseException) -> str:
    try:
        return str(error)
    except Exception as exc:  # noqa: BLE001 - reported as what it is
        return "<str() raised %r>" % exc


def check_raised(error: Optional[BaseException], canary: Optional[str] = None) -> None:
    """Assert that the canary key shows in no surface of ``error`` (see :func:`error_texts`)."""
    canary = canary or CANARY
    if error is None or not canary:
        return
    pieces = canary_pieces(canary)
    # Every 8-character run of the key holds one of its aligned 4-character blocks: a cheap
    # first look, as a large request body may be a local of the frames.
    blocks = [pieces[1][:4]] + [piece[4:] for piece in pieces[1::4]]
    for text in error_texts(error):
        if any(block in text for block in blocks):
            for piece in pieces:
                assert piece not in text, "the API key (%r) shows in what was raised: %s" % (piece, text[:2000])


class CheckedRaises:
    """``pytest.raises`` as a context manager, plus :func:`check_raised` on what it caught."""

    def __init__(self, context: Any) -> None:
        self.context = context

    def __enter__(self) -> Any:
        return self.context.__enter__()

    def __exit__(self, *exc_info: Any) -> bool:
        caught = bool(self.context.__exit__(*exc_info))
        if caught:
            check_raised(exc_info[1])
        return caught


def checked_raises(original: Callable[..., Any]) -> Callable[..., Any]:
    """A ``pytest.raises`` whose every catch is checked for the canary (conftest installs it)."""

    def raises(*args: Any, **kwargs: Any) -> Any:
        if len(args) > 1:  # pytest.raises(Error, function, *args)
            info = original(*args, **kwargs)
            check_raised(info.value)
            return info
        return CheckedRaises(original(*args, **kwargs))

    return raises


def consume(stream: Iterable[Any]) -> Tuple[List[Any], Optional[BaseException]]:
    """Iterate a stream to its end or its error; return the items and the error (or None)."""
    got: List[Any] = []
    try:
        for item in stream:
            got.append(item)
    except Exception as exc:  # noqa: BLE001 - the tests inspect it
        check_raised(exc)
        return got, exc
    return got, None


@contextlib.contextmanager
def full_backlog() -> Iterator[int]:
    """A loopback port whose accept queue is full (a listen(0) socket plus one connection that is
    never accepted): later SYNs are dropped, so connecting times out (reliability.md M12)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port))
    try:
        yield port
    finally:
        filler.close()
        listener.close()
