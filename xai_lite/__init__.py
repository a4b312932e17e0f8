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
    RateLimiterTimeoutError,
    RequestTimeoutError,
    ServerError,
    StreamingError,
    XaiError,
)

# name -> the module that defines it, imported on first use.
_LAZY: _typing.Dict[str, str] = {
    "BreakerStats": ".reliability",
    "ChatCompletion": ".types",
    "ChatCompletionAccumulator": "._streaming",
    "ChatCompletionChunk": ".types",
    "ChatCompletionMessage": ".types",
    "ChatStream": "._streaming",
    "CircuitBreaker": ".reliability",
    "CircuitState": ".reliability",
    "Client": "._client",
    "Conversation": "._conversation",
    "DEFAULT_BASE_URL": "._config",
    "DeferredChatCompletion": "._deferred",
    "EndpointHealth": ".reliability",
    "FailoverPolicy": ".reliability",
    "FunctionTool": "._tools",
    "HealthReport": ".reliability",
    "HealthStatus": ".reliability",
    "MaxTurnsError": "._tool_loop",
    "Message": ".types",
    "Model": ".types",
    "ModelList": ".types",
    "RateLimiter": ".reliability",
    "Response": ".responses",
    "ResponseStream": "._responses",
    "RetryPolicy": ".reliability",
    "Secret": "._secrets",
    "StructuredOutputError": "._structured",
    "Timeout": "._config",
    "ToolResult": "._tool_loop",
    "ToolRun": "._tool_loop",
    "Transition": ".reliability",
    "UNSET": "._config",
    "Usage": ".types",
    "code_interpreter": "._tools",
    "file_search": "._tools",
    "health_check": ".reliability",
    "image": "._conversation",
    "liveness_check": ".reliability",
    "load_api_key": "._secrets",
    "mcp": "._tools",
    "readiness_check": ".reliability",
    "run_tools": "._tool_loop",
    "tool": "._tools",
    "web_search": "._tools",
    "x_search": "._tools",
}

if _typing.TYPE_CHECKING:  # type checkers see the lazy names as ordinary imports
    from ._client import Client
    from ._config import DEFAULT_BASE_URL, UNSET, Timeout
    from ._conversation import Conversation, image
    from ._deferred import DeferredChatCompletion
    from ._responses import ResponseStream
    from ._secrets import Secret, load_api_key
    from ._streaming import ChatCompletionAccumulator, ChatStream
    from ._structured import StructuredOutputError
    from ._tool_loop import MaxTurnsError, ToolResult, ToolRun, run_tools
    from ._tools import FunctionTool, code_interpreter, file_search, mcp, tool, web_search, x_search
    from .reliability import (
        BreakerStats,
        CircuitBreaker,
        CircuitState,
        EndpointHealth,
        FailoverPolicy,
        HealthReport,
        HealthStatus,
        RateLimiter,
        RetryPolicy,
        Transition,
        health_check,
        liveness_check,
        readiness_check,
    )
    from .responses import Response
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
    "BreakerStats",
    "ChatCompletion",
    "ChatCompletionAccumulator",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "ChatStream",
    "CircuitBreaker",
    "CircuitOpenError",
    "CircuitState",
    "Client",
    "Conversation",
    "DEFAULT_BASE_URL",
    "DeferredChatCompletion",
    "EndpointHealth",
    "FailoverPolicy",
    "FunctionTool",
    "HealthReport",
    "HealthStatus",
    "HttpError",
    "InvalidArgumentError",
    "MaxTurnsError",
    "Message",
    "MissingDependencyError",
    "Model",
    "ModelList",
    "NetworkError",
    "NotFoundError",
    "RateLimitError",
    "RateLimiter",
    "RateLimiterTimeoutError",
    "RequestTimeoutError",
    "Response",
    "ResponseStream",
    "RetryPolicy",
    "Secret",
    "ServerError",
    "StreamingError",
    "StructuredOutputError",
    "Timeout",
    "ToolResult",
    "ToolRun",
    "Transition",
    "UNSET",
    "Usage",
    "XaiError",
    "__version__",
    "code_interpreter",
    "file_search",
    "health_check",
    "image",
    "liveness_check",
    "load_api_key",
    "mcp",
    "readiness_check",
    "run_tools",
    "tool",
    "web_search",
    "x_search",
]


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError("module %r has no attribute %r" % (__name__, name))
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> _typing.List[str]:
    return sorted(set(globals()) | set(_LAZY))
