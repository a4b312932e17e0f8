"""``client.responses``: the Responses API (``/v1/responses``), and its event stream.

The stream keeps the chat stream's contract (see ``_streaming``): every whole event is delivered
once, in order; an ``error`` event raises after the events before it; a stream that stops before
``response.completed``, ``response.failed`` or ``response.incomplete`` raises
:class:`StreamingError`, with or without ``data: [DONE]`` (xAI sends none).
"""

from __future__ import annotations

from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Generator,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Union,
    cast,
    overload,
)

from ._chat import LIVE_SEARCH_REMOVED, check_flags
from ._client import Client
from ._wire import path_segment, query_string
from ._config import DEFAULT_MAX_EVENT_CHARS, MAX_SMALL_BYTES, UNSET, TimeoutTypes, Unset, check_number
from ._streaming import _JSON, JSON_ERRORS, EventStream, _loads, _mid_stream, _StreamState
from ._structured import OutputSpec, StructuredOutputError
from ._tools import prepare_tools
from ._transport import Exchange
from .errors import InvalidArgumentError, XaiError, excerpt, reexported
from .responses import (
    TERMINAL_EVENTS,
    CompactedResponse,
    DeltaEvent,
    InputItemsPage,
    MessageItem,
    Response,
    ResponseDeleted,
    ResponseLifecycleEvent,
    ResponseStreamEvent,
)
from .types import WireObject

if TYPE_CHECKING:
    from typing_extensions import Literal, TypedDict, Unpack

    class ResponseCreateParams(TypedDict, total=False):
        """The optional fields of a Responses request (reference/xai_api.md 2.1)."""

        background: Optional[bool]
        context_management: Optional[Dict[str, Any]]
        include: Optional[List[str]]
        instructions: Optional[str]
        logprobs: Optional[bool]
        max_output_tokens: Optional[int]
        max_turns: Optional[int]
        metadata: Optional[Dict[str, Any]]
        min_p: Optional[float]
        parallel_tool_calls: Optional[bool]
        previous_response_id: Optional[str]
        prompt_cache_key: Optional[str]
        reasoning: Optional[Dict[str, Any]]
        reasoning_effort: Optional[str]
        safety_identifier: Optional[str]
        service_tier: Optional[str]
        store: Optional[bool]
        temperature: Optional[float]
        text: Optional[Dict[str, Any]]
        tool_choice: Union[str, Dict[str, Any], None]
        tools: Optional[List[Any]]
        top_k: Optional[int]
        top_logprobs: Optional[int]
        top_p: Optional[float]
        truncation: Optional[str]
        user: Optional[str]


__all__ = ["RESPONSE_FIELDS", "ResponseStream", "Responses", "responses_body"]

# The optional request fields of reference/xai_api.md 2.1 (ResponseCreateParams above).
RESPONSE_FIELDS = frozenset(
    "background context_management include instructions logprobs max_output_tokens max_turns metadata "
    "min_p parallel_tool_calls previous_response_id prompt_cache_key reasoning reasoning_effort "
    "safety_identifier service_tier store temperature text tool_choice tools top_k top_logprobs top_p "
    "truncation user".split()
)
InputParam = Union[str, Iterable[Union[Mapping[str, Any], WireObject]]]


class Responses:
    """``client.responses``: create, stream, parse, retrieve, delete and compact responses."""

    def __init__(self, client: Client) -> None:
        self._client = client

    @overload
    def create(
        self,
        *,
        model: str,
        input: InputParam,
        stream: Literal[True],
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        timeout: Union[TimeoutTypes, Unset] = UNSET,
        **params: Unpack[ResponseCreateParams],
    ) -> ResponseStream: ...

    @overload
    def create(
        self,
        *,
        model: str,
        input: InputParam,
        stream: Optional[Literal[False]] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        timeout: Union[TimeoutTypes, Unset] = UNSET,
        **params: Unpack[ResponseCreateParams],
    ) -> Response: ...

    def create(
        self,
        *,
        model: str,
        input: InputParam,
        stream: Optional[bool] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        timeout: Union[TimeoutTypes, Unset] = UNSET,
        **params: Any,
    ) -> Union[Response, ResponseStream]:
        """``POST /v1/responses``: a :class:`Response`; with ``stream=True`` a
        :class:`ResponseStream` of typed events.

        ``input`` is a string or a list of items: messages (``{"role": "user", "content": ...}``),
        earlier output items (``r.output``, as they are) and ``function_call_output`` items.
        Every request field is a keyword (``instructions``, ``tools``, ``store``, ``include``,
        ``previous_response_id``, ``reasoning``, ``text``, ...); a field left out is not sent.
        ``extra_body``, ``extra_headers``, ``extra_query`` and ``timeout`` work as for chat.
        Raises :class:`InvalidArgumentError` before any I/O for bad arguments.
        """
        body = responses_body(model, input, stream, params, extra_body)
        client = self._client
        if not stream:
            return client._request(
                "POST", "/responses", body, expect="output", cls=Response,
                extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
            )
        exchange, request_id = client._exchange(
            "POST", "/responses", body, stream=True,
            extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
        )
        content_type = exchange.headers.get("content-type", "")
        if content_type.split(";")[0].strip().lower() != "text/event-stream":
            error = client._not_a_stream(exchange, content_type)
            error.client_request_id = request_id
            raise error
        return ResponseStream(
            exchange, scrub=client._scrub, client_request_id=request_id, max_event_chars=DEFAULT_MAX_EVENT_CHARS
        )

    def parse(
        self,
        *,
        model: str,
        input: InputParam,
        text_format: Any,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        timeout: Union[TimeoutTypes, Unset] = UNSET,
        **params: Unpack[ResponseCreateParams],
    ) -> Response:
        """Ask for an answer shaped like ``text_format`` (a dataclass or other type, or a
        JSON-schema dict) and return the :class:`Response` with ``output_parsed`` set: an
        instance of the type, or a dict.

        The schema is generated from the type hints and sent as ``text.format``. An answer that
        does not match raises :class:`StructuredOutputError` naming the path that failed (the
        response is its ``.response``). A refusal leaves ``output_parsed`` as ``None``.
        """
        spec = OutputSpec(text_format)
        options: Dict[str, Any] = dict(params)
        text = dict(options.get("text") or {})
        if "format" in text:
            raise InvalidArgumentError("give the answer's format through text_format=, not text={'format': ...}")
        text["format"] = spec.responses_format()
        options["text"] = text
        if options.pop("stream", None):
            raise InvalidArgumentError("parse() needs the whole answer; use create(stream=True) to stream")
        response = cast(Response, self.create(
            model=model, input=input, extra_headers=extra_headers, extra_query=extra_query,
            extra_body=extra_body, timeout=timeout, **options,
        ))
        messages = [item for item in response.output or () if isinstance(item, MessageItem)]
        try:
            refused = any(part.type == "refusal" for item in messages for part in item.content or ())
            text_out = response.output_text if messages else None
        except (AttributeError, TypeError):  # a part, or a part's text, of the wrong type
            raise StructuredOutputError(
                "the response's message content is malformed (a part or its text is of the wrong type); "
                "the server sent a malformed answer",
                response=response,
            ) from None
        if refused and not text_out:
            return response
        reason = (response.incomplete_details or {}).get("reason") if response.status == "incomplete" else None
        cut_off = " (the response is incomplete: %s)" % reason if reason else ""
        response.__dict__["_parsed"] = spec.parse(text_out, response=response, cut_off=cut_off)
        return response

    def retrieve(
        self,
        response_id: str,
        *,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        timeout: Union[TimeoutTypes, Unset] = UNSET,
    ) -> Response:
        """``GET /v1/responses/{id}``: a stored response (kept 30 days; :class:`NotFoundError`
        if unknown, deleted or made with ``store=False``)."""
        return self._client._request(
            "GET", "/responses/" + path_segment(response_id, "response_id"), expect="output", cls=Response,
            extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
        )

    def delete(
        self,
        response_id: str,
        *,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        timeout: Union[TimeoutTypes, Unset] = UNSET,
    ) -> ResponseDeleted:
        """``DELETE /v1/responses/{id}``: delete a stored response."""
        return self._client._request(
            "DELETE", "/responses/" + path_segment(response_id, "response_id"), expect="deleted", cls=ResponseDeleted,
            cap=MAX_SMALL_BYTES, extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
        )

    def input_items(
        self,
        response_id: str,
        *,
        limit: Optional[int] = None,
        order: Optional[str] = None,
        after: Optional[str] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        timeout: Union[TimeoutTypes, Unset] = UNSET,
    ) -> InputItemsPage:
        """``GET /v1/responses/{id}/input_items``: one page (``limit`` 1 to 100, server default
        20; ``order`` ``"asc"`` or ``"desc"``; ``after`` an item id) of the items a stored
        response was made from. ``page.next_page()`` fetches the next one and
        ``page.iter_all()`` walks them all."""
        if limit is not None:
            check_number("input_items", "limit", limit, minimum=1, maximum=100, integer=True)
        if order is not None and order not in ("asc", "desc"):
            raise InvalidArgumentError("order must be 'asc' or 'desc', not %r" % (order,))
        path = "/responses/%s/input_items" % path_segment(response_id, "response_id")
        query: Dict[str, Any] = {k: v for k, v in (("limit", limit), ("order", order), ("after", after)) if v is not None}
        if extra_query is not None:
            query_string(extra_query)  # a bad extra_query fails here, not in the merge below
            query.update(extra_query)
        page = self._client._request(
            "GET", path, expect="data", cls=InputItemsPage, extra_headers=extra_headers, extra_query=query or None,
            timeout=timeout,
        )

        def next_page(last_id: str) -> InputItemsPage:
            return self.input_items(
                response_id, limit=limit, order=order, after=last_id, extra_headers=extra_headers,
                extra_query=extra_query, timeout=timeout,
            )

        page.__dict__["_next_page"] = next_page
        return page

    def compact(
        self,
        *,
        model: str,
        input: InputParam,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        timeout: Union[TimeoutTypes, Unset] = UNSET,
    ) -> CompactedResponse:
        """``POST /v1/responses/compact``: shrink a long conversation into a compaction item.
        Continue with ``input=[*compacted.output, next_message]``."""
        body = responses_body(model, input, None, {}, extra_body)
        return self._client._request(
            "POST", "/responses/compact", body, expect="output", cls=CompactedResponse,
            extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
        )


def responses_body(
    model: str, input: Any, stream: Optional[bool], params: Dict[str, Any], extra_body: Optional[Mapping[str, Any]]
) -> Dict[str, Any]:
    """Check the arguments of a Responses request and build its JSON body."""
    if not isinstance(model, str) or not model:
        raise InvalidArgumentError("model must be a non-empty string such as 'grok-4'")
    check_flags(stream, params, extra_body, ("stream",))
    if "search_parameters" in params or (extra_body and "search_parameters" in extra_body):
        raise InvalidArgumentError(LIVE_SEARCH_REMOVED)
    unknown = set(params) - RESPONSE_FIELDS
    if unknown:
        raise TypeError(
            "create() got unexpected keyword argument(s) %s; send fields this client does not know "
            "with extra_body={...}" % ", ".join(sorted(map(repr, unknown)))
        )
    if isinstance(input, str):
        if not input:
            raise InvalidArgumentError("input is empty; give the prompt or a list of input items")
    else:
        if isinstance(input, (bytes, Mapping)) or not hasattr(input, "__iter__"):
            raise InvalidArgumentError(
                "input must be a string or a list of items such as [{'role': 'user', 'content': 'Hi'}]"
            )
        input = list(input)
        if not input:
            raise InvalidArgumentError("input is empty; give at least one item")
        for i, item in enumerate(input):
            if not isinstance(item, (Mapping, WireObject)):
                raise InvalidArgumentError(
                    "input[%d] is a %s; each item must be a dict or an output item" % (i, type(item).__name__)
                )
    if params.get("instructions") is not None and params.get("previous_response_id") is not None:
        raise InvalidArgumentError(
            "instructions cannot be used with previous_response_id (xAI's API refuses the pair); give the "
            "instructions with the first request only, or send the history as input instead"
        )
    if "tools" in params or "tool_choice" in params:
        params = dict(params)
        prepare_tools(params, flat=True)
    body: Dict[str, Any] = {"model": model, "input": input}
    if stream is not None:
        body["stream"] = stream
    body.update(params)
    if extra_body:
        body.update(extra_body)
    return body


class _ResponseState(_StreamState):
    __slots__ = ("final",)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.final: Optional[Response] = None


class ResponseStream(EventStream[ResponseStreamEvent]):
    """An iterator of typed Responses stream events, and a context manager that closes it.

    >>> with client.responses.create(model="grok-4", input="Hi", stream=True) as stream:
    ...     for event in stream:
    ...         if event.type == "response.output_text.delta":
    ...             print(event.delta, end="")
    ...     final = stream.get_final_response()

    It ends at ``response.completed``, ``response.failed`` or ``response.incomplete``, and then
    its connection goes back to the pool; leaving early closes the connection.
    ``request_id`` is the server's ``x-request-id``; ``headers`` the response headers.
    """

    _state: _ResponseState

    def __init__(
        self,
        exchange: Exchange,
        *,
        scrub: Callable[[str], str],
        client_request_id: Optional[str] = None,
        max_event_chars: Optional[int] = None,
    ) -> None:
        state = _ResponseState(exchange, scrub, client_request_id, max_event_chars)
        super().__init__(state, _events(state))

    def text_deltas(self) -> Iterator[str]:
        """The answer's text as it arrives (the ``response.output_text.delta`` events); the
        other events are read and passed over. ``get_final_response()`` works afterwards."""
        for event in self:
            if isinstance(event, DeltaEvent) and event.type == "response.output_text.delta":
                yield event.delta

    def get_final_response(self) -> Response:
        """The complete :class:`Response` the stream ended with (its ``status`` says whether it
        completed, failed or is incomplete). Reads whatever has not been read yet."""
        for _ in self:
            pass
        final = self._state.final
        if final is None:
            raise RuntimeError(
                "the stream ended with an error before its final response; see the exception iterating it raised"
            )
        final.__dict__["_request_id"] = self.request_id
        return final


def _events(state: _ResponseState) -> Generator[ResponseStreamEvent, None, None]:
    # As _streaming._chunks, plus what Responses streams need: the event name stands in for a
    # missing "type" (as xai-sdk-ts does), {"type": "error"} raises, and a terminal event ends it.
    # xAI names every event ("event: <type>" + JSON), so a named event is parsed when its data
    # is a JSON object; one whose data is empty or not an object is a keep-alive (such as
    # "event: ping" with an empty data line) and is skipped, as the chat stream skips them.
    exchange = state.exchange
    decoder = state.decoder
    feed = decoder.feed
    raw_decode = _JSON.raw_decode
    parse = ResponseStreamEvent._parse
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
                    raise state.error(
                        "the stream sent [DONE] after %d events but no response.completed, .failed or "
                        ".incomplete: the response may be cut off" % delivered,
                        delivered,
                    )
                if event.event == "error":
                    state.special_event(event, delivered)
                try:
                    obj, end = raw_decode(payload)
                except JSON_ERRORS:
                    end = -1
                if end != len(payload):
                    obj = _loads(payload)
                if type(obj) is not dict:
                    if event.event != "message":
                        continue
                    state.check_payload(obj, payload, delivered)
                kind = obj.get("type")
                if kind is None:
                    # An untyped {"error": ...} is the server's error; a typed event may carry an
                    # "error" field of its own (a failed tool call, say) and is delivered.
                    state.check_payload(obj, payload, delivered)
                    if event.event != "message":
                        obj["type"] = kind = event.event
                if kind == "error":
                    raise state.api_error(obj, payload, delivered)
                try:
                    if kind.__class__ is not str and kind is not None:
                        raise TypeError("type")  # a list or object as the type: not an event this client can read
                    terminal = kind in TERMINAL_EVENTS
                    if terminal and type(obj.get("response")) is not dict:
                        raise KeyError("response")  # a final event must carry the final response
                    item = parse(obj)
                except (AttributeError, TypeError, KeyError):
                    raise state.error(
                        "event %d does not have the shape of a Responses stream event: %s"
                        % (delivered + 1, excerpt(payload.encode("utf-8"), scrub=state.scrub)),
                        delivered,
                    ) from None
                delivered += 1
                if terminal:
                    state.final = cast(ResponseLifecycleEvent, item).response
                    state.finished = True
                    try:
                        yield item  # the caller has the final event before the rest of the body is read
                    finally:
                        exchange.finish()  # also when the caller stops here (close() or break)
                    return
                yield item
            if decoder.failure is not None:
                raise _mid_stream(decoder.failure, delivered)
            if not data:
                break
        pending = " (an incomplete event was discarded)" if decoder.pending else ""
        raise state.error(
            "the stream ended after %d events without response.completed, .failed or .incomplete%s: "
            "the response may be cut off" % (delivered, pending),
            delivered,
        )
    finally:
        if not state.finished:
            exchange.close()


reexported(ResponseStream)
