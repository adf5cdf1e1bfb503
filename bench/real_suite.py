#!/usr/bin/env python3
"""A real published test suite for arun's benchmarks: attrs 26.1.0 (stdlib only).

Why attrs: pure Python, its sdist ships the whole ``tests/`` tree, it has a
real-world shape (about 1,385 tests: plain, fixture-parametrised and
Hypothesis property tests with uneven durations) and takes roughly 20-25 s
serially here, few deps (hypothesis, cloudpickle, Pympler), and its authors
run it with pytest-xdist, which is exactly what arun competes with.

Steps (each skipped when already done):
  1. ``pip download --no-binary :all: --no-deps attrs==26.1.0`` into
     ``OUT/real/dl`` (pip builds the sdist's metadata, which fetches hatchling
     and friends: about a minute the first time);
  2. unpack to ``OUT/real/attrs-26.1.0`` (the pytest rootdir: its
     pyproject.toml carries the pytest options, ``testpaths = tests``);
  3. ``pip install`` the package and its "tests" dependency group (wheels; the
     package is ``attrs==26.1.0`` itself, whose sources match the sdist's
     ``src/``; the tests use ``--import-mode=importlib`` so they test the
     installed copy);
  4. one serial run with pytest-split's ``--store-durations`` writes
     ``OUT/real/expected_durations.json`` and ``OUT/real/.test_durations``
     (the figures for the lower bound and for pytest-split's groups).

How the authors run it (tox.ini, env ``py3XX-tests``, dependency group
"tests" = cloudpickle, hypothesis, pympler, pytest, pytest-xdist[psutil]):
    pytest -n auto
(with ``coverage run -m pytest -n auto`` on some Python versions).

One test is deselected everywhere: ``tests/test_converters.py::TestPipe::
test_wrapped_annotation`` fails on CPython 3.11.7 with the released attrs
26.1.0 (return annotation of a piped Converter is None); it is unrelated to
how the suite is run.

CLI: python3 bench/real_suite.py [--out bench/out] [--python python3] [--no-install] [--force]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

NAME = "attrs"
VERSION = "26.1.0"
DIRNAME = f"{NAME}-{VERSION}"
TEST_DEPS = [f"{NAME}=={VERSION}", "hypothesis", "cloudpickle", "Pympler"]
EXTRA_ARGS = ["--deselect", "tests/test_converters.py::TestPipe::test_wrapped_annotation"]
AUTHORS_COMMAND = "pytest -n auto   (tox.ini [testenv] tests: pytest {posargs:-n auto}; deps: dependency group 'tests')"
# caches a run leaves in the rootdir; the harness deletes them before every run
CACHE_DIRS = [".hypothesis", ".pytest_cache", ".arun"]


def _log(msg: str) -> None:
    print(f"[real] {msg}", file=sys.stderr, flush=True)


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    _log("$ " + " ".join(cmd))
    return subprocess.run(cmd, **kw)


def download(out: Path, python: str) -> Path:
    dl = out / "real" / "dl"
    tarball = dl / f"{DIRNAME}.tar.gz"
    if tarball.exists():
        return tarball
    dl.mkdir(parents=True, exist_ok=True)
    r = _run([python, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
              f"{NAME}=={VERSION}", "-d", str(dl)])
    if r.returncode != 0 or not tarball.exists():
        raise RuntimeError(f"pip download of {NAME}=={VERSION} failed (exit {r.returncode})")
    return tarball


def unpack(tarball: Path, out: Path) -> Path:
    root = out / "real" / DIRNAME
    if (root / "pyproject.toml").exists() and (root / "tests").is_dir():
        return root
    with tarfile.open(tarball) as tf:
        kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tf.extractall(out / "real", **kwargs)
    if not (root / "tests").is_dir():
        raise RuntimeError(f"{tarball.name} ships no tests/ directory")
    return root


def install(python: str) -> None:
    r = _run([python, "-m", "pip", "install", "-q", *TEST_DEPS])
    if r.returncode != 0:
        raise RuntimeError("pip install of the test dependencies failed")


def installed_version(python: str) -> str | None:
    r = subprocess.run([python, "-c", f"import importlib.metadata as m; print(m.version('{NAME}'))"],
                       capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else None


def clear_caches(root: Path) -> None:
    import shutil
    for name in CACHE_DIRS:
        shutil.rmtree(root / name, ignore_errors=True)


def store_durations(root: Path, out: Path, python: str) -> dict[str, float]:
    """One serial run recording per-test durations (setup+call+teardown) with pytest-split."""
    real = out / "real"
    expected = real / "expected_durations.json"
    if expected.exists():
        return json.loads(expected.read_text())
    split_file = real / ".test_durations"
    clear_caches(root)
    t = time.monotonic()
    r = _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *EXTRA_ARGS,
              "--store-durations", f"--durations-path={split_file}"],
             cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _log(f"serial reference run: exit {r.returncode} in {time.monotonic() - t:.1f}s")
    clear_caches(root)
    if r.returncode != 0 or not split_file.exists():
        raise RuntimeError(f"the serial reference run of {DIRNAME} failed (exit {r.returncode})")
    durations = json.loads(split_file.read_text())
    expected.write_text(json.dumps(durations, indent=0, sort_keys=True) + "\n")
    return durations


def prepare(out: str | Path, python: str = sys.executable, do_install: bool = True, force: bool = False) -> dict:
    """Everything the harness needs; raises RuntimeError with a reason when it cannot."""
    out = Path(out).resolve()
    if force:
        import shutil
        shutil.rmtree(out / "real", ignore_errors=True)
    tarball = download(out, python)
    root = unpack(tarball, out)
    if do_install:
        install(python)
    have = installed_version(python)
    if have != VERSION:
        raise RuntimeError(f"{NAME} {VERSION} is not installed for {python} (found {have}); run without --no-install")
    durations = store_durations(root, out, python)
    return {
        "name": f"{NAME} {VERSION}",
        "root": str(root),
        "extra_args": list(EXTRA_ARGS),
        "durations_path": str(out / "real" / ".test_durations"),
        "expected_durations_path": str(out / "real" / "expected_durations.json"),
        "count": len(durations),
        "sum_seconds": round(sum(durations.values()), 3),
        "longest_seconds": round(max(durations.values()), 3) if durations else 0.0,
        "authors_command": AUTHORS_COMMAND,
        "cache_dirs": list(CACHE_DIRS),
        "source": f"pip download --no-binary :all: --no-deps {NAME}=={VERSION}",
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(Path(__file__).parent / "out"))
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--no-install", action="store_true", help="do not pip install; fail if deps are missing")
    ap.add_argument("--force", action="store_true", help="download, unpack and measure again")
    a = ap.parse_args(argv)
    try:
        info = prepare(a.out, a.python, do_install=not a.no_install, force=a.force)
    except RuntimeError as e:
        print(f"real suite unavailable: {e}", file=sys.stderr)
        return 1
    print(json.dumps(info, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
