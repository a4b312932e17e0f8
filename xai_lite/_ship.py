"""What ships, built from the package's own files: a vendored copy (``vendor``), an AWS Lambda
layer (``layer build``) and a single-file CLI (``zipapp``).

Only the command line loads this module (``cli.py`` imports it when one of these commands is
asked for), so importing ``xai_lite`` never pays for ``zipfile``, ``hashlib`` or ``subprocess``.
Everything is copied from the folder this module sits in, and only ``.py`` files and ``py.typed``
(never ``__pycache__``), so it works the same from a checkout, an installed wheel or a vendored copy.

Archives are reproducible: entries sorted, every timestamp 1980-01-01 (or ``SOURCE_DATE_EPOCH``),
fixed permissions, and no path of the building machine inside (bytecode is compiled with
``/opt/python``, where Lambda puts a layer, as its file name).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipapp
import zipfile
from typing import Dict, List, NamedTuple, Optional, Sequence, Set, TextIO, Tuple

from ._version import __version__
from .errors import InvalidArgumentError

__all__ = ["EXTRAS", "PLATFORMS", "ShipError", "build_layer", "build_zipapp", "check_vendored",
           "package_files", "vendor"]

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
FOLDER = "xai_lite"  # the folder every artefact holds, and the name users import from it
STAMP = "VENDORED"
# The optional extras, as pyproject.toml's [project.optional-dependencies] declares them (a test
# keeps the two equal): an installed or vendored package has no pyproject to read them from.
EXTRAS: Dict[str, Tuple[str, ...]] = {"metrics": ("prometheus-client",), "tokens": ("tiktoken",)}
# The manylinux tags of AWS Lambda's two architectures (Amazon Linux 2 and 2023 are glibc 2.26+).
PLATFORMS: Dict[str, str] = {"manylinux2014_x86_64": "x86_64", "manylinux2014_aarch64": "arm64"}
LAYER_SITE = "/opt/python"  # where Lambda unpacks a layer's python/ folder (AWS layer docs)
PIP_TIMEOUT_S = 900.0  # a slow mirror and a few wheels of several MB
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
MAX_STAMP_BYTES = 1 << 20
ZIPAPP_MAIN = b"""# The single-file xai_lite command line, built by `python -m xai_lite zipapp`.
from xai_lite.cli import main

raise SystemExit(main())
"""


class ShipError(Exception):
    """A vendor, layer or zipapp command could not do its job (the CLI exits with status 1)."""


# -- the package's files -----------------------------------------------------------------------


def package_files() -> List[str]:
    """The files to ship, as sorted ``/``-separated paths relative to the package: every ``.py``
    file and ``py.typed``, subpackages included. Raises InvalidArgumentError when the package is
    not a folder on disk (a zipapp, say)."""
    if not os.path.isfile(os.path.join(PACKAGE_DIR, "__init__.py")):
        raise InvalidArgumentError("this command needs xai_lite as files on disk, not inside %s"
                                   % os.path.basename(os.path.dirname(PACKAGE_DIR)))
    found = []
    for folder, dirs, files in os.walk(PACKAGE_DIR):
        # Only subpackages: stray folders (caches, editors' backups) are not part of the package.
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and os.path.isfile(os.path.join(folder, d, "__init__.py")))
        prefix = os.path.relpath(folder, PACKAGE_DIR).replace(os.sep, "/")
        for name in files:
            if name.endswith(".py") or name == "py.typed":
                found.append(name if prefix == "." else prefix + "/" + name)
    return sorted(found)


def _read(root: str, relative: str) -> bytes:
    with open(os.path.join(root, *relative.split("/")), "rb") as fh:
        return fh.read()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _tree_digest(digests: Dict[str, str]) -> str:
    """One hash for a set of files: of their sorted ``digest  path`` lines (as sha256sum prints)."""
    return _sha256("".join("%s  %s\n" % (digests[p], p) for p in sorted(digests)).encode())


def _package_digests() -> Dict[str, str]:
    return {path: _sha256(_read(PACKAGE_DIR, path)) for path in package_files()}


def _copy_package(target: str) -> Dict[str, str]:
    """Copy the package's files into ``target`` (created); return their digests."""
    digests = {}
    for path in package_files():
        data = _read(PACKAGE_DIR, path)
        dest = os.path.join(target, *path.split("/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "wb") as fh:
            fh.write(data)
        digests[path] = _sha256(data)
    return digests


def _replace(target: str, fresh: str) -> None:
    """Put the folder ``fresh`` where ``target`` is (a folder, a file or a symlink), or was."""
    if os.path.islink(target) or os.path.isfile(target):
        os.remove(target)
    elif os.path.isdir(target):
        shutil.rmtree(target)
    os.rename(fresh, target)


# -- vendor --------------------------------------------------------------------------------------


class Stamp(NamedTuple):
    """A parsed ``VENDORED`` file: what was copied, when, and each file's sha256."""

    version: str
    date: str
    digest: str
    files: Dict[str, str]


def _today() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    return time.strftime("%Y-%m-%d", time.gmtime(int(epoch) if epoch.isdigit() else None))


def _stamp_text(digests: Dict[str, str]) -> str:
    lines = ["# A vendored copy of xai_lite, made by `python -m xai_lite vendor`. Do not edit these files:",
             "# update them with `python -m xai_lite vendor DEST` (see vendor_notes.md), which checks",
             "# them against the sha256 lines below first.",
             "version: " + __version__, "date: " + _today(), "sha256: " + _tree_digest(digests)]
    lines += ["%s  %s" % (digests[path], path) for path in sorted(digests)]
    return "\n".join(lines) + "\n"


_FILE_LINE = re.compile(r"([0-9a-f]{64})  ([A-Za-z0-9_./-]{1,200})")
_FIELD = re.compile(r"(version|date|sha256): ([!-~]{1,100})")


def read_stamp(target: str) -> Stamp:
    """Parse ``target/VENDORED``. Raises ShipError when it is missing, unreadable or damaged."""
    path = os.path.join(target, STAMP)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_STAMP_BYTES + 1)
    except OSError:
        raise ShipError("%s has no %s stamp, so it was not made by `python -m xai_lite vendor`"
                        % (target, STAMP)) from None
    fields: Dict[str, str] = {}
    files: Dict[str, str] = {}
    damaged = len(raw) > MAX_STAMP_BYTES
    for line in raw.decode("utf-8", "replace").splitlines():
        field, entry = _FIELD.fullmatch(line), _FILE_LINE.fullmatch(line)
        if field:
            fields[field.group(1)] = field.group(2)
        elif entry and ".." not in entry.group(2).split("/"):
            files[entry.group(2)] = entry.group(1)
        elif line and not line.startswith("#"):
            damaged = True
    if damaged or len(fields) != 3 or not files or fields["sha256"] != _tree_digest(files):
        raise ShipError("the %s stamp in %s is damaged: vendor again with --force" % (STAMP, target))
    return Stamp(fields["version"], fields["date"], fields["sha256"], files)


def _changes(target: str, recorded: Dict[str, str]) -> List[str]:
    """The files of the copy that differ from the stamp: ``path (modified|added|deleted)``."""
    present: Set[str] = set()
    for folder, dirs, files in os.walk(target):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        prefix = os.path.relpath(folder, target).replace(os.sep, "/")
        present.update(name if prefix == "." else prefix + "/" + name for name in files)
    present.discard(STAMP)
    changes = []
    for path in sorted(present | set(recorded)):
        if path not in present:
            changes.append(path + " (deleted)")
        elif path not in recorded:
            changes.append(path + " (added)")
        elif _sha256(_read(target, path)) != recorded[path]:
            changes.append(path + " (modified)")
    return changes


def _listing(changes: List[str], most: int = 8) -> str:
    more = len(changes) - most
    return ", ".join(changes[:most]) + (", and %d more" % more if more > 0 else "")


def vendor(dest: str, *, force: bool = False) -> str:
    """Copy the package into ``dest/xai_lite/`` with a VENDORED stamp; return what was done.

    An existing copy is replaced only if its files still match its stamp, or with ``force``.
    Raises ShipError (saying which files changed) otherwise.
    """
    target = os.path.join(dest, FOLDER)
    if os.path.realpath(target) == os.path.realpath(PACKAGE_DIR):
        raise InvalidArgumentError("DEST %r holds the package being copied: choose another folder" % dest)
    previous = ""
    if os.path.lexists(target) and not force:
        stamp = read_stamp(target)
        changes = _changes(target, stamp.files)
        if changes:
            raise ShipError("%s was changed since it was vendored: %s; rerun with --force to overwrite"
                            % (target, _listing(changes)))
        previous = " (was %s, vendored %s)" % (stamp.version, stamp.date)
    try:
        os.makedirs(dest, exist_ok=True)
        fresh = tempfile.mkdtemp(prefix=".xai_lite-", dir=dest)
    except OSError as exc:
        raise InvalidArgumentError("cannot write into DEST %r: %s" % (dest, exc.strerror)) from None
    try:
        digests = _copy_package(fresh)
        with open(os.path.join(fresh, STAMP), "w", encoding="utf-8", newline="\n") as fh:
            fh.write(_stamp_text(digests))
        os.chmod(fresh, 0o755)  # mkdtemp's 0o700 would hide the copy from other users
        _replace(target, fresh)
    finally:
        if os.path.isdir(fresh):
            shutil.rmtree(fresh)
    return "vendored xai_lite %s into %s: %d files, sha256 %s%s" % (
        __version__, target, len(digests), _tree_digest(digests)[:16], previous)


def check_vendored(dest: str) -> str:
    """Say that ``dest/xai_lite/`` is intact (its files match its stamp) and current (the same
    files as this package); raise ShipError saying what is wrong otherwise."""
    target = os.path.join(dest, FOLDER)
    if not os.path.isdir(target):
        raise ShipError("no vendored copy at %s" % target)
    stamp = read_stamp(target)
    changes = _changes(target, stamp.files)
    if changes:
        raise ShipError("%s was changed since it was vendored: %s" % (target, _listing(changes)))
    digest = _tree_digest(_package_digests())
    if stamp.digest != digest:
        raise ShipError("%s is intact but not current: it holds xai_lite %s (sha256 %s, vendored %s), this is %s "
                        "(sha256 %s); update it with `python -m xai_lite vendor %s`"
                        % (target, stamp.version, stamp.digest[:16], stamp.date, __version__, digest[:16], dest))
    return "%s is intact and current: xai_lite %s, sha256 %s, vendored %s" % (
        target, stamp.version, stamp.digest[:16], stamp.date)


# -- reproducible zips -----------------------------------------------------------------------


def _zip_time() -> Tuple[int, int, int, int, int, int]:
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if not epoch.isdigit():
        return ZIP_EPOCH
    t = time.gmtime(min(max(int(epoch), 315532800), 4354819199))  # what a zip entry can hold
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)


def _zip_bytes(entries: Sequence[Tuple[str, bytes, bool]]) -> bytes:
    """A zip of ``(name, data, executable)`` entries, the same bytes for the same entries."""
    when = _zip_time()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data, executable in sorted(entries):
            info = zipfile.ZipInfo(name, when)
            info.create_system = 3  # Unix, so the permissions below are read
            info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def _tree_entries(root: str) -> List[Tuple[str, bytes, bool]]:
    entries = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as fh:
                data = fh.read()
            executable = bool(os.stat(path).st_mode & 0o111)
            entries.append((os.path.relpath(path, root).replace(os.sep, "/"), data, executable))
    return entries


def _write_atomically(out: str, data: bytes) -> None:
    folder = os.path.dirname(os.path.abspath(out))
    try:
        fd, temporary = tempfile.mkstemp(prefix=".xai_lite-", dir=folder)
    except OSError as exc:
        raise InvalidArgumentError("cannot write --out %r: %s" % (out, exc.strerror)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, out)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _size(n: int) -> str:
    return "%.1f KB" % (n / 1000) if n < 10**6 else "%.1f MB" % (n / 10**6)


# -- layer build ---------------------------------------------------------------------------------


def _run(
    args: List[str], timeout: float, env: Optional[Dict[str, str]] = None, cwd: Optional[str] = None
) -> Tuple[int, str]:
    """Run a command (in ``cwd``, ``env`` added); return its status and stdout + stderr."""
    try:
        proc = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout, env=dict(os.environ, **env) if env else None, cwd=cwd)
    except OSError as exc:
        return 127, "%s: %s" % (args[0], exc.strerror)
    except subprocess.TimeoutExpired:
        return 124, "%s took more than %d s" % (args[0], timeout)
    return proc.returncode, (proc.stdout + proc.stderr).decode("utf-8", "replace")


def _python_version(interpreter: str) -> Optional[str]:
    """``"3.12"`` for a CPython interpreter, None for anything else or nothing at all."""
    code, out = _run([interpreter, "-I", "-c", "import sys; print(sys.implementation.name, '%d.%d' % "
                      "sys.version_info[:2])"], 60)
    words = out.split()
    return words[1] if code == 0 and len(words) == 2 and words[0] == "cpython" else None


def _compiler(python: str, interpreter: Optional[str]) -> Optional[str]:
    """The interpreter that compiles the layer's bytecode: ``interpreter``, else the running one or
    ``python3.X`` on PATH when it is the right version; None when there is none."""
    if interpreter is not None:
        found = _python_version(interpreter)
        if found != python:
            raise InvalidArgumentError("--interpreter %r is %s, not CPython %s (--python)"
                                       % (interpreter, "Python " + found if found else "not a working CPython", python))
        return interpreter
    for candidate in (sys.executable, shutil.which("python" + python)):
        if candidate and _python_version(candidate) == python:
            return candidate
    return None


_COMPILE = ("import compileall, py_compile, sys; compileall.compile_dir(sys.argv[1], ddir=sys.argv[2], quiet=2, "
            "invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)")
# Hash-checked bytecode holds no timestamp (reproducible) and stays right if the source is edited.
_NO_NETWORK = re.compile(r"NewConnectionError|Connection refused|Name or service not known|Temporary failure in "
                         r"name resolution|Network is unreachable|ConnectTimeout|timed out|ProxyError|SSLError")
_NO_WHEEL = re.compile(r"No matching distribution found for ([^\s]+)")


def _pip_failure(output: str, packages: Sequence[str], python: str, platform: str) -> str:
    if "No module named pip" in output:
        return "pip is not available to %s: install it, or build the layer without --extras" % sys.executable
    if _NO_NETWORK.search(output):
        return ("no network: pip could not reach the package index for %s (set PIP_INDEX_URL to a mirror you can "
                "reach)" % ", ".join(packages))
    missing = _NO_WHEEL.search(output)
    if missing:
        return "no wheel of %s for CPython %s on %s on the package index" % (missing.group(1), python, platform)
    last = [line for line in output.splitlines() if line.strip()][-1:] or ["no output"]
    return "pip could not install %s: %s" % (", ".join(packages), last[0].strip()[:300])


def _install_extras(site: str, extras: Sequence[str], python: str, platform: str) -> List[str]:
    packages = [package for extra in extras for package in EXTRAS[extra]]
    code, output = _run([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-compile",
                         "--target", site, "--platform", platform, "--python-version", python,
                         "--implementation", "cp", "--only-binary=:all:", *packages], PIP_TIMEOUT_S)
    if code:
        raise ShipError(_pip_failure(output, packages, python, platform))
    # Console scripts: a function never runs them, and their shebang is this machine's interpreter.
    shutil.rmtree(os.path.join(site, "bin"), ignore_errors=True)
    return packages


def parse_extras(text: str) -> List[str]:
    """``"tokens,metrics"`` -> ``["metrics", "tokens"]``; InvalidArgumentError for an unknown extra."""
    extras = sorted({name.strip() for name in text.split(",") if name.strip()})
    unknown = [name for name in extras if name not in EXTRAS]
    if unknown:
        raise InvalidArgumentError("unknown --extras %s: choose from %s" % (", ".join(unknown), ", ".join(EXTRAS)))
    return extras


def build_layer(out: str, *, python: str, platform: str, extras: Sequence[str] = (),
                interpreter: Optional[str] = None) -> str:
    """Write an AWS Lambda layer zip (``python/xai_lite/…``, plus the wheels of ``extras`` for
    ``python`` on ``platform``) to ``out``; return a report with its size and how to publish it.

    Bytecode for ``python`` is included when an interpreter of that version is found (see
    ``_compiler``); without it the function recompiles the source at every cold start.
    Raises ShipError when pip cannot install the extras, InvalidArgumentError for bad arguments.
    """
    if not re.fullmatch(r"3\.[0-9]{1,2}", python):
        raise InvalidArgumentError("--python must look like 3.12, not %r" % python)
    if platform not in PLATFORMS:
        raise InvalidArgumentError("--platform must be one of %s, not %r" % (", ".join(PLATFORMS), platform))
    compiler = _compiler(python, interpreter)
    stage = tempfile.mkdtemp(prefix="xai_lite-layer-")
    try:
        site = os.path.join(stage, "python")
        _copy_package(os.path.join(site, FOLDER))
        installed = _install_extras(site, extras, python, platform) if extras else []
        if compiler is not None:
            # A fixed hash seed orders frozenset constants (-I would ignore it); cwd holds only the package.
            code, output = _run([compiler, "-s", "-S", "-c", _COMPILE, site, LAYER_SITE], 600,
                                {"PYTHONHASHSEED": "0"}, cwd=site)
            if code:
                raise ShipError("could not compile the layer's bytecode with %s: %s" % (compiler, output[-300:]))
        entries = _tree_entries(stage)
    finally:
        shutil.rmtree(stage)
    data = _zip_bytes(entries)
    _write_atomically(out, data)
    lines = ["wrote %s: %s, %d files: xai_lite %s%s, %s" % (
        out, _size(len(data)), len(entries), __version__,
        " with " + ", ".join(installed) if installed else " without extras",
        "bytecode for CPython " + python if compiler else "source only")]
    if compiler is None:
        lines.append("note: no CPython %s found to compile bytecode (pass --interpreter), so the function will "
                     "compile the source at every cold start" % python)
    lines.append("publish: aws lambda publish-layer-version --layer-name xai-lite --zip-file fileb://%s "
                 "--compatible-runtimes python%s --compatible-architectures %s" % (out, python, PLATFORMS[platform]))
    return "\n".join(lines)


# -- zipapp ------------------------------------------------------------------------------------


def build_zipapp(out: str) -> str:
    """Write a single-file CLI (a stdlib zipapp: ``python3 OUT chat "…"``) to ``out``; return a report."""
    entries = [("__main__.py", ZIPAPP_MAIN, False)]
    entries += [(FOLDER + "/" + path, _read(PACKAGE_DIR, path), False) for path in package_files()]
    target = io.BytesIO()
    # From an archive, zipapp copies it byte for byte after the shebang line, so it stays reproducible.
    zipapp.create_archive(io.BytesIO(_zip_bytes(entries)), target, interpreter="/usr/bin/env python3")
    _write_atomically(out, target.getvalue())
    os.chmod(out, 0o755)
    return "wrote %s: %s, xai_lite %s; run it with: python3 %s chat \"Hello\"" % (
        out, _size(len(target.getvalue())), __version__, out)


# -- the commands ----------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m xai_lite", description="Ship xai_lite: vendor, layer, zipapp.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    copy = commands.add_parser("vendor", help="copy the package into DEST/xai_lite/, stamped",
                               description="Copy xai_lite (source only) into DEST/xai_lite/ with a VENDORED stamp.")
    copy.add_argument("dest", metavar="DEST", help="the folder to hold xai_lite/ (created if missing)")
    what = copy.add_mutually_exclusive_group()
    what.add_argument("--force", action="store_true", help="overwrite a copy whose files were changed")
    what.add_argument("--check", action="store_true", help="only report whether DEST/xai_lite is intact and current")
    layer = commands.add_parser("layer", help="build an AWS Lambda layer (layer build --help)")
    build = layer.add_subparsers(dest="action", metavar="ACTION", required=True).add_parser(
        "build", help="write a layer zip", description="Write an AWS Lambda layer zip holding python/xai_lite/.")
    build.add_argument("--out", default="xai-lite-layer.zip", help="the zip to write (default: %(default)s)")
    build.add_argument("--python", default="%d.%d" % sys.version_info[:2],
                       help="the function's Python version (default: this one, %(default)s)")
    build.add_argument("--platform", default="manylinux2014_x86_64", choices=sorted(PLATFORMS),
                       help="the function's architecture, for the extras' wheels (default: %(default)s)")
    build.add_argument("--extras", default="", help="comma-separated extras to install: " + ",".join(EXTRAS))
    build.add_argument("--interpreter", help="a CPython of the --python version, to compile the bytecode "
                                             "(default: this one or python3.X on PATH, if the version matches)")
    app = commands.add_parser("zipapp", help="build a single-file CLI", description="Build a single-file CLI.")
    app.add_argument("--out", default="xai-lite.pyz", help="the file to write (default: %(default)s)")
    return parser


def main(argv: List[str], *, stdout: TextIO, stderr: TextIO) -> int:
    """Run ``vendor``, ``layer build`` or ``zipapp`` with ``argv``; return the exit status:
    0 done, 1 refused or failed (the reason on stderr), 2 bad usage."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "vendor":
            report = check_vendored(args.dest) if args.check else vendor(args.dest, force=args.force)
        elif args.command == "layer":
            report = build_layer(args.out, python=args.python, platform=args.platform,
                                 extras=parse_extras(args.extras), interpreter=args.interpreter)
        else:
            report = build_zipapp(args.out)
    except InvalidArgumentError as exc:
        stderr.write("xai_lite: %s\n" % exc)
        return 2
    except (ShipError, OSError) as exc:
        stderr.write("xai_lite: %s\n" % (exc if isinstance(exc, ShipError) else "%s: %s" % (
            exc.strerror or type(exc).__name__, exc.filename or "")))
        return 1
    stdout.write(report + "\n")
    return 0
