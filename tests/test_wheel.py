"""The wheel and the sdist as a user's pip builds them, from a copy of the tree (S12, extended).

S12a  the wheel holds the source package file for file (subpackages and py.typed included), the
      LICENSE in its dist-info, and nothing else: no tests, caches or build leftovers.
S12b  the sdist holds every file of the package, py.typed, the LICENSE and the whole test suite.
S12c  the wheel stays at most 150 KB (the figure in the README; the assertion shows it).
S12d  the installed package (when the suite runs against it, as CI does) is the source, file for file.

The build runs the PEP 517 hooks of setuptools without isolation, like ``pip wheel
--no-build-isolation``: with this interpreter's setuptools when it is recent enough (the test
extra installs one), else with one installed into a private venv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from typing import Dict, Tuple

import pytest
from harness import ROOT, package_dir

import xai_lite

MAX_WHEEL_BYTES = 150 * 1024  # stated in README.md ("Tests")
BACKEND = "setuptools>=70.1,<77"  # as in pyproject.toml: builds wheels without the `wheel` package
DIST_INFO = {"METADATA", "WHEEL", "RECORD", "top_level.txt", "entry_points.txt", "LICENSE"}
# One hook per process (in one process, build_sdist after build_wheel writes to the wrong folder).
BUILD = "import sys; from setuptools import build_meta as b; print('built:', getattr(b, sys.argv[1])(sys.argv[2]))"


def package_files(folder: str) -> Dict[str, bytes]:
    """Every file of a package folder, by path relative to its parent ("xai_lite/..."), bytecode aside."""
    files = {}
    for parent, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            if not name.endswith((".pyc", ".pyo")):
                path = os.path.join(parent, name)
                with open(path, "rb") as fh:
                    files["xai_lite/" + os.path.relpath(path, folder).replace(os.sep, "/")] = fh.read()
    return files


def _backend_python(tmp: str) -> str:
    """An interpreter whose setuptools can build the wheel: this one, or a private venv's."""
    try:
        from importlib.metadata import version

        if (70, 1) <= tuple(int(p) for p in version("setuptools").split(".")[:2]) < (77, 0):
            return sys.executable
    except Exception:  # no setuptools, or an odd version string: build with a venv of our own
        pass
    venv = os.path.join(tmp, "venv")
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=120)
    python = os.path.join(venv, "bin", "python")
    proc = subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", BACKEND],
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        message = "cannot install %s to build the wheel: %s" % (BACKEND, proc.stderr.strip()[-500:])
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs the test extra, which brings it: never skip there
        pytest.skip(message)
    return python


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Tuple[str, str]:
    """(wheel, sdist) built from a copy of the checkout (tests, examples, benchmarks and all), with
    stray bytecode planted in it; build/ and dist/ are left out as a fresh clone has none."""
    tmp = str(tmp_path_factory.mktemp("wheel"))
    tree = os.path.join(tmp, "tree")
    shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info", "build", "dist"))
    for leftover in ("xai_lite/__pycache__/_client.cpython-311.pyc", "xai_lite/reliability/_retry.pyc",
                     "tests/__pycache__/conftest.cpython-311.pyc"):
        os.makedirs(os.path.dirname(os.path.join(tree, leftover)), exist_ok=True)
        with open(os.path.join(tree, leftover), "wb") as fh:
            fh.write(b"leftover")
    out = os.path.join(tmp, "dist")
    os.mkdir(out)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    python = _backend_python(tmp)
    built = []
    for hook in ("build_wheel", "build_sdist"):
        proc = subprocess.run([python, "-c", BUILD, hook, out], cwd=tree, env=env, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        built.append(os.path.join(out, proc.stdout.rsplit("built:", 1)[1].strip()))  # the backend chats on stdout
    return built[0], built[1]


def test_wheel_holds_the_package_file_for_file_and_nothing_else(built):
    """S12a: every module of xai_lite/ and its subpackages, with py.typed, byte for byte; the
    LICENSE in the dist-info; no other file (no tests, bytecode, build leftovers, .pth)."""
    source = package_files(os.path.join(ROOT, "xai_lite"))
    assert "xai_lite/reliability/_retry.py" in source and "xai_lite/py.typed" in source
    with zipfile.ZipFile(built[0]) as wheel:
        names = wheel.namelist()
        shipped = {name: wheel.read(name) for name in names if name.startswith("xai_lite/")}
        dist_info = "xai_lite-%s.dist-info/" % xai_lite.__version__
        extra = {name[len(dist_info):] for name in names if name.startswith(dist_info)}
        with open(os.path.join(ROOT, "LICENSE"), "rb") as fh:
            assert wheel.read(dist_info + "LICENSE") == fh.read()
        metadata = wheel.read(dist_info + "METADATA").decode()
    assert sorted(shipped) == sorted(source)
    assert shipped == source
    assert extra == DIST_INFO
    assert len(names) == len(source) + len(DIST_INFO)  # nothing outside the package and its dist-info
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert "License: MIT" in metadata and all("extra ==" in line for line in requires), requires


def test_sdist_holds_the_package_and_the_license(built):
    """S12b: the sdist carries every package file, py.typed, LICENSE, pyproject.toml, README.md and
    the test suite with its harness (MANIFEST.in), and no bytecode."""
    with tarfile.open(built[1]) as sdist:
        top = "xai_lite-%s/" % xai_lite.__version__
        names = {name[len(top):] for name in sdist.getnames() if name.startswith(top)}
        license_file = sdist.extractfile(top + "LICENSE")
        assert license_file is not None and b"MIT License" in license_file.read()
    assert set(package_files(os.path.join(ROOT, "xai_lite"))) <= names
    assert {"LICENSE", "pyproject.toml", "README.md", "tests/conftest.py", "tests/harness.py"} <= names
    assert not [name for name in names if name.endswith(".pyc") or "/build/" in "/" + name]


def test_wheel_stays_under_150_kb(built):
    """S12c: the wheel is at most 150 KB (README); the message gives today's figure."""
    size = os.path.getsize(built[0])
    assert size <= MAX_WHEEL_BYTES, "the wheel is %d bytes (%.1f KB), over 150 KB" % (size, size / 1024)


def test_installed_package_is_the_source():
    """S12d: the xai_lite this suite imports, when installed (CI), is the source file for file."""
    here = package_dir()
    if os.path.realpath(here) == os.path.realpath(os.path.join(ROOT, "xai_lite")):
        pytest.skip("the suite runs against the source tree (python -m pytest); CI runs it against the wheel")
    assert package_files(here) == package_files(os.path.join(ROOT, "xai_lite"))
