"""xai_lite: a client for the xAI Grok API (and any OpenAI-compatible server) that needs nothing
but the Python standard library.

>>> from xai_lite import Client
>>> client = Client()  # the key from XAI_API_KEY
>>> client.chat.completions.create(model="grok-4", messages=[{"role": "user", "content": "Hi"}])

Importing the package loads only the errors and the version. Every other name is imported from
its module the first time it is used (see ``_LAZY``): a program (or a Lambda handler) pays for the
HTTP machinery when it makes a client, and for the Responses API, tools or reliability classes
only if it uses them.
"""

import typing as _typing

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

# name -> the module that defines it, imported on first use.
_LAZY: _typing.Dict[str, str] = {
    "ChatCompletion": ".types",
    "ChatCompletionAccumulator": "._streaming",
    "ChatCompletionChunk": ".types",
    "ChatCompletionMessage": ".types",
    "ChatStream": "._streaming",
    "Client": "._client",
    "DEFAULT_BASE_URL": "._config",
    "Message": ".types",
    "Model": ".types",
    "ModelList": ".types",
    "Secret": "._secrets",
    "Timeout": "._config",
    "UNSET": "._config",
    "Usage": ".types",
    "load_api_key": "._secrets",
}

if _typing.TYPE_CHECKING:  # type checkers see the lazy names as ordinary imports
    from ._client import Client
    from ._config import DEFAULT_BASE_URL, UNSET, Timeout
    from ._secrets import Secret, load_api_key
    from ._streaming import ChatCompletionAccumulator, ChatStream
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
