"""Parser-level tests of the server-sent-events decoder (reliability plan section 5.4, E-cases).

Expectations come from the WHATWG rules ("Interpreting an event stream"), web-platform-tests
``eventsource/format-*``, LaunchDarkly's contract tests and openai-python's SSE tests. Every
table case is fed whole, one byte at a time, and split at every offset with an empty piece in
between; all ways must give the same events (h11 style). Socket-level cases (E4, E22, E23, E27,
E28, E30) live elsewhere.
"""

from __future__ import annotations

import json
import time
from typing import Callable, Iterable, Iterator, List, NamedTuple, Optional, Union

import pytest

from xai_lite._sse import SSEDecoder, ServerSentEvent
from xai_lite.errors import StreamingError

P = pytest.param
CAP = 64  # a small max_event_chars for the size-cap cases


def ev(data: str, event: str = "message", id: str = "", retry: Optional[int] = None) -> ServerSentEvent:
    return ServerSentEvent(event, data, id, retry)


class Outcome(NamedTuple):
    events: List[ServerSentEvent]
    pending: bool
    last_event_id: str
    retry: Optional[int]


def feed_pieces(pieces: Iterable[bytes], cap: Optional[int] = None) -> Outcome:
    """Feed the pieces to a fresh decoder, then the empty read of end of input (which raises an
    error held back behind earlier events); return its events and end state."""
    decoder = SSEDecoder() if cap is None else SSEDecoder(max_event_chars=cap)
    events: List[ServerSentEvent] = []
    for piece in list(pieces) + [b""]:
        events.extend(decoder.feed(piece))
    return Outcome(events, decoder.pending, decoder.last_event_id, decoder.retry)


def ways(stream: bytes, mode: str) -> Iterator[List[bytes]]:
    """The piece lists of one feeding mode."""
    if mode == "whole":
        yield [stream]
    elif mode == "bytewise":
        yield [stream[i : i + 1] for i in range(len(stream))]
    else:  # "every-split": two pieces at every offset, an empty one between them
        for k in range(len(stream) + 1):
            yield [stream[:k], b"", stream[k:]]


def decode_all(piece_lists: Iterable[List[bytes]], cap: Optional[int] = None) -> Outcome:
    """Decode every piece list; fail unless all agree; re-raise StreamingError if all raised."""
    first: Union[Outcome, StreamingError, None] = None
    first_pieces: List[bytes] = []
    for pieces in piece_lists:
        outcome: Union[Outcome, StreamingError]
        try:
            outcome = feed_pieces(pieces, cap)
        except StreamingError as exc:
            outcome = exc
        if first is None:
            first, first_pieces = outcome, pieces
            continue
        same = isinstance(outcome, StreamingError) == isinstance(first, StreamingError) and (
            isinstance(outcome, StreamingError) or outcome == first
        )
        assert same, "pieces %r gave %r, but %r gave %r" % (pieces, outcome, first_pieces, first)
    if isinstance(first, StreamingError):
        raise first
    assert first is not None
    return first


@pytest.fixture(params=["whole", "bytewise", "every-split"])
def decode(request: pytest.FixtureRequest) -> Callable[..., Outcome]:
    """``decode(stream, cap=None)`` in one feeding mode (all splits of a mode must agree)."""
    mode = request.param
    return lambda stream, cap=None: decode_all(ways(stream, mode), cap)


# --- E1, E2, E3: line endings ---------------------------------------------------------------

def _two_events(eol: str) -> bytes:
    return ("data: a" + eol + "data: b" + eol + eol + "event: t" + eol + "data: c" + eol + eol).encode()


E1 = [
    P(_two_events("\n"), [ev("a\nb"), ev("c", "t")], False, id="lf"),
    P(_two_events("\r\n"), [ev("a\nb"), ev("c", "t")], False, id="crlf"),
    P(_two_events("\r"), [ev("a\nb"), ev("c", "t")], False, id="cr"),
    P(b"data: a\r\ndata: b\rdata: c\n\r\nevent: t\rdata: d\r\n\n", [ev("a\nb\nc"), ev("d", "t")], False, id="mixed"),
    # WPT event-data.js: mixed endings give "msg\nmsg", then "", then "end"
    P(b"data:msg\ndata:msg\r\n\r\ndata:\r\rdata:end\n\n", [ev("msg\nmsg"), ev(""), ev("end")], False, id="wpt-event-data"),
    P(b"data:test\r\ndata\ndata:test\r\n\r\n", [ev("test\n\ntest")], False, id="wpt-format-newlines"),
    # openai case 16: id with CRLF, a "\n\r" pair is two line ends, the unfinished block is dropped
    P(b"id:one\r\ndata:first\n\rdata:second\r\n\r\ndata:unfinished", [ev("first", id="one"), ev("second", id="one")],
      True, id="openai-mixed-endings-and-eof"),
]


@pytest.mark.parametrize("stream, expected, pending", E1)
def test_lf_crlf_and_cr_line_endings_alone_and_mixed_E1(decode, stream, expected, pending):
    """LF, CRLF and CR each end a line, alone or mixed in one stream."""
    assert decode(stream)[:2] == (expected, pending)


E2 = [
    P([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"], [[], [], [ev("a\nb")], []], id="crlf-split-twice"),
    P([b"data: x\r", b"\n\r", b"\n"], [[], [ev("x")], []], id="blank-line-in-three-chunks"),
    P([b"data: x\n\r", b"\n"], [[ev("x")], []], id="lf-cr-then-lf"),
    P([b"data: x\r", b"", b"\n", b"\n"], [[], [], [], [ev("x")]], id="empty-chunk-between-cr-and-lf"),
    P([b"data: a\r", b"\n", b"\n"], [[], [], [ev("a")]], id="only-one-lf-pairs-with-the-cr"),
    P([b"data: x\r\r"], [[ev("x")]], id="bare-cr-frame-fires-without-waiting"),
    P([b"data: x\r", b"\r"], [[], [ev("x")]], id="cr-then-cr"),
    P([b"data: a\r", b"\xe2\x82", b"\xac\n\n"], [[], [], [ev("a")]], id="cr-then-split-character"),
]


@pytest.mark.parametrize("pieces, per_feed", E2)
def test_line_end_split_across_reads_is_one_line_end_E2(pieces, per_feed):
    """A CRLF or blank line cut across reads is one line end, and each event comes out of the read that completes it."""
    decoder = SSEDecoder()
    assert [decoder.feed(piece) for piece in pieces] == per_feed
    assert not decoder.pending


@pytest.mark.parametrize("eol", [b"\n", b"\r", b"\r\n"], ids=["lf", "cr", "crlf"])
def test_every_two_offset_split_of_one_event_gives_exactly_one_event_E3(eol):
    """``data:ok`` and a blank line, cut at any two offsets with an empty read between, give one event "ok"."""
    stream = b"data:ok" + eol + eol
    splits = (
        [stream[:i], b"", stream[i:j], stream[j:]] for i in range(len(stream) + 1) for j in range(i, len(stream) + 1)
    )
    assert decode_all(splits) == ([ev("ok")], False, "", None)


# --- E5: byte order mark --------------------------------------------------------------------

BOM = b"\xef\xbb\xbf"
E5 = [
    P(BOM + b"data: a\n\n", [ev("a")], id="leading-bom-stripped"),
    P(BOM + BOM + b"data: a\n\ndata: b\n\n", [ev("b")], id="wpt-format-bom-2-second-bom-is-a-field-name"),
    P(b"data: a\n\n" + BOM + b"data: b\n\ndata: c\n\n", [ev("a"), ev("c")], id="wpt-format-bom-mid-stream"),
    P(b"data: " + BOM + b"x\n\n", [ev("\ufeffx")], id="bom-inside-data-kept"),
    P(b"\xef\xbbdata: a\n\ndata: b\n\n", [ev("b")], id="half-a-bom-is-invalid-utf8"),
]


@pytest.mark.parametrize("stream, expected", E5)
def test_only_one_leading_bom_is_stripped_E5(decode, stream, expected):
    """One leading BOM is dropped; any other BOM is ordinary text, so a second one spoils the first field."""
    assert decode(stream)[:2] == (expected, False)


@pytest.mark.parametrize("pieces", [[b"\xef\xbb", b"\xbf"], [b"\xef", b"\xbb", b"\xbf"], [b"\xef", b"\xbb\xbf"]])
def test_leading_bom_split_across_reads_is_stripped_E5(pieces):
    """A leading BOM cut 2+1, 1+1+1 or 1+2 across reads is still stripped."""
    assert feed_pieces(pieces + [b"data: a\n\n"]) == ([ev("a")], False, "", None)


# --- E6: comments ---------------------------------------------------------------------------

LONG = b"x" * 2048
E6 = [
    # WPT format-comments: NUL in a comment, comments ended by CR, LF, CRLF, 2 KiB, ":data:fail"
    P(b"data:1\r:\x00\n:\r\ndata:2\n:" + LONG + b"\rdata:3\n:data:fail\r:" + LONG + b"\ndata:4\n\n", [ev("1\n2\n3\n4")],
      id="wpt-format-comments"),
    P(b":\n: keep-alive\n\n", [], id="comments-alone-fire-nothing"),
    P(b"event: t\n: c\nid: 3\n:\ndata: x\n: c\n\n", [ev("x", "t", "3")], id="comments-keep-buffers"),
    P(b": OPENROUTER PROCESSING\n\n: OPENROUTER PROCESSING\n\ndata: {}\n\n", [ev("{}")], id="openrouter-keepalive"),
]


@pytest.mark.parametrize("stream, expected", E6)
def test_comments_are_ignored_and_keep_the_buffers_E6(decode, stream, expected):
    """Lines starting with a colon change nothing, whatever they contain."""
    assert decode(stream)[:2] == (expected, False)


def test_one_mib_comment_is_ignored_E6():
    """A 1 MiB comment between fields, fed whole or in 4 KiB reads, does not disturb the event around it."""
    stream = b"data: a\n:" + b"c" * (1 << 20) + b"\ndata: b\n\n"
    outcome = decode_all([[stream], [stream[i : i + 4096] for i in range(0, len(stream), 4096)]])
    assert outcome == ([ev("a\nb")], False, "", None)


# --- E7, E8, E9, E10: field parsing ---------------------------------------------------------

E7_TO_E10 = [
    # E7: a line without a colon is a field with an empty value
    P(b"data\n\n", [ev("")], False, id="E7-data-without-colon"),
    P(b"data\ndata\n\n", [ev("\n")], False, id="E7-two-data-without-colon"),
    P(b"data:\n\n", [ev("")], False, id="E7-empty-data"),
    P(b"data\n\ndata\ndata\n\ndata:", [ev(""), ev("\n")], True, id="E7-spec-example"),
    P(b"data:\n\ndata\ndata\n\ndata:test", [ev(""), ev("\n")], True, id="E7-wpt-format-field-data"),
    P(b"event\ndata: x\n\n", [ev("x")], False, id="E7-event-without-colon-is-default"),
    # E8: exactly one leading space is removed from a value
    P(b"data:  x\n\n", [ev(" x")], False, id="E8-second-space-kept"),
    P(b"data:\tx\n\n", [ev("\tx")], False, id="E8-tab-kept"),
    P(b"data: \n\n", [ev("")], False, id="E8-lone-space-removed"),
    P(b"data: x \n\n", [ev("x ")], False, id="E8-trailing-space-kept"),
    P(b"event:  t\ndata: x\n\n", [ev("x", " t")], False, id="E8-event-value"),
    P(b"id:  7\ndata: x\n\n", [ev("x", id=" 7")], False, id="E8-id-value"),
    P(b"data:test\n\ndata: test\n\n", [ev("test"), ev("test")], False, id="E8-spec-space-is-optional"),
    P(b"data:\ttest\rdata: \ndata:test\n\n", [ev("\ttest\n\ntest")], False, id="E8-wpt-format-leading-space"),
    # E9: data lines joined with LF, one trailing LF removed
    P(b"data: YHOO\ndata: +2\ndata: 10\n\n", [ev("YHOO\n+2\n10")], False, id="E9-spec-stock-example"),
    P(b"data:\ndata:\n\n", [ev("\n")], False, id="E9-two-empty-lines"),
    P(b"data: a\ndata:\n\n", [ev("a\n")], False, id="E9-only-one-trailing-lf-removed"),
    # E10: extra blank lines fire nothing
    P(b"\n\n\ndata: a\n\n\n\n\ndata: b\n\n\n", [ev("a"), ev("b")], False, id="E10-extra-blank-lines"),
    P(b"\r\n\r\n\r\r\n\n", [], False, id="E10-only-blank-lines"),
]


@pytest.mark.parametrize("stream, expected, pending", E7_TO_E10)
def test_field_values_colons_spaces_and_blank_lines_E7_E8_E9_E10(decode, stream, expected, pending):
    """Field values follow the spec's colon, leading-space, data-joining and dispatch rules."""
    assert decode(stream)[:2] == (expected, pending)


@pytest.mark.parametrize(
    "stream, expected",
    [
        P(b'data: {\ndata: "foo":\ndata: \ndata:\ndata: true}\n\n', {"foo": True}, id="openai-6-empty-lines-inside"),
        P(b'data: {"content": "a\\n\\nb"}\n\n', {"content": "a\n\nb"}, id="openai-7-escaped-newlines"),
        P(b'data: {\ndata: "foo":\ndata: true}\n\n', {"foo": True}, id="openai-8-three-lines"),
    ],
)
def test_multi_line_json_data_joins_into_one_json_document_E9(decode, stream, expected):
    """JSON spread over data lines (or with escaped newlines) arrives as one event that parses."""
    (event,), pending = decode(stream)[:2]
    assert json.loads(event.data) == expected and not pending


def test_ten_thousand_data_lines_join_into_one_event_E9():
    """10,000 data lines, fed whole or in 4 KiB reads, are one event joined by LF (openai case 15)."""
    stream = b"".join(b"data: %d\n" % i for i in range(10000)) + b"\n"
    outcome = decode_all([[stream], [stream[i : i + 4096] for i in range(0, len(stream), 4096)]])
    assert outcome.events == [ev("\n".join(str(i) for i in range(10000)))]


# --- E11, E12: event types ------------------------------------------------------------------

E11 = [
    P(b"event: ping\n\n", [], "", id="ping"),
    P(b"event: ping\n\nevent: ping\n\n", [], "", id="two-pings-openai-4"),
    P(b"event: ping\n\ndata: x\n\n", [ev("x")], "", id="type-cleared-after-ping"),
    P(b"id: 1\nretry: 5\nevent: ping\n\n", [], "1", id="id-commits-without-firing"),
]


@pytest.mark.parametrize("stream, expected, last_id", E11)
def test_block_without_data_fires_nothing_E11(decode, stream, expected, last_id):
    """Pinned choice: a block with an empty data buffer, such as ``event: ping``, fires no event (unlike openai)."""
    outcome = decode(stream)
    assert (outcome.events, outcome.pending, outcome.last_event_id) == (expected, False, last_id)


def test_bare_data_line_makes_a_typed_empty_event_fire_E11(decode):
    """A ``data`` line with no value fills the buffer, so the block fires with data "" (the rule is about the buffer)."""
    assert decode(b"event: ping\ndata\n\n").events == [ev("", "ping")]


E12 = [
    P(b"event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n",
      [ev("73857293", "add"), ev("2153", "remove"), ev("113411", "add")], id="spec-add-remove-example"),
    P(b"event: add\ndata: 1\n\ndata: 2\n\n", [ev("1", "add"), ev("2")], id="type-cleared-after-dispatch"),
    P(b"event: \ndata: x\n\nevent:\ndata: y\n\n", [ev("x"), ev("y")], id="wpt-format-field-event-empty"),
    P(b"event: a\nevent: b\ndata: x\n\n", [ev("x", "b")], id="last-event-field-wins"),
    P(b"data: x\nevent: t\n\n", [ev("x", "t")], id="ld-fields-in-reverse-order"),
    P(b"event: Error\ndata: x\n\n", [ev("x", "Error")], id="type-is-case-sensitive"),
    P(b'event: completion\ndata: {"foo":true}\n\n', [ev('{"foo":true}', "completion")], id="openai-1-basic"),
    P(b'data: {"foo":true}\n\n', [ev('{"foo":true}')], id="openai-2-default-type-is-message"),
    P(b'event: completion\ndata: {"foo":true}\n\nevent: completion\ndata: {"bar":false}\n\n',
      [ev('{"foo":true}', "completion"), ev('{"bar":false}', "completion")], id="openai-5-two-typed-events"),
]


@pytest.mark.parametrize("stream, expected", E12)
def test_event_field_sets_the_type_of_one_event_E12(decode, stream, expected):
    """``event`` sets the type of the next dispatch only; an empty type means "message"."""
    assert decode(stream)[:2] == (expected, False)


# --- E13, E14: id and retry -----------------------------------------------------------------

E13 = [
    P(b"id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\ndata: d\n\nid\ndata: e\n\nid: 3\ndata: f\n\nid:\ndata: g\n\n",
      [ev("a", id="1"), ev("b", id="1"), ev("c", id="2"), ev("d", id="2"), ev("e"), ev("f", id="3"), ev("g")],
      False, "", id="wpt-format-field-id-3-persists-changes-resets"),
    P(b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n", [ev("a", id="1"), ev("b", id="1")], False, "1",
      id="wpt-format-field-id-null-ignored"),
    P(b"id: 7\n\n", [], False, "7", id="id-block-commits-without-firing"),
    P(b"data: x\nid: 9\n\n", [ev("x", id="9")], False, "9", id="id-after-data-in-same-block"),
    P("id: \u2026\ndata: x\n\n".encode(), [ev("x", id="\u2026")], False, "\u2026", id="wpt-format-field-id-2-non-ascii"),
    P(b"id: a:b\ndata: x\n\n", [ev("x", id="a:b")], False, "a:b", id="colon-inside-id"),
    P(b"data: a\n\nid: 5\ndata: b", [ev("a")], True, "", id="id-in-discarded-block-never-commits"),
    P(b"retry: 1000\ndata: test1\n\nid: 1\ndata: test2",
      [ev("test1", retry=1000)], True, "", id="wpt-format-data-before-final-empty-line"),
]


@pytest.mark.parametrize("stream, expected, pending, last_id", E13)
def test_last_event_id_persists_resets_and_commits_at_blank_lines_E13(decode, stream, expected, pending, last_id):
    """``id`` sets the last event id at the next blank line; it persists, an empty id resets it, a NUL voids it."""
    outcome = decode(stream)
    assert (outcome.events, outcome.pending, outcome.last_event_id) == (expected, pending, last_id)


def test_committed_id_applies_to_the_next_event_E13():
    """An id committed by a data-less block is carried by the next event."""
    decoder = SSEDecoder()
    assert decoder.feed(b"id: 7\n\n") == [] and decoder.last_event_id == "7"
    assert decoder.feed(b"data: x\n\n") == [ev("x", id="7")]


BOGUS_RETRY = ["1000x", "+5", "-1", " 5", "1_000", "", "5.0", "0x10", "5 ", "\uff15", "\u00b2", "\u0665"]


@pytest.mark.parametrize("value", BOGUS_RETRY)
def test_retry_that_is_not_only_ascii_digits_is_ignored_E14(decode, value):
    """A retry value with anything but ASCII digits leaves the earlier valid value in force."""
    stream = b"retry: 2000\nretry: " + value.encode() + b"\ndata: x\n\n"
    assert decode(stream)[:4] == ([ev("x", retry=2000)], False, "", 2000)


@pytest.mark.parametrize(
    "stream, expected, retry",
    [
        P(b"retry: 02000\ndata: x\n\n", [ev("x", retry=2000)], 2000, id="wpt-leading-zero-is-decimal"),
        P(b"retry:0\ndata: x\n\n", [ev("x", retry=0)], 0, id="zero"),
        P(b"retry: 10\n\n", [], 10, id="retry-without-event"),
        P(b"data: a\n\nretry: 7\ndata: b\n\n", [ev("a"), ev("b", retry=7)], 7, id="takes-effect-from-its-line-on"),
        P(b"retry\ndata: x\n\n", [ev("x")], None, id="no-colon-is-empty-and-ignored"),
    ],
)
def test_retry_of_ascii_digits_sets_the_reconnection_time_E14(decode, stream, expected, retry):
    """A retry value of ASCII digits is read in base 10 and reported on later events."""
    outcome = decode(stream)
    assert (outcome.events, outcome.retry) == (expected, retry)


# --- E15, E16, E17, E18: unknown fields, NUL, UTF-8, Unicode line separators -----------------

E15_TO_E18 = [
    P(b"foo: bar\ndata: x\nbaz\n\n", [ev("x")], id="E15-unknown-fields"),
    P(b"Data: x\n\n", [], id="E15-Data-is-not-data"),
    P(b"DATA: x\nEvent: t\nID: 1\nRetry: 5\ndata: y\n\n", [ev("y")], id="E15-names-are-case-sensitive"),
    P(b"data : x\n\n", [], id="E15-space-before-colon"),
    P(b"data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:test\n\n", [ev("test\n\ntest")],
      id="E15-wpt-format-field-unknown"),
    P(b"data:\x00\ndata:  2\rData:1\ndata\x00:2\ndata:1\r\x00data:4\nda-ta:3\rdata_5\ndata:3\rdata:\r\n data:32\ndata:4\n\n",
      [ev("\x00\n 2\n1\n3\n\n4")], id="E15-wpt-format-field-parsing"),
    P(b"data:\x00\n\n", [ev("\x00")], id="E16-wpt-format-null-character"),
    P(b"data: a\x00b\n\n", [ev("a\x00b")], id="E16-nul-inside-data"),
    P("data: \u043f\u0440\u0438\u0432\u0435\u0442 \U0001f600\n\n".encode(), [ev("\u043f\u0440\u0438\u0432\u0435\u0442 \U0001f600")],
      id="E17-multibyte"),
    P(b"data: ok\xe2\x80\xa6\n\n", [ev("ok\u2026")], id="E17-wpt-format-utf-8"),
    P(b"data: caf\xe9\n\n", [ev("caf\ufffd")], id="E17-latin-1-byte-is-not-decoded-as-latin-1"),
    P(b"data: a\xffb\n\n", [ev("a\ufffdb")], id="E17-invalid-byte"),
    P(b"data: \xe2\x82\n\n", [ev("\ufffd")], id="E17-truncated-sequence-one-replacement"),
    P("data: a\u2028b\u2029c\x85d\x0be\x0cf\x1cg\x1dh\x1ei\n\n".encode(), [ev("a\u2028b\u2029c\x85d\x0be\x0cf\x1cg\x1dh\x1ei")],
      id="E18-only-cr-and-lf-break-lines"),
]


@pytest.mark.parametrize("stream, expected", E15_TO_E18)
def test_unknown_fields_nul_utf8_and_unicode_separators_E15_E16_E17_E18(decode, stream, expected):
    """Unknown or miscased fields are ignored, NUL is data, bytes are UTF-8 with U+FFFD, and only CR/LF end lines."""
    assert decode(stream)[:2] == (expected, False)


def test_multibyte_character_split_mid_sequence_is_reassembled_E17():
    """A Cyrillic character cut between two reads comes out whole (openai case 10)."""
    stream = "data: \u043f\u0440\u0438\n\n".encode()
    assert feed_pieces([stream[:7], stream[7:9], stream[9:]]).events == [ev("\u043f\u0440\u0438")]


# --- E19, E20, E21: end of input, [DONE], error events --------------------------------------

E19 = [
    P(b"data: a\n\ndata: b", [ev("a")], True, id="partial-line"),
    P(b"data: a\n\ndata: b\n", [ev("a")], True, id="complete-line-no-blank"),
    P(b"data: a\n\ndata: b\r", [ev("a")], True, id="cr-ended-line-no-blank"),
    P(b"event: t\n", [], True, id="event-field-only"),
    P(b"data: a\n\n\xe2\x82", [ev("a")], True, id="partial-utf8-character"),
    P(b"data: a\n\n", [ev("a")], False, id="terminated"),
    P(b"data: a\n\n: comment\n", [ev("a")], False, id="comment-after-last-event"),
]


@pytest.mark.parametrize("stream, expected, pending", E19)
def test_unterminated_final_block_is_discarded_and_pending_E19(decode, stream, expected, pending):
    """Pinned choice: a block without its blank line never fires (unlike xai-sdk-ts) and ``pending`` says one was cut."""
    assert decode(stream)[:2] == (expected, pending)


def test_done_sentinel_is_plain_data_to_the_decoder_E20(decode):
    """``data: [DONE]`` decodes as a message with data "[DONE]", after the events before it."""
    assert decode(b'data: {"a":1}\n\ndata: [DONE]\n\n')[:2] == ([ev('{"a":1}'), ev("[DONE]")], False)


def test_error_event_keeps_its_type_after_the_events_before_it_E21(decode):
    """``event: error`` gives an event of type "error", in order after earlier events."""
    stream = b'data: 1\n\nevent: error\ndata: {"error":{"message":"boom"}}\n\n'
    assert decode(stream).events == [ev("1"), ev('{"error":{"message":"boom"}}', "error")]


# --- E24: size cap (max_event_chars caps one line and one event's data) ---------------------

WITHIN_CAP = [
    P(b":" + b"c" * (CAP - 1) + b"\ndata: ok\n\n", [ev("ok")], id="comment-line-of-exactly-cap"),
    P(b"data:" + b"x" * (CAP - 5) + b"\n\n", [ev("x" * (CAP - 5))], id="data-line-of-exactly-cap"),
    P(b"data:" + b"x" * 31 + b"\ndata:" + b"x" * 32 + b"\n\n", [ev("x" * 31 + "\n" + "x" * 32)],
      id="data-of-exactly-cap-in-two-lines"),
    P(b"data\n" * (CAP + 1) + b"\n", [ev("\n" * CAP)], id="data-of-exactly-cap-in-bare-data-lines"),
    P((b"data:" + b"x" * (CAP // 2) + b"\n\n") * 4, [ev("x" * (CAP // 2))] * 4, id="cap-is-per-event"),
    P(b"data:" + b"x" * 32 + b"\n" + (b":" + b"c" * 60 + b"\n") * 5 + b"data:" + b"x" * 31 + b"\n\n",
      [ev("x" * 32 + "\n" + "x" * 31)], id="comments-do-not-count-towards-an-event"),
    P(b"event: " + b"t" * 50 + b"\nid: " + b"i" * 50 + b"\ndata:" + b"x" * 50 + b"\n\n",
      [ev("x" * 50, "t" * 50, "i" * 50)], id="event-and-id-fields-do-not-count"),
]


@pytest.mark.parametrize("stream, expected", WITHIN_CAP)
def test_lines_and_event_data_up_to_the_cap_are_delivered_E24(decode, stream, expected):
    """Pinned choice: a line of exactly the cap, and an event whose data is exactly the cap, are delivered."""
    assert decode(stream, cap=CAP)[:2] == (expected, False)


OVER_CAP = [
    P(b":" + b"c" * CAP + b"\n\n", id="comment-line-terminated"),
    P(b":" + b"c" * CAP, id="comment-line-unterminated"),
    P(b"foo:" + b"x" * CAP + b"\n", id="unknown-field-line"),
    P(b"data:" + b"x" * (CAP - 4) + b"\n\n", id="data-line-terminated"),
    P(b"data:" + b"x" * (CAP - 4), id="data-line-unterminated"),
    P(b"data:" + b"x" * 32 + b"\ndata:" + b"x" * 32 + b"\n\n", id="data-of-cap-plus-one-terminated"),
    P(b"data:" + b"x" * 32 + b"\ndata:" + b"x" * 32 + b"\n", id="data-of-cap-plus-one-unterminated"),
    P(b"data:x\n" * 40, id="growing-via-many-data-lines"),
    P(b"data\n" * (CAP + 2), id="growing-via-bare-data-lines"),
    P(b"data: ok\n\n" + b"x" * (CAP + 1), id="after-a-good-event"),
]


@pytest.mark.parametrize("stream", OVER_CAP)
def test_one_character_over_the_cap_raises_streaming_error_E24(decode, stream):
    """A line or event data one character over the cap raises StreamingError, terminated or not, however it is fed."""
    with pytest.raises(StreamingError):
        decode(stream, cap=CAP)


@pytest.mark.parametrize("limit_hit", [b"x" * (CAP + 1), b"data:" + b"y" * CAP + b"\n", b"data:x\n" * 40])
def test_events_before_an_over_cap_input_in_the_same_read_come_first_E24(limit_hit):
    """Events completed earlier in the read that breaks the cap are returned; the error is
    kept in ``failure`` and raised by the next feed, and by every feed after that."""
    decoder = SSEDecoder(max_event_chars=CAP)
    assert decoder.feed(b"data: one\n\ndata: two\n\n" + limit_hit) == [ev("one"), ev("two")]
    assert isinstance(decoder.failure, StreamingError)
    for _ in range(2):
        with pytest.raises(StreamingError):
            decoder.feed(b"data: three\n\n")


@pytest.mark.parametrize("junk", [b":x", b"ignored:x", b":" + b"c" * (CAP - 1), b"foo"])
@pytest.mark.parametrize("size", [1, 97, 100000])
def test_unterminated_ignored_lines_do_not_accumulate_towards_the_cap_E24(junk, size):
    """Thousands of comments or unknown fields with no blank line never add up to an error (openai cases 11, 17)."""
    stream = (junk + b"\n") * 2000
    outcome = feed_pieces((stream[i : i + size] for i in range(0, len(stream), size)), cap=CAP)
    assert outcome == ([], False, "", None)


@pytest.mark.parametrize("size", [1, 97, 100000])
def test_unterminated_data_lines_are_held_then_discarded_E24(size):
    """2,000 ``data:x`` lines with no blank line give no event and leave the block pending (openai case 11)."""
    stream = b"data:x\n" * 2000
    assert feed_pieces(stream[i : i + size] for i in range(0, len(stream), size)) == ([], True, "", None)


# --- E25, E26: volume -----------------------------------------------------------------------

def _best_time_to_decode(stream: bytes, read_size: int) -> float:
    best = float("inf")
    for _ in range(3):
        decoder = SSEDecoder()
        start = time.perf_counter()
        events = [e for i in range(0, len(stream), read_size) for e in decoder.feed(stream[i : i + read_size])]
        best = min(best, time.perf_counter() - start)
        assert [len(event.data) for event in events] == [len(stream) - 8]
    return best


def test_16_mib_event_in_4_kib_reads_decodes_in_linear_time_E25():
    """One 16 MiB event in 4 KiB reads decodes in seconds, and not much slower than in 1 MiB reads (no rescanning)."""
    stream = b"data: " + b"x" * (16 * 1024 * 1024) + b"\n\n"
    small_reads = _best_time_to_decode(stream, 4096)
    large_reads = _best_time_to_decode(stream, 1024 * 1024)
    # Linear: both take about as long. Copying or rescanning the buffer per read costs 4,096 times
    # 8 MiB on average (seconds here, far beyond the bound), but only 16 times in 1 MiB reads.
    assert small_reads < 10.0, "16 MiB in 4 KiB reads took %.1f s: something rescans its buffer" % small_reads
    assert small_reads < 8 * large_reads + 0.25, "4 KiB reads %.2f s vs 1 MiB reads %.2f s" % (small_reads, large_reads)


def test_2_mib_multibyte_crlf_event_in_odd_reads_is_intact_E25():
    """A 2 MiB event of multibyte text and U+2028 with CRLF lines, in 4,093-byte reads, arrives intact (openai 15)."""
    line = "\u00e9\u20ac\U0001f600\u2028 " * 20
    lines = [line] * (2 * 1024 * 1024 // len(line.encode()))
    stream = "".join("data: " + text + "\r\n" for text in lines).encode() + b"\r\n"
    outcome = feed_pieces(stream[i : i + 4093] for i in range(0, len(stream), 4093))
    assert outcome == ([ev("\n".join(lines))], False, "", None)


def test_2000_events_in_one_read_all_arrive_in_order_E26():
    """2,000 events in one read come out complete and in order (openai case 13)."""
    stream = b"".join(b"id: %d\ndata: {\"n\": %d}\n\n" % (i, i) for i in range(2000))
    events = SSEDecoder().feed(stream)
    assert events == [ev('{"n": %d}' % i, id=str(i)) for i in range(2000)]


def test_100_events_in_rapid_succession_all_arrive_in_order_E26():
    """100 events fed one read each come out one per read, in order (LaunchDarkly)."""
    decoder = SSEDecoder()
    assert [decoder.feed(b"data: %d\n\n" % i) for i in range(100)] == [[ev(str(i))] for i in range(100)]


def test_feed_line_applies_the_same_rules_as_feed():
    """``feed_line`` takes lines without endings and dispatches on the empty one, like ``feed``."""
    decoder = SSEDecoder()
    results = [decoder.feed_line(line) for line in ["event: t", "id: 1", ": c", "data: a", "data", ""]]
    assert results == [None] * 5 + [ev("a\n", "t", "1")]


# Every stream above, for the chunking-invariance corpus (E29, in test_sse_properties.py).
CORPUS = [
    p.values[0] for table in (E1, E5, E6, E7_TO_E10, E11, E12, E13, E15_TO_E18, E19, WITHIN_CAP, OVER_CAP)
    for p in table
] + [b"".join(p.values[0]) for p in E2]
