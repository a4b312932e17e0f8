"""Chat completion streams: transport bytes → SSE events → :class:`ChatCompletionChunk`.

The contract is "nothing lost": every chunk whose event arrived whole is delivered once, in
order; an error event is raised after the chunks before it; and a stream that ends without
``data: [DONE]`` raises :class:`StreamingError` after delivering what arrived, so a truncated
answer never looks like a complete one. The connection goes back to the pool only after
``[DONE]``; a stream that is closed, left with ``break``, or garbage-collected early closes it.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, Generator, Generic, List, Optional, TypeVar, cast

from ._sse import SSEDecoder, ServerSentEvent
from ._transport import Exchange
from .errors import ApiError, RequestTimeoutError, StreamingError, XaiError, api_error, excerpt, mask_error
from .types import ChatCompletion, ChatCompletionChunk, ChoiceDelta

__all__ = ["ChatCompletionAccumulator", "ChatStream", "EventStream", "JSON_ERRORS", "embedded_status"]


_T = TypeVar("_T")
_S = TypeVar("_S", bound="EventStream[Any]")


class EventStream(Generic[_T]):
    """What chat and Responses streams share: an iterator over typed items read from an event
    stream, and a context manager that closes it.

    The connection goes back to the pool only when the stream reached its end; leaving early
    (``break``, ``close()``, the end of a ``with`` block, or dropping the object) closes it.
    ``request_id`` is the server's ``x-request-id``; ``headers`` the response headers.
    """

    def __init__(self, state: _StreamState, generator: Generator[_T, None, None]) -> None:
        # The generator sees only the state, never this object: no reference cycle, so a stream
        # the caller drops is closed at once by __del__, not whenever the cycle collector runs.
        self._state = state
        self.client_request_id = state.client_request_id
        self.request_id = state.exchange.request_id
        self.headers = state.exchange.headers
        self._started = False
        self._closed = False
        self._generator = generator
        self._next = generator.__next__

    def __iter__(self: _S) -> _S:
        if self._closed and not self._state.finished:
            raise RuntimeError("this stream was closed before its end; start a new request to read it again")
        self._started = True
        return self

    def __next__(self) -> _T:
        try:
            return self._next()
        except XaiError as exc:  # the one exit of a stream's errors: mask them (errors.mask_error)
            mask_error(exc, self._state.scrub)
            raise

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop reading. Before the end of the stream this closes the connection (it cannot be
        reused)."""
        if not self._closed:
            self._closed = True
            self._next = _closed_next
            self._generator.close()
            if not self._state.finished:
                self._state.exchange.close()  # a generator never started has no finally to run

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            self.close()

    @property
    def finished(self) -> bool:
        """True once the stream reached its end (``[DONE]``, or a Responses stream's final event)."""
        return self._state.finished


class ChatStream(EventStream[ChatCompletionChunk]):
    """An iterator of :class:`ChatCompletionChunk`, and a context manager that closes it.

    >>> with client.chat.completions.create(model="grok-4", messages=msgs, stream=True) as stream:
    ...     for chunk in stream:
    ...         print(chunk.choices[0].delta.content or "", end="") if chunk.choices else None

    It ends at ``data: [DONE]``. ``request_id`` is the server's ``x-request-id``; ``headers`` the
    response headers.
    """

    def __init__(
        self,
        exchange: Exchange,
        *,
        scrub: Callable[[str], str],
        client_request_id: Optional[str] = None,
        max_event_chars: Optional[int] = None,
    ) -> None:
        state = _StreamState(exchange, scrub, client_request_id, max_event_chars)
        super().__init__(state, _chunks(state))

    def get_final_completion(self) -> ChatCompletion:
        """Read the whole stream and return it assembled as one :class:`ChatCompletion`.

        Call it instead of iterating; to iterate and still get the whole completion, pass each
        chunk through a :class:`ChatCompletionAccumulator`.
        """
        if self._started:
            raise RuntimeError(
                "get_final_completion() needs the whole stream, but it has been iterated already; "
                "use ChatCompletionAccumulator.add(chunk) while iterating instead"
            )
        accumulator = ChatCompletionAccumulator()
        try:
            for chunk in self:
                accumulator.add(chunk)
        except StreamingError as exc:  # a chunk the accumulator refused: the rest is not read
            self.close()
            if exc.chunks_delivered is None:
                exc.chunks_delivered = accumulator.chunks - 1
                exc.request_id = self.request_id
                exc.client_request_id = self.client_request_id
            raise
        completion = accumulator.completion()
        completion.__dict__["_request_id"] = self.request_id
        return completion


def _closed_next() -> Any:
    raise StopIteration


class _StreamState:
    __slots__ = ("exchange", "scrub", "client_request_id", "decoder", "finished")

    def __init__(
        self, exchange: Exchange, scrub: Callable[[str], str], client_request_id: Optional[str], max_event_chars: Optional[int]
    ) -> None:
        self.exchange = exchange
        self.scrub = scrub
        self.client_request_id = client_request_id
        self.decoder = SSEDecoder() if max_event_chars is None else SSEDecoder(max_event_chars)
        self.finished = False

    def error(self, message: str, delivered: int) -> StreamingError:
        error = StreamingError(message, chunks_delivered=delivered)
        error.request_id = self.exchange.request_id
        error.client_request_id = self.client_request_id
        return error

    def api_error(self, obj: Dict[str, Any], payload: str, delivered: int) -> ApiError:
        error = api_error(
            embedded_status(obj) or self.exchange.status,
            "error event",
            self.exchange.headers,
            payload.encode("utf-8"),
            scrub=self.scrub,
            note="(sent inside the stream after %d chunks)" % delivered,
        )
        error.chunks_delivered = delivered
        error.client_request_id = self.client_request_id
        return error

    def special_event(self, event: ServerSentEvent, delivered: int) -> None:
        # A named event: "error" raises; anything else (e.g. a "ping" with data) is not a chunk.
        if event.event == "error":
            try:
                obj = json.loads(event.data)
            except JSON_ERRORS:
                obj = None
            raise self.api_error(obj if isinstance(obj, dict) else {}, event.data, delivered)

    def check_payload(self, obj: Any, payload: str, delivered: int) -> None:
        if obj is _BAD_JSON or type(obj) is not dict:
            raise self.error(
                "chunk %d is not a JSON object: %s" % (delivered + 1, excerpt(payload.encode("utf-8"), scrub=self.scrub)), delivered
            )
        if obj.get("error") is not None:
            raise self.api_error(obj, payload, delivered)


def _chunks(state: _StreamState) -> Generator[ChatCompletionChunk, None, None]:
    # The hot loop: one read, one decoder call, one json.loads and one parse per chunk.
    exchange = state.exchange
    decoder = state.decoder
    feed = decoder.feed
    raw_decode = _JSON.raw_decode  # json.loads minus two Python-level calls
    parse = ChatCompletionChunk._parse
    delivered = 0
    try:
        while True:
            try:
                data = exchange.read1()
                events = feed(data)
            except XaiError as exc:
                raise _mid_stream(exc, delivered) from None
            for event in events:
                payload = event.data
                if payload == "[DONE]":
                    state.finished = True
                    exchange.finish()
                    return
                if event.event != "message":
                    state.special_event(event, delivered)
                    continue
                try:
                    obj, end = raw_decode(payload)
                except JSON_ERRORS:
                    end = -1
                if end != len(payload):  # surrounding whitespace, trailing text, or no JSON at all
                    obj = _loads(payload)
                if type(obj) is not dict or "error" in obj:
                    state.check_payload(obj, payload, delivered)
                try:
                    chunk = parse(obj)
                except (AttributeError, TypeError, KeyError):
                    raise state.error(
                        "chunk %d does not have the shape of a chat completion chunk: %s"
                        % (delivered + 1, excerpt(payload.encode("utf-8"), scrub=state.scrub)),
                        delivered,
                    ) from None
                delivered += 1
                yield chunk
            if decoder.failure is not None:  # input over the size limit, after the events before it
                raise _mid_stream(decoder.failure, delivered)
            if not data:
                break
        pending = " (an incomplete event was discarded)" if decoder.pending else ""
        raise state.error(
            "the stream ended without [DONE] after %d chunks%s: the answer may be cut off" % (delivered, pending),
            delivered,
        )
    finally:
        if not state.finished:
            exchange.close()


_BAD_JSON = object()
_JSON = json.JSONDecoder()
# What decoding an event's JSON may raise: ValueError for text that is not JSON, RecursionError
# for arrays or objects nested deeper than the interpreter's recursion limit (reliability.md M13).
JSON_ERRORS = (ValueError, RecursionError)


def _loads(payload: str) -> Any:
    try:
        return json.loads(payload)
    except JSON_ERRORS:
        return _BAD_JSON


def _mid_stream(exc: XaiError, delivered: int) -> XaiError:
    """A failure while reading: timeouts stay timeouts, anything else becomes StreamingError."""
    if isinstance(exc, (RequestTimeoutError, StreamingError)):
        exc.chunks_delivered = delivered
        return exc
    error = StreamingError(
        "the stream broke after %d chunks: %s" % (delivered, exc.message), chunks_delivered=delivered
    )
    error.request_id = exc.request_id
    return error


def embedded_status(obj: Dict[str, Any]) -> Optional[int]:
    """An HTTP status an error payload carries (``status``, or a numeric ``code``), if any."""
    err = obj.get("error")
    for source in (err if isinstance(err, dict) else {}, obj):
        for key in ("status", "status_code", "code"):
            value = source.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and 400 <= value <= 599:
                return value
    return None


class _ChoiceState:
    # Pieces of one choice; a field none of whose deltas arrived stays None in the result.
    __slots__ = ("role", "content", "reasoning", "refusal", "calls", "finish_reason", "logprobs")

    def __init__(self) -> None:
        self.role: Optional[str] = None
        self.content: List[str] = []
        self.reasoning: List[str] = []
        self.refusal: List[str] = []
        self.calls: Dict[int, Dict[str, Any]] = {}
        self.finish_reason: Optional[str] = None
        self.logprobs: List[Any] = []


_NO_DELTA = ChoiceDelta()


class ChatCompletionAccumulator:
    """Assembles stream chunks into the :class:`ChatCompletion` they add up to.

    Content, reasoning and refusal pieces are concatenated per choice; tool calls are assembled
    by their ``index`` (name and id from the first piece, arguments concatenated); the last
    ``usage``, ``finish_reason`` and ``citations`` win. A chunk whose fields have the wrong type
    (a number as ``content`` or ``arguments``, a list as a choice's ``index``) raises
    :class:`StreamingError` naming the field.

    >>> acc = ChatCompletionAccumulator()
    >>> for chunk in stream:
    ...     acc.add(chunk)
    >>> acc.completion().choices[0].message.content
    """

    def __init__(self) -> None:
        self._top: Dict[str, Any] = {}
        self._choices: Dict[int, _ChoiceState] = {}
        self.chunks = 0

    def add(self, chunk: ChatCompletionChunk) -> ChatCompletionChunk:
        """Take one chunk into account; returns it, so ``map(acc.add, stream)`` works."""
        self.chunks += 1
        top = self._top
        for key in ("id", "created", "model", "system_fingerprint", "service_tier", "citations", "usage"):
            value = getattr(chunk, key, None)
            if value is not None:
                top[key] = value
        text = self._text
        for choice in chunk.choices:
            index = choice.index
            if index.__class__ is not int:
                raise self._wrong("choices[].index", index, "an integer")
            state = self._choices.get(index)
            if state is None:
                state = self._choices[index] = _ChoiceState()
            delta = choice.delta or _NO_DELTA  # "delta": null adds nothing
            if delta.role:
                state.role = text(delta.role, "delta.role")
            if delta.content is not None:
                state.content.append(text(delta.content, "delta.content"))
            if delta.reasoning_content is not None:
                state.reasoning.append(text(delta.reasoning_content, "delta.reasoning_content"))
            if delta.refusal is not None:
                state.refusal.append(text(delta.refusal, "delta.refusal"))
            for position, call in enumerate(delta.tool_calls or ()):
                self._add_call(state, call, position)
            if choice.finish_reason:
                state.finish_reason = text(choice.finish_reason, "finish_reason")
            if choice.logprobs is not None and choice.logprobs.content:
                state.logprobs.extend(lp.to_dict() for lp in choice.logprobs.content)
        return chunk

    def _add_call(self, state: _ChoiceState, call: Any, position: int) -> None:
        index = call.index if isinstance(call.index, int) else len(state.calls) + position
        entry = state.calls.get(index)
        if entry is None:
            entry = state.calls[index] = {"id": "", "type": "function", "name": "", "arguments": []}
        text = self._text
        if call.id:
            entry["id"] = text(call.id, "tool_calls[].id")
        if call.type:
            entry["type"] = text(call.type, "tool_calls[].type")
        function = call.function
        if function is not None:
            if function.name:
                entry["name"] = text(function.name, "tool_calls[].function.name")
            if function.arguments:
                entry["arguments"].append(text(function.arguments, "tool_calls[].function.arguments"))

    def _text(self, value: Any, field: str) -> str:
        if value.__class__ is not str:
            raise self._wrong(field, value, "a string")
        return cast(str, value)

    def _wrong(self, field: str, value: Any, expected: str) -> StreamingError:
        return StreamingError(
            "chunk %d: %s is of type %s, not %s; the server sent a malformed stream"
            % (self.chunks, field, type(value).__name__, expected)
        )

    def completion(self) -> ChatCompletion:
        """The completion assembled from the chunks added so far."""
        top = dict(self._top)
        usage = top.pop("usage", None)
        choices = []
        for index in sorted(self._choices):
            state = self._choices[index]
            message: Dict[str, Any] = {
                "role": state.role or "assistant",
                "content": "".join(state.content) if state.content else None,
            }
            if state.reasoning:
                message["reasoning_content"] = "".join(state.reasoning)
            if state.refusal:
                message["refusal"] = "".join(state.refusal)
            if state.calls:
                message["tool_calls"] = [
                    {
                        "id": call["id"],
                        "type": call["type"],
                        "function": {"name": call["name"], "arguments": "".join(call["arguments"])},
                    }
                    for _, call in sorted(state.calls.items())
                ]
            choice: Dict[str, Any] = {"index": index, "message": message, "finish_reason": state.finish_reason}
            if state.logprobs:
                choice["logprobs"] = {"content": state.logprobs}
            choices.append(choice)
        data: Dict[str, Any] = {
            "id": top.get("id", ""),
            "object": "chat.completion",
            "created": top.get("created", 0),
            "model": top.get("model", ""),
            "choices": choices,
        }
        for key in ("system_fingerprint", "service_tier", "citations"):
            if key in top:
                data[key] = top[key]
        if usage is not None:
            data["usage"] = usage.to_dict()
        return ChatCompletion._parse(data)
