"""Records (``xai_lite/_record.py``): result types and ``Timeout`` stay dataclasses to the stdlib,
while the cold path (import, ``Client()``, one call) never imports ``dataclasses`` (issue 8)."""

import copy
import dataclasses
import pickle
import subprocess
import sys

import pytest

import xai_lite
from xai_lite.types import ChatCompletion, ChatCompletionChunk, Message, ModelList, Usage, WireObject

from harness import ok_completion, package_env

COMPLETION = {
    "id": "c-1", "object": "chat.completion", "created": 7, "model": "grok-4",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}
CHUNK = {"id": "k-1", "created": 1, "model": "grok-4", "choices": [{"index": 0, "delta": {"content": "h"}}]}


def test_cold_path_never_imports_dataclasses(serve):
    """Issue 8: a fresh process that imports xai_lite, builds a Client and makes one call to a
    loopback server has not imported ``dataclasses`` (nor ``inspect``, which it pulls in) or
    ``logging`` (until the application imports it, nothing can have turned DEBUG on)."""
    server = serve(ok_completion)
    code = ("import sys, xai_lite; c = xai_lite.Client(api_key='xai-cold', base_url=sys.argv[1]); "
            "r = c.chat.completions.create(model='grok-4', messages=[{'role': 'user', 'content': 'hi'}]); "
            "assert r.choices[0].message.content; print(sorted({'dataclasses', 'inspect', 'logging'} & set(sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code, server.url + "/v1"], capture_output=True, text=True,
                          env=package_env(), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["[]"]
    assert len(server.requests) == 1


def _plain(value):
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return dataclasses.asdict(value) if isinstance(value, WireObject) else value


def _results():
    return [ChatCompletion.from_dict(COMPLETION), ChatCompletionChunk.from_dict(CHUNK), Usage.from_dict(COMPLETION["usage"]),
            ModelList.from_dict({"data": [{"id": "grok-4"}]}), Message.user("hello")]


@pytest.mark.parametrize("obj", _results(), ids=lambda obj: type(obj).__name__)
def test_results_work_with_dataclasses_functions(obj):
    """fields(), asdict(), replace() and is_dataclass() on results, as when they were dataclasses."""
    cls = type(obj)
    assert dataclasses.is_dataclass(obj) and dataclasses.is_dataclass(cls)
    names = [f.name for f in dataclasses.fields(obj)]
    assert names == [f.name for f in dataclasses.fields(cls)] and names
    assert list(dataclasses.asdict(obj)) == names
    assert dataclasses.asdict(obj) == {name: _plain(getattr(obj, name)) for name in names}
    first = names[0]
    changed = dataclasses.replace(obj, **{first: "other"})
    assert type(changed) is cls and getattr(changed, first) == "other" and changed != obj
    assert dataclasses.replace(obj) == obj
    assert pickle.loads(pickle.dumps(obj)) == obj and copy.deepcopy(obj) == obj
    assert repr(obj).startswith(cls.__qualname__ + "(%s=" % first)
    assert not dataclasses.is_dataclass(WireObject)


def test_results_compare_and_build_like_dataclasses():
    """== by class and fields, positional and keyword arguments, dataclass-style TypeErrors."""
    assert Message("user", "hi") == Message(role="user", content="hi") != Message("user", "ho")
    assert Message("user", "hi") != ChatCompletion()
    assert ChatCompletion().choices == [] and ChatCompletion().choices is not ChatCompletion().choices
    with pytest.raises(TypeError, match="unexpected keyword argument 'rol'"):
        Message(rol="user")
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'role'"):
        Message()
    with pytest.raises(TypeError, match="multiple values for argument 'role'"):
        Message("user", role="user")
    with pytest.raises(TypeError, match="positional arguments"):
        Usage(1, 2, 3, 4, 5, 6, 7, 8, 9)


def test_a_dataclass_can_extend_a_result():
    """A user's @dataclass subclass of a result inherits its fields, in order."""

    @dataclasses.dataclass(repr=False, eq=False)
    class Tagged(ChatCompletion):
        tag: str = ""

    tagged = Tagged(id="t", tag="x")
    assert [f.name for f in dataclasses.fields(tagged)][-2:] == ["output_files", "tag"]
    assert repr(tagged).endswith("tag='x')") and tagged == Tagged(id="t", tag="x")


def test_timeout_is_a_frozen_dataclass():
    """Timeout: fields/asdict/replace/is_dataclass, frozen, hashable, equal by value, picklable."""
    timeout = xai_lite.Timeout(connect=1.0, read=2.0, total=3.0)
    assert dataclasses.is_dataclass(timeout) and dataclasses.is_dataclass(xai_lite.Timeout)
    assert [f.name for f in dataclasses.fields(timeout)] == ["connect", "read", "total"]
    assert dataclasses.asdict(timeout) == {"connect": 1.0, "read": 2.0, "total": 3.0}
    assert dataclasses.replace(timeout, read=5.0) == xai_lite.Timeout(connect=1.0, read=5.0, total=3.0)
    assert dataclasses.fields(xai_lite.Timeout)[0].default == 5.0
    assert xai_lite.Timeout.__dataclass_params__.frozen
    assert repr(timeout) == "Timeout(connect=1.0, read=2.0, total=3.0)"
    assert timeout == xai_lite.Timeout(1.0, 2.0, 3.0) and hash(timeout) == hash(xai_lite.Timeout(1.0, 2.0, 3.0))
    assert len({timeout, xai_lite.Timeout(1.0, 2.0, 3.0), xai_lite.Timeout()}) == 2
    assert pickle.loads(pickle.dumps(timeout)) == timeout and copy.copy(timeout) == timeout
    with pytest.raises(dataclasses.FrozenInstanceError):
        timeout.read = 9.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        del timeout.read
    with pytest.raises(xai_lite.InvalidArgumentError):
        dataclasses.replace(timeout, connect=10.0)  # __post_init__ still checks
