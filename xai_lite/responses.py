"""Result types of the Responses API (``/v1/responses``): responses, output items, stream events.

They follow :mod:`xai_lite.types`: dataclasses with the wire names as attributes, parsed by making
the decoded JSON object the instance's ``__dict__``, so a field this module does not know is still
an attribute and ``to_dict()`` returns exactly what the server sent. Items and events are
polymorphic: ``OutputItem.from_dict`` and ``ResponseStreamEvent.from_dict`` pick the class that
fits ``type`` (an unknown type gets the base class, with every field kept).

Server-side tool items changed shape in 2026: ``web_search_call`` items carried ``name`` and
``arguments`` and now carry ``action``; X searches arrived as ``x_search_call`` items and now as
``custom_tool_call``; ``code_interpreter_call`` moved its code from ``arguments`` to ``code``.
Both shapes parse, and properties such as :attr:`WebSearchCallItem.query` read either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Type, TypeVar, cast

from ._response_items import (
    Annotation,
    CodeInterpreterCallItem,
    CompactionItem,
    ContentPart,
    CustomToolCallItem,
    FileSearchCallItem,
    FunctionCallItem,
    FunctionCallOutputItem,
    ImageGenerationCallItem,
    InputTokensDetails,
    McpCallItem,
    MessageItem,
    OutputItem,
    OutputTokensDetails,
    ReasoningItem,
    ResponseUsage,
    ShellCallItem,
    WebSearchCallItem,
    XSearchCallItem,
)
from .types import WireObject

__all__ = [
    "Annotation",
    "AnnotationAddedEvent",
    "CodeInterpreterCallItem",
    "CompactedResponse",
    "CompactionItem",
    "ContentPart",
    "ContentPartEvent",
    "CustomToolCallItem",
    "DeltaEvent",
    "DoneEvent",
    "FileSearchCallItem",
    "FunctionCallItem",
    "FunctionCallOutputItem",
    "ImageGenerationCallItem",
    "InputItemsPage",
    "InputTokensDetails",
    "McpCallItem",
    "MessageItem",
    "OutputItem",
    "OutputItemEvent",
    "OutputTokensDetails",
    "ReasoningItem",
    "Response",
    "ResponseDeleted",
    "ResponseLifecycleEvent",
    "ResponseStreamEvent",
    "ResponseUsage",
    "ShellCallItem",
    "TERMINAL_EVENTS",
    "ToolCallProgressEvent",
    "WebSearchCallItem",
    "XSearchCallItem",
]

_T = TypeVar("_T", bound=WireObject)

# The events after which a Responses stream has nothing more to say (reference/xai_api.md 2.3).
TERMINAL_EVENTS = frozenset(("response.completed", "response.failed", "response.incomplete"))


# ---------------------------------------------------------------------------------------------
# Responses


@dataclass(repr=False, eq=False)
class Response(WireObject):
    """A model response. ``status`` is ``completed``, ``incomplete`` (see
    ``incomplete_details.reason``), ``failed`` (see ``error``) or ``in_progress``.

    >>> r = client.responses.create(model="grok-4", input="What is xAI?")
    >>> r.output_text, r.usage.output_tokens_details.reasoning_tokens, r.id
    """

    id: str = ""
    object: str = "response"
    created_at: int = 0
    model: str = ""
    status: Optional[str] = None
    output: List[OutputItem] = field(default_factory=list)
    usage: Optional[ResponseUsage] = None
    error: Optional[Dict[str, Any]] = None
    incomplete_details: Optional[Dict[str, Any]] = None
    previous_response_id: Optional[str] = None
    store: Optional[bool] = None
    completed_at: Optional[int] = None

    _NESTED = (("output", OutputItem, True), ("usage", ResponseUsage, False))
    _DEFAULTS = (("output", list),)

    @property
    def output_text(self) -> str:
        """The text of every ``message`` item's ``output_text`` parts, joined."""
        return "".join(item.text for item in self.output or () if isinstance(item, MessageItem))

    @property
    def function_calls(self) -> List[FunctionCallItem]:
        """The ``function_call`` items: the calls of your tools the model is waiting for."""
        return [item for item in self.output or () if isinstance(item, FunctionCallItem)]

    @property
    def output_parsed(self) -> Any:
        """The answer parsed by ``client.responses.parse()`` (an instance of the type asked for,
        or a dict); ``None`` for a response that was not parsed."""
        return self.__dict__.get("_parsed")

    @property
    def request_id(self) -> Optional[str]:
        """The ``x-request-id`` response header, when the server sent one."""
        value = self.__dict__.get("_request_id")
        return value if isinstance(value, str) else None


@dataclass(repr=False, eq=False)
class ResponseDeleted(WireObject):
    """What ``client.responses.delete(id)`` returns."""

    id: str = ""
    object: str = "response"
    deleted: bool = False


@dataclass(repr=False, eq=False)
class InputItemsPage(WireObject):
    """One page of a stored response's input items; iterate it, or follow
    :meth:`iter_all` through the pages after it.

    A page pickles and copies without the client that fetched it: such a copy cannot fetch the
    pages after it (:meth:`next_page` says how to)."""

    data: List[OutputItem] = field(default_factory=list)
    object: str = "list"
    first_id: Optional[str] = None
    last_id: Optional[str] = None
    has_more: bool = False

    _NESTED = (("data", OutputItem, True),)
    _DEFAULTS = (("data", list),)

    def __iter__(self) -> Iterator[OutputItem]:
        return iter(self.data or ())

    def __len__(self) -> int:
        return len(self.data or ())

    def __getstate__(self) -> Dict[str, Any]:
        # The fetcher (which holds the client) stays behind: pickle and copies keep the wire fields.
        return {key: value for key, value in self.__dict__.items() if key != "_next_page"}

    def next_page(self) -> Optional[InputItemsPage]:
        """The page after this one (a new request), or ``None`` when this is the last. Raises
        ``RuntimeError`` on a page that has more but no client to fetch it with (an unpickled
        or copied page)."""
        if not self.has_more or not self.last_id:
            return None
        fetch = self.__dict__.get("_next_page")
        if fetch is None:
            raise RuntimeError(
                "this page has no client to fetch the next one with (it was unpickled or copied, or not "
                "made by a client); use client.responses.input_items(response_id, after=%r)" % self.last_id
            )
        return cast(InputItemsPage, fetch(self.last_id))

    def iter_all(self) -> Iterator[OutputItem]:
        """Every item of this page and the pages after it, fetched as the iteration reaches them."""
        page: Optional[InputItemsPage] = self
        while page is not None:
            yield from page.data or ()
            page = page.next_page()


@dataclass(repr=False, eq=False)
class CompactedResponse(WireObject):
    """The result of ``client.responses.compact``: ``output`` holds the :class:`CompactionItem`
    to start the next request's ``input`` with; ``usage`` has ``dropped_message_count``."""

    id: str = ""
    object: str = "response.compaction"
    created_at: int = 0
    model: str = ""
    output: List[OutputItem] = field(default_factory=list)
    usage: Optional[ResponseUsage] = None

    _NESTED = (("output", OutputItem, True), ("usage", ResponseUsage, False))
    _DEFAULTS = (("output", list),)


# ---------------------------------------------------------------------------------------------
# Stream events


@dataclass(repr=False, eq=False)
class ResponseStreamEvent(WireObject):
    """One event of a Responses stream. Parsing picks the subclass for ``type``:

    ==========================================================  ===============================
    ``response.created|in_progress|completed|failed|incomplete``  :class:`ResponseLifecycleEvent`
    ``response.output_item.added|done``                         :class:`OutputItemEvent`
    ``response.content_part.*``, ``response.reasoning_summary_part.*``  :class:`ContentPartEvent`
    ``response.output_text.annotation.added``                   :class:`AnnotationAddedEvent`
    any ``….delta`` (text, reasoning, arguments, tool input)    :class:`DeltaEvent`
    any other ``….done`` (their complete values)                :class:`DoneEvent`
    ``response.<tool>_call.<phase>`` (searching, completed, …)  :class:`ToolCallProgressEvent`
    ``ping`` and types this client does not know                ``ResponseStreamEvent``
    ==========================================================  ===============================
    """

    type: str = ""
    sequence_number: Optional[int] = None

    @classmethod
    def _parse(cls: Type[_T], data: Dict[str, Any], copy: bool = False) -> _T:
        if cls is ResponseStreamEvent:
            kind = _event_class(data.get("type"))
            if kind is not ResponseStreamEvent:
                return cast(_T, kind._parse(data, copy))
        return super()._parse(data, copy)


@dataclass(repr=False, eq=False)
class ResponseLifecycleEvent(ResponseStreamEvent):
    """The response as it stands: ``response.created``, ``response.in_progress``, and the
    terminal ``response.completed``, ``response.failed`` and ``response.incomplete``."""

    response: Response = field(default_factory=Response)

    _NESTED = (("response", Response, False),)
    _DEFAULTS = (("response", Response),)


@dataclass(repr=False, eq=False)
class OutputItemEvent(ResponseStreamEvent):
    """An output item began (``response.output_item.added``) or is complete (``….done``).
    Several items can be open at once: key your state by ``output_index``."""

    output_index: int = 0
    item: OutputItem = field(default_factory=OutputItem)

    _NESTED = (("item", OutputItem, False),)
    _DEFAULTS = (("item", OutputItem),)


@dataclass(repr=False, eq=False)
class ContentPartEvent(ResponseStreamEvent):
    """A content part (or reasoning summary part) of an item began or is complete."""

    item_id: Optional[str] = None
    output_index: int = 0
    content_index: Optional[int] = None
    summary_index: Optional[int] = None
    part: Optional[ContentPart] = None

    _NESTED = (("part", ContentPart, False),)


@dataclass(repr=False, eq=False)
class DeltaEvent(ResponseStreamEvent):
    """A piece of text: ``response.output_text.delta`` (the answer),
    ``response.reasoning_summary_text.delta``, ``response.reasoning_text.delta``,
    ``response.function_call_arguments.delta``, ``response.custom_tool_call_input.delta``, ..."""

    item_id: Optional[str] = None
    output_index: int = 0
    content_index: Optional[int] = None
    summary_index: Optional[int] = None
    delta: str = ""


@dataclass(repr=False, eq=False)
class DoneEvent(ResponseStreamEvent):
    """The complete value after a run of deltas: ``text`` (output and reasoning text),
    ``arguments`` (function calls) or ``input`` (custom tool calls)."""

    item_id: Optional[str] = None
    output_index: int = 0
    content_index: Optional[int] = None
    summary_index: Optional[int] = None
    text: Optional[str] = None
    arguments: Optional[str] = None
    input: Optional[str] = None


@dataclass(repr=False, eq=False)
class AnnotationAddedEvent(ResponseStreamEvent):
    """An annotation (such as a ``url_citation``) was added to an output text part."""

    item_id: Optional[str] = None
    output_index: int = 0
    content_index: Optional[int] = None
    annotation_index: Optional[int] = None
    annotation: Optional[Annotation] = None

    _NESTED = (("annotation", Annotation, False),)


@dataclass(repr=False, eq=False)
class ToolCallProgressEvent(ResponseStreamEvent):
    """Progress of a server-side tool call: ``response.web_search_call.searching``,
    ``response.image_generation_call.generating``, ``response.code_interpreter_call.completed``,
    ... :attr:`tool` and :attr:`phase` split the type."""

    item_id: Optional[str] = None
    output_index: int = 0

    @property
    def tool(self) -> str:
        """The item type the event is about, e.g. ``web_search_call``."""
        return self.type.split(".")[1] if self.type.count(".") >= 2 else ""

    @property
    def phase(self) -> str:
        """The last part of the type, e.g. ``searching`` or ``completed``."""
        return self.type.rsplit(".", 1)[-1]


_EVENT_CLASSES: Dict[str, Type[ResponseStreamEvent]] = {
    "response.output_item.added": OutputItemEvent,
    "response.output_item.done": OutputItemEvent,
    "response.content_part.added": ContentPartEvent,
    "response.content_part.done": ContentPartEvent,
    "response.reasoning_summary_part.added": ContentPartEvent,
    "response.reasoning_summary_part.done": ContentPartEvent,
    "response.output_text.annotation.added": AnnotationAddedEvent,
}
for _kind in ("created", "in_progress", "queued", "completed", "failed", "incomplete"):
    _EVENT_CLASSES["response." + _kind] = ResponseLifecycleEvent
del _kind


def _event_class(kind: Any) -> Type[ResponseStreamEvent]:
    """The class of an event type; types are cached as they are first seen (there are few)."""
    cls = _EVENT_CLASSES.get(kind)
    if cls is not None:
        return cls
    if not isinstance(kind, str):
        return ResponseStreamEvent
    if kind.endswith(".delta"):
        cls = DeltaEvent
    elif kind.startswith("response.") and kind.count(".") == 2 and kind.split(".")[1].endswith("_call"):
        cls = ToolCallProgressEvent  # before ".done": a tool call's own progress is not a text value
    elif kind.endswith(".done"):
        cls = DoneEvent
    else:
        cls = ResponseStreamEvent
    if len(_EVENT_CLASSES) < 256:  # bounded: a server cannot grow it without end
        _EVENT_CLASSES[kind] = cls
    return cls


for _cls in (
    Annotation, CodeInterpreterCallItem, CompactionItem, ContentPart, CustomToolCallItem, FileSearchCallItem,
    FunctionCallItem, FunctionCallOutputItem, ImageGenerationCallItem, InputTokensDetails, McpCallItem, MessageItem,
    OutputItem, OutputTokensDetails, ReasoningItem, ResponseUsage, ShellCallItem, WebSearchCallItem, XSearchCallItem,
):
    _cls.__module__ = __name__  # documented, and pickled, as xai_lite.responses.X
del _cls
