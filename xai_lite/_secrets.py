"""The API key: a masked :class:`Secret`, where it is loaded from, and what a valid key looks like.

Loading order (the first that yields a key wins):

1. the ``api_key`` argument;
2. the ``XAI_API_KEY`` environment variable;
3. ``secret/-secrets.sh`` in the working directory or the nearest parent that has one (a
   workspace-wide secrets file, as the api_xai seed's workspace tooling keeps it);
4. ``secrets.sh`` or ``.env`` in the working directory.

Files are read, never executed, and never written to ``os.environ``. Lines may be ``KEY=VALUE``
or ``export KEY=VALUE``, with single or double quotes, blank lines and ``#`` comments.
"""

from __future__ import annotations

import os
import re
import threading
from typing import Callable

from .errors import InvalidArgumentError

__all__ = ["HiddenBytes", "HiddenStr", "Secret", "load_api_key", "make_scrubber", "mask"]

ENV_VAR = "XAI_API_KEY"
KEY_PREFIX = "xai-"
MAX_KEY_LENGTH = 4096
_MAX_FILE_BYTES = 1024 * 1024
_VALID_KEY = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces


def mask(value: str) -> str:
    """A display form of a secret: at most its last four characters, and never its prefix."""
    return "***" + value[-4:] if len(value) >= 16 else "***"


class Secret:
    """A string that does not show itself: ``repr`` and ``str`` print a mask.

    ``expose()`` returns the value and counts how often it was handed out (``exposures``), an
    audit trail for code reviews and tests. A Secret refuses to be pickled.

    >>> key = Secret("xai-0123456789abcdef")
    >>> key
    Secret('***cdef')
    """

    __slots__ = ("_value", "_exposures", "_lock", "source")

    def __init__(self, value: str, source: str = "argument") -> None:
        self._value = value
        self._exposures = 0
        self._lock = threading.Lock()
        #: where the value came from, e.g. ``"environment variable XAI_API_KEY"``
        self.source = source

    def expose(self) -> str:
        """Return the secret value (and count the exposure)."""
        with self._lock:
            self._exposures += 1
        return self._value

    @property
    def exposures(self) -> int:
        """How many times :meth:`expose` has been called."""
        return self._exposures

    def __repr__(self) -> str:
        return "Secret(%r)" % mask(self._value)

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> str:
        raise TypeError("a Secret cannot be pickled; pass the key again where it is needed")


class HiddenStr(str):
    """A str whose ``repr`` and ``str`` are masked, for values that must sit in a local variable
    or an attribute (a traceback printed with locals shows their repr)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'%s'" % mask(str.__str__(self))

    __str__ = __repr__

    def __reduce__(self) -> str:
        raise TypeError("a hidden secret cannot be pickled")


class HiddenBytes(bytes):
    """Bytes with a masked ``repr``: the Authorization header value as http.client receives it
    (http.client passes bytes header values through unchanged)."""

    def __repr__(self) -> str:
        return "b'***'"

    __str__ = __repr__

    def __reduce__(self) -> str:
        raise TypeError("a hidden secret cannot be pickled")


def make_scrubber(secret: Secret) -> Callable[[str], str]:
    """A function that masks the secret's value wherever it occurs in a text (a server or a
    proxy may echo the key back in an error message)."""
    value = HiddenStr(secret.expose())
    shown = mask(value)

    def scrub(text: str) -> str:
        return text.replace(value, shown) if value in text else text

    return scrub


def load_api_key(api_key: object = None, *, check_prefix: bool = True) -> Secret:
    """Find the API key (see the module docstring for the order) and validate it.

    Leading and trailing whitespace is stripped (a key read from a file often ends in a
    newline). ``check_prefix`` requires xAI's ``xai-`` prefix. Raises
    :class:`InvalidArgumentError` (or ``TypeError`` for a non-string) without echoing the value.
    """
    if api_key is not None:
        if isinstance(api_key, Secret):
            return _validated(api_key.expose(), api_key.source, check_prefix)
        if not isinstance(api_key, str):
            raise TypeError("api_key must be a str or a Secret, not %s" % type(api_key).__name__)
        return _validated(api_key, "argument", check_prefix)
    value = os.environ.get(ENV_VAR)
    if value is not None and value.strip():
        return _validated(value, "environment variable " + ENV_VAR, check_prefix)
    for path in _candidate_files(os.getcwd()):
        value = _read_key_file(path)
        if value:
            return _validated(value, "file " + path, check_prefix)
    raise InvalidArgumentError(
        "No xAI API key found. Set one with: export XAI_API_KEY=xai-... "
        "(or pass Client(api_key=...)); keys are created at https://console.x.ai."
    )


def _validated(value: str, source: str, check_prefix: bool) -> Secret:
    value = value.strip()
    where = "the API key from the " + source if source != "argument" else "the api_key argument"
    if not value:
        raise InvalidArgumentError(
            "%s is empty; set XAI_API_KEY=xai-... or pass Client(api_key=...)" % where
        )
    if len(value) > MAX_KEY_LENGTH:
        raise InvalidArgumentError("%s is %d characters long; a key is far shorter" % (where, len(value)))
    if not _VALID_KEY.fullmatch(value):
        raise InvalidArgumentError(
            "%s contains spaces, control characters (CR, LF, NUL, ...) or non-ASCII characters; "
            "copy the key again without them" % where
        )
    if check_prefix and not value.startswith(KEY_PREFIX):
        raise InvalidArgumentError(
            "%s does not start with %r as xAI keys do; for another OpenAI-compatible server pass "
            "check_key_format=False" % (where, KEY_PREFIX)
        )
    return Secret(value, source)


def _candidate_files(cwd: str) -> list[str]:
    found = []
    directory = cwd
    while True:
        path = os.path.join(directory, "secret", "-secrets.sh")
        if os.path.isfile(path):
            found.append(path)
            break
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    for name in ("secrets.sh", ".env"):
        path = os.path.join(cwd, name)
        if os.path.isfile(path):
            found.append(path)
    return found


def _read_key_file(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            text = fh.read(_MAX_FILE_BYTES).decode("utf-8", "replace")
    except OSError:
        return None
    return parse_env_text(text).get(ENV_VAR)


def parse_env_text(text: str) -> dict[str, str]:
    """Parse ``KEY=VALUE`` lines (``export`` prefix, quotes and ``#`` comments allowed)."""
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[7:].lstrip()
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            continue
        value = value.strip()
        if value[:1] in ("'", '"'):
            quote = value[0]
            end = value.find(quote, 1)
            value = value[1:end] if end > 0 else value[1:]
        else:
            value = value.split(" #", 1)[0].strip()
        values[name] = value
    return values
