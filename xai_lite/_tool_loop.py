"""The tool-call loop: call the model, run the functions it asks for (in parallel threads or one
after the other), send the results back, until it answers; over chat completions or the
Responses API."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from ._config import UNSET, TimeoutTypes, Unset, check_flag, check_number
from ._tools import FunctionTool, prepare_tools
from .errors import InvalidArgumentError, XaiError, reexported

if TYPE_CHECKING:
    from ._client import Client

__all__ = [
    "MAX_PARALLEL_CALLS",
    "MaxTurnsError",
    "ToolResult",
    "ToolRun",
    "after_tools",
    "execute_calls",
    "prepare_runnable",
    "run_tools",
]

# Threads per turn for the tool calls of one answer: models rarely ask for more than a handful at
# once, and tools usually wait on I/O, so a few threads are enough without flooding a service.
MAX_PARALLEL_CALLS = 8


class MaxTurnsError(XaiError):
    """:func:`run_tools` made ``max_turns`` model calls and the model still asked for tools.
    ``run`` holds everything that happened: ``run.response`` is the last answer (with the tool
    calls that were not run), ``run.messages`` the history up to the last tool results (valid to
    send again as it is), ``run.results`` every tool result."""

    def __init__(self, message: str, *, run: Optional[ToolRun] = None) -> None:
        super().__init__(message)
        self.run = run


@dataclasses.dataclass
class ToolResult:
    """One tool call and what came of it: ``output`` is the text sent back to the model;
    ``error`` the exception the tool raised (or why it could not run), else ``None``."""

    call_id: str
    name: str
    arguments: str
    output: str
    error: Optional[BaseException] = None


@dataclasses.dataclass
class ToolRun:
    """What :func:`run_tools` did: the model's last ``response`` (a ``ChatCompletion`` or a
    Responses ``Response``; ``None`` when the first model call failed), the whole history
    (``messages``: chat messages, or Responses input items), how many model calls it made
    (``turns``) and every tool call's ``results``."""

    response: Any
    messages: List[Any]
    turns: int
    results: List[ToolResult]

    @property
    def text(self) -> Optional[str]:
        """The text of the final answer."""
        response = self.response
        if response is None:
            return None
        if hasattr(response, "output_text"):
            return response.output_text  # type: ignore[no-any-return]
        return response.choices[0].message.content if response.choices else None


reexported(MaxTurnsError, ToolResult, ToolRun)


# ---------------------------------------------------------------------------------------------
# Running tools


def execute_calls(
    calls: Sequence[Tuple[str, str, str]], registry: Mapping[str, FunctionTool], parallel: bool
) -> List[ToolResult]:
    """Run the ``(call_id, name, arguments)`` calls, in threads when ``parallel`` and there are
    several; results come back in call order. A tool that raises, an unknown name and bad
    arguments each become an error result for the model, never an exception here."""
    if parallel and len(calls) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(len(calls), MAX_PARALLEL_CALLS), thread_name_prefix="xai-tool") as pool:
            return list(pool.map(lambda call: _run_one(call, registry), calls))
    return [_run_one(call, registry) for call in calls]


def _run_one(call: Tuple[str, str, str], registry: Mapping[str, FunctionTool]) -> ToolResult:
    call_id, name, arguments = call
    # A name that is not a string (a list, null) names no tool, as an unknown string does.
    function = registry.get(name) if isinstance(name, str) else None
    error: Optional[BaseException]
    if function is None:
        error = LookupError("unknown tool %r; the tools are: %s" % (name, ", ".join(registry) or "none"))
    else:
        try:
            return ToolResult(call_id, name, arguments, _as_text(function.invoke(arguments)))
        except Exception as exc:  # noqa: BLE001 - the model gets the error, the caller the exception
            error = exc
    output = json.dumps({"error": "%s: %s" % (type(error).__name__, error)}, ensure_ascii=False)
    return ToolResult(call_id, name, arguments, output, error)


def prepare_runnable(params: Dict[str, Any], *, flat: bool) -> Dict[str, FunctionTool]:
    """:func:`prepare_tools` for a loop that runs the tools: a function tool given only as a
    dict definition is refused too (the model would be offered a tool whose every call fails)."""
    registry = prepare_tools(params, flat=flat)
    for i, spec in enumerate(params.get("tools") or ()):
        if spec.get("type") == "function":
            name = spec["name"] if flat else spec["function"]["name"]
            if name not in registry:
                raise InvalidArgumentError(
                    "tools[%d]: the function tool %r is only a definition, so there is nothing to run when the "
                    "model calls it; pass the Python function or tool(fn) instead" % (i, name)
                )
    return registry


def after_tools(params: Dict[str, Any]) -> Dict[str, Any]:
    """The request fields for the turns after one that ran tools: a ``tool_choice`` that forces
    a call (``"required"``, or one naming a tool) becomes ``"auto"``, or the model could never
    answer."""
    choice = params.get("tool_choice")
    if choice == "required" or isinstance(choice, Mapping):
        return dict(params, tool_choice="auto")
    return params


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=_jsonable)


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)


def run_tools(
    client: Client,
    *,
    model: str,
    tools: Sequence[Any],
    messages: Optional[Sequence[Any]] = None,
    input: Union[str, Sequence[Any], None] = None,
    max_turns: int = 8,
    parallel: bool = True,
    extra_headers: Optional[Mapping[str, str]] = None,
    extra_query: Optional[Mapping[str, Any]] = None,
    extra_body: Optional[Mapping[str, Any]] = None,
    timeout: Union[TimeoutTypes, Unset] = UNSET,
    **params: Any,
) -> ToolRun:
    """Let the model use ``tools`` until it answers: call it, run the functions it asks for
    (several in parallel threads; ``parallel=False`` runs them one after the other), send the
    results back, repeat. With ``messages=`` it uses chat completions; with ``input=`` the
    Responses API (``function_call`` / ``function_call_output`` items).

    ``tools`` are functions, :func:`tool` objects, or dicts for server-side tools such as
    ``web_search()``, which the server runs itself (a function tool given only as a dict
    definition is refused: there would be nothing to run). A tool that raises, an unknown tool
    name and arguments that do not fit become error results for the model, and are kept in
    ``ToolRun.results``. Other keywords go to each ``create`` call, except that a
    ``tool_choice`` forcing a call (``"required"`` or a named function, in either API's shape)
    is sent as ``"auto"`` after the first turn that ran tools, so that the model can answer.

    Returns a :class:`ToolRun`. Raises :class:`MaxTurnsError` when the model still wants tools
    after ``max_turns`` calls: its ``run.messages`` ends with the last tool results (the final
    answer's unanswered calls are in ``run.response`` and were not run), so it can be sent
    again as it is. When a model call fails, its error is raised with the run so far attached
    as ``error.run`` (a :class:`ToolRun`: the tool results are not lost, and ``run.messages``
    can be sent again). Raises :class:`InvalidArgumentError` before any request for bad tool
    definitions.

    On the Responses API, with ``store=False`` every turn replays the whole history (pass
    ``include=["reasoning.encrypted_content"]`` so reasoning carries over); otherwise each turn
    continues the stored response through ``previous_response_id`` (and ``instructions`` are
    sent with the first turn only, as the API requires).
    """
    if (messages is None) == (input is None):
        raise InvalidArgumentError("give either messages= (chat completions) or input= (the Responses API)")
    check_number("run_tools", "max_turns", max_turns, minimum=1, integer=True, kind="a number of model calls")
    check_flag("parallel", parallel, optional=False)
    for name in ("stream", "deferred"):
        check_flag(name, params.get(name))
        if params.get(name):
            raise InvalidArgumentError("run_tools() waits for each answer; it cannot use %s=True" % name)
    prepared = dict(params, tools=list(tools))
    registry = prepare_runnable(prepared, flat=input is not None)
    options = dict(extra_headers=extra_headers, extra_query=extra_query, extra_body=extra_body, timeout=timeout)
    if messages is not None:
        return _chat_loop(client, model, list(messages), prepared, options, registry, max_turns, parallel)
    items: List[Any] = [{"role": "user", "content": input}] if isinstance(input, str) else list(input or ())
    return _responses_loop(client, model, items, prepared, options, registry, max_turns, parallel)


def _chat_loop(
    client: Client, model: str, history: List[Any], params: Dict[str, Any], options: Dict[str, Any],
    registry: Mapping[str, FunctionTool], max_turns: int, parallel: bool,
) -> ToolRun:
    results: List[ToolResult] = []
    completion: Any = None
    for turn in range(1, max_turns + 1):
        try:
            completion = client.chat.completions.create(model=model, messages=history, **params, **options)
        except XaiError as exc:
            setattr(exc, "run", ToolRun(completion, history, turn - 1, results))
            raise
        if not completion.choices:
            return ToolRun(completion, history, turn, results)
        message = completion.choices[0].message
        calls = [_chat_call(c) for c in message.tool_calls or () if c.type == "function"]
        if not calls:
            history.append(message._json())
            return ToolRun(completion, history, turn, results)
        if turn == max_turns:
            break  # calls that will not run stay out of the history, which stays valid to send
        history.append(message._json())
        done = execute_calls(calls, registry, parallel)
        results.extend(done)
        history.extend({"role": "tool", "tool_call_id": r.call_id, "content": r.output} for r in done)
        params = after_tools(params)
    raise _too_many_turns(ToolRun(completion, history, max_turns, results), max_turns)


def _chat_call(call: Any) -> Tuple[str, Any, Any]:
    """``(call_id, name, arguments)`` of a chat tool call; ``"function": null`` names no tool."""
    function = call.function
    if function is None:
        return call.id, None, ""
    return call.id, function.name, function.arguments


def _responses_loop(
    client: Client, model: str, items: List[Any], params: Dict[str, Any], options: Dict[str, Any],
    registry: Mapping[str, FunctionTool], max_turns: int, parallel: bool,
) -> ToolRun:
    results: List[ToolResult] = []
    stateless = params.get("store") is False
    request_input: List[Any] = list(items)
    response: Any = None
    for turn in range(1, max_turns + 1):
        try:
            response = client.responses.create(model=model, input=request_input, **params, **options)
        except XaiError as exc:
            setattr(exc, "run", ToolRun(response, items, turn - 1, results))
            raise
        calls = [(c.call_id, c.name, c.arguments) for c in response.function_calls]
        if not calls:
            items.extend(response.output or ())
            return ToolRun(response, items, turn, results)
        if turn == max_turns:
            break  # calls that will not run stay out of the history, which stays valid to send
        items.extend(response.output or ())
        done = execute_calls(calls, registry, parallel)
        results.extend(done)
        outputs = [{"type": "function_call_output", "call_id": r.call_id, "output": r.output} for r in done]
        items.extend(outputs)
        if stateless:
            request_input = list(items)
        else:
            request_input = outputs
            params = dict(params, previous_response_id=response.id)
            params.pop("instructions", None)
        params = after_tools(params)
    raise _too_many_turns(ToolRun(response, items, max_turns, results), max_turns)


def _too_many_turns(run: ToolRun, max_turns: int) -> MaxTurnsError:
    return MaxTurnsError(
        "the model still asked for tools after max_turns=%d model calls; raise max_turns, or read "
        "error.run for the history and results so far" % max_turns,
        run=run,
    )
