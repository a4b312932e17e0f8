"""`python -m xai_lite vendor` and `zipapp`: the copies users make, made and used as they make them.

Case ids extend the test plan (reliability.md S12, supply chain) with P-cases for packaging:
P1 stamp, P2 vendored import, P3-P5 refusing to overwrite, P6 updating, P7-P8 zipapp, P9 laziness.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile

import pytest
from harness import ROOT
from shipping import api, interpreter, run, use_copy

import xai_lite
from xai_lite import _ship

PACKAGE_DIR = os.path.dirname(os.path.abspath(xai_lite.__file__))
IMPORT_ROOT = os.path.dirname(PACKAGE_DIR)  # what PYTHONPATH needs for `python -m xai_lite`, checkout or wheel



def files_under(root):
    found = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as fh:
                found[os.path.relpath(path, root).replace(os.sep, "/")] = fh.read()
    return found


def source_files():
    """The package's .py files and py.typed, read independently of _ship.package_files()."""
    return {path: data for path, data in files_under(PACKAGE_DIR).items()
            if "__pycache__" not in path and (path.endswith(".py") or path.endswith("py.typed"))}



def test_vendor_copies_the_source_with_a_stamp(tmp_path):
    """P1: `vendor DEST` writes DEST/xai_lite/ holding exactly the package's .py files and py.typed,
    byte for byte, plus a VENDORED stamp with the version, the date and each file's sha256."""
    dest = tmp_path / "tool" / "_vendor"  # missing folders are created (no `mkdir -p` needed)
    code, out, err = run(["vendor", str(dest)])
    assert (code, err) == (0, ""), err
    assert "vendored xai_lite %s into %s" % (xai_lite.__version__, dest / "xai_lite") in out
    copied = files_under(str(dest / "xai_lite"))
    stamp = copied.pop("VENDORED").decode()
    assert copied == source_files() and "py.typed" in copied and "reliability/_retry.py" in copied
    lines = stamp.splitlines()
    assert "version: " + xai_lite.__version__ in lines
    assert any(line.startswith("date: 20") for line in lines)
    for path, data in copied.items():
        assert "%s  %s" % (hashlib.sha256(data).hexdigest(), path) in lines
    code, out, err = run(["vendor", "--check", str(dest)])
    assert code == 0 and out.startswith("%s is intact and current: xai_lite %s" % (dest / "xai_lite", xai_lite.__version__))


def test_vendored_copy_works_under_another_name(tmp_path, serve, canary):
    """P2: the copy imports as tool._vendor.xai_lite under `python -I -S`, makes a chat call, a
    streamed call and a models call over loopback, and no module named xai_lite is ever imported."""
    assert run(["vendor", str(tmp_path / "tool" / "_vendor")])[0] == 0
    for package in ("tool", "tool/_vendor"):
        (tmp_path / package / "__init__.py").write_text("")
    seen = use_copy(sys.executable, str(tmp_path), serve(api), canary, "from tool._vendor import xai_lite")
    assert seen == {"answer": "Hello from the server", "streamed": "Hello, world", "models": ["grok-4", "grok-4.3"],
                    "python": "%d.%d" % sys.version_info[:2], "from_copy": True, "modules": []}


def test_vendor_refuses_to_overwrite_a_changed_copy(tmp_path):
    """P3: once a file of the copy is modified, added or deleted, `vendor` exits 1 naming each of
    them and leaves the copy alone, `--check` exits 1 naming them, and `--force` overwrites."""
    dest = tmp_path / "vendor"
    assert run(["vendor", str(dest)])[0] == 0
    copy = dest / "xai_lite"
    with open(str(copy / "_sse.py"), "a") as fh:
        fh.write("# a local patch\n")
    (copy / "reliability" / "local.py").write_text("x = 1\n")
    (copy / "_wire.py").unlink()
    (copy / "__pycache__").mkdir()  # bytecode is not a change
    (copy / "__pycache__" / "_sse.cpython-311.pyc").write_bytes(b"\0")

    code, out, err = run(["vendor", str(dest)])
    assert (code, out) == (1, "") and err.count("\n") == 1
    assert "_sse.py (modified)" in err and "reliability/local.py (added)" in err and "_wire.py (deleted)" in err
    assert "--force" in err and "local patch" in (copy / "_sse.py").read_text()

    code, out, err = run(["vendor", "--check", str(dest)])
    assert (code, out) == (1, "") and "_sse.py (modified)" in err and "_wire.py (deleted)" in err

    assert run(["vendor", "--force", str(dest)])[0] == 0
    assert "local patch" not in (copy / "_sse.py").read_text()
    assert not (copy / "reliability" / "local.py").exists() and (copy / "_wire.py").exists()
    assert run(["vendor", "--check", str(dest)])[0] == 0


def test_vendor_refuses_a_folder_it_did_not_make(tmp_path):
    """P4: an xai_lite/ folder without a VENDORED stamp, or with a damaged one, is not replaced
    without --force, and --check says why."""
    dest = tmp_path / "vendor"
    (dest / "xai_lite").mkdir(parents=True)
    (dest / "xai_lite" / "mine.py").write_text("precious = True\n")
    code, out, err = run(["vendor", str(dest)])
    assert code == 1 and "has no VENDORED stamp" in err and (dest / "xai_lite" / "mine.py").exists()
    assert run(["vendor", "--check", str(dest)])[0] == 1

    assert run(["vendor", "--force", str(dest)])[0] == 0
    stamp = dest / "xai_lite" / "VENDORED"
    assert run(["vendor", "--check", str(dest)])[0] == 0
    stamp.write_text(stamp.read_text()[:-40] + "\n")  # a cut stamp no longer matches its own digest
    for argv in (["vendor", str(dest)], ["vendor", "--check", str(dest)]):
        code, out, err = run(argv)
        assert code == 1 and "VENDORED stamp in" in err and "damaged" in err


def test_vendor_check_and_usage_errors(tmp_path):
    """P5: --check of a folder without a copy exits 1; --check with --force, or a DEST that is a
    file, or DEST being the package itself, is a usage error (exit 2) and writes nothing."""
    code, out, err = run(["vendor", "--check", str(tmp_path)])
    assert code == 1 and "no vendored copy at" in err
    with pytest.raises(SystemExit) as exit_info:
        run(["vendor", "--check", "--force", str(tmp_path)])
    assert exit_info.value.code == 2
    (tmp_path / "file").write_text("")
    code, out, err = run(["vendor", str(tmp_path / "file")])
    assert code == 2 and "cannot write into DEST" in err
    code, out, err = run(["vendor", "--force", IMPORT_ROOT])
    assert code == 2 and "holds the package being copied" in err


def test_vendor_updates_an_intact_copy_of_another_version(tmp_path):
    """P6: a copy made by an older release is intact but not current: --check exits 1 and says
    how to update; `vendor` (no --force) then replaces it, and --check passes."""
    old = tmp_path / "old"
    assert run(["vendor", str(old)])[0] == 0
    (old / "xai_lite" / "VENDORED").unlink()
    (old / "xai_lite" / "_version.py").write_text('__version__ = "0.0.9"\n')
    dest = tmp_path / "vendor"
    env = dict(os.environ, PYTHONPATH=str(old))
    proc = subprocess.run([sys.executable, "-m", "xai_lite", "vendor", str(dest)], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and "vendored xai_lite 0.0.9" in proc.stdout, proc.stderr

    code, out, err = run(["vendor", "--check", str(dest)])
    assert code == 1 and "intact but not current" in err and "xai_lite 0.0.9" in err
    assert "python -m xai_lite vendor %s" % dest in err
    code, out, err = run(["vendor", str(dest)])
    assert code == 0 and "(was 0.0.9, vendored 20" in out
    assert run(["vendor", "--check", str(dest)])[0] == 0
    assert xai_lite.__version__ in (dest / "xai_lite" / "_version.py").read_text()


def test_zipapp_is_reproducible_and_holds_only_the_package(tmp_path):
    """P7: two `zipapp` builds are byte-identical: a shebang, then a zip of __main__.py and the
    package's sources only, every entry dated 1980-01-01 with mode 0644, no host path inside."""
    first, second = tmp_path / "a" / "xai-lite.pyz", tmp_path / "b.pyz"
    first.parent.mkdir()
    code, out, err = run(["zipapp", "--out", str(first)])
    assert code == 0 and "wrote %s" % first in out, err
    assert run(["zipapp", "--out", str(second)])[0] == 0
    data = first.read_bytes()
    assert data == second.read_bytes()
    assert data.startswith(b"#!/usr/bin/env python3\n") and os.access(str(first), os.X_OK)
    with zipfile.ZipFile(str(first)) as archive:
        infos = archive.infolist()
        contents = {info.filename: archive.read(info) for info in infos}
    assert [info.filename for info in infos] == sorted(contents)
    assert contents.pop("__main__.py").startswith(b"# The single-file xai_lite command line")
    assert contents == {"xai_lite/" + path: data for path, data in source_files().items()}
    assert {(info.date_time, info.external_attr >> 16) for info in infos} == {((1980, 1, 1, 0, 0, 0), 0o100644)}
    for host_path in (str(tmp_path), PACKAGE_DIR):
        assert host_path.encode() not in data


def test_source_date_epoch_sets_the_zip_times_and_the_stamp_date(tmp_path, monkeypatch):
    """P7: with SOURCE_DATE_EPOCH set, zip entries carry that time and the VENDORED stamp that date."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14 22:13:20 UTC
    assert run(["zipapp", "--out", str(tmp_path / "x.pyz")])[0] == 0
    with zipfile.ZipFile(str(tmp_path / "x.pyz")) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2023, 11, 14, 22, 13, 20)}
    assert run(["vendor", str(tmp_path / "v")])[0] == 0
    assert "\ndate: 2023-11-14\n" in (tmp_path / "v" / "xai_lite" / "VENDORED").read_text()


@pytest.mark.parametrize("version", ["3.8", "3.13"])
def test_zipapp_runs_on_a_bare_python(tmp_path, serve, canary, version):
    """P8: the zipapp runs as `python3 xai-lite.pyz` on CPython 3.8 and 3.13 with nothing
    installed: --version, models and a streamed chat against the loopback server."""
    python = interpreter(version)
    pyz = tmp_path / "xai-lite.pyz"
    assert run(["zipapp", "--out", str(pyz)])[0] == 0
    server = serve(api)
    env = {"PATH": os.environ.get("PATH", ""), "XAI_API_KEY": canary, "XAI_BASE_URL": server.url + "/v1"}

    def pyz_run(*argv):
        proc = subprocess.run([python, str(pyz), *argv], env=env, capture_output=True, text=True, timeout=60,
                              cwd=str(tmp_path))
        assert canary not in proc.stdout + proc.stderr
        return proc.returncode, proc.stdout, proc.stderr

    assert pyz_run("--version") == (0, "xai-lite %s\n" % xai_lite.__version__, "")
    assert pyz_run("models") == (0, "grok-4\ngrok-4.3\n", "")
    assert pyz_run("chat", "hi") == (0, "Hello, world\n", "")
    assert pyz_run("vendor", str(tmp_path / "v"))[0] == 2  # vendoring needs the package on disk


def test_zipapp_runs_through_its_shebang(tmp_path):
    """P8: the zipapp is executable on its own (`./xai-lite.pyz --version`)."""
    pyz = tmp_path / "xai-lite.pyz"
    assert run(["zipapp", "--out", str(pyz)])[0] == 0
    proc = subprocess.run([str(pyz), "--version"], capture_output=True, text=True, timeout=60, cwd=str(tmp_path),
                          env={"PATH": os.environ.get("PATH", "")})
    assert (proc.returncode, proc.stdout) == (0, "xai-lite %s\n" % xai_lite.__version__), proc.stderr


def test_ship_commands_through_python_dash_m_and_help(tmp_path):
    """The commands run as `python -m xai_lite ...` and are listed in --help; global options in
    front of them are a usage error."""
    env = dict(os.environ, PYTHONPATH=IMPORT_ROOT)
    proc = subprocess.run([sys.executable, "-m", "xai_lite", "vendor", str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and (tmp_path / "xai_lite" / "VENDORED").exists(), proc.stderr
    proc = subprocess.run([sys.executable, "-m", "xai_lite", "--help"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert all(name in proc.stdout for name in ("vendor", "layer", "zipapp"))
    with pytest.raises(SystemExit) as exit_info:
        run(["--timeout", "3", "zipapp"])
    assert exit_info.value.code == 2


def test_import_never_loads_the_packaging_code():
    """P9: importing xai_lite, its CLI, and making a client load neither _ship nor zipfile,
    hashlib, subprocess or zipapp."""
    code = ("import sys, xai_lite, xai_lite.cli; xai_lite.Client(api_key='xai-k').chat.completions; "
            "print(sorted(m for m in ('xai_lite._ship', 'zipfile', 'zipapp', 'hashlib', 'subprocess') "
            "if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-I", "-c", "import sys; sys.path.insert(0, %r); " % IMPORT_ROOT + code],
                          capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout.strip()) == (0, "[]"), proc.stderr


def test_extras_match_pyproject():
    """The extras `layer build --extras` knows are the ones pyproject.toml declares."""
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")
    path = os.path.join(ROOT, "pyproject.toml")
    if not os.path.exists(path):
        pytest.skip("no pyproject.toml next to the tests")
    with open(path, "rb") as fh:
        declared = tomllib.load(fh)["project"]["optional-dependencies"]
    declared.pop("test", None)
    assert {name: tuple(packages) for name, packages in declared.items()} == _ship.EXTRAS
