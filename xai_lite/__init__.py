"""xai_lite: a client for the xAI Grok API (and any OpenAI-compatible server) that needs nothing
but the Python standard library.

>>> from xai_lite import Client
>>> client = Client()  # the key from XAI_API_KEY
>>> client.chat.completions.create(model="grok-4", messages=[{"role": "user", "content": "Hi"}])
"""

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
