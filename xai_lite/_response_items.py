"""Usage, content and output items of Responses API results (re-exported by
:mod:`xai_lite.responses`, which documents them).

Server-side tool items changed shape in 2026 (reference/xai_api.md 2.2, 9.4): a
``web_search_call`` used to carry ``name``/``arguments`` (a JSON string) and now carries
``action: {type, query, sources}``; X search arrived as ``x_search_call`` and now arrives as
``custom_tool_call``; ``code_interpreter_call`` carried the code inside ``arguments`` and now
carries ``code``. Both shapes parse, and properties such as :attr:`WebSearchCallItem.query` read
either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Type, TypeVar, cast

from .types import TICKS_PER_USD, ServerSideToolUsageDetails, WireObject

__all__ = [
    "ITEM_CLASSES",
    "Annotation",
    "CodeInterpreterCallItem",
    "CompactionItem",
    "ContentPart",
    "CustomToolCallItem",
    "FileSearchCallItem",
    "FunctionCallItem",
    "FunctionCallOutputItem",
    "ImageGenerationCallItem",
    "InputTokensDetails",
    "McpCallItem",
    "MessageItem",
    "OutputItem",
    "OutputTokensDetails",
    "ReasoningItem",
    "ResponseUsage",
    "ShellCallItem",
    "WebSearchCallItem",
    "XSearchCallItem",
]

_T = TypeVar("_T", bound=WireObject)
NANO_USD_PER_USD = 1_000_000_000


def _arguments(item: WireObject) -> Dict[str, Any]:
    """The 2025-shape ``arguments`` JSON string of a server-side tool item, decoded ({} if none)."""
    raw = item.__dict__.get("arguments")
    if not isinstance(raw, str):
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


# ---------------------------------------------------------------------------------------------
# Usage


@dataclass(repr=False, eq=False)
class InputTokensDetails(WireObject):
    """What the input tokens were: ``cached_tokens`` of them came from the prompt cache."""

    cached_tokens: Optional[int] = None


@dataclass(repr=False, eq=False)
class OutputTokensDetails(WireObject):
    """What the output tokens were: ``reasoning_tokens`` of them were reasoning."""

    reasoning_tokens: Optional[int] = None


@dataclass(repr=False, eq=False)
class ResponseUsage(WireObject):
    """Token counts and cost of a response.

    Unlike chat completions, ``output_tokens`` here INCLUDES the reasoning tokens
    (``output_tokens_details.reasoning_tokens``), and ``total_tokens`` is input + output.
    :attr:`cost_usd` converts the billed cost to US dollars.
    """

    input_tokens: int = 0
    input_tokens_details: Optional[InputTokensDetails] = None
    output_tokens: int = 0
    output_tokens_details: Optional[OutputTokensDetails] = None
    total_tokens: int = 0
    num_sources_used: Optional[int] = None
    num_server_side_tools_used: Optional[int] = None
    cost_in_usd_ticks: Optional[int] = None
    server_side_tool_usage_details: Optional[ServerSideToolUsageDetails] = None
    context_details: Optional[Dict[str, Any]] = None

    _NESTED = (
        ("input_tokens_details", InputTokensDetails, False),
        ("output_tokens_details", OutputTokensDetails, False),
        ("server_side_tool_usage_details", ServerSideToolUsageDetails, False),
    )

    @property
    def cost_usd(self) -> Optional[float]:
        """The cost in US dollars: ``cost_in_usd_ticks`` / 10^10 (or the newer
        ``cost_in_nano_usd`` / 10^9); ``None`` if the server sent neither."""
        ticks = self.cost_in_usd_ticks
        if ticks is not None:
            return ticks / TICKS_PER_USD
        nano = self.__dict__.get("cost_in_nano_usd")
        return nano / NANO_USD_PER_USD if isinstance(nano, (int, float)) else None

    @property
    def reasoning_tokens(self) -> int:
        """``output_tokens_details.reasoning_tokens``, or 0 (they are part of ``output_tokens``)."""
        details = self.output_tokens_details
        return (details.reasoning_tokens or 0) if details is not None else 0


# ---------------------------------------------------------------------------------------------
# Content


@dataclass(repr=False, eq=False)
class Annotation(WireObject):
    """A note on a piece of output text; ``url_citation`` ones name a source the answer used."""

    type: str = ""
    url: Optional[str] = None
    title: Optional[str] = None
    start_index: Optional[int] = None
    end_index: Optional[int] = None


@dataclass(repr=False, eq=False)
class ContentPart(WireObject):
    """One part of a message or reasoning item: ``output_text`` (``text``, ``annotations``),
    ``refusal`` (``refusal``), ``summary_text`` / ``reasoning_text`` (``text``), or an input part
    (``input_text``, ``input_image``, ``input_file``) in replayed input."""

    type: str = ""
    text: Optional[str] = None
    annotations: Optional[List[Annotation]] = None
    logprobs: Optional[List[Any]] = None
    refusal: Optional[str] = None

    _NESTED = (("annotations", Annotation, True),)


# ---------------------------------------------------------------------------------------------
# Output items


@dataclass(repr=False, eq=False)
class OutputItem(WireObject):
    """An item of ``Response.output`` (or of replayed input). Parsing picks the subclass for
    ``type``; an item type this client does not know stays an ``OutputItem`` with every field.
    An item can be put back into the ``input`` of a later request as it is."""

    type: str = ""
    id: Optional[str] = None
    status: Optional[str] = None

    @classmethod
    def _parse(cls: Type[_T], data: Dict[str, Any], copy: bool = False) -> _T:
        if cls is OutputItem:
            kind = ITEM_CLASSES.get(data.get("type"))  # type: ignore[arg-type]
            if kind is not None:
                return cast(_T, kind._parse(data, copy))
        return super()._parse(data, copy)


@dataclass(repr=False, eq=False)
class MessageItem(OutputItem):
    """A message: the assistant's answer (``content`` of ``output_text`` and ``refusal`` parts).
    :attr:`text` joins its text."""

    type: str = "message"
    role: str = "assistant"
    content: List[ContentPart] = field(default_factory=list)

    _DEFAULTS = (("content", list),)

    @classmethod
    def _parse(cls: Type[_T], data: Dict[str, Any], copy: bool = False) -> _T:
        item = super()._parse(data, copy)
        content = item.__dict__["content"]
        if isinstance(content, list):  # a replayed input message may hold a plain string instead
            item.__dict__["content"] = [ContentPart._parse(part, copy) for part in content]
        return item

    @property
    def text(self) -> str:
        """The ``output_text`` parts joined (a plain-string ``content`` as it is; ``null`` reads
        as no parts)."""
        content: Any = self.content
        if isinstance(content, str):
            return content
        return "".join(part.text or "" for part in content or () if part.type == "output_text")


@dataclass(repr=False, eq=False)
class ReasoningItem(OutputItem):
    """The model's reasoning: a ``summary`` (``summary_text`` parts), sometimes ``content``
    (``reasoning_text`` parts), and with ``include=["reasoning.encrypted_content"]`` the
    ``encrypted_content`` that lets a later ``store=False`` request continue from it."""

    type: str = "reasoning"
    summary: Optional[List[ContentPart]] = None
    content: Optional[List[ContentPart]] = None
    encrypted_content: Optional[str] = None

    _NESTED = (("summary", ContentPart, True), ("content", ContentPart, True))

    @property
    def summary_text(self) -> str:
        """The summary parts joined by blank lines."""
        return "\n\n".join(part.text or "" for part in self.summary or ())


@dataclass(repr=False, eq=False)
class FunctionCallItem(OutputItem):
    """A call of one of your function tools: run ``name`` with ``arguments`` (a JSON string) and
    send back ``{"type": "function_call_output", "call_id": call_id, "output": ...}``."""

    type: str = "function_call"
    call_id: str = ""
    name: str = ""
    arguments: str = ""


@dataclass(repr=False, eq=False)
class FunctionCallOutputItem(OutputItem):
    """The result of a function call, as it appears in replayed input."""

    type: str = "function_call_output"
    call_id: str = ""
    output: Any = None


@dataclass(repr=False, eq=False)
class WebSearchCallItem(OutputItem):
    """A server-side web search. 2026 shape: ``action`` (``{"type": "search", "query",
    "sources"}``, ``open_page`` or ``find_in_page``); 2025 shape: ``name`` and ``arguments``.
    :attr:`query` reads either."""

    type: str = "web_search_call"
    action: Optional[Dict[str, Any]] = None
    call_id: Optional[str] = None
    name: Optional[str] = None
    arguments: Optional[str] = None

    @property
    def query(self) -> Optional[str]:
        """The search query, from ``action`` or from the older ``arguments``."""
        action = self.action
        if isinstance(action, dict) and isinstance(action.get("query"), str):
            return cast(str, action["query"])
        value = _arguments(self).get("query")
        return value if isinstance(value, str) else None


@dataclass(repr=False, eq=False)
class XSearchCallItem(OutputItem):
    """A server-side X search in the 2025 shape (``name`` such as ``x_semantic_search`` and
    ``arguments``); newer responses report X searches as :class:`CustomToolCallItem`."""

    type: str = "x_search_call"
    call_id: Optional[str] = None
    name: Optional[str] = None
    arguments: Optional[str] = None

    @property
    def query(self) -> Optional[str]:
        """The search query from ``arguments``."""
        value = _arguments(self).get("query")
        return value if isinstance(value, str) else None


@dataclass(repr=False, eq=False)
class CustomToolCallItem(OutputItem):
    """A server-side tool call with free-form ``input`` (xAI reports X searches this way, with
    ``name`` such as ``x_keyword_search`` and a JSON ``input``)."""

    type: str = "custom_tool_call"
    call_id: Optional[str] = None
    name: Optional[str] = None
    input: Optional[str] = None


@dataclass(repr=False, eq=False)
class CodeInterpreterCallItem(OutputItem):
    """A server-side code execution: ``outputs`` (``{"type": "logs", "logs"}`` or
    ``{"type": "image", "url"}``) and the code, which :attr:`code` reads from the 2026 ``code``
    field or from the 2025 ``arguments`` JSON."""

    type: str = "code_interpreter_call"
    outputs: Optional[List[Dict[str, Any]]] = None
    call_id: Optional[str] = None
    name: Optional[str] = None
    arguments: Optional[str] = None

    @property
    def code(self) -> Optional[str]:
        """The code that ran."""
        value = self.__dict__.get("code")
        if value is None:
            value = _arguments(self).get("code")
        return value if isinstance(value, str) else None


@dataclass(repr=False, eq=False)
class FileSearchCallItem(OutputItem):
    """A server-side search of your collections: ``queries`` and ``results``
    (``{"file_id", "filename", "text", "score"}``)."""

    type: str = "file_search_call"
    queries: Optional[List[str]] = None
    results: Optional[List[Dict[str, Any]]] = None


@dataclass(repr=False, eq=False)
class McpCallItem(OutputItem):
    """A call the server made to a remote MCP server: the tool ``name``, its ``arguments``, and
    its ``output`` or ``error``."""

    type: str = "mcp_call"
    server_label: Optional[str] = None
    name: Optional[str] = None
    arguments: Optional[str] = None
    output: Optional[str] = None
    error: Optional[Any] = None


@dataclass(repr=False, eq=False)
class ImageGenerationCallItem(OutputItem):
    """A server-side image generation: ``result`` is the image as bare base64."""

    type: str = "image_generation_call"
    prompt: Optional[str] = None
    result: Optional[str] = None


@dataclass(repr=False, eq=False)
class ShellCallItem(OutputItem):
    """A shell command the model wants run (``action``: ``commands``, ``timeout_ms``, ...)."""

    type: str = "shell_call"
    call_id: Optional[str] = None
    action: Optional[Dict[str, Any]] = None


@dataclass(repr=False, eq=False)
class CompactionItem(OutputItem):
    """The compacted form of a conversation (from ``client.responses.compact``): put it first in
    the next request's ``input``."""

    type: str = "compaction"
    encrypted_content: Optional[str] = None


ITEM_CLASSES: Dict[str, Type[OutputItem]] = {
    cls.type: cls
    for cls in (
        MessageItem,
        ReasoningItem,
        FunctionCallItem,
        FunctionCallOutputItem,
        WebSearchCallItem,
        XSearchCallItem,
        CustomToolCallItem,
        CodeInterpreterCallItem,
        FileSearchCallItem,
        McpCallItem,
        ImageGenerationCallItem,
        ShellCallItem,
        CompactionItem,
    )
}
