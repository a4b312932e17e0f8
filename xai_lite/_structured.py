"""Structured outputs without pydantic: a JSON schema from Python type hints, and the reply checked
against it (and turned into the type) with errors that name the path that failed.

Supported types: ``str``, ``int``, ``float``, ``bool``, ``None``, ``Any``, dataclasses (nested),
``List[X]``/``Sequence[X]``, ``Tuple[X, ...]``, ``Dict[str, X]``, ``Optional[X]``/``Union``,
``Literal[...]`` and ``Enum`` subclasses. A plain JSON-schema dict works too: the reply is then
checked against the keywords that decide its shape (``type``, ``properties``, ``required``,
``additionalProperties``, ``items``, ``enum``, ``const``, ``anyOf``/``oneOf``, local ``$ref``) and
returned as decoded JSON.

The schema lists every dataclass field as required and forbids other properties: that is what
strict structured outputs accept (OpenAI's rule, which xAI's ``strict`` follows). A field with a
default still gets its default when a reply leaves it out.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import json
import re
import sys
import types
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    ForwardRef,
    List,
    Literal,
    Mapping,
    Optional,
    Tuple,
    Union,
    cast,
    get_args,
    get_origin,
    get_type_hints,
)

from .errors import InvalidArgumentError, XaiError, reexported

if TYPE_CHECKING:
    from ._chat import ChatCompletions
    from .types import ChatCompletion

__all__ = [
    "Mismatch",
    "OutputSpec",
    "StructuredOutputError",
    "check_schema",
    "convert",
    "json_schema",
    "parse_chat",
    "type_hints",
]

_NAME_OK = re.compile(r"[^a-zA-Z0-9_-]")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_JSON_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}
# Union[X, Y] and, from Python 3.10, X | Y (whose origin is types.UnionType).
_UNIONS: Tuple[Any, ...] = tuple(t for t in (Union, getattr(types, "UnionType", None)) if t is not None)
# list[int] and the like (Python 3.9+): unlike typing's aliases they have no copy_with(), and
# before 3.11 get_type_hints leaves a string inside them (list["Node"]) unevaluated.
_GENERIC_ALIAS: Any = getattr(types, "GenericAlias", None)
_SEQUENCES = (list, tuple, collections.abc.Sequence)
_MAPPINGS = (dict, collections.abc.Mapping)
_SUPPORTED = (
    "str, int, float, bool, None, Any, dataclasses, List, Tuple[X, ...], Dict[str, X], Optional, Union, "
    "Literal and Enum"
)


class StructuredOutputError(XaiError, ValueError):
    """The model's structured answer does not match the type or schema that was asked for.

    ``path`` names the place that failed (``items[2].price``; empty for the whole answer) and
    ``response`` is the whole completion or response, so nothing the server sent is lost.
    """

    def __init__(self, message: str, *, path: str = "", response: Any = None) -> None:
        super().__init__(message)
        self.path = path
        self.response = response


reexported(StructuredOutputError)


class Mismatch(Exception):
    """Internal: a value that does not fit, at ``path``."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__("%s: %s" % (path or "(root)", problem))
        self.path = path
        self.problem = problem


# ---------------------------------------------------------------------------------------------
# Type hints -> JSON schema


def json_schema(tp: Any) -> Dict[str, Any]:
    """The JSON schema of the type ``tp`` (see the module docstring for the types supported).
    Raises :class:`InvalidArgumentError` for a type it cannot describe."""
    return _schema(tp, ())


def _schema(tp: Any, stack: Tuple[type, ...]) -> Dict[str, Any]:
    if tp is Any or tp is object:
        return {}
    simple = _JSON_TYPES.get(tp)
    if simple is not None:
        return {"type": simple}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum_schema([member.value for member in tp], tp.__name__)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dataclass_schema(tp, stack)
    origin, args = get_origin(tp), get_args(tp)
    if origin is Literal:
        return _enum_schema(list(args), repr(tp))
    if origin in _UNIONS:
        options = [_schema(arg, stack) for arg in args]
        return options[0] if len(options) == 1 else {"anyOf": options}
    if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
        raise InvalidArgumentError("cannot describe %r as JSON: use Tuple[X, ...] or List[X] for arrays" % (tp,))
    if tp in (list, tuple) or origin in _SEQUENCES:
        return {"type": "array", "items": _schema(args[0], stack) if args else {}}
    if tp is dict or origin in _MAPPINGS:
        if args and args[0] is not str:
            raise InvalidArgumentError("cannot describe %r as JSON: object keys are strings, use Dict[str, X]" % (tp,))
        return {"type": "object", "additionalProperties": _schema(args[1], stack) if args else {}}
    raise InvalidArgumentError("cannot describe %r as JSON schema; supported are %s" % (tp, _SUPPORTED))


def _enum_schema(values: List[Any], what: str) -> Dict[str, Any]:
    kinds = {_JSON_TYPES.get(type(value)) for value in values}
    if None in kinds or not values:
        raise InvalidArgumentError("%s: enum and Literal values must be strings, numbers, booleans or None" % what)
    schema: Dict[str, Any] = {"enum": values}
    if len(kinds) == 1:
        schema["type"] = kinds.pop()
    return schema


def _dataclass_schema(tp: type, stack: Tuple[type, ...]) -> Dict[str, Any]:
    if tp in stack:
        raise InvalidArgumentError(
            "%s refers to itself; recursive dataclasses cannot be inlined in a JSON schema, pass a "
            "JSON-schema dict with $defs instead" % tp.__name__
        )
    hints = type_hints(tp)
    properties: Dict[str, Any] = {}
    for f in dataclasses.fields(tp):
        if not f.init:
            continue
        prop = _schema(hints.get(f.name, Any), stack + (tp,))
        description = f.metadata.get("description")
        if isinstance(description, str):
            prop = dict(prop, description=description)
        properties[f.name] = prop
    schema: Dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    doc = _own_doc(tp)
    if doc:
        schema["description"] = doc
    return schema


def type_hints(obj: Any) -> Dict[str, Any]:
    """The evaluated type hints of a class or function, nested forward references included
    (``typing.get_type_hints`` leaves ``List["Node"]`` unresolved before Python 3.9)."""
    module = sys.modules.get(getattr(obj, "__module__", None) or "")
    namespace = dict(vars(module)) if module is not None else {}
    try:
        return {name: _evaluated(hint, namespace) for name, hint in get_type_hints(obj).items()}
    except (NameError, TypeError, SyntaxError) as exc:
        problem = "%s: %s" % (type(exc).__name__, exc)
    raise InvalidArgumentError(
        "cannot read the type hints of %s (%s); define the types it uses at module level"
        % (getattr(obj, "__qualname__", obj), problem)
    )


def _evaluated(hint: Any, namespace: Dict[str, Any]) -> Any:
    if isinstance(hint, ForwardRef):
        # The same evaluation get_type_hints does, one level further down.
        return _evaluated(eval(hint.__forward_arg__, namespace), namespace)  # noqa: S307
    args = getattr(hint, "__args__", None)
    builtin = _GENERIC_ALIAS is not None and isinstance(hint, _GENERIC_ALIAS)
    if args and get_origin(hint) is not Literal and (builtin or hasattr(hint, "copy_with")):
        # A string argument is a forward reference (typing's aliases wrap it in ForwardRef themselves).
        resolved = tuple(_evaluated(ForwardRef(arg) if isinstance(arg, str) else arg, namespace) for arg in args)
        if resolved != args:
            return _GENERIC_ALIAS(get_origin(hint), resolved) if builtin else hint.copy_with(resolved)
    return hint


def _own_doc(tp: type) -> str:
    """The class docstring, unless it is the signature dataclasses writes when there is none."""
    doc = (tp.__doc__ or "").strip()
    return "" if doc.startswith(tp.__name__ + "(") else " ".join(doc.split())


# ---------------------------------------------------------------------------------------------
# JSON value -> Python value, checked against a type


def convert(value: Any, tp: Any, path: str = "") -> Any:
    """``value`` (decoded JSON) as an instance of ``tp``; raises :class:`Mismatch` naming the
    path of the first part that does not fit."""
    if tp is Any or tp is object:
        return value
    if tp is type(None):
        if value is not None:
            raise _expected(path, "null", value)
        return None
    if tp is str:
        if not isinstance(value, str):
            raise _expected(path, "string", value)
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise _expected(path, "boolean", value)
        return value
    if tp is int:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise _expected(path, "integer", value)
        return value
    if tp is float:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise _expected(path, "number", value)
        try:
            return float(value)
        except OverflowError:
            problem = "the number %s is too large for a float" % _show(value)
        raise Mismatch(path, problem)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        for member in tp:
            if _same_json(member.value, value):
                return member
        raise _expected(path, "one of %s" % _show([m.value for m in tp], 120), value)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _convert_dataclass(value, tp, path)
    origin, args = get_origin(tp), get_args(tp)
    if origin is Literal:
        for option in args:
            if _same_json(option, value):
                return option
        raise _expected(path, "one of %s" % _show(list(args), 120), value)
    if origin in _UNIONS:
        return _convert_union(value, args, path)
    if tp in (list, tuple) or origin in _SEQUENCES:
        if not isinstance(value, list):
            raise _expected(path, "array", value)
        item = args[0] if args else Any
        items = [convert(v, item, "%s[%d]" % (path, i)) for i, v in enumerate(value)]
        return tuple(items) if tp is tuple or origin is tuple else items
    if tp is dict or origin in _MAPPINGS:
        if not isinstance(value, dict):
            raise _expected(path, "object", value)
        item = args[1] if len(args) == 2 else Any
        return {k: convert(v, item, _key(path, k)) for k, v in value.items()}
    raise Mismatch(path, "the type %r is not supported (supported are %s)" % (tp, _SUPPORTED))


def _convert_union(value: Any, args: Tuple[Any, ...], path: str) -> Any:
    if value is None and type(None) in args:
        return None
    options = [option for option in args if option is not type(None)]
    if len(options) == 1:  # Optional[X]: X's own, more precise, complaint
        return convert(value, options[0], path)
    for option in options:
        try:
            return convert(value, option, path)
        except Mismatch:
            continue
    raise _expected(path, " or ".join(_type_name(option) for option in args), value)


def _type_name(tp: Any) -> str:
    if tp in _JSON_TYPES:
        return _JSON_TYPES[tp]
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return "object"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp.__name__
    origin = get_origin(tp)
    if tp in (list, tuple) or origin in _SEQUENCES:
        return "array"
    if tp is dict or origin in _MAPPINGS:
        return "object"
    return repr(tp)


def _convert_dataclass(value: Any, tp: type, path: str) -> Any:
    if not isinstance(value, dict):
        raise _expected(path, "object", value)
    hints = type_hints(tp)
    fields = {f.name: f for f in dataclasses.fields(tp) if f.init}
    for name in value:
        if name not in fields:
            known = ", ".join(fields) or "no fields"
            raise Mismatch(path, "unexpected field %s (%s has %s)" % (json.dumps(name), tp.__name__, known))
    kwargs: Dict[str, Any] = {}
    for name, f in fields.items():
        sub = _key(path, name)
        if name not in value:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise Mismatch(sub, "missing (it is required)")
            continue
        kwargs[name] = convert(value[name], hints.get(name, Any), sub)
    try:
        return tp(**kwargs)
    except (TypeError, ValueError) as exc:
        problem = "%s: %s" % (type(exc).__name__, exc)
    raise Mismatch(path, "%s(...) refused the values: %s" % (tp.__name__, problem))


def _key(path: str, key: str) -> str:
    if _IDENTIFIER.fullmatch(key):
        return "%s.%s" % (path, key) if path else key
    return "%s[%s]" % (path, json.dumps(key))


def _show(value: Any, limit: int = 60) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _expected(path: str, what: str, value: Any) -> Mismatch:
    return Mismatch(path, "expected %s, got %s" % (what, _show(value)))


# ---------------------------------------------------------------------------------------------
# JSON value checked against a JSON-schema dict


def check_schema(value: Any, schema: Any, root: Dict[str, Any], path: str = "") -> None:
    """Raise :class:`Mismatch` where ``value`` breaks the shape ``schema`` describes."""
    if not isinstance(schema, dict):
        return  # true, false or junk: nothing this checker can hold the value to
    ref = schema.get("$ref")
    if isinstance(ref, str):
        target = _resolve(ref, root)
        if target is not None:
            check_schema(value, target, root, path)
    if "const" in schema and not _same_json(value, schema["const"]):
        raise _expected(path, _show(schema["const"]), value)
    choices = schema.get("enum")
    if isinstance(choices, list) and not any(_same_json(value, c) for c in choices):
        raise _expected(path, "one of %s" % _show(choices, 120), value)
    for keyword in ("anyOf", "oneOf"):
        options = schema.get(keyword)
        if isinstance(options, list) and options:
            _check_any(value, options, root, path)
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(_is_type(value, k) for k in kinds):
            raise _expected(path, " or ".join(map(str, kinds)), value)
    if isinstance(value, dict):
        _check_object(value, schema, root, path)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            check_schema(item, schema["items"], root, "%s[%d]" % (path, i))


def _same_json(a: Any, b: Any) -> bool:
    """Whether two decoded JSON values are equal as JSON: numbers by value (``2 == 2.0``), but a
    boolean is never a number (``true != 1``), and arrays and objects member by member."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_json(value, b[key]) for key, value in a.items())
    return type(a) is type(b) and a == b


def _check_any(value: Any, options: List[Any], root: Dict[str, Any], path: str) -> None:
    problems = []
    for option in options:
        try:
            check_schema(value, option, root, path)
            return
        except Mismatch as exc:
            problems.append(exc.problem)
    raise Mismatch(path, "matches none of the %d alternatives (%s)" % (len(options), "; ".join(problems)))


def _check_object(value: Dict[str, Any], schema: Dict[str, Any], root: Dict[str, Any], path: str) -> None:
    properties = schema.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    for name in schema.get("required") or ():
        if name not in value:
            raise Mismatch(_key(path, name), "missing (it is required)")
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        if name in properties:
            check_schema(item, properties[name], root, _key(path, name))
        elif extra is False:
            raise Mismatch(path, "unexpected field %s" % json.dumps(name))
        elif isinstance(extra, dict):
            check_schema(item, extra, root, _key(path, name))


def _is_type(value: Any, kind: Any) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and value.is_integer())
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "null":
        return value is None
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    return True  # a type name this checker does not know: the server's business


def _resolve(ref: str, root: Dict[str, Any]) -> Optional[Any]:
    if not ref.startswith("#/"):
        return None  # remote references are not fetched
    node: Any = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


# ---------------------------------------------------------------------------------------------
# What the callers use


class OutputSpec:
    """The structured output asked for: a type (dataclass, ``List[...]``, ...) or a JSON-schema
    dict. Builds the ``response_format`` / ``text.format`` to send, and parses the answer."""

    def __init__(self, target: Any) -> None:
        self.target = target
        self._convert: Callable[[Any], Any]
        if isinstance(target, Mapping):
            schema = dict(target)
            if schema.get("type") == "json_schema":  # a whole response_format / text.format was given
                inner = schema.get("json_schema", schema)
                schema = dict(inner.get("schema") or {}) if isinstance(inner, Mapping) else {}
            if not schema:
                raise InvalidArgumentError(
                    "the JSON schema is empty; give a schema such as {'type': 'object', 'properties': {...}}"
                )
            title = schema.get("title")
            self.name = _name(title if isinstance(title, str) else "response")
            self.schema = schema
            self._convert = lambda value: _checked(value, schema)
        else:
            if not (isinstance(target, type) or get_origin(target) is not None):
                raise InvalidArgumentError(
                    "response_format must be a type (such as a dataclass) or a JSON-schema dict, not %r" % (target,)
                )
            self.schema = json_schema(target)
            self.name = _name(getattr(target, "__name__", "response"))
            self._convert = lambda value: convert(value, target)

    def chat_format(self) -> Dict[str, Any]:
        """The ``response_format`` of a chat completion request."""
        return {"type": "json_schema", "json_schema": {"name": self.name, "schema": self.schema, "strict": True}}

    def responses_format(self) -> Dict[str, Any]:
        """The ``text.format`` of a Responses request (flat, unlike chat)."""
        return {"type": "json_schema", "name": self.name, "schema": self.schema, "strict": True}

    def parse(self, text: Optional[str], *, response: Any, cut_off: str = "", where: str = "") -> Any:
        """The answer ``text`` decoded and checked; :class:`StructuredOutputError` if it does not fit
        (also when the server sent no string, or JSON nested too deeply to decode).
        ``cut_off`` explains a truncated answer; ``where`` prefixes the message (``choice 1``)."""
        prefix = "%s: " % where if where else ""
        if text is None:
            raise StructuredOutputError(
                "%sthe reply has no text to parse as %s%s" % (prefix, self.name, cut_off), response=response
            )
        if not isinstance(text, str):
            raise StructuredOutputError(
                "%sthe reply's content is of type %s, not text to parse as %s; the server sent a malformed answer"
                % (prefix, type(text).__name__, self.name),
                response=response,
            )
        try:
            value = json.loads(text)
        except ValueError as exc:
            problem = str(exc)
        except RecursionError:
            problem = "it is nested too deeply to decode"
        else:
            try:
                return self._convert(value)
            except Mismatch as exc:
                mismatch = exc
            except RecursionError:
                mismatch = Mismatch("", "it is nested too deeply to check")
            raise StructuredOutputError(
                "%sthe reply does not match %s: %s" % (prefix, self.name, mismatch), path=mismatch.path, response=response
            )
        raise StructuredOutputError(
            "%sthe reply is not valid JSON (%s)%s: %s" % (prefix, problem, cut_off, _show(text, 80)), response=response
        )


def _checked(value: Any, schema: Dict[str, Any]) -> Any:
    check_schema(value, schema, schema)
    return value


def _name(text: str) -> str:
    """A schema name the API accepts: letters, digits, ``_`` and ``-``, at most 64."""
    return _NAME_OK.sub("_", text)[:64] or "response"


def parse_chat(
    completions: ChatCompletions, model: str, messages: Any, response_format: Any, params: Dict[str, Any],
    options: Dict[str, Any],
) -> ChatCompletion:
    """``client.chat.completions.parse``: see its docstring."""
    spec = OutputSpec(response_format)
    for name in ("stream", "deferred"):
        if params.pop(name, None):
            raise InvalidArgumentError("parse() needs the whole answer at once; it cannot use %s=True" % name)
    completion = cast(
        "ChatCompletion",
        completions.create(model=model, messages=messages, response_format=spec.chat_format(), **params, **options),
    )
    for choice in completion.choices:
        message = choice.message
        if message.content is None and message.refusal:
            continue  # the model declined: nothing to parse, and the refusal says why
        cut_off = ""
        if choice.finish_reason == "length":
            cut_off = " (the answer was cut off at the token limit: finish_reason 'length'; raise max_completion_tokens)"
        where = "choice %d" % choice.index if len(completion.choices) > 1 else ""
        message.__dict__["_parsed"] = spec.parse(message.content, response=completion, cut_off=cut_off, where=where)
    return completion
