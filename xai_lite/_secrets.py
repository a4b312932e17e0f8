"""The API key: a masked :class:`Secret`, where it is loaded from, and what a valid key looks like.

Loading order (the first that yields a key wins):

1. the ``api_key`` argument;
2. the ``XAI_API_KEY`` environment variable;
3. ``secret/-secrets.sh`` in the working directory or the nearest parent that has one (a
   workspace-wide secrets file, as the api_xai seed's workspace tooling keeps it), looking no
   higher than the repository root (the directory holding ``.git``) or the user's home;
4. ``secrets.sh`` or ``.env`` in the working directory.

As ssh does with its keys, a file is ignored when it, or a directory it sits in, is owned by
another user (root excepted) or writable by others or by a group other than the owner's own:
anyone who can write there could choose the account the requests go out under.

Files are read, never executed, and never written to ``os.environ``. Lines may be ``KEY=VALUE``
or ``export KEY=VALUE``, with single or double quotes, blank lines and ``#`` comments.
"""

from __future__ import annotations

import functools
import os
import re
import stat
import threading
from typing import Optional, Pattern, TypeVar, cast

from ._repr import safe_repr
from .errors import InvalidArgumentError

__all__ = ["HiddenBytes", "HiddenStr", "KeyMask", "Secret", "hide", "load_api_key", "mask"]

ENV_VAR = "XAI_API_KEY"
KEY_PREFIX = "xai-"
MAX_KEY_LENGTH = 4096
_MAX_FILE_BYTES = 1024 * 1024
_VALID_KEY = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces
_PLAIN_TAIL = re.compile(r"[A-Za-z0-9_-]{4}")
_T = TypeVar("_T")


def mask(value: str) -> str:
    """A display form of a secret: at most its last four characters, and never its prefix.

    The four are shown only when they are letters, digits, ``-`` or ``_``: the mask replaces a
    key inside JSON or a URL, and must not end a string or start an escape there."""
    tail = value[-4:]
    return "***" + tail if len(value) >= 16 and _PLAIN_TAIL.fullmatch(tail) else "***"


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

    @safe_repr
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


def hide(value: _T) -> _T:
    """``value`` with a masked ``repr`` if it is a str or bytes (a key the caller passed), so that
    a frame holding it as a local shows no key in a traceback printed with locals."""
    if isinstance(value, (HiddenStr, HiddenBytes)):
        return cast(_T, value)
    if isinstance(value, str):
        return cast(_T, HiddenStr(str.__str__(value)))  # str(value) would call a subclass's __str__
    if isinstance(value, bytes):
        return cast(_T, HiddenBytes(value))
    return value


# The key is looked for in every form a server, a proxy or a cut may leave it in: verbatim;
# JSON-escaped (any mix of \uXXXX escapes, in upper- or lower-case hex, \/ \" \\ and plain
# characters); percent-encoded (%XX); split by up to three whitespace or control characters, raw
# or escaped (a wrapped line or a folded header, which sanitize() joins or spaces); and cut: any
# prefix of _MIN_MASKED characters or more, wherever it is, since an excerpt window or a body
# cap may end inside the key. Shorter prefixes of an xAI key are mostly its public "xai-" prefix.
_MIN_MASKED = 8
_GAP = r"(?:[\x00-\x20\x7f]|\\[nrtbf]|\\u00[01][0-9a-fA-F]|\\u0020|%[01][0-9a-fA-F]|%20){0,3}"


@functools.lru_cache(maxsize=None)
def _unit(char: str) -> str:
    """The pattern of one key character in any of its forms (at most 95 distinct characters)."""
    digits = "".join("[%s%s]" % (h, h.upper()) if h.isalpha() else h for h in "%02x" % ord(char))
    forms = [re.escape(char), r"\\u00" + digits, "%" + digits]
    if char in '"\\/':
        forms.append(re.escape("\\" + char))
    return "(?:%s)" % "|".join(forms)


@functools.lru_cache(maxsize=None)
def _next_unit(char: str) -> Pattern[str]:
    return re.compile(_GAP + _unit(char))


class KeyMask:
    """Masks one API key in any text, in all the forms listed above: ``mask(text)``. A whole key
    becomes ``***`` plus its last four characters, a cut one ``***``.

    This is the one matcher every error surface goes through (see ``errors.mask_error``). Its
    patterns are compiled on first use, so a client that never fails pays nothing for them. Its
    ``repr`` is masked and it refuses to be pickled.
    """

    __slots__ = ("_value", "_shown", "_head")

    def __init__(self, secret: Secret) -> None:
        self._value = HiddenStr(secret.expose())
        self._shown = mask(self._value)
        self._head: Optional[Pattern[str]] = None

    def __call__(self, text: str) -> str:
        value = self._value
        if len(text) < min(_MIN_MASKED, len(value)):
            return text
        head = self._head
        if head is None:
            head = self._head = re.compile(_GAP.join(_unit(c) for c in value[:_MIN_MASKED]))
        pieces: list[str] = []
        pos = 0
        for match in head.finditer(text):
            start, end = match.span()
            if start < pos:  # inside a key already masked
                continue
            count = min(_MIN_MASKED, len(value))
            while count < len(value):
                step = _next_unit(value[count]).match(text, end)
                if step is None:
                    break
                end = step.end()
                count += 1
            pieces += (text[pos:start], self._shown if count == len(value) else "***")
            pos = end
        if not pieces:
            return text
        pieces.append(text[pos:])
        return "".join(pieces)

    @safe_repr
    def __repr__(self) -> str:
        return "KeyMask(%r)" % self._shown

    def __reduce__(self) -> str:
        raise TypeError("a KeyMask holds the key and cannot be pickled")


def load_api_key(api_key: object = None, *, check_prefix: bool = True) -> Secret:
    """Find the API key (see the module docstring for the order) and validate it.

    Leading and trailing whitespace is stripped (a key read from a file often ends in a
    newline). ``check_prefix`` requires xAI's ``xai-`` prefix. Raises
    :class:`InvalidArgumentError` (or ``TypeError`` for a non-string) without echoing the value;
    no frame of the raised error's traceback holds the refused value in a readable local.
    """
    api_key = hide(api_key)
    if api_key is not None:
        if isinstance(api_key, Secret):
            return _validated(hide(api_key.expose()), api_key.source, check_prefix)
        if not isinstance(api_key, str):
            raise TypeError("api_key must be a str or a Secret, not %s" % type(api_key).__name__)
        return _validated(api_key, "argument", check_prefix)
    value = hide(os.environ.get(ENV_VAR))
    if value is not None and value.strip():
        return _validated(value, "environment variable " + ENV_VAR, check_prefix)
    for path in _candidate_files(os.getcwd()):
        value = hide(_read_key_file(path))
        if value:
            return _validated(value, "file " + path, check_prefix)
    raise InvalidArgumentError(
        "No xAI API key found. Set one with: export XAI_API_KEY=xai-... "
        "(or pass Client(api_key=...)); keys are created at https://console.x.ai."
    )


def _validated(value: str, source: str, check_prefix: bool) -> Secret:
    value = hide(value.strip())  # a HiddenStr, as it came: str methods return plain str
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
    return Secret(str.__str__(value), source)


def _candidate_files(cwd: str) -> list[str]:
    # The walk up stops at the repository root (the directory holding .git) or the user's home,
    # whichever comes first: a parent beyond them (/tmp, /home, a shared mount) is not the
    # user's to trust. A file that fails _trusted() is passed over.
    found = []
    home = os.path.realpath(os.path.expanduser("~"))
    directory = cwd
    while True:
        path = os.path.join(directory, "secret", "-secrets.sh")
        if os.path.isfile(path) and _trusted(path, 2):
            found.append(path)
            break
        parent = os.path.dirname(directory)
        if parent == directory or directory == home or os.path.exists(os.path.join(directory, ".git")):
            break
        directory = parent
    for name in ("secrets.sh", ".env"):
        path = os.path.join(cwd, name)
        if os.path.isfile(path) and _trusted(path, 1):
            found.append(path)
    return found


def _trusted(path: str, levels: int) -> bool:
    """ssh's StrictModes rule: the file and the ``levels`` directories above it are owned by this
    user (or root) and writable by nobody else, so no other account can have put the key there.
    Without POSIX ownership (Windows) every file is trusted."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:
        return True
    uid = getuid()
    for _ in range(levels + 1):
        try:
            info = os.stat(path)
        except OSError:
            return False
        if info.st_uid not in (uid, 0) or info.st_mode & stat.S_IWOTH:
            return False
        if info.st_mode & stat.S_IWGRP and not _private_group(info.st_gid, info.st_uid):
            return False
        path = os.path.dirname(path)
    return True


def _private_group(gid: int, uid: int) -> bool:
    """Whether ``gid`` is the owner's own group, named after them and with nobody else in it: a
    group-writable file there is writable by its owner only. ssh allows it too, since Debian and
    Fedora give each user such a group and a umask of 002."""
    try:
        import grp
        import pwd

        group, owner = grp.getgrgid(gid), pwd.getpwuid(uid)
    except (ImportError, KeyError):
        return False
    return group.gr_name == owner.pw_name and owner.pw_gid == gid and set(group.gr_mem) <= {owner.pw_name}


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
