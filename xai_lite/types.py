"""Request and result types of the chat and models endpoints.

Results are dataclasses whose attributes carry the xAI/OpenAI wire names
(``choices[0].message.content``, ``usage.completion_tokens_details.reasoning_tokens``), so code
written against the ``openai`` package reads them unchanged. Parsing keeps every field the
server sent: one this module does not know is still an attribute and is returned by
``to_dict()``, so a new server field never breaks parsing. A field the server left out reads as
its default (``None``, or ``[]`` for lists). A ``null`` the server sent stays ``null``, except
``choices``: ``"choices": null`` reads as ``[]`` in completions as in stream chunks, so code that
iterates or indexes it meets an empty list, never ``None``.

Parsing is cheap on purpose (it runs once per stream chunk): the decoded JSON object becomes the
instance's ``__dict__`` and only the nested objects are converted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional, Tuple, Type, TypeVar, Union, cast

from ._repr import safe_repr

__all__ = [
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "Choice",
    "ChoiceDelta",
    "ChoiceDeltaFunction",
    "ChoiceDeltaToolCall",
    "ChoiceLogprobs",
    "ChunkChoice",
    "CompletionTokensDetails",
    "FunctionCall",
    "Message",
    "Model",
    "ModelList",
    "OutputFile",
    "PromptTokensDetails",
    "ServerSideToolUsageDetails",
    "TokenLogprob",
    "ToolCall",
    "TopLogprob",
    "Usage",
    "WireObject",
]

_T = TypeVar("_T", bound="WireObject")
TICKS_PER_USD = 10_000_000_000  # xAI bills in ticks: 1 USD = 10^10 ticks (reference/xai_api.md 1.2)
_new = object.__new__


# Records: @dataclass without exec() or importing it; dataclass metadata made on first use.

_MISSING: Any = object()


class _Lazy:
    def __init__(self, index: int) -> None:
        self.index = index

    def __get__(self, obj: object, owner: Any) -> Any:
        if owner._RECORD_TYPES is None:
            raise AttributeError
        shadow = owner.__dict__.get("_record_shadow")
        if shadow is None:
            import dataclasses

            space = {n: v for n, v in owner._RECORD_DEFAULTS.items() if v is not _MISSING}
            space.update((n, dataclasses.field(default_factory=make)) for n, make in owner._DEFAULTS)
            space.update(__annotations__=owner._RECORD_TYPES, __module__=owner.__module__)
            made: Any = dataclasses.dataclass(frozen=owner._RECORD_FROZEN)(type(owner.__name__, (), space))
            shadow = made.__dataclass_fields__, made.__dataclass_params__
            type.__setattr__(owner, "_record_shadow", shadow)
        return shadow[self.index]


def field_names(cls: type) -> Tuple[str, ...]:
    """The field names of a record or dataclass."""
    if "_RECORD_TYPES" in cls.__dict__:
        return tuple(cls.__dict__["_RECORD_TYPES"])
    import dataclasses

    return tuple(f.name for f in dataclasses.fields(cls))


class Record:
    """Base of records: ``__init__``, repr and == as a dataclass's."""

    _RECORD_TYPES: Optional[Dict[str, str]] = None
    _RECORD_DEFAULTS: Dict[str, Any] = {}
    _DEFAULTS: Tuple[Tuple[str, Callable[[], Any]], ...] = ()
    _RECORD_REQUIRED: Tuple[str, ...] = ()
    _RECORD_FROZEN = False

    if not TYPE_CHECKING:
        __dataclass_fields__ = _Lazy(0)
        __dataclass_params__ = _Lazy(1)

        def __init__(self, *args, **kwargs):
            cls = type(self)
            where = cls.__qualname__ + ".__init__()"
            names = cls._RECORD_DEFAULTS
            if len(args) > len(names):
                raise TypeError("%s takes %d positional arguments" % (where, len(names) + 1))
            for name, value in zip(names, args):
                if name in kwargs:
                    raise TypeError("%s got multiple values for argument %r" % (where, name))
                kwargs[name] = value
            for name in kwargs:
                if name not in names:
                    raise TypeError("%s got an unexpected keyword argument %r" % (where, name))
            for name in cls._RECORD_REQUIRED:
                if name not in kwargs:
                    raise TypeError("%s missing 1 required positional argument: %r" % (where, name))
            values = self.__dict__
            values.update(names)
            values.update(kwargs)
            for name, factory in cls._DEFAULTS:
                if name not in kwargs:
                    values[name] = factory()
            if hasattr(self, "__post_init__"):
                self.__post_init__()

    @safe_repr
    def __repr__(self) -> str:
        pairs = ("%s=%r" % (name, getattr(self, name)) for name in field_names(type(self)))
        return "%s(%s)" % (type(self).__qualname__, ", ".join(pairs))

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in field_names(type(self)))


if TYPE_CHECKING:
    from dataclasses import dataclass as record
    from dataclasses import field
else:

    def field(*, default_factory):
        """A field defaulting to ``default_factory()``."""
        return (_MISSING, default_factory)

    def record(cls=None, *, repr=True, eq=True, frozen=False):  # noqa: A002
        """Make a :class:`Record` subclass a record."""
        if cls is None:
            return lambda cls: record(cls, frozen=frozen)
        types, defaults = dict(cls._RECORD_TYPES or ()), dict(cls._RECORD_DEFAULTS)
        factories = dict(cls._DEFAULTS)
        for name, annotation in cls.__dict__.get("__annotations__", {}).items():
            value = cls.__dict__.get(name, _MISSING)
            if type(value) is tuple and value[:1] == (_MISSING,):
                delattr(cls, name)
                factories[name], value = value[1], _MISSING
            types[name], defaults[name] = annotation, value
        cls._RECORD_TYPES, cls._RECORD_DEFAULTS, cls._DEFAULTS = types, defaults, tuple(factories.items())
        cls._RECORD_REQUIRED = tuple(n for n, v in defaults.items() if v is _MISSING and n not in factories)
        if frozen:
            cls._RECORD_FROZEN = True
            cls.__hash__ = lambda self: hash(tuple(getattr(self, name) for name in types))
            cls.__setattr__ = lambda self, name, value: _refuse("assign to", name)
            cls.__delattr__ = lambda self, name: _refuse("delete", name)
        return cls

    def _refuse(what, name):
        import dataclasses

        raise dataclasses.FrozenInstanceError("cannot %s field %r" % (what, name))


class WireObject(Record):
    """Base of every result type: parsing from and back to the wire JSON.

    ``_NESTED`` lists ``(key, type, is_list)`` for fields that hold other result objects;
    ``_DEFAULTS`` lists ``(key, factory)`` of ``field(default_factory=...)``: set when left out.
    """

    _NESTED: Tuple[Tuple[str, Type[WireObject], bool], ...] = ()

    @classmethod
    def from_dict(cls: Type[_T], data: Dict[str, Any]) -> _T:
        """Build an instance from a decoded JSON object (which is left unchanged)."""
        return cls._parse(data, True)

    @classmethod
    def _parse(cls: Type[_T], data: Dict[str, Any], copy: bool = False) -> _T:
        # Internal: with copy=False the dict is taken over and its nested objects converted in place.
        if copy:
            data = dict(data)
        for key, sub, many in cls._NESTED:
            value = data.get(key)
            if value is not None:
                data[key] = [sub._parse(item, copy) for item in value] if many else sub._parse(value, copy)
        for key, factory in cls._DEFAULTS:
            if key not in data:
                data[key] = factory()
        obj = _new(cls)
        obj.__dict__ = data
        return obj

    def to_dict(self) -> Dict[str, Any]:
        """The object as JSON-ready data: every wire field, known or not, nested ones included."""
        return cast(Dict[str, Any], _plain(self))

    def _json(self) -> Any:
        """What this object becomes inside a request body."""
        return self.to_dict()


_CONTAINERS = (WireObject, list, dict)
_MAX_DEPTH = 100_000  # far deeper than JSON decodes; only data that contains itself gets here


def _plain(value: Any) -> Any:
    """``value`` as JSON-ready data: result objects become dicts, lists and dicts are copied.

    It walks with a stack of its own rather than by recursion: json.loads decodes arrays nested
    about as deep as the recursion limit, and a recursive copy (two frames a level) would raise
    ``RecursionError`` on what the server sent.
    """
    if not isinstance(value, _CONTAINERS):
        return value
    top = _shell(value)
    pending = [(value, top, 0)]
    while pending:
        source, target, depth = pending.pop()
        if depth > _MAX_DEPTH:
            raise ValueError("to_dict(): the data contains itself (or nests over %d levels)" % _MAX_DEPTH)
        if isinstance(source, list):
            pairs: Any = enumerate(source)
        elif isinstance(source, dict):
            pairs = source.items()
        else:
            pairs = [(key, item) for key, item in source.__dict__.items() if key[:1] != "_"]
        for key, item in pairs:
            if isinstance(item, _CONTAINERS):
                if isinstance(item, WireObject) and type(item).to_dict is not WireObject.to_dict:
                    target[key] = item.to_dict()  # a type with its own rule (Message leaves out None)
                    continue
                shell = _shell(item)
                pending.append((item, shell, depth + 1))
                item = shell
            target[key] = item
    return top


def _shell(value: Any) -> Any:
    """The empty copy of a container that _plain then fills in."""
    return [None] * len(value) if isinstance(value, list) else {}


# ---------------------------------------------------------------------------------------------
# Requests


@record(repr=False, eq=False)
class Message(WireObject):
    """A chat message to send. Build one with :meth:`system`, :meth:`user`, :meth:`assistant`
    or :meth:`tool`, or pass plain dicts: both work in ``messages=[...]``.

    ``content`` is a string or a list of content parts such as
    ``{"type": "text", "text": "..."}`` and
    ``{"type": "image_url", "image_url": {"url": "https://...", "detail": "high"}}``.
    """

    role: str
    content: Union[str, List[Any], None] = None
    name: Optional[str] = None
    tool_calls: Optional[List[Any]] = None
    tool_call_id: Optional[str] = None
    reasoning_content: Optional[str] = None

    @classmethod
    def system(cls, content: Union[str, List[Any]], *, name: Optional[str] = None) -> Message:
        """A system prompt."""
        return cls("system", content, name=name)

    @classmethod
    def user(cls, content: Union[str, List[Any]], *, name: Optional[str] = None) -> Message:
        """A user turn: text, or a list of text and ``image_url`` parts."""
        return cls("user", content, name=name)

    @classmethod
    def assistant(
        cls,
        content: Union[str, List[Any], None] = None,
        *,
        tool_calls: Optional[List[Any]] = None,
        reasoning_content: Optional[str] = None,
        name: Optional[str] = None,
    ) -> Message:
        """An earlier assistant turn, replayed as history (with its tool calls, if any)."""
        return cls("assistant", content, name=name, tool_calls=tool_calls, reasoning_content=reasoning_content)

    @classmethod
    def tool(cls, content: Union[str, List[Any]], *, tool_call_id: str) -> Message:
        """The result of the tool call ``tool_call_id``."""
        return cls("tool", content, tool_call_id=tool_call_id)

    def to_dict(self) -> Dict[str, Any]:
        """The message as the API expects it: fields that are ``None`` are left out."""
        return {name: _plain(getattr(self, name)) for name in _MESSAGE_FIELDS if getattr(self, name) is not None}


_MESSAGE_FIELDS = field_names(Message)


# ---------------------------------------------------------------------------------------------
# Chat completions


@record(repr=False, eq=False)
class FunctionCall(WireObject):
    """The function a tool call asks for: its name and its arguments as a JSON string."""

    name: str = ""
    arguments: str = ""


@record(repr=False, eq=False)
class ToolCall(WireObject):
    """A tool call in an assistant message. Only ``type == "function"`` calls are for the
    caller to run; xAI may also report its own server-side tool calls here."""

    id: str = ""
    type: str = "function"
    function: FunctionCall = field(default_factory=FunctionCall)
    index: Optional[int] = None

    _NESTED = (("function", FunctionCall, False),)


@record(repr=False, eq=False)
class TopLogprob(WireObject):
    """One alternative token with its log probability."""

    token: str = ""
    logprob: float = 0.0
    bytes: Optional[List[int]] = None


@record(repr=False, eq=False)
class TokenLogprob(WireObject):
    """A sampled token, its log probability and the most likely alternatives."""

    token: str = ""
    logprob: float = 0.0
    bytes: Optional[List[int]] = None
    top_logprobs: List[TopLogprob] = field(default_factory=list)

    _NESTED = (("top_logprobs", TopLogprob, True),)


@record(repr=False, eq=False)
class ChoiceLogprobs(WireObject):
    """Log probabilities of a choice's content tokens (when ``logprobs=True`` was asked)."""

    content: Optional[List[TokenLogprob]] = None

    _NESTED = (("content", TokenLogprob, True),)


@record(repr=False, eq=False)
class ChatCompletionMessage(WireObject):
    """The assistant's reply. ``content`` is ``""`` (not ``None``) next to tool calls on xAI;
    ``reasoning_content`` is the reasoning trace where the model returns one."""

    role: str = "assistant"
    content: Optional[str] = None
    reasoning_content: Optional[str] = None
    refusal: Optional[str] = None
    tool_calls: Optional[List[ToolCall]] = None

    _NESTED = (("tool_calls", ToolCall, True),)

    @property
    def parsed(self) -> Any:
        """The answer parsed by ``client.chat.completions.parse()`` (an instance of the type asked
        for, or a dict); ``None`` otherwise. It is not a wire field: ``to_dict()`` leaves it out."""
        return self.__dict__.get("_parsed")

    def _json(self) -> Any:
        # Sent back as history: only what a request message may carry. ``content`` stays, as
        # received ("" or null; null if the server left it out): some servers (llama-cpp-python)
        # refuse an assistant message without it.
        data = {k: v for k, v in self.to_dict().items() if (v is not None or k == "content") and k != "refusal"}
        data.setdefault("content", None)
        return data


@record(repr=False, eq=False)
class Choice(WireObject):
    """One answer of a completion (``n`` > 1 asks for several)."""

    index: int = 0
    message: ChatCompletionMessage = field(default_factory=ChatCompletionMessage)
    finish_reason: Optional[str] = None
    logprobs: Optional[ChoiceLogprobs] = None

    _NESTED = (("message", ChatCompletionMessage, False), ("logprobs", ChoiceLogprobs, False))


@record(repr=False, eq=False)
class PromptTokensDetails(WireObject):
    """What the prompt tokens were; ``cached_tokens`` is part of ``text_tokens``."""

    text_tokens: Optional[int] = None
    audio_tokens: Optional[int] = None
    image_tokens: Optional[int] = None
    cached_tokens: Optional[int] = None


@record(repr=False, eq=False)
class CompletionTokensDetails(WireObject):
    """What the completion tokens were; ``reasoning_tokens`` are not in ``completion_tokens``."""

    reasoning_tokens: Optional[int] = None
    audio_tokens: Optional[int] = None
    accepted_prediction_tokens: Optional[int] = None
    rejected_prediction_tokens: Optional[int] = None


@record(repr=False, eq=False)
class ServerSideToolUsageDetails(WireObject):
    """How often each of xAI's server-side tools ran (they are billed per call)."""

    web_search_calls: Optional[int] = None
    x_search_calls: Optional[int] = None
    x_posts_fetched: Optional[int] = None
    x_users_fetched: Optional[int] = None
    code_interpreter_calls: Optional[int] = None
    file_search_calls: Optional[int] = None
    mcp_calls: Optional[int] = None
    document_search_calls: Optional[int] = None
    image_generation_calls: Optional[int] = None


@record(repr=False, eq=False)
class Usage(WireObject):
    """Token counts and cost of a chat completion.

    On xAI ``completion_tokens`` excludes reasoning tokens, and ``total_tokens`` is prompt +
    completion + reasoning. ``cost_in_usd_ticks`` is the billed cost (1 USD = 10^10 ticks);
    :attr:`cost_usd` converts it.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    prompt_tokens_details: Optional[PromptTokensDetails] = None
    completion_tokens_details: Optional[CompletionTokensDetails] = None
    num_sources_used: Optional[int] = None
    cost_in_usd_ticks: Optional[int] = None
    server_side_tool_usage_details: Optional[ServerSideToolUsageDetails] = None

    _NESTED = (
        ("prompt_tokens_details", PromptTokensDetails, False),
        ("completion_tokens_details", CompletionTokensDetails, False),
        ("server_side_tool_usage_details", ServerSideToolUsageDetails, False),
    )

    @property
    def cost_usd(self) -> Optional[float]:
        """The cost in US dollars, from ``cost_in_usd_ticks`` (``None`` if the server sent none)."""
        ticks = self.cost_in_usd_ticks
        return None if ticks is None else ticks / TICKS_PER_USD

    @property
    def reasoning_tokens(self) -> int:
        """``completion_tokens_details.reasoning_tokens``, or 0."""
        details = self.completion_tokens_details
        return (details.reasoning_tokens or 0) if details is not None else 0


@record(repr=False, eq=False)
class OutputFile(WireObject):
    """A file the server-side code interpreter produced."""

    file_id: str = ""
    name: Optional[str] = None


@record(repr=False, eq=False)
class ChatCompletion(WireObject):
    """A whole (non-streaming) chat completion. :attr:`request_id` is the server's
    ``x-request-id`` for this call, handy in a support ticket."""

    id: str = ""
    object: str = "chat.completion"
    created: int = 0
    model: str = ""
    choices: List[Choice] = field(default_factory=list)
    usage: Optional[Usage] = None
    system_fingerprint: Optional[str] = None
    citations: Optional[List[str]] = None
    service_tier: Optional[str] = None
    output_files: Optional[List[OutputFile]] = None

    _NESTED = (("choices", Choice, True), ("usage", Usage, False), ("output_files", OutputFile, True))

    @classmethod
    def _parse(cls, data: Dict[str, Any], copy: bool = False) -> ChatCompletion:
        return _choices_listed(super()._parse(data, copy))

    @property
    def request_id(self) -> Optional[str]:
        """The ``x-request-id`` response header, when the server sent one."""
        value = self.__dict__.get("_request_id")
        return value if isinstance(value, str) else None


def _choices_listed(obj: _T) -> _T:
    # "choices": null reads as no choices, so that callers iterating or indexing it never meet None.
    if obj.__dict__["choices"] is None:
        obj.__dict__["choices"] = []
    return obj


# ---------------------------------------------------------------------------------------------
# Streaming chunks


@record(repr=False, eq=False)
class ChoiceDeltaFunction(WireObject):
    """A piece of a streamed function call: the name comes first, ``arguments`` may come in
    pieces to be concatenated (xAI sends each call whole, in one piece)."""

    name: Optional[str] = None
    arguments: Optional[str] = None


@record(repr=False, eq=False)
class ChoiceDeltaToolCall(WireObject):
    """A piece of a streamed tool call; pieces with the same ``index`` belong together."""

    index: int = 0
    id: Optional[str] = None
    type: Optional[str] = None
    function: Optional[ChoiceDeltaFunction] = None

    _NESTED = (("function", ChoiceDeltaFunction, False),)


@record(repr=False, eq=False)
class ChoiceDelta(WireObject):
    """What one chunk adds to a choice."""

    role: Optional[str] = None
    content: Optional[str] = None
    reasoning_content: Optional[str] = None
    refusal: Optional[str] = None
    tool_calls: Optional[List[ChoiceDeltaToolCall]] = None

    _NESTED = (("tool_calls", ChoiceDeltaToolCall, True),)


@record(repr=False, eq=False)
class ChunkChoice(WireObject):
    """One choice in a stream chunk."""

    index: int = 0
    delta: ChoiceDelta = field(default_factory=ChoiceDelta)
    finish_reason: Optional[str] = None
    logprobs: Optional[ChoiceLogprobs] = None

    _NESTED = (("delta", ChoiceDelta, False), ("logprobs", ChoiceLogprobs, False))


@record(repr=False, eq=False)
class ChatCompletionChunk(WireObject):
    """One chunk of a streamed completion. The last chunk of a stream asked for with
    ``stream_options={"include_usage": True}`` has ``choices == []`` and carries ``usage``."""

    id: str = ""
    object: str = "chat.completion.chunk"
    created: int = 0
    model: str = ""
    choices: List[ChunkChoice] = field(default_factory=list)
    usage: Optional[Usage] = None
    system_fingerprint: Optional[str] = None
    citations: Optional[List[str]] = None
    service_tier: Optional[str] = None

    _NESTED = (("choices", ChunkChoice, True), ("usage", Usage, False))

    @classmethod
    def _parse(cls, data: Dict[str, Any], copy: bool = False) -> ChatCompletionChunk:
        # The generic parser unrolled for the per-chunk hot path (about half its cost); it
        # builds exactly what WireObject._parse builds.
        if copy:
            return _choices_listed(super()._parse(data, copy))
        choices = data.get("choices")
        if choices is None:
            data["choices"] = []
        else:
            for i, choice in enumerate(choices):
                delta = choice.get("delta")
                if delta is not None:
                    calls = delta.get("tool_calls")
                    if calls:
                        delta["tool_calls"] = [ChoiceDeltaToolCall._parse(call) for call in calls]
                    parsed_delta = _new(ChoiceDelta)
                    parsed_delta.__dict__ = delta
                    choice["delta"] = parsed_delta
                else:  # left out, or null
                    choice["delta"] = ChoiceDelta()
                logprobs = choice.get("logprobs")
                if logprobs is not None:
                    choice["logprobs"] = ChoiceLogprobs._parse(logprobs)
                parsed_choice = _new(ChunkChoice)
                parsed_choice.__dict__ = choice
                choices[i] = parsed_choice
        usage = data.get("usage")
        if usage is not None:
            data["usage"] = Usage._parse(usage)
        chunk = _new(cls)
        chunk.__dict__ = data
        return chunk


# ---------------------------------------------------------------------------------------------
# Models


@record(repr=False, eq=False)
class Model(WireObject):
    """A model the key can use. Prices are in USD cents per 100 million tokens (divide by
    10,000 for USD per million tokens), as ``/v1/models`` reports them."""

    id: str = ""
    object: str = "model"
    created: int = 0
    owned_by: str = ""
    aliases: Optional[List[str]] = None
    context_length: Optional[int] = None
    prompt_text_token_price: Optional[int] = None
    cached_prompt_text_token_price: Optional[int] = None
    prompt_image_token_price: Optional[int] = None
    completion_text_token_price: Optional[int] = None
    long_context_threshold: Optional[int] = None
    capabilities: Optional[Dict[str, Any]] = None


@record(repr=False, eq=False)
class ModelList(WireObject):
    """The models of ``client.models.list()``: iterate it, or read ``data``."""

    data: List[Model] = field(default_factory=list)
    object: str = "list"

    _NESTED = (("data", Model, True),)

    def __iter__(self) -> Iterator[Model]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> Model:
        return self.data[index]
