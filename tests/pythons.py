"""The CPython interpreters of the cross-version tests: 3.8 to 3.13 under pyenv.

A missing one fails the test under ``CI=true`` (CI installs them all) and is skipped, with the
reason shown, everywhere else.
"""

from __future__ import annotations

import glob
import os
import subprocess
from typing import List

import pytest

VERSIONS = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]


def _pyenv_root() -> str:
    if os.environ.get("PYENV_ROOT"):
        return os.environ["PYENV_ROOT"]
    try:
        out = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=30)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except OSError:
        pass
    return os.path.expanduser("~/.pyenv")


def _patch(path: str) -> List[int]:
    return [int(part) if part.isdigit() else 0 for part in path.split(os.sep)[-3].split(".")]


def interpreter(version: str) -> str:
    """The newest pyenv CPython ``version`` (``"3.12"``): its python's path, or skip/fail."""
    found = [p for p in glob.glob(os.path.join(_pyenv_root(), "versions", version + ".*", "bin", "python"))
             if os.access(p, os.X_OK)]
    if not found:
        message = "CPython %s is not installed under %s/versions" % (version, _pyenv_root())
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return max(found, key=_patch)
