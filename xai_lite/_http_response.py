"""http.client's response, hardened where the standard library trusts the server.

- Interim 1xx answers (102 Processing, 103 Early Hints, ...) are read and skipped, as RFC 9110
  section 15.2 asks of a client (https://www.rfc-editor.org/rfc/rfc9110#section-15.2);
  http.client itself skips only 100 Continue. 101 Switching Protocols is final (this client
  never asks for an upgrade, so the caller refuses it as an unexpected status).
- The trailer section after a chunked body is bounded: http.client reads and drops trailer
  lines without any limit, so a server could keep a call busy with an endless trailer after a
  27-byte body. The bound holds wherever the last chunk is read: whole bodies, streams and the
  drain after a stream's end.
- A peer that closes or resets the connection before the first byte of its answer raises
  :class:`NoAnswer`. On a reused keep-alive connection that is the race with the server's
  idle timeout, which the transport may replay on a fresh connection.
"""

from __future__ import annotations

import http.client

__all__ = ["MAX_INTERIM_RESPONSES", "MAX_TRAILER_BYTES", "NoAnswer", "Response", "TrailerTooLarge"]

# RFC 8297 expects a 103 or two before the answer; more than this is a server stalling the
# call (the call's deadline bounds it too). 100 Continue is skipped by http.client's own loop.
MAX_INTERIM_RESPONSES = 20
# A trailer carries a checksum or a status line or two; 64 KiB is the longest single header
# line http.client accepts, and the whole trailer section must fit in it.
MAX_TRAILER_BYTES = 65536


class NoAnswer(http.client.RemoteDisconnected):
    """The connection ended (closed or reset) before any byte of the response arrived."""


class TrailerTooLarge(http.client.HTTPException):
    """The trailer section after the last chunk exceeds :data:`MAX_TRAILER_BYTES`."""


class Response(http.client.HTTPResponse):
    """An ``HTTPResponse`` that skips interim answers, bounds the trailer section and tells a
    silent peer (:class:`NoAnswer`) from one that started to answer."""

    def begin(self) -> None:
        if self.headers is not None:  # already begun (http.client's own guard)
            return
        if not self._first_byte_arrived():
            raise NoAnswer("the server closed the connection without sending a response")
        for _ in range(MAX_INTERIM_RESPONSES + 1):
            super().begin()
            if not 100 <= self.status < 200 or self.status == 101:
                return
            # An interim answer has no body: the final one follows on the same connection.
            self.headers = self.msg = None
        raise http.client.HTTPException("more than %d interim (1xx) responses before the answer" % MAX_INTERIM_RESPONSES)

    def _first_byte_arrived(self) -> bool:
        try:
            return bool(self.fp.peek(1))  # buffered: the status line read that follows costs nothing more
        except OSError:  # reset (or a TLS close) before the first byte; timeouts are not OSErrors here
            return False

    def _read_and_discard_trailer(self) -> None:
        # Replaces http.client's unbounded loop (same contract: read up to the blank line or EOF).
        budget = MAX_TRAILER_BYTES
        while True:
            line = self.fp.readline(budget + 2)  # + 2: the closing blank line always fits
            if line in (b"\r\n", b"\n", b""):
                return
            budget -= len(line)
            if budget < 0:
                raise TrailerTooLarge("the trailer section after the body is over %d bytes" % MAX_TRAILER_BYTES)
