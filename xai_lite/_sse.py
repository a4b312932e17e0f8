"""A sans-IO decoder for server-sent events (``text/event-stream``).

It follows the WHATWG HTML standard, "9.2.6 Interpreting an event stream":
https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation

- Lines end at CRLF, LF or CR, also when a CRLF is split across two reads (a CR at the end of
  a read ends the line; an LF that starts the next read is then skipped).
- One leading UTF-8 BOM is stripped, even when split across reads; a second one is data.
- Bytes are split into lines first and each line is decoded as UTF-8 with U+FFFD for invalid
  bytes, so a multi-byte character split across reads is safe (0x0A and 0x0D never occur inside
  a UTF-8 sequence) and U+2028 and friends are not line breaks.
- ``:`` starts a comment; a field without a colon has an empty value; one leading space of a
  value is removed; ``data`` lines are joined with LF; ``id`` with a NUL is ignored; ``retry``
  must be ASCII digits; the last event id persists across events; an empty line dispatches; an
  event with an empty data buffer does not fire; at end of input an unterminated event is
  discarded (``pending`` tells whether anything was).
- Lines and events are capped in size (``StreamingError`` beyond the cap), and every byte is
  scanned a bounded number of times, so decoding is linear in the input. Memory stays near the
  cap too: the pieces of a line or an event are joined in batches as they arrive, so many short
  pieces (``data: ab`` lines, or one-byte reads) do not cost an object each.

Nothing here knows about HTTP, JSON or Grok.
"""

from __future__ import annotations

import codecs
from typing import List, NamedTuple, Optional

from ._config import DEFAULT_MAX_EVENT_CHARS
from .errors import InvalidArgumentError, StreamingError

__all__ = ["LineSplitter", "SSEDecoder", "ServerSentEvent", "encode_event"]

# A buffered piece is a str object (about 50 bytes plus a list slot) whatever its length: 11 M
# "data: ab" lines held one by one take 25 times the 32 Mi-character cap. More than this many
# pieces are joined into one, so the overhead stays under a fifth of the characters held.
_BATCH = 256


def _compact(pieces: List[str], joined: int, separator: str) -> int:
    """Join the pieces after the first ``joined`` (themselves joined batches) into one; return the
    new count of joined batches. Each character is copied once here, so the cost stays linear."""
    if len(pieces) - joined > _BATCH:
        pieces[joined:] = [separator.join(pieces[joined:])]
        return joined + 1
    return joined


class ServerSentEvent(NamedTuple):
    """One dispatched event: its type, data, the last event id at dispatch, and ``retry``
    (the last valid reconnection time in milliseconds seen so far, or ``None``)."""

    event: str = "message"
    data: str = ""
    id: str = ""
    retry: Optional[int] = None


class LineSplitter:
    """Splits a byte stream into complete lines (as ``str``), at CR, LF and CRLF.

    Bytes go through an incremental ``utf-8-sig`` decoder first: it strips exactly one leading
    BOM (also when split across reads), keeps a multi-byte character that a read cut in half
    until its end arrives, and turns invalid bytes into U+FFFD. Since a CR or LF byte never occurs
    inside a UTF-8 sequence, this gives the same lines as splitting the bytes first.
    """

    def __init__(self, max_line_chars: int = DEFAULT_MAX_EVENT_CHARS) -> None:
        self.max_line_chars = max_line_chars
        decoder = codecs.getincrementaldecoder("utf-8-sig")("replace")
        self._decode = decoder.decode
        self._undecoded = decoder.getstate  # ()[0]: bytes held back (part of a character or BOM)
        # True while the incremental decoder holds nothing back and has dealt with the BOM: a read
        # that then ends in an ASCII byte can be decoded in one C call with the same result.
        self._direct = False
        self._partial: list[str] = []  # pieces of the line not yet ended
        self._partial_len = 0
        self._joined = 0  # how many of those pieces are batches of earlier ones (see _compact)
        self._skip_lf = False  # the previous read ended in CR: an LF first in this one is its pair
        #: the error that ended this stream (a line over the limit), once there is one
        self.failure: StreamingError | None = None

    @property
    def pending(self) -> bool:
        """True when an incomplete line is buffered (also when it is only part of a character)."""
        return self._partial_len > 0 or bool(self._undecoded()[0])

    def feed(self, data: bytes) -> List[str]:
        """Add bytes; return the lines they complete. A line over the limit raises
        :class:`StreamingError`, but only after the lines before it were returned (see ``failure``)."""
        if self.failure is not None:
            raise self.failure
        lines = self.feed_text(self.decode(data))
        if self.failure is not None and not lines:
            raise self.failure
        return lines

    def decode(self, data: bytes) -> str:
        """Decode the next bytes (the first step of :meth:`feed`)."""
        if self._direct and data and data[-1] < 0x80:
            return data.decode("utf-8", "replace")
        text = self._decode(data)
        self._direct = self._undecoded() == (b"", 0)
        return text

    def feed_text(self, text: str) -> List[str]:
        """Split decoded text into lines (the second step of :meth:`feed`). A line over the limit
        sets ``failure`` and ends the list before it."""
        if self._skip_lf and text:
            self._skip_lf = False
            if text[0] == "\n":
                text = text[1:]
        if "\r" in text:
            self._skip_lf = text[-1] == "\r"
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        tail = lines.pop()
        limit = self.max_line_chars
        if self._partial_len and lines:
            self._partial.append(lines[0])
            lines[0] = "".join(self._partial)
            self._partial = []
            self._partial_len = 0
            self._joined = 0
            if len(lines[0]) > limit:  # begun in an earlier read, so len(text) below misses it
                return self._fail(lines, 0)
        if len(text) > limit and lines and max(map(len, lines)) > limit:
            return self._fail(lines, next(i for i, line in enumerate(lines) if len(line) > limit))
        if tail:
            self._partial.append(tail)
            self._partial_len += len(tail)
            if len(self._partial) > _BATCH:
                self._joined = _compact(self._partial, self._joined, "")
            if self._partial_len > limit:
                self._fail(lines, len(lines))
        return lines

    def _fail(self, lines: List[str], index: int) -> List[str]:
        self.failure = StreamingError("an event-stream line is longer than the %d-character limit" % self.max_line_chars)
        return lines[:index]


class SSEDecoder:
    """Turns bytes into :class:`ServerSentEvent` objects (see the module docstring for the rules).

    ``max_event_chars`` caps one line and the data of one event (comments do not count towards
    an event). Not thread-safe: one decoder per stream.
    """

    def __init__(self, max_event_chars: int = DEFAULT_MAX_EVENT_CHARS) -> None:
        if isinstance(max_event_chars, bool) or not isinstance(max_event_chars, int) or max_event_chars < 1:
            raise InvalidArgumentError("max_event_chars must be a positive number of characters")
        self.max_event_chars = max_event_chars
        self.last_event_id = ""
        self.retry: int | None = None
        self._splitter = LineSplitter(max_event_chars)
        self._data: list[str] = []
        self._size = -1  # len of the data so far: each data line adds its length + 1 for the LF before it
        self._joined = 0  # how many pieces of _data are batches of earlier lines (see _compact)
        self._event = ""
        self._id_buffer = ""  # committed to last_event_id at the next dispatch (blank line)
        #: the error that ended this stream (a line or event over the limit), once there is one
        self.failure: StreamingError | None = None

    @property
    def pending(self) -> bool:
        """True when input that has not produced an event is buffered (a partial line, or fields
        without their closing blank line). At end of input this is what gets discarded."""
        return (
            self._splitter.pending or bool(self._data) or bool(self._event) or self._id_buffer != self.last_event_id
        )

    def feed(self, data: bytes) -> List[ServerSentEvent]:
        """Add bytes from the stream; return the events they complete, in order.

        Input over the size limit raises :class:`StreamingError`, but the events completed before
        it are returned first: the error is kept in ``failure`` and raised by the next call.
        """
        if self.failure is not None:
            raise self.failure
        splitter = self._splitter
        text = splitter.decode(data)
        if not (splitter._partial_len or splitter._skip_lf or self._data or self._event):
            # The shape of nearly every chat chunk (one event per read): a single "data: " line
            # and a blank line. The general path below gives the same event, about twice slower.
            if (
                text[-2:] == "\n\n"
                and text[:6] == "data: "
                and text.find("\n") == len(text) - 2
                and "\r" not in text
                and len(text) - 8 <= self.max_event_chars
            ):
                self.last_event_id = self._id_buffer
                return [_new_event(("message", text[6:-2], self._id_buffer, self.retry))]
        events = self._lines(splitter.feed_text(text))
        if self.failure is None:
            self.failure = splitter.failure
        if self.failure is not None and not events:
            raise self.failure
        return events

    def feed_line(self, line: str) -> ServerSentEvent | None:
        """Process one line (without its line ending); return the event it dispatches, if any."""
        events = self._lines([line])
        return events[0] if events else None

    def _lines(self, lines: List[str]) -> List[ServerSentEvent]:
        # Hot path: state lives in locals for the loop and is written back at the end.
        events: List[ServerSentEvent] = []
        data = self._data
        size = self._size
        joined = self._joined
        limit = self.max_event_chars
        for line in lines:
            if line[:5] == "data:":  # the common case first
                value = line[6:] if line[5:6] == " " else line[5:]
            elif not line:
                self.last_event_id = self._id_buffer
                if data:
                    text = data[0] if len(data) == 1 else "\n".join(data)
                    events.append(_new_event((self._event or "message", text, self._id_buffer, self.retry)))
                    data = []
                    size = -1
                    joined = 0
                self._event = ""
                continue
            else:
                field_value = self._field(line)
                if field_value is None:
                    continue
                value = field_value
            size += len(value) + 1
            if size > limit:
                self.failure = StreamingError("an event is larger than the %d-character limit" % limit)
                break
            data.append(value)
        self._data = data
        self._size = size
        self._joined = _compact(data, joined, "\n") if len(data) > _BATCH else joined
        return events

    def _field(self, line: str) -> str | None:
        """Apply a non-``data:`` line; return the value if it is a ``data`` field after all."""
        name, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":  # "data" without a colon: an empty value
            return value
        if name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._id_buffer = value
        elif name == "retry":
            if value.isascii() and value.isdigit():
                self.retry = int(value)
        # anything else, comments (an empty name) included, is ignored
        return None


def _new_event(fields: tuple[str, str, str, int | None]) -> ServerSentEvent:
    return tuple.__new__(ServerSentEvent, fields)


def encode_event(event: ServerSentEvent, *, line_ending: str = "\n") -> bytes:
    """Serialise an event so that :class:`SSEDecoder` gives it back (used by tests and fixtures).

    Writes ``event`` only when it is not the default ``message``, ``id`` only when it is not
    empty, and ``retry`` when set.
    """
    lines = []
    if event.event != "message":
        lines.append("event: " + event.event)
    if event.id:
        lines.append("id: " + event.id)
    if event.retry is not None:
        lines.append("retry: %d" % event.retry)
    for piece in event.data.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        lines.append("data: " + piece)
    return (line_ending.join(lines) + line_ending * 2).encode("utf-8")
