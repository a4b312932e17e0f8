"""Defaults, the Timeout option object, and validation of base URLs and headers.

Everything here is checked before any socket is opened, and no error message echoes a header
value (it may be a credential).
"""

from __future__ import annotations

import enum
import math
import re
from typing import TYPE_CHECKING, Mapping, Union

from .errors import InvalidArgumentError
from .types import Record

if TYPE_CHECKING:
    from dataclasses import dataclass as record
else:
    from .types import record

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_ERROR_BYTES",
    "DEFAULT_MAX_EVENT_CHARS",
    "DEFAULT_MAX_REQUEST_BYTES",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_READ_TIMEOUT",
    "DEFAULT_TOTAL_TIMEOUT",
    "JSON_BYTES_PER_CONTAINER",
    "MAX_BODY_BYTES",
    "MAX_LIST_BYTES",
    "MAX_SETTING",
    "MAX_SMALL_BYTES",
    "UNSET",
    "Timeout",
    "TimeoutTypes",
    "Unset",
    "check_flag",
    "check_number",
    "validate_base_url",
    "validate_headers",
]

DEFAULT_BASE_URL = "https://api.x.ai/v1"

# Defaults; README.md ("Defaults and why") gives the reason for each. Seconds:
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 600.0  # a reasoning model sends nothing until its whole answer is ready
DEFAULT_TOTAL_TIMEOUT = 1620.0  # xAI's Python SDK's deadline; per-read limits alone allow trickles
# Bytes:
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024
DEFAULT_MAX_ERROR_BYTES = 1024 * 1024
MAX_LIST_BYTES = 4 * 1024 * 1024  # the models list (aggregators send ~1 MB)
MAX_SMALL_BYTES = 1024 * 1024  # one model, a deletion receipt, a deferred request id
# One JSON object or array per 32 bytes of a body's cap: parsed, one costs 70-420 bytes from 3 of
# text ("{},"), so this bounds reading a body to ~20x its cap (logprobs, the densest, use ~26).
JSON_BYTES_PER_CONTAINER = 32
DEFAULT_MAX_EVENT_CHARS = 32 * 1024 * 1024  # one SSE line or event
DEFAULT_MAX_REQUEST_BYTES = 50 * 1024 * 1024
# The largest number setting: far past use, below where the stdlib overflows (settimeout ~9.2e9 s).
MAX_SETTING = 1_000_000
MAX_BODY_BYTES = 1 << 32  # the largest max_response_bytes


class Unset(enum.Enum):
    """The type of :data:`UNSET`: "use the client's setting", distinct from ``None``."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET = Unset.UNSET


@record(frozen=True)
class Timeout(Record):
    """Time limits for one call, in seconds; ``None`` disables a limit.

    ``connect`` bounds connecting (TCP, TLS, a proxy's answer to CONNECT), ``read`` the silence
    between two reads (for a stream: between two pieces of data, comments included), and
    ``total`` the whole call from start to last byte, retries and the whole stream included.
    A plain number ``t`` wherever a timeout is accepted means ``Timeout(connect=min(5, t),
    read=t, total=t)``: "this call takes at most t seconds".
    """

    connect: float | None = DEFAULT_CONNECT_TIMEOUT
    read: float | None = DEFAULT_READ_TIMEOUT
    total: float | None = DEFAULT_TOTAL_TIMEOUT

    def __post_init__(self) -> None:
        for name in ("connect", "read", "total"):
            if getattr(self, name) is not None:
                _check_seconds("Timeout", name, getattr(self, name))
        if self.connect is not None and self.total is not None and self.connect > self.total:
            raise InvalidArgumentError(
                "Timeout(connect=%r) is longer than total=%r; the total bounds the whole call, "
                "so make it at least as long" % (self.connect, self.total)
            )

    @classmethod
    def coerce(cls, value: TimeoutTypes) -> Timeout:
        """Turn a number, ``None`` or a :class:`Timeout` into a :class:`Timeout`."""
        if isinstance(value, Timeout):
            return value
        if value is None:
            return cls(connect=None, read=None, total=None)
        seconds = _check_seconds("", "timeout", value)
        return cls(connect=min(DEFAULT_CONNECT_TIMEOUT, seconds), read=seconds, total=seconds)


TimeoutTypes = Union[Timeout, float, int, None]


def _check_seconds(owner: str, name: str, value: object) -> float:
    return check_number(owner, name, value, inclusive=False, kind="a number of seconds", note="or None for no limit")


def check_number(
    owner: str,
    name: str,
    value: object,
    *,
    minimum: float = 0.0,
    inclusive: bool = True,
    integer: bool = False,
    maximum: float = MAX_SETTING,
    kind: str = "",
    note: str = "",
) -> float:
    """``value`` as a float, if it is a number (an ``int`` if ``integer``; never a ``bool``) from
    ``minimum`` (excluded unless ``inclusive``) to ``maximum``. Otherwise raise
    :class:`InvalidArgumentError` naming the setting as ``owner(name=value)``, or ``name=value``
    without an owner; ``kind`` names what is wanted ("a number of seconds") and ``note`` is added.

    The one check of every number setting: timeouts, sizes and the reliability policies' numbers.
    """
    ok = not isinstance(value, bool) and isinstance(value, int if integer else (int, float))
    # Compared as given: comparing an int with a float is exact in Python, where float() of a huge
    # int (or math.isfinite of it) raises OverflowError. NaN fails both comparisons.
    if ok and (value >= minimum if inclusive else value > minimum) and value <= maximum:  # type: ignore[operator]
        return float(value)  # type: ignore[arg-type]
    shown = _shown(value)
    setting = "%s(%s=%s)" % (owner, name, shown) if owner else "%s=%s" % (name, shown)
    noun = kind or ("an integer" if integer else "a number")
    if minimum == 0 and not inclusive:
        wanted = "a positive " + noun.split(" ", 1)[1]
    else:
        wanted = "%s from %s%s" % (noun, _number(minimum), "" if inclusive else " (excluded)")
    if maximum != math.inf:
        wanted += (", at most %s" if minimum == 0 and not inclusive else " to %s") % _number(maximum)
    raise InvalidArgumentError("%s: %s must be %s%s" % (setting, name, wanted, ", " + note if note else ""))


def check_flag(name: str, value: object, *, optional: bool = True) -> None:
    """Raise :class:`InvalidArgumentError` unless ``value`` is ``True`` or ``False`` (or ``None``
    when ``optional``): a flag is never truth-tested, since ``"false"`` and ``"no"`` are true."""
    if not (isinstance(value, bool) or (optional and value is None)):
        raise InvalidArgumentError(
            "%s must be True or False%s, not %s" % (name, " (or None)" if optional else "", _shown(value))
        )


def _shown(value: object) -> str:
    """A short text for a setting's value in an error message."""
    if isinstance(value, int) and value.bit_length() > 64:
        return "<an int of %d bits>" % value.bit_length()  # repr() of one past 4,300 digits raises
    if isinstance(value, (int, float, str)) or value is None:
        return repr(value[:40] if isinstance(value, str) else value)
    return type(value).__name__


def _number(value: float) -> str:
    return "%d" % value if float(value).is_integer() else "%g" % value


_BAD_URL_CHARS = re.compile(r"[\x00-\x20\x7f]")
_HOST_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")


def is_loopback(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ::1."""
    host = host.lower()
    if host == "localhost" or host.endswith(".localhost") or host == "::1":
        return True
    parts = host.split(".")
    return len(parts) == 4 and parts[0] == "127" and all(p.isdigit() and int(p) < 256 for p in parts)


def validate_base_url(url: object, *, allow_insecure_http: bool = False, source: str = "base_url") -> str:
    """Check a base URL as raw text and return it without a trailing slash.

    https is required, except for loopback hosts or with ``allow_insecure_http=True``. The
    checks run on the raw string because ``urllib.parse`` silently drops tabs and newlines and
    reads ``https://api.x.ai@evil.example`` as a URL for ``evil.example`` (reliability.md M8).
    """
    if not isinstance(url, str):
        raise InvalidArgumentError("%s must be a string such as %r" % (source, DEFAULT_BASE_URL))
    shown = repr(url[:200])
    if _BAD_URL_CHARS.search(url) or not url.isascii():
        raise InvalidArgumentError(
            "%s %s contains whitespace, control or non-ASCII characters; write the URL without them"
            % (source, shown)
        )
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in ("https", "http"):
        raise InvalidArgumentError("%s %s must start with https://, as in %r" % (source, shown, DEFAULT_BASE_URL))
    if "?" in rest or "#" in rest:
        raise InvalidArgumentError("%s %s must not contain a query (?) or fragment (#)" % (source, shown))
    netloc, _, path = rest.partition("/")
    if "@" in netloc:
        raise InvalidArgumentError(
            "%s must not contain credentials (user:password@); pass the key as api_key instead" % source
        )
    host = _host_of(netloc, source, shown)
    if scheme == "http" and not (allow_insecure_http or is_loopback(host)):
        raise InvalidArgumentError(
            "%s %s uses plain http, which would send the API key unencrypted; use https://, or pass "
            "allow_insecure_http=True if this server is on a network you trust" % (source, shown)
        )
    return scheme + "://" + netloc + ("/" + path.rstrip("/") if path.rstrip("/") else "")


def _host_of(netloc: str, source: str, shown: str) -> str:
    """Validate the host and optional port of ``netloc`` and return the host."""
    if netloc.startswith("["):
        end = netloc.find("]")
        if end < 0:
            raise InvalidArgumentError("%s %s has an unclosed IPv6 bracket" % (source, shown))
        host, after = netloc[1:end], netloc[end + 1 :]
        if not host or not all(c in "0123456789abcdefABCDEF:." for c in host):
            raise InvalidArgumentError("%s %s has an invalid IPv6 address" % (source, shown))
        if after and not after.startswith(":"):
            raise InvalidArgumentError("%s %s has text after the IPv6 address" % (source, shown))
        port_text = after[1:] if after else None
    else:
        host, colon, port_text_ = netloc.partition(":")
        port_text = port_text_ if colon else None
        if not host:
            raise InvalidArgumentError("%s %s has no host" % (source, shown))
        if host.endswith("."):
            raise InvalidArgumentError(
                "%s %s: write the host without the trailing dot (TLS certificates do not match it)"
                % (source, shown)
            )
        if not all(_HOST_LABEL.fullmatch(label) for label in host.split(".")):
            raise InvalidArgumentError(
                "%s %s has an invalid host name (letters, digits, hyphens and dots only)" % (source, shown)
            )
    if port_text is not None and (not port_text.isdigit() or not 0 < int(port_text) < 65536):
        raise InvalidArgumentError("%s %s has an invalid port; use a number from 1 to 65535" % (source, shown))
    return host


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 field-name
# Headers the client owns: the transport frames the body and names the host, and the key goes
# only where the client puts it.
RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection", "authorization"})


def validate_headers(headers: Mapping[str, str] | None, *, source: str = "extra_headers") -> list[tuple[str, str]]:
    """Check user-supplied headers and return them as a list of pairs.

    Names must be RFC 9110 tokens; values must be strings without CR, LF, NUL or other control
    characters and without surrounding whitespace (http.client would send an obs-fold or a NUL,
    and its own error for CR/LF echoes the value). Errors name the header, never its value.
    """
    if headers is None:
        return []
    if not isinstance(headers, Mapping):
        raise InvalidArgumentError("%s must be a mapping of header names to strings" % source)
    pairs = []
    for name, value in headers.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise InvalidArgumentError(
                "%s: %r is not a valid header name (letters, digits and !#$%%&'*+-.^_`|~ only)"
                % (source, name if isinstance(name, str) else type(name).__name__)
            )
        if name.lower() in RESERVED_HEADERS:
            raise InvalidArgumentError(
                "%s: the client sets %r itself%s"
                % (source, name, "; pass the key as api_key" if name.lower() == "authorization" else "")
            )
        if not isinstance(value, str):
            raise InvalidArgumentError(
                "%s: the value of %r must be a str, not %s" % (source, name, type(value).__name__)
            )
        if _BAD_VALUE.search(value) or value != value.strip(" \t"):
            raise InvalidArgumentError(
                "%s: the value of %r contains control characters (CR, LF, NUL, ...) or leading or "
                "trailing whitespace; remove them" % (source, name)
            )
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise InvalidArgumentError(
                "%s: the value of %r has characters HTTP headers cannot carry (Latin-1 only)" % (source, name)
            ) from None
        pairs.append((name, value))
    return pairs


_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
