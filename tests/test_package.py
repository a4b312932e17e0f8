"""The package as shipped: its public names, its imports, and a bare vendored copy."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import threading

import pytest
from harness import ROOT, package_dir, package_env

import xai_lite
from xai_lite import errors


def test_all_is_sorted_and_complete():
    """__all__ lists exactly the public names of the package, in order."""
    public = {name for name in dir(xai_lite) if not name.startswith("_") or name == "__version__"}
    public -= {"cli", "errors", "types"}  # public submodules, imported as modules
    public -= {name for name in public if type(getattr(xai_lite, name)).__name__ == "module"}
    assert sorted(xai_lite.__all__, key=str.lower) == sorted(public, key=str.lower)
    assert list(xai_lite.__all__) == sorted(xai_lite.__all__)


def test_lazy_names_resolve_and_unknown_names_raise():
    """Every lazily imported name resolves to an object of the module it is listed under."""
    for name, module in xai_lite._LAZY.items():
        value = getattr(xai_lite, name)
        if isinstance(value, type) or callable(value):
            assert value.__module__ in ("xai_lite", "xai_lite" + module), name
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        xai_lite.Nope


def test_every_public_name_has_a_docstring():
    """Every exported class and function documents itself."""
    for name in xai_lite.__all__:
        obj = getattr(xai_lite, name)
        if callable(obj):
            assert obj.__doc__ and obj.__doc__.strip(), name


@pytest.mark.parametrize("name", errors.__all__)
def test_every_error_pickles_with_its_attributes(name):
    """Each error class survives pickling with its message and attributes, and reads as xai_lite.X."""
    cls = getattr(errors, name)
    error = cls("something broke")
    error.client_request_id = "cid-1"
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls and str(copy) == str(error) and copy.client_request_id == "cid-1"
    assert cls.__module__ == "xai_lite" and getattr(xai_lite, name) is cls
    assert issubclass(cls, xai_lite.XaiError)


def test_invalid_argument_is_a_value_error_and_timeout_a_timeout_error():
    """Errors fit the builtin hierarchy where it helps callers."""
    assert issubclass(xai_lite.InvalidArgumentError, ValueError)
    assert issubclass(xai_lite.RequestTimeoutError, TimeoutError)
    assert issubclass(xai_lite.RequestTimeoutError, xai_lite.NetworkError)
    assert issubclass(xai_lite.MissingDependencyError, ImportError)


def _python(code, *args, env=None):
    """Run code in a child Python that imports the xai_lite under test (from the test's empty cwd)."""
    return subprocess.run([sys.executable, *args, "-c", code], capture_output=True, text=True,
                          env=package_env() if env is None else env, timeout=60)


def test_import_pulls_in_no_extra_and_no_third_party_module():
    """Importing the package imports only the standard library: no tiktoken, no prometheus."""
    code = ("import sys; before = set(sys.modules); import xai_lite; new = set(sys.modules) - before; "
            "print('\\n'.join(sorted(new)))")
    proc = _python(code)
    assert proc.returncode == 0, proc.stderr
    loaded = {name.split(".")[0] for name in proc.stdout.split()}
    assert "tiktoken" not in loaded and "prometheus_client" not in loaded
    if sys.version_info >= (3, 10):
        assert loaded - set(sys.stdlib_module_names) == {"xai_lite"}


def test_import_is_lazy():
    """`import xai_lite` loads no HTTP machinery; the first use of Client does."""
    code = ("import sys; import xai_lite; print('http.client' in sys.modules, 'xai_lite._client' in sys.modules, "
            "'dataclasses' in sys.modules); xai_lite.Client; print('xai_lite._client' in sys.modules)")
    proc = _python(code)
    assert proc.stdout.split() == ["False", "False", "False", "True"], proc.stderr


def test_import_has_no_side_effects():
    """Importing starts no thread, opens no file or socket and leaves the environment alone."""
    code = ("import os, threading, sys; fds = len(os.listdir('/proc/self/fd')); env = dict(os.environ); "
            "n = threading.active_count(); import xai_lite; "
            "assert threading.active_count() == n; assert len(os.listdir('/proc/self/fd')) == fds; "
            "assert dict(os.environ) == env; print('ok')")
    proc = _python(code)
    assert proc.stdout.strip() == "ok", proc.stderr


def test_bare_copy_works_without_site_packages(tmp_path):
    """A copy of xai_lite/ alone imports every module and every public name under `python -S`
    (no site-packages: vendoring), and never imports typing_extensions (only type checkers do)."""
    shutil.copytree(package_dir(), str(tmp_path / "xai_lite"), ignore=shutil.ignore_patterns("__pycache__"))
    code = ("import sys, pkgutil, importlib; assert not any('site-packages' in p for p in sys.path); "
            "import xai_lite; c = xai_lite.Client(api_key='xai-vendored-key-0000'); c.responses; "
            "[importlib.import_module(m.name) for m in pkgutil.walk_packages(xai_lite.__path__, 'xai_lite.') "
            "if m.name != 'xai_lite.__main__']; [getattr(xai_lite, n) for n in xai_lite.__all__]; "
            "assert 'typing_extensions' not in sys.modules; print(xai_lite.__version__, c.base_url)")
    proc = _python(code, "-S", env=dict(os.environ, PYTHONPATH=str(tmp_path)))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [xai_lite.__version__, "https://api.x.ai/v1"]


def test_version_is_a_literal():
    """__version__ is a literal in the package (vendored copies have no dist-info)."""
    with open(os.path.join(package_dir(), "_version.py"), encoding="utf-8") as fh:
        assert '__version__ = "%s"' % xai_lite.__version__ in fh.read()


def test_no_module_is_over_800_lines():
    """No file of the package grows past 800 lines."""
    for folder, _, files in os.walk(os.path.join(ROOT, "xai_lite")):
        for name in files:
            if name.endswith(".py"):
                with open(os.path.join(folder, name), encoding="utf-8") as fh:
                    assert sum(1 for _ in fh) <= 800, name


def test_threads_are_not_left_behind(serve, client_for):
    """Calls start no background thread of their own."""
    from harness import ok_completion

    server = serve(ok_completion)
    before = set(threading.enumerate())
    client_for(server).chat.completions.create(model="grok-4", messages=[{"role": "user", "content": "x"}])
    new = [t.name for t in set(threading.enumerate()) - before]
    assert all(name.startswith("loopback-") for name in new), new
