"""Property tests of the server-sent-events decoder: chunking invariance (E29), encode/decode round
trip, and robustness against arbitrary bytes (hypothesis; hpack/h2 style, no fixtures in @given)."""

from __future__ import annotations

import json
import random
from typing import Any, List, Optional, Tuple

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from test_sse import CORPUS, Outcome, ev, feed_pieces
from xai_lite._sse import SSEDecoder, ServerSentEvent, encode_event
from xai_lite.errors import StreamingError

# Wire shapes of real xAI streams (reference/xai_api.md 9.2 and 9.5, payloads shortened) and an
# OpenRouter keep-alive comment (conformance/recorded/bonus_openrouter_grok_stream_*).
CHAT_CHUNKS = [
    {"id": "de9d896d", "object": "chat.completion.chunk", "created": 1770774064, "model": "grok-3-mini",
     "choices": [{"index": 0, "delta": {"reasoning_content": "First", "role": "assistant"}}]},
    {"id": "de9d896d", "object": "chat.completion.chunk", "created": 1770774066, "model": "grok-3-mini",
     "choices": [{"index": 0, "delta": {"tool_calls": [{"id": "call_55117580", "index": 0, "type": "function",
                  "function": {"name": "weather", "arguments": "{\"location\":\"San Francisco\"}"}}]}}]},
    {"id": "de9d896d", "object": "chat.completion.chunk", "created": 1770774066, "model": "grok-3-mini",
     "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    {"id": "de9d896d", "object": "chat.completion.chunk", "created": 1770774066, "model": "grok-3-mini",
     "choices": [], "usage": {"prompt_tokens": 291, "completion_tokens": 26, "total_tokens": 513}},
]
RESPONSES_EVENTS = [
    {"sequence_number": 0, "type": "response.created", "response": {"id": "bf3b2b34", "status": "in_progress"}},
    {"sequence_number": 4, "type": "response.reasoning_summary_text.delta", "delta": "First", "output_index": 0},
    {"sequence_number": 75, "type": "response.output_text.delta", "delta": "###\u00a0h\u00e9", "output_index": 1},
    {"sequence_number": 678, "type": "response.completed", "response": {"id": "bf3b2b34", "status": "completed"}},
]
CHAT_STREAM = (
    b": OPENROUTER PROCESSING\n\n"
    + b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in CHAT_CHUNKS)
    + b"data: [DONE]\n\n"
)
RESPONSES_STREAM = b"".join(
    ("event: %s\ndata: %s\n\n" % (e["type"], json.dumps(e, ensure_ascii=False))).encode() for e in RESPONSES_EVENTS
)
ALL_STREAMS = CORPUS + [
    CHAT_STREAM, RESPONSES_STREAM, CHAT_STREAM.replace(b"\n", b"\r\n"), RESPONSES_STREAM.replace(b"\n", b"\r")
]


def pieces_at(stream: bytes, cuts: List[int]) -> List[bytes]:
    """Cut the stream at the given offsets (repeated offsets give empty pieces)."""
    bounds = [0] + sorted(cuts) + [len(stream)]
    return [stream[a:b] for a, b in zip(bounds, bounds[1:])]


def test_xai_shaped_streams_give_one_event_per_payload():
    """Recorded-shape chat and Responses streams decode to one event per data payload, with the right types."""
    chat = feed_pieces([CHAT_STREAM])
    assert [e.data for e in chat.events] == [json.dumps(c) for c in CHAT_CHUNKS] + ["[DONE]"]
    responses = feed_pieces([RESPONSES_STREAM.replace(b"\n", b"\r")])
    assert [(e.event, json.loads(e.data)) for e in responses.events] == [(r["type"], r) for r in RESPONSES_EVENTS]
    assert not chat.pending and not responses.pending


@pytest.mark.parametrize("index", range(len(ALL_STREAMS)))
def test_corpus_stream_split_at_random_offsets_gives_the_same_events_E29(index):
    """Each corpus stream cut at 1,000 seeded random offset sets (empty pieces too) decodes as when whole, capped or not."""
    stream = ALL_STREAMS[index]
    rng = random.Random(index)

    def outcome(pieces: List[bytes]) -> object:
        try:
            capped: object = feed_pieces(pieces, cap=64)
        except StreamingError:
            capped = "StreamingError"
        return feed_pieces(pieces), capped

    expected = outcome([stream])
    for _ in range(1000):
        cuts = [rng.randint(0, len(stream)) for _ in range(rng.randint(1, 8))]
        assert outcome(pieces_at(stream, cuts)) == expected, cuts


# --- generated streams ----------------------------------------------------------------------

TOKENS = [b"data:", b"data: ", b"data", b"event: ", b"event:", b"id: ", b"id", b"retry: ", b"retry:", b":", b" ",
          b"\r", b"\n", b"\r\n", b"\n\n", b"\r\r", b"\xef\xbb\xbf", b"\x00", b"x", b"x" * 10, b"ok", b"7", b"02000", b"-1",
          "\u00e9\u20ac\U0001f600\u2028".encode(), b"\xe2\x82", b"\xf0\x9f", b"\xff", b"[DONE]", b"Data:", b"foo:"]
fragments = st.one_of(
    st.sampled_from(TOKENS),
    st.binary(max_size=6),
    st.text(max_size=6).map(lambda s: s.encode("utf-8", "surrogatepass")),
)
streams = st.lists(fragments, max_size=60).map(b"".join)


@st.composite
def split_streams(draw: Any, source: st.SearchStrategy[bytes] = streams) -> Tuple[bytes, List[bytes]]:
    stream = draw(source)
    cuts = draw(st.lists(st.integers(0, len(stream)), max_size=12))
    return stream, pieces_at(stream, cuts)


@given(split_streams())
@example((b"data: a\r\n\r\n", [b"data: a\r", b"\n\r", b"\n"]))
@example((b"\xef\xbb\xbfdata: \xe2\x82\xac\n\n", [b"\xef", b"\xbb\xbfdata: \xe2", b"", b"\x82\xac\n\n"]))
def test_any_split_of_any_stream_gives_the_same_events(stream_and_pieces):
    """For any bytes and any way of cutting them into reads, the events and end state are the same."""
    stream, pieces = stream_and_pieces
    whole = feed_pieces([stream])
    assert feed_pieces(pieces) == whole
    assert feed_pieces(stream[i : i + 1] for i in range(len(stream))) == whole


@given(split_streams(), st.sampled_from([1, 3, 8, 16]))
@example((b"data:aaaaaaa\n\n", [b"data:aaaa", b"aaa\n\n"]), 10)
def test_whether_the_cap_is_hit_does_not_depend_on_the_split(stream_and_pieces, cap):
    """With a small cap, the split never decides whether StreamingError is raised, and what comes before it is right."""
    stream, pieces = stream_and_pieces
    uncapped = feed_pieces([stream]).events
    try:
        whole: Optional[Outcome] = feed_pieces([stream], cap=cap)
    except StreamingError:
        whole = None
    decoder = SSEDecoder(max_event_chars=cap)
    events: List[ServerSentEvent] = []
    try:
        for piece in pieces:
            events.extend(decoder.feed(piece))
    except StreamingError:
        assert whole is None, "split %r raised, whole stream did not" % (pieces,)
        assert events == uncapped[: len(events)]
    else:
        assert whole is not None, "whole stream raised, split %r did not" % (pieces,)
        assert whole.events == events == uncapped


# --- round trip -----------------------------------------------------------------------------

def _text(exclude: str, min_size: int = 0) -> st.SearchStrategy[str]:
    return st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=exclude), min_size=min_size,
                   max_size=12)


names = st.one_of(st.just("message"), st.sampled_from(["ping", "error", "response.created"]), _text("\r\n\0", 1))
new_ids = _text("\r\n\0", 1)
data_values = _text("\r")  # data may hold LF (several data lines) but a CR would be re-encoded as LF


@st.composite
def event_lists(draw: Any) -> List[ServerSentEvent]:
    """Events as a decoder reports them: the id and retry of a stream persist once set, so each event
    keeps the previous id/retry or sets a new one (an empty id is only possible before any id)."""
    events = []
    last_id, retry = "", None  # type: str, Optional[int]
    for _ in range(draw(st.integers(0, 8))):
        last_id = draw(st.one_of(st.just(last_id), new_ids))
        retry = draw(st.one_of(st.just(retry), st.integers(0, 10 ** 12)))
        events.append(ServerSentEvent(draw(names), draw(data_values), last_id, retry))
    return events


@given(event_lists(), st.sampled_from(["\n", "\r\n", "\r"]), st.lists(st.integers(0, 10 ** 6), max_size=10))
@example([ev(""), ev("\n", " lead", " id"), ev("a\x00\n\u2028b", "message", " id", 0)], "\r", [1, 20, 20])
def test_encoded_events_decode_to_the_same_events(events, line_ending, cuts):
    """``encode_event`` then decoding, whole or cut anywhere, gives back exactly the events encoded."""
    stream = b"".join(encode_event(event, line_ending=line_ending) for event in events)
    end_state = (False, events[-1].id, events[-1].retry) if events else (False, "", None)
    assert feed_pieces([stream]) == (events,) + end_state
    assert feed_pieces(pieces_at(stream, [cut % (len(stream) + 1) for cut in cuts])) == (events,) + end_state


# --- robustness -----------------------------------------------------------------------------

@given(split_streams(st.one_of(streams, st.binary(max_size=300))), st.sampled_from([1, 4, 16, 64, 10 ** 6]))
def test_any_bytes_give_events_or_streaming_error_only(stream_and_pieces, cap):
    """For any bytes, ``feed`` returns well-formed events or raises StreamingError, never anything else."""
    _, pieces = stream_and_pieces
    decoder = SSEDecoder(max_event_chars=cap)
    try:
        for piece in pieces:
            for event in decoder.feed(piece):
                assert type(event) is ServerSentEvent
                assert all(type(value) is str for value in event[:3]) and event.event
                assert "\r" not in event.data and "\0" not in event.id and len(event.data) <= cap
                assert event.retry is None or (type(event.retry) is int and event.retry >= 0)
    except StreamingError as exc:
        assert str(exc)
    assert isinstance(decoder.pending, bool)
