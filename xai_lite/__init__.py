"""xai_lite: a client for the xAI Grok API (and any OpenAI-compatible server) that needs nothing
but the Python standard library.

>>> from xai_lite import Client
>>> client = Client()  # the key from XAI_API_KEY
>>> client.chat.completions.create(model="grok-4", messages=[{"role": "user", "content": "Hi"}])

The core (client, errors, chat and models types) is imported with the package; the larger,
optional parts are imported the first time one of their names is used (see ``_LAZY``), so that
``import xai_lite`` stays close to the cost of importing http.client itself.
"""

import typing as _typing

from ._client import Client
from ._config import DEFAULT_BASE_URL, UNSET, Timeout
from ._secrets import Secret, load_api_key
from ._streaming import ChatCompletionAccumulator, ChatStream
from ._version import __version__
from .errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    CircuitOpenError,
    HttpError,
    InvalidArgumentError,
    MissingDependencyError,
    NetworkError,
    NotFoundError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    StreamingError,
    XaiError,
)
from .types import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessage,
    Message,
    Model,
    ModelList,
    Usage,
)

__all__ = [
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "ChatCompletion",
    "ChatCompletionAccumulator",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "ChatStream",
    "CircuitOpenError",
    "Client",
    "DEFAULT_BASE_URL",
    "HttpError",
    "InvalidArgumentError",
    "Message",
    "MissingDependencyError",
    "Model",
    "ModelList",
    "NetworkError",
    "NotFoundError",
    "RateLimitError",
    "RequestTimeoutError",
    "Secret",
    "ServerError",
    "StreamingError",
    "Timeout",
    "UNSET",
    "Usage",
    "XaiError",
    "__version__",
    "load_api_key",
]

for _name in ("Client", "Timeout", "Secret", "ChatStream", "ChatCompletionAccumulator"):
    globals()[_name].__module__ = __name__
del _name

# name -> the submodule that defines it, imported on first use.
_LAZY: _typing.Dict[str, str] = {}

if _typing.TYPE_CHECKING:  # type checkers see the lazy names as ordinary imports
    pass


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError("module 'xai_lite' has no attribute %r" % name)
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> _typing.List[str]:
    return sorted(set(globals()) | set(_LAZY))
