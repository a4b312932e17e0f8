"""Requests and responses as bytes on the wire: strict JSON out and in, ids in URL paths,
request ids, and turning a decoded body into a result object."""

from __future__ import annotations

import json
import math
import os
import re
from typing import Any, Dict, List, Mapping, Optional, Tuple, Type, TypeVar
from urllib.parse import quote, urlencode

from ._config import DEFAULT_MAX_REQUEST_BYTES, JSON_BYTES_PER_CONTAINER
from ._secrets import Secret
from ._transport import Exchange
from .errors import HttpError, InvalidArgumentError, sanitize
from .types import WireObject

__all__ = [
    "decode_json",
    "describe_type",
    "encode_json",
    "is_json",
    "new_request_id",
    "parse_result",
    "path_segment",
    "query_string",
    "safe_location",
]

_W = TypeVar("_W", bound=WireObject)


def parse_result(cls: Type[_W], data: Dict[str, Any], exchange: Exchange) -> _W:
    """``data`` as a ``cls`` carrying the response's request id; a body of the wrong shape is an
    :class:`HttpError`."""
    try:
        obj = cls._parse(data)
    except (AttributeError, TypeError, KeyError):
        raise HttpError(
            "the response does not have the shape of a %s" % cls.__name__, status_code=exchange.status
        ) from None
    obj.__dict__["_request_id"] = exchange.request_id
    return obj


def encode_json(body: Any, limit: int = DEFAULT_MAX_REQUEST_BYTES) -> bytes:
    """Serialise a request body: strict JSON (no NaN or Infinity), UTF-8, within ``limit`` bytes."""
    problem = ""
    try:
        data = json.dumps(body, allow_nan=False, ensure_ascii=False, separators=(",", ":"), default=_json_default)
        encoded = data.encode("utf-8")
    except (ValueError, TypeError) as exc:  # NaN, a circular reference, a type JSON lacks, a lone surrogate
        problem = str(exc)
    except RecursionError:
        problem = "it is nested too deeply"
    if problem:
        if "surrogate" in problem:
            problem = "a string holds a lone surrogate character, which UTF-8 cannot encode"
        raise InvalidArgumentError("the request body cannot be sent as JSON: %s" % sanitize(problem, 200))
    if len(encoded) > limit:
        raise InvalidArgumentError(
            "the request body is %d bytes, over the %d-byte limit; send large files through the Files API"
            % (len(encoded), limit)
        )
    return encoded


def _json_default(value: Any) -> Any:
    if isinstance(value, WireObject):
        return value._json()
    if isinstance(value, Secret):
        raise TypeError("a Secret cannot be put into a request body")
    raise TypeError("values of type %s are not JSON serializable" % type(value).__name__)


def decode_json(body: bytes, max_containers: Optional[int] = None) -> Tuple[Any, str]:
    """Parse a response body as strict UTF-8 JSON: ``(value, "")``, or ``(None, problem)``.
    With ``max_containers``, a body holding more JSON objects and arrays is not parsed (each
    costs 70 to 420 bytes once parsed and wrapped, from as little as 3 bytes of text)."""
    # Every object or array takes two bytes at least, so a body of up to twice the limit is not
    # counted: with the 32 MiB cap, bodies under 2 MiB cost nothing more.
    limit = max_containers
    if limit is not None and len(body) > 2 * limit and _containers(body, limit) > limit:
        return None, (
            "it holds more than %d JSON objects and arrays, the most a body of this endpoint may hold "
            "(one per %d bytes of its size cap)" % (limit, JSON_BYTES_PER_CONTAINER)
        )
    try:
        return json.loads(body.decode("utf-8")), ""
    except UnicodeDecodeError:
        return None, "it is not valid UTF-8"
    except RecursionError:
        return None, "it is nested too deeply"
    except ValueError as exc:
        return None, "it is not valid JSON (%s)" % sanitize(str(exc), 80)


# A JSON string (RFC 8259 section 7): a quote, then anything but a quote or backslash, or a
# backslash and the character it escapes, up to the closing quote.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


def _containers(body: bytes, limit: int) -> int:
    """How many objects and arrays ``body`` opens; exact once it counts more than ``limit``."""
    count = body.count(b"{") + body.count(b"[")  # at C speed; braces inside strings count too
    if count <= limit:
        return count
    # Take away those inside strings, which json.loads reads the same way up to the first syntax
    # error; counted in place, without copying the body.
    for match in _STRING.finditer(body):
        start, end = match.span()
        count -= body.count(b"{", start, end) + body.count(b"[", start, end)
    return count


def describe_type(content_type: str) -> str:
    return repr(sanitize(content_type, 60)) if content_type else "no Content-Type"


def is_json(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def path_segment(value: str, what: str) -> str:
    """Percent-encode an id for use as one URL path segment (``/``, ``?``, ``#`` included)."""
    if not isinstance(value, str) or not value or value in (".", ".."):
        raise InvalidArgumentError("%s must be a non-empty id, not %r" % (what, value))
    return quote(value, safe="")


def query_string(query: object, source: str = "extra_query") -> str:
    """``query`` (a mapping of names to values) as a URL query string, without the ``?``.

    Names are strings; values are strings, ints, finite floats or bools (sent as ``true`` and
    ``false``, as httpx sends them), or a list or tuple of those, which repeats the name. Anything
    else raises :class:`InvalidArgumentError` naming ``source``, before any request is made.
    """
    if not isinstance(query, Mapping):
        raise InvalidArgumentError(
            "%s must be a mapping of names to values such as {'limit': 10}, not %s" % (source, type(query).__name__)
        )
    pairs: List[Tuple[str, str]] = []
    for name, value in query.items():
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError("%s: the names must be non-empty strings, not %r" % (source, name))
        for item in value if isinstance(value, (list, tuple)) else (value,):
            pairs.append((name, _query_value(item, source, name)))
    return urlencode(pairs)


def _query_value(value: object, source: str, name: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int)) or (isinstance(value, float) and math.isfinite(value)):
        return str(value)
    raise InvalidArgumentError(
        "%s: the value of %r must be a str, int, finite float or bool (or a list of them), not %s"
        % (source, name, repr(value) if isinstance(value, float) else type(value).__name__)
    )


def safe_location(location: str) -> str:
    if not location:
        return "(no Location header)"
    text = sanitize(location, 200)
    scheme, sep, rest = text.partition("://")
    netloc, slash, path = rest.partition("/")
    if sep and "@" in netloc:
        netloc = "***@" + netloc.rpartition("@")[2]
    path = path.split("?", 1)[0].split("#", 1)[0]
    return repr(scheme + sep + netloc + slash + path if sep else text.split("?", 1)[0])


def new_request_id() -> str:
    # A random (version 4) UUID, without importing the uuid module.
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])
