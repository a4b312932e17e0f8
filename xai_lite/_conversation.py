"""A chat that keeps its history (:class:`Conversation`), and :func:`image`, which puts a picture
into a turn."""

from __future__ import annotations

import base64
import binascii
import copy
import os
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Sequence, Union

from ._config import check_flag, check_number
from ._streaming import ChatCompletionAccumulator
from ._tool_loop import MaxTurnsError, ToolResult, ToolRun, after_tools, execute_calls, prepare_runnable, run_tools
from .errors import HttpError, InvalidArgumentError, XaiError, reexported
from .types import ChatCompletion, ChatCompletionMessage

if TYPE_CHECKING:
    from ._client import Client

__all__ = ["MAX_IMAGE_BYTES", "Conversation", "image"]

# The largest image xAI accepts (reference/xai_api.md 1.1; an older page said 10 MiB).
MAX_IMAGE_BYTES = 20 * 1024 * 1024
_DETAILS = ("auto", "low", "high")
_SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))
# The data URL media types xAI lists (reference/xai_api.md 1.1), and "jpg" written for "jpeg".
_MEDIA_TYPES = {"image/jpeg": "image/jpeg", "image/jpg": "image/jpeg", "image/png": "image/png", "image/webp": "image/webp"}

Content = Union[str, Sequence[Union[str, Dict[str, Any]]]]


def image(source: Union[str, bytes, "os.PathLike[str]"], *, detail: Optional[str] = None) -> Dict[str, Any]:
    """An image content part for a chat turn: ``conversation.send(["What is this?", image(...)])``.

    ``source`` is an ``https://`` URL (the server fetches it; xAI takes no other scheme), a
    ``data:image/...;base64,`` URL, a local file path or the image's bytes; files and bytes
    become data URLs. Images given here (data URLs, files, bytes) must be JPEG, PNG or WebP, as
    their bytes show, and at most 20 MiB (xAI's limit), checked before anything is sent; a data
    URL's ``image/jpg`` is written ``image/jpeg``. ``detail`` is ``"auto"``, ``"low"`` or
    ``"high"``.
    """
    if detail is not None and detail not in _DETAILS:
        raise InvalidArgumentError("detail must be 'auto', 'low' or 'high', not %r" % (detail,))
    if isinstance(source, str) and source[:8].lower() == "https://":
        url = source
    elif isinstance(source, str) and source[:7].lower() == "http://":
        raise InvalidArgumentError(
            "image URLs must be https:// (xAI fetches no other kind), not %r; pass the image's bytes or "
            "file path instead" % source[:80]
        )
    elif isinstance(source, str) and source.startswith("data:"):
        url = _checked_data_url(source)
    elif isinstance(source, bytes):
        url = _data_url(source, "the image bytes")
    elif isinstance(source, (str, os.PathLike)):
        url = _data_url(_read(os.fspath(source)), repr(os.fspath(source)))
    else:
        raise InvalidArgumentError("image() takes a URL, a file path or bytes, not %s" % type(source).__name__)
    part: Dict[str, Any] = {"type": "image_url", "image_url": {"url": url}}
    if detail is not None:
        part["image_url"]["detail"] = detail
    return part


def _read(path: str) -> bytes:
    try:
        size = os.path.getsize(path)
        if size > MAX_IMAGE_BYTES:
            raise InvalidArgumentError(_too_big(repr(path), size))
        with open(path, "rb") as fh:
            return fh.read(MAX_IMAGE_BYTES + 1)
    except OSError as exc:
        problem = exc.strerror or type(exc).__name__
    raise InvalidArgumentError("cannot read the image %r: %s" % (path, problem))


def _data_url(data: bytes, what: str) -> str:
    return "data:%s;base64,%s" % (_media_type(data, what), base64.b64encode(data).decode("ascii"))


def _media_type(data: bytes, what: str) -> str:
    """The media type the image's bytes show; refuses images over the size limit and other formats."""
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidArgumentError(_too_big(what, len(data)))
    media = next((kind for magic, kind in _SIGNATURES if data.startswith(magic)), None)
    if media is None and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        media = "image/webp"
    if media is None:
        raise InvalidArgumentError("%s is not a JPEG, PNG or WebP image (the formats xAI accepts)" % what)
    return media


def _checked_data_url(url: str) -> str:
    """``url`` with its media type written as xAI lists it, once its bytes were checked."""
    head, _, payload = url.partition(",")
    declared = head[5:].split(";")[0]
    media = _MEDIA_TYPES.get(declared.lower())
    if media is None or not head.endswith(";base64"):
        raise InvalidArgumentError("a data URL image must be data:image/jpeg|png|webp;base64,..., not %r" % head[:60])
    if len(payload) * 3 // 4 > MAX_IMAGE_BYTES + 2:  # before decoding a huge string
        raise InvalidArgumentError(_too_big("the data URL image", len(payload) * 3 // 4))
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidArgumentError("the data URL image is not valid base64") from None
    found = _media_type(data, "the data URL image")
    if found != media:
        raise InvalidArgumentError(
            "the data URL says %s, but its bytes are a %s image; write data:%s;base64,..." % (declared, found[6:].upper(), found)
        )
    return url if declared == media else "data:" + media + url[5 + len(declared):]


def _too_big(what: str, size: int) -> str:
    return "%s is %.1f MiB; xAI accepts images up to 20 MiB" % (what, size / (1024 * 1024))


class Conversation:
    """A chat with history: each turn sends the whole history and appends both sides.

    >>> chat = Conversation(client, model="grok-4", system="Be brief.")
    >>> chat.send("What is xAI?").content
    >>> for piece in chat.stream("And who founded it?"):
    ...     print(piece, end="")
    >>> chat.messages   # [system, user, assistant, user, assistant]

    ``tools`` (functions, :func:`tool` objects, or dicts for server-side tools) are run for the
    model as in :func:`run_tools`: the assistant's tool calls and the tool results are appended
    to the history too, and a ``tool_choice`` that forces a call is sent as ``"auto"`` after the
    first tool round of a turn. Other keywords (``temperature``, ``max_completion_tokens``, ...)
    go to every request; keywords of ``send``/``stream`` to that turn's requests only.

    A turn is appended only once it is complete: when a request fails (or a stream is left
    early) the history stays as it was, so the turn can simply be sent again (with tools, the
    error's ``run`` holds what the turn did so far, tool results included). Not thread-safe:
    use one conversation per thread, or :meth:`fork`.
    """

    def __init__(
        self,
        client: Client,
        model: str = "grok-4",
        system: Optional[str] = None,
        *,
        tools: Optional[Sequence[Any]] = None,
        max_turns: int = 8,
        parallel_tools: bool = True,
        messages: Optional[Sequence[Any]] = None,
        **params: Any,
    ) -> None:
        check_number("Conversation", "max_turns", max_turns, minimum=1, integer=True, kind="a number of model calls")
        check_flag("parallel_tools", parallel_tools, optional=False)
        self.client = client
        self.model = model
        self.tools = list(tools or ())
        self.max_turns = max_turns
        self.parallel_tools = parallel_tools
        self.params = params
        self._registry = prepare_runnable({"tools": list(self.tools)}, flat=False) if self.tools else {}
        self.messages: List[Any] = list(messages or ())
        if system is not None:
            self.messages.insert(0, {"role": "system", "content": system})
        self.last_completion: Optional[ChatCompletion] = None

    def send(self, content: Content, **params: Any) -> ChatCompletionMessage:
        """Send a user turn (text, or a list of text and :func:`image` parts) and return the
        assistant's reply; both are appended to :attr:`messages`, with any tool turns between."""
        history = self.messages + [_user_turn(content)]
        options = dict(self.params, **params)
        if self.tools:
            run = self._run(history, options)
            completion, history = run.response, run.messages
        else:
            completion = self.client.chat.completions.create(model=self.model, messages=history, **options)
            history.append(_reply(completion)._json())
        self.messages[:] = history
        self.last_completion = completion
        return _reply(completion)

    def stream(self, content: Content, **params: Any) -> Iterator[str]:
        """Send a user turn and yield the reply's text as it arrives; the assembled reply (and
        any tool turns) is appended once the stream has been read to its end."""
        history = self.messages + [_user_turn(content)]
        options = dict(self.params, **params)
        if self.tools:
            options["tools"] = self.tools
        results: List[ToolResult] = []
        completion: Optional[ChatCompletion] = None
        for turn in range(1, self.max_turns + 1):
            accumulator = ChatCompletionAccumulator()
            try:
                chunks = self.client.chat.completions.create(model=self.model, messages=history, stream=True, **options)
                with chunks:
                    for chunk in chunks:
                        accumulator.add(chunk)
                        if chunk.choices and chunk.choices[0].delta.content:
                            yield chunk.choices[0].delta.content
            except XaiError as exc:
                setattr(exc, "run", ToolRun(completion, history, turn - 1, results))
                raise
            completion = accumulator.completion()
            completion.__dict__["_request_id"] = chunks.request_id
            message = _reply(completion)
            calls = [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls or () if c.type == "function"]
            if not calls:
                history.append(message._json())
                self.messages[:] = history
                self.last_completion = completion
                return
            if turn == self.max_turns:
                break  # calls that will not run stay out of the history, as in run_tools
            history.append(message._json())
            done = execute_calls(calls, self._registry, self.parallel_tools)
            results.extend(done)
            history.extend({"role": "tool", "tool_call_id": r.call_id, "content": r.output} for r in done)
            options = after_tools(options)
        raise MaxTurnsError(
            "the model still asked for tools after max_turns=%d model calls; the conversation was "
            "left as it was before this turn" % self.max_turns,
            run=ToolRun(completion, history, self.max_turns, results),
        )

    def fork(self) -> Conversation:
        """An independent copy: same client, model, tools and settings, a copy of the history."""
        twin = copy.copy(self)
        twin.messages = copy.deepcopy(self.messages)
        twin.params = dict(self.params)
        return twin

    def _run(self, history: List[Any], options: Dict[str, Any]) -> ToolRun:
        try:
            return run_tools(
                self.client, model=self.model, messages=history, tools=self.tools, max_turns=self.max_turns,
                parallel=self.parallel_tools, **options,
            )
        except MaxTurnsError as exc:
            exc.message += "; the conversation was left as it was before this turn"
            raise


def _user_turn(content: Content) -> Dict[str, Any]:
    if isinstance(content, str):
        return {"role": "user", "content": content}
    if not isinstance(content, (list, tuple)) or not content:
        raise InvalidArgumentError("a turn is a string or a non-empty list of strings and image(...) parts")
    parts = []
    for i, part in enumerate(content):
        if isinstance(part, str):
            parts.append({"type": "text", "text": part})
        elif isinstance(part, dict) and "type" in part:
            parts.append(part)
        else:
            raise InvalidArgumentError("part %d of the turn is a %s; use a string or image(...)" % (i, type(part).__name__))
    return {"role": "user", "content": parts}


def _reply(completion: ChatCompletion) -> ChatCompletionMessage:
    if not completion.choices:
        raise HttpError("the completion has no choices, so there is no reply to add to the conversation")
    return completion.choices[0].message


reexported(Conversation)
