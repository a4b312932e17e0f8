"""Tool definitions: function tools built from Python functions, their validation, and builders
for xAI's server-side tools (web and X search, code execution, file search, remote MCP servers),
which the server runs itself. The tool-call loop is in ``_tool_loop``.
"""

from __future__ import annotations

import datetime
import inspect
import json
import re
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, TypeVar, Union, overload

from ._chat import LIVE_SEARCH_REMOVED
from ._repr import safe_repr
from ._structured import Mismatch, convert, json_schema, type_hints
from .errors import InvalidArgumentError

__all__ = [
    "FunctionTool",
    "check_server_tool",
    "code_interpreter",
    "file_search",
    "mcp",
    "prepare_tools",
    "tool",
    "web_search",
    "x_search",
]

_F = TypeVar("_F", bound=Callable[..., Any])

NAME_PATTERN = re.compile(r"[a-zA-Z0-9_-]{1,64}")  # seed 002 8.2; what the API accepts
MAX_TOOLS = 350  # xAI's limit per request (reference/xai_api.md 1.1 and 2.1)
MAX_DESCRIPTION_CHARS = 1024  # seed 002 8.2
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CHOICES = ("none", "auto", "required")

# Fields of server-side tools that xAI answers with an error: "Request will be rejected if this
# field is set" (reference/xai_api.md 2.1).
_REJECTED = {
    "web_search": ("search_context_size", "user_location", "external_web_access"),
    "code_interpreter": ("container",),
    "file_search": ("filters", "ranking_options"),
}
# Pairs of mutually exclusive list fields, and their longest allowed length (reference 2.1).
_EXCLUSIVE = {
    "web_search": ("allowed_domains", "excluded_domains", 5),
    "x_search": ("allowed_x_handles", "excluded_x_handles", 10),
}


# ---------------------------------------------------------------------------------------------
# Function tools


class FunctionTool:
    """A Python function the model may call, with its JSON-schema definition.

    Build one with :func:`tool`. Calling the tool calls the function; :meth:`invoke` runs it with
    the model's JSON arguments, checked against the type hints (a dataclass parameter is built
    from its JSON object).
    """

    def __init__(
        self, fn: Callable[..., Any], *, name: Optional[str] = None, description: Optional[str] = None,
        strict: Optional[bool] = None,
    ) -> None:
        if not callable(fn):
            raise InvalidArgumentError("tool() needs a function, not %r" % (fn,))
        summary, documented = _parse_docstring(inspect.getdoc(fn) or "")
        self.fn = fn
        self.name: str = name if name is not None else getattr(fn, "__name__", "")
        self.description: str = description if description is not None else summary
        self.strict = strict
        self.parameters, self._types, self._required = _parameters(fn, documented, self.name)
        _check_function(self.name, self.description, "tool %r" % self.name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    @safe_repr
    def __repr__(self) -> str:
        return "<FunctionTool %s>" % self.name

    def chat_spec(self) -> Dict[str, Any]:
        """The definition for ``chat.completions.create(tools=[...])``."""
        function: Dict[str, Any] = {"name": self.name, "description": self.description, "parameters": self.parameters}
        if self.strict is not None:
            function["strict"] = self.strict
        return {"type": "function", "function": function}

    def responses_spec(self) -> Dict[str, Any]:
        """The definition for ``responses.create(tools=[...])`` (flat, unlike chat)."""
        spec = dict(self.chat_spec()["function"])
        return dict(type="function", **spec)

    def invoke(self, arguments: str) -> Any:
        """Run the function with ``arguments``, the JSON object string the model sent.
        Raises ``ValueError`` when the arguments do not fit the function's parameters."""
        try:
            data = json.loads(arguments) if arguments and arguments.strip() else {}
        except ValueError as exc:
            raise ValueError("the arguments are not valid JSON (%s): %.80r" % (exc, arguments)) from None
        if not isinstance(data, dict):
            raise ValueError("the arguments must be a JSON object, not %.80s" % arguments)
        for key in data:
            if key not in self._types:
                takes = ", ".join(self._types) or "nothing"
                raise ValueError("unexpected argument %r (%s takes: %s)" % (key, self.name, takes))
        for key in self._required:
            if key not in data:
                raise ValueError("missing argument %r" % key)
        try:
            kwargs = {key: convert(value, self._types[key], key) for key, value in data.items()}
        except Mismatch as exc:
            raise ValueError("invalid arguments: %s" % exc) from None
        return self.fn(**kwargs)


@overload
def tool(fn: _F) -> FunctionTool: ...


@overload
def tool(
    fn: None = None, *, name: Optional[str] = None, description: Optional[str] = None, strict: Optional[bool] = None
) -> Callable[[Callable[..., Any]], FunctionTool]: ...


def tool(
    fn: Optional[Callable[..., Any]] = None,
    *,
    name: Optional[str] = None,
    description: Optional[str] = None,
    strict: Optional[bool] = None,
) -> Union[FunctionTool, Callable[[Callable[..., Any]], FunctionTool]]:
    """A function tool from a Python function: its name, the first part of its docstring as the
    description, and a JSON schema of its parameters from the signature, type hints and the
    docstring's ``Args:`` (or ``:param x:``) lines. Use it as a decorator, with or without
    arguments, or call it::

        @tool
        def get_weather(city: str, unit: Literal["C", "F"] = "C") -> str:
            \"\"\"The current weather in a city.

            Args:
                city: The city, e.g. "Paris".
            \"\"\"

    Raises :class:`InvalidArgumentError` for a name outside ``[a-zA-Z0-9_-]{1,64}``, a
    description over 1,024 characters, ``*args``/``**kwargs``, or a type it cannot describe.
    """
    if fn is None:
        return lambda f: FunctionTool(f, name=name, description=description, strict=strict)
    return FunctionTool(fn, name=name, description=description, strict=strict)


def _parameters(
    fn: Callable[..., Any], documented: Dict[str, str], name: str
) -> Tuple[Dict[str, Any], Dict[str, Any], List[str]]:
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        raise InvalidArgumentError("tool %r: cannot read the signature of %r" % (name, fn)) from None
    hints = type_hints(fn)
    properties: Dict[str, Any] = {}
    types: Dict[str, Any] = {}
    required: List[str] = []
    for param in signature.parameters.values():
        if param.kind not in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
            raise InvalidArgumentError(
                "tool %r: parameter %r cannot be described to the model; tool functions take named "
                "parameters (no *args, **kwargs or positional-only ones)" % (name, param.name)
            )
        types[param.name] = hints.get(param.name, Any)
        schema = dict(json_schema(types[param.name]))
        if param.name in documented:
            schema["description"] = documented[param.name]
        properties[param.name] = schema
        if param.default is param.empty:
            required.append(param.name)
    parameters = {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
    return parameters, types, required


_SECTION = re.compile(r"^(Args|Arguments|Parameters|Params|Returns?|Raises|Yields|Examples?|Notes?):\s*$")
_PARAM_SECTIONS = ("Args", "Arguments", "Parameters", "Params")
_GOOGLE_PARAM = re.compile(r"^\s+(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_REST_PARAM = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")


def _parse_docstring(doc: str) -> Tuple[str, Dict[str, str]]:
    """The summary (the text before any section) and the parameter descriptions of a
    Google-style (``Args:``) or reST-style (``:param x:``) docstring."""
    summary: List[str] = []
    params: Dict[str, str] = {}
    section: Optional[str] = None
    current: Optional[str] = None
    base: Optional[int] = None  # the indent of the parameter lines of an Args: section
    for line in doc.splitlines():
        text = line.strip()
        header = _SECTION.match(text)
        rest = _REST_PARAM.match(text)
        if header:
            section, current, base = header.group(1), None, None
        elif rest:
            section, current = "rest", rest.group(1)
            params[current] = rest.group(2).strip()
        elif text.startswith(":"):
            section, current = "rest", None  # :returns:, :raises: ...
        elif section is None:
            summary.append(text)
        elif section in _PARAM_SECTIONS:
            match = _GOOGLE_PARAM.match(line)
            indent = len(line) - len(line.lstrip())
            if match and (base is None or indent <= base):
                base, current = indent, match.group(1).lstrip("*")
                params[current] = match.group(2).strip()
            elif current is not None and text:
                params[current] = (params[current] + " " + text).strip()
        elif section == "rest" and current is not None and text:
            params[current] += " " + text
    return " ".join(" ".join(summary).split()), params


# ---------------------------------------------------------------------------------------------
# Validation of tool definitions


def _check_function(name: Any, description: Any, where: str) -> None:
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise InvalidArgumentError(
            "%s: the name %r is not allowed; tool names are 1 to 64 letters, digits, '_' or '-'" % (where, name)
        )
    if description is not None and not isinstance(description, str):
        raise InvalidArgumentError("%s: the description must be a string" % where)
    if description and len(description) > MAX_DESCRIPTION_CHARS:
        raise InvalidArgumentError(
            "%s: the description is %d characters, over the limit of %d; pass a shorter "
            "description=..." % (where, len(description), MAX_DESCRIPTION_CHARS)
        )


def check_server_tool(spec: Mapping[str, Any], where: str) -> None:
    """Refuse what xAI rejects in a server-side tool definition, before any request."""
    kind = spec.get("type")
    if kind == "live_search":
        raise InvalidArgumentError("%s: %s" % (where, LIVE_SEARCH_REMOVED))
    for name in _REJECTED.get(str(kind), ()):
        if name in spec:
            raise InvalidArgumentError(
                "%s: %s does not accept %r; xAI rejects any request that sets it (\"Request will be "
                "rejected if this field is set\"), so leave it out" % (where, kind, name)
            )
    exclusive = _EXCLUSIVE.get(str(kind))
    if exclusive is not None:
        first, second, limit = exclusive
        if spec.get(first) and spec.get(second):
            raise InvalidArgumentError("%s: %s takes %s or %s, not both" % (where, kind, first, second))
        for name in (first, second):
            _check_strings(spec.get(name), "%s: %s" % (where, name), limit)
    if kind == "file_search":
        ids = spec.get("vector_store_ids")
        _check_strings(ids, "%s: vector_store_ids (collection ids)" % where, 10)
        if not ids:
            raise InvalidArgumentError("%s: file_search needs vector_store_ids, the collections to search" % where)
    if kind == "mcp":
        url = spec.get("server_url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise InvalidArgumentError("%s: mcp needs server_url, the http(s) URL of the MCP server" % where)
        if not isinstance(spec.get("server_label"), str) or not spec.get("server_label"):
            raise InvalidArgumentError("%s: mcp needs server_label, a short name for the server" % where)


def _check_strings(value: Any, what: str, limit: int) -> None:
    if value is None:
        return
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
        raise InvalidArgumentError("%s must be a list of non-empty strings, not %r" % (what, value))
    if len(value) > limit:
        raise InvalidArgumentError("%s has %d entries; xAI allows at most %d" % (what, len(value), limit))


def prepare_tools(params: Dict[str, Any], *, flat: bool) -> Dict[str, FunctionTool]:
    """Check ``params["tools"]`` and ``params["tool_choice"]`` and replace the tools by their JSON
    definitions (functions and :class:`FunctionTool` become specs; chat-shaped function specs
    become flat ones for the Responses API (``flat=True``) and the other way round; a
    ``tool_choice`` naming a function is reshaped the same way). Returns the function tools by
    name. Raises :class:`InvalidArgumentError` before any request."""
    tools = params.get("tools")
    registry: Dict[str, FunctionTool] = {}
    names: List[str] = []
    if tools is not None:
        if isinstance(tools, (str, bytes, Mapping)) or not isinstance(tools, (list, tuple)):
            raise InvalidArgumentError("tools must be a list of tool definitions, not %s" % type(tools).__name__)
        if len(tools) > MAX_TOOLS:
            raise InvalidArgumentError("%d tools were given; xAI accepts at most %d per request" % (len(tools), MAX_TOOLS))
        specs = []
        for i, item in enumerate(tools):
            where = "tools[%d]" % i
            if not isinstance(item, (FunctionTool, Mapping)) and callable(item):
                item = FunctionTool(item)
            if isinstance(item, FunctionTool):
                registry[item.name] = item
                spec = item.responses_spec() if flat else item.chat_spec()
            elif isinstance(item, Mapping):
                spec = _reshape(dict(item), flat)
            else:
                raise InvalidArgumentError("%s is a %s; give a dict, a function or tool(fn)" % (where, type(item).__name__))
            if spec.get("type") == "function":
                function = spec if flat else spec.get("function")
                if not isinstance(function, Mapping):
                    raise InvalidArgumentError("%s: a function tool needs 'function': {'name': ..., 'parameters': ...}" % where)
                _check_function(function.get("name"), function.get("description"), where)
                if function["name"] in names:
                    raise InvalidArgumentError(
                        "%s: the tool name %r is used twice; tool names must be unique" % (where, function["name"])
                    )
                names.append(function["name"])
            else:
                check_server_tool(spec, where)
            specs.append(spec)
        params["tools"] = specs
    choice = params.get("tool_choice")
    _check_choice(choice, names, tools is not None and len(tools) > 0)
    if isinstance(choice, Mapping):
        params["tool_choice"] = _reshape(dict(choice), flat)
    return registry


def _reshape(spec: Dict[str, Any], flat: bool) -> Dict[str, Any]:
    # A function tool, or a tool_choice naming one: chat nests it under "function"
    # ({"type": "function", "function": {"name": ...}}, reference/xai_api.md 1.1), the Responses
    # API has it flat ({"type": "function", "name": ...}, 2.1). Either shape is accepted for both.
    if spec.get("type") != "function":
        return spec
    if flat and isinstance(spec.get("function"), Mapping):
        return dict(spec["function"], type="function")
    if not flat and "function" not in spec and "name" in spec:
        return {"type": "function", "function": {k: v for k, v in spec.items() if k != "type"}}
    return spec


def _check_choice(choice: Any, names: List[str], have_tools: bool) -> None:
    if choice is None:
        return
    if isinstance(choice, str):
        if choice not in _CHOICES:
            raise InvalidArgumentError(
                "tool_choice must be 'none', 'auto', 'required' or a named function, not %r" % choice
            )
        if choice == "required" and not have_tools:
            raise InvalidArgumentError("tool_choice='required' needs tools=[...]")
        return
    if not isinstance(choice, Mapping):
        raise InvalidArgumentError("tool_choice must be a string or a dict, not %s" % type(choice).__name__)
    if choice.get("type") != "function":
        return  # a server-side tool type: the server checks it
    function = choice.get("function")
    if not isinstance(function, Mapping):
        function = choice  # the flat Responses form {"type": "function", "name": ...}
    name = function.get("name")
    if name not in names:
        raise InvalidArgumentError(
            "tool_choice names the function %r, which is not among the tools (%s)"
            % (name, ", ".join(names) or "none were given")
        )


# ---------------------------------------------------------------------------------------------
# Server-side tools


def web_search(
    *,
    allowed_domains: Optional[Sequence[str]] = None,
    excluded_domains: Optional[Sequence[str]] = None,
    enable_image_search: Optional[bool] = None,
    enable_image_understanding: Optional[bool] = None,
    filters: Optional[Mapping[str, Any]] = None,
    **unsupported: Any,
) -> Dict[str, Any]:
    """xAI's server-side web search, for ``client.responses.create(tools=[web_search()])``.

    ``allowed_domains`` or ``excluded_domains`` (at most 5, not both) narrow it. OpenAI's
    ``search_context_size``, ``user_location`` and ``external_web_access`` are refused with
    :class:`InvalidArgumentError`: xAI rejects requests that set them.
    """
    return _server_tool(
        "web_search", unsupported, allowed_domains=allowed_domains, excluded_domains=excluded_domains,
        enable_image_search=enable_image_search, enable_image_understanding=enable_image_understanding, filters=filters,
    )


def x_search(
    *,
    allowed_x_handles: Optional[Sequence[str]] = None,
    excluded_x_handles: Optional[Sequence[str]] = None,
    from_date: Union[str, datetime.date, None] = None,
    to_date: Union[str, datetime.date, None] = None,
    enable_image_understanding: Optional[bool] = None,
    enable_video_understanding: Optional[bool] = None,
) -> Dict[str, Any]:
    """xAI's server-side search of posts on X. ``allowed_x_handles`` or ``excluded_x_handles``
    (at most 10, not both); ``from_date``/``to_date`` as ``datetime.date`` or ``"YYYY-MM-DD"``."""
    dates = {}
    for name, value in (("from_date", from_date), ("to_date", to_date)):
        if isinstance(value, datetime.date):
            value = value.isoformat()[:10]
        if value is not None and (not isinstance(value, str) or not _DATE.fullmatch(value)):
            raise InvalidArgumentError("x_search(): %s must be a date or 'YYYY-MM-DD', not %r" % (name, value))
        dates[name] = value
    return _server_tool(
        "x_search", {}, allowed_x_handles=allowed_x_handles, excluded_x_handles=excluded_x_handles,
        enable_image_understanding=enable_image_understanding, enable_video_understanding=enable_video_understanding,
        **dates,
    )


def code_interpreter(**unsupported: Any) -> Dict[str, Any]:
    """xAI's server-side code execution (Python in a sandbox). ``container`` is refused: xAI
    rejects requests that set it."""
    return _server_tool("code_interpreter", unsupported)


def file_search(
    vector_store_ids: Sequence[str], *, max_num_results: Optional[int] = None, **unsupported: Any
) -> Dict[str, Any]:
    """xAI's server-side search of your collections (``vector_store_ids``: up to 10 collection
    ids). ``filters`` and ``ranking_options`` are refused: xAI rejects requests that set them."""
    if isinstance(vector_store_ids, str):
        vector_store_ids = [vector_store_ids]
    return _server_tool("file_search", unsupported, vector_store_ids=vector_store_ids, max_num_results=max_num_results)


def mcp(
    server_url: str,
    server_label: str,
    *,
    allowed_tools: Optional[Sequence[str]] = None,
    authorization: Optional[str] = None,
    headers: Optional[Mapping[str, str]] = None,
    require_approval: Optional[str] = None,
    connector_id: Optional[str] = None,
    server_description: Optional[str] = None,
) -> Dict[str, Any]:
    """A remote MCP server whose tools xAI's servers call for the model. ``authorization`` (a
    token for that server) is sent in the request body; keep it out of logs."""
    return _server_tool(
        "mcp", {}, server_url=server_url, server_label=server_label, allowed_tools=allowed_tools,
        authorization=authorization, headers=headers, require_approval=require_approval,
        connector_id=connector_id, server_description=server_description,
    )


def _server_tool(kind: str, unsupported: Dict[str, Any], **fields: Any) -> Dict[str, Any]:
    for name in unsupported:
        if name not in _REJECTED.get(kind, ()):
            raise TypeError("%s() got an unexpected keyword argument %r" % (kind, name))
    spec: Dict[str, Any] = {"type": kind}
    for name, value in fields.items():
        if value is not None:
            spec[name] = list(value) if isinstance(value, tuple) else dict(value) if isinstance(value, Mapping) else value
    spec.update(unsupported)
    check_server_tool(spec, kind + "()")
    return spec
