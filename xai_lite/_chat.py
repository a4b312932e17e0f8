"""``client.chat.completions`` and ``client.models``: the chat completions and models endpoints,
shaped like the ``openai`` package's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Mapping, Optional, Union, overload

from ._config import MAX_LIST_BYTES, MAX_SMALL_BYTES, UNSET, TimeoutTypes, Unset, check_flag
from ._streaming import ChatStream
from ._wire import path_segment
from .errors import InvalidArgumentError
from .types import ChatCompletion, ChatCompletionMessage, Message, Model, ModelList, WireObject

if TYPE_CHECKING:
    from typing_extensions import Literal, TypedDict, Unpack

    from ._deferred import DeferredChatCompletion, DeferredCompletions
    from ._client import Client

    class ChatParseParams(TypedDict, total=False):
        """The optional fields of a chat completion request (reference/xai_api.md 1.1) but
        ``deferred`` (a keyword of its own) and ``response_format`` (which ``parse`` builds)."""

        frequency_penalty: Optional[float]
        logit_bias: Optional[Dict[str, float]]
        logprobs: Optional[bool]
        max_completion_tokens: Optional[int]
        max_tokens: Optional[int]
        n: Optional[int]
        parallel_tool_calls: Optional[bool]
        presence_penalty: Optional[float]
        prompt_cache_key: Optional[str]
        reasoning_effort: Optional[str]
        safety_identifier: Optional[str]
        search_parameters: Optional[Dict[str, Any]]
        seed: Optional[int]
        service_tier: Optional[str]
        stop: Union[str, List[str], None]
        stream_options: Optional[Dict[str, Any]]
        temperature: Optional[float]
        tool_choice: Union[str, Dict[str, Any], None]
        tools: Optional[List[Any]]  # dicts, functions or xai_lite.tool(...) objects
        top_logprobs: Optional[int]
        top_p: Optional[float]
        user: Optional[str]
        web_search_options: Optional[Dict[str, Any]]

    class ChatCompletionParams(ChatParseParams, total=False):
        """The optional fields of a chat completion request but ``deferred``."""

        response_format: Optional[Dict[str, Any]]



__all__ = [
    "CHAT_FIELDS",
    "FLAG_FIELDS",
    "LIVE_SEARCH_REMOVED",
    "Chat",
    "ChatCompletions",
    "MessageParam",
    "Models",
    "chat_body",
    "check_flags",
]

MessageParam = Union[Message, ChatCompletionMessage, Mapping[str, Any]]

# The optional chat completion fields of reference/xai_api.md 1.1 (ChatCompletionParams above).
CHAT_FIELDS = frozenset(
    "deferred frequency_penalty logit_bias logprobs max_completion_tokens max_tokens n "
    "parallel_tool_calls presence_penalty prompt_cache_key reasoning_effort response_format "
    "safety_identifier search_parameters seed service_tier stop stream_options temperature "
    "tool_choice tools top_logprobs top_p user web_search_options".split()
)

# The request fields that are flags (chat's and the Responses API's): each must be True, False or
# None. A truthy string ("false", "no") would have the client send, and the account pay for, a
# request other than the one asked for.
FLAG_FIELDS = ("background", "deferred", "logprobs", "parallel_tool_calls", "store")

LIVE_SEARCH_REMOVED = (
    "search_parameters (Live Search) was removed by xAI: the API now answers it with 410 Gone. "
    "Use the server-side tools instead: client.responses.create(..., tools=[web_search()]) or "
    "tools=[x_search()]"
)


class Chat:
    """``client.chat``: the chat completions endpoint, and the results of deferred ones."""

    def __init__(self, client: Client) -> None:
        self.completions = ChatCompletions(client)
        self._client = client

    @property
    def deferred(self) -> DeferredCompletions:
        """``client.chat.deferred``: fetch the result of ``create(..., deferred=True)``."""
        from ._deferred import DeferredCompletions

        return DeferredCompletions(self._client)


class ChatCompletions:
    """``client.chat.completions``: ``POST /v1/chat/completions``."""

    def __init__(self, client: Client) -> None:
        self._client = client

    @overload
    def create(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        stream: Literal[True],
        deferred: Optional[Literal[False]] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        timeout: Union[TimeoutTypes, Unset] = UNSET,
        **params: Unpack[ChatCompletionParams],
    ) -> ChatStream: ...

    @overload
    def create(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        deferred: Literal[True],
        stream: Optional[Literal[False]] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        timeout: Union[TimeoutTypes, Unset] = UNSET,
        **params: Unpack[ChatCompletionParams],
    ) -> DeferredChatCompletion: ...

    @overload
    def create(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        stream: Optional[Literal[False]] = None,
        deferred: Optional[Literal[False]] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        timeout: Union[TimeoutTypes, Unset] = UNSET,
        **params: Unpack[ChatCompletionParams],
    ) -> ChatCompletion: ...

    def create(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        stream: Optional[bool] = None,
        deferred: Optional[bool] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        timeout: Union[TimeoutTypes, Unset] = UNSET,
        **params: Any,
    ) -> Union[ChatCompletion, ChatStream, DeferredChatCompletion]:
        """Create a chat completion; with ``stream=True``, a :class:`ChatStream` of chunks; with
        ``deferred=True``, a :class:`DeferredChatCompletion` (see ``client.chat.deferred``).

        Every field of xAI's chat request is a keyword (``temperature``, ``tools``,
        ``response_format``, ``reasoning_effort``, ...); ``None`` sends ``null`` and a field left
        out is not sent. ``extra_body`` adds fields this client does not know, ``extra_headers``
        and ``extra_query`` add to the HTTP request, ``timeout`` overrides the client's for this
        call. ``tools`` may also hold functions and ``tool()`` objects. Raises
        :class:`InvalidArgumentError` before any I/O for bad arguments and tool definitions.
        """
        if deferred is not None:
            params["deferred"] = deferred
        if "tools" in params or "tool_choice" in params:
            from ._tools import prepare_tools

            prepare_tools(params, flat=False)
        body = chat_body(model, messages, stream, params, extra_body)
        client = self._client
        if deferred:
            from ._deferred import start

            return start(client, body, stream, extra_headers=extra_headers, extra_query=extra_query, timeout=timeout)
        if not stream:
            return client._request(
                "POST", "/chat/completions", body, expect="choices", cls=ChatCompletion,
                extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
            )
        exchange, request_id = client._exchange(
            "POST", "/chat/completions", body, stream=True,
            extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
        )
        return client._stream(exchange, request_id)

    def parse(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        response_format: Any,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        timeout: Union[TimeoutTypes, Unset] = UNSET,
        **params: Unpack[ChatParseParams],
    ) -> ChatCompletion:
        """A completion whose ``choices[i].message.parsed`` is the answer as ``response_format``:
        a dataclass or other type (its JSON schema is sent), or a JSON-schema dict (giving a dict).
        A reply that does not fit raises :class:`StructuredOutputError` naming the path."""
        from ._structured import parse_chat

        options = dict(extra_headers=extra_headers, extra_query=extra_query, extra_body=extra_body, timeout=timeout)
        return parse_chat(self, model, messages, response_format, dict(params), options)


class Models:
    """``client.models``: the models this key can use."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(
        self,
        *,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        timeout: Union[TimeoutTypes, Unset] = UNSET,
    ) -> ModelList:
        """``GET /v1/models``: every model, iterable (``for m in client.models.list()``)."""
        return self._client._request(
            "GET", "/models", expect="data", cls=ModelList, cap=MAX_LIST_BYTES,
            extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
        )

    def retrieve(
        self,
        model: str,
        *,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        timeout: Union[TimeoutTypes, Unset] = UNSET,
    ) -> Model:
        """``GET /v1/models/{model}``: one model (404 :class:`NotFoundError` if unknown)."""
        return self._client._request(
            "GET", "/models/" + path_segment(model, "model"), expect="id", cls=Model, cap=MAX_SMALL_BYTES,
            extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
        )


def check_flags(stream: object, params: Mapping[str, Any], extra_body: object, control: Iterable[str]) -> None:
    """Check a request's flags and ``extra_body`` before anything is sent. ``control`` names the
    fields the client itself acts on (``stream``, ``deferred``): ``extra_body`` may not set them,
    or the request sent would not be the one whose answer the client reads."""
    check_flag("stream", stream)
    for name in FLAG_FIELDS:
        if name in params:
            check_flag(name, params[name])
    if extra_body is None:
        return
    if not isinstance(extra_body, Mapping):
        raise InvalidArgumentError(
            "extra_body must be a mapping of field names to values, not %s" % type(extra_body).__name__
        )
    for name in control:
        if name in extra_body:
            raise InvalidArgumentError(
                "extra_body must not set %r: pass %s= as an argument, which tells the client what answer to read"
                % (name, name)
            )


def chat_body(
    model: str,
    messages: Iterable[MessageParam],
    stream: Optional[bool],
    params: Dict[str, Any],
    extra_body: Optional[Mapping[str, Any]],
) -> Dict[str, Any]:
    """Check the arguments of a chat completion and build its JSON body."""
    if not isinstance(model, str) or not model:
        raise InvalidArgumentError("model must be a non-empty string such as 'grok-4'")
    if isinstance(messages, (str, bytes)) or not isinstance(messages, (list, tuple)):
        if isinstance(messages, (str, bytes)) or not hasattr(messages, "__iter__"):
            raise InvalidArgumentError(
                "messages must be a list of messages such as [{'role': 'user', 'content': 'Hi'}]"
            )
        messages = list(messages)
    if not messages:
        raise InvalidArgumentError("messages is empty; give at least one message")
    for i, message in enumerate(messages):
        if not isinstance(message, (Mapping, WireObject)):
            raise InvalidArgumentError(
                "messages[%d] is a %s; each message must be a dict or a Message" % (i, type(message).__name__)
            )
        if isinstance(message, Mapping) and "role" not in message:
            raise InvalidArgumentError("messages[%d] has no 'role' (system, user, assistant or tool)" % i)
    unknown = set(params) - CHAT_FIELDS
    if unknown:
        raise TypeError(
            "create() got unexpected keyword argument(s) %s; send fields this client does not know "
            "with extra_body={...}" % ", ".join(sorted(map(repr, unknown)))
        )
    check_flags(stream, params, extra_body, ("stream", "deferred"))
    if "search_parameters" in params or (extra_body and "search_parameters" in extra_body):
        raise InvalidArgumentError(LIVE_SEARCH_REMOVED)
    body: Dict[str, Any] = {"model": model, "messages": messages}
    if stream is not None:
        body["stream"] = stream
    body.update(params)
    if extra_body:
        body.update(extra_body)
    return body
