"""Helpers of the hostile-input suite: raw folders with one source, the CLI run in-process or as a
child process with a time limit, and a hash of every byte of a folder.

Every CLI run of the suite is held to one contract (:func:`check_contract`): exit code 0, 1 or 2,
never a signal, no traceback, and a failure is one ``ks-analysis: error:`` line. ``cli_process``
runs the CLI as a child process with the issue's 30 s bound (a hang or a crash by signal cannot
hide there); ``cli`` runs it in this process for speed, or as a child process too when
``KS_HOSTILE_SUBPROCESS=1`` is set (tests that monkeypatch the package stay in-process).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from ks_analysis.cli import main
from ks_analysis.paths import DEMO_DIR

#: No hostile input may make a run last longer (issue 14): a child process still running after
#: this is killed, with its process group, and the test fails.
MAX_SECONDS = 30


@dataclass
class Run:
    """What one CLI run gave: exit code, stderr, and how long it took."""

    code: int
    err: str
    seconds: float


@pytest.fixture
def tree_hash() -> Callable[[Path], dict[str, str]]:
    """:func:`hash_tree` as a fixture."""
    return hash_tree


def hash_tree(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (symlinks as their target text), by relative path;
    folders are listed too, so that a new empty folder or a -wal file shows."""
    out: dict[str, str] = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_symlink():
            out[rel] = "link:" + os.readlink(p)
        elif p.is_dir():
            out[rel] = "dir"
        else:
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


#: ``ks-analysis: error: ...``, or argparse's ``ks-analysis report: error: ...``.
_ERROR_LINE = re.compile(r"^ks-analysis(?: [\w-]+)*: error: ")


def check_contract(code: int, err: str, argv: Sequence[str] = ()) -> None:
    """What every run owes its user, whatever the input: exit 0 (done), 2 (bad input) or 1 (a
    failed run), never a signal (a negative code) or a traceback; a failure says why in exactly
    one ``ks-analysis[ subcommand]: error:`` line (argparse's usage line may stand before it)."""
    what = " ".join(argv)
    assert code >= 0, f"`{what}` died by signal {-code}: {err[-2000:]}"
    assert code in (0, 1, 2), f"`{what}` exited {code}: {err[-2000:]}"
    assert "Traceback" not in err, f"`{what}` printed a traceback: {err[-2000:]}"
    if code:
        errors = [line for line in err.splitlines() if _ERROR_LINE.match(line)]
        assert len(errors) == 1, f"`{what}` exited {code} without one error line: {err[-2000:]}"


def run_process(
    *argv: str,
    timeout: float = MAX_SECONDS,
    quiet: bool = True,
    env: dict[str, str] | None = None,
) -> Run:
    """``ks-analysis ARGV`` as a child process in its own process group, held to the contract;
    past ``timeout`` seconds the group is killed and the test fails. ``env`` adds variables
    (``KS_ANALYSIS_FAULT`` to inject a fault)."""
    args = ["-q", *argv] if quiet else list(argv)
    t = time.monotonic()
    with subprocess.Popen(
        [sys.executable, "-m", "ks_analysis.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    ) as proc:
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            pytest.fail(f"`ks-analysis {' '.join(argv)}` ran longer than {timeout:.0f} s")
    run = Run(proc.returncode, err, time.monotonic() - t)
    check_contract(run.code, run.err, argv)
    return run


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest) -> Callable[..., Run]:
    """Run ``ks-analysis`` (quiet), held to :func:`check_contract`; returns exit code, stderr and
    seconds. In this process, or as a child process with ``KS_HOSTILE_SUBPROCESS=1`` (unless the
    test monkeypatches the package, which only works in this process)."""
    as_child = os.environ.get("KS_HOSTILE_SUBPROCESS") == "1"
    as_child = as_child and "monkeypatch" not in request.fixturenames

    def run(*argv: str) -> Run:
        if as_child:
            return run_process(*argv)
        capsys.readouterr()
        t = time.monotonic()
        try:
            code = main(["-q", *argv])
        except SystemExit as exc:  # argparse's usage errors
            code = int(exc.code or 0)
        result = Run(code, capsys.readouterr().err, time.monotonic() - t)
        check_contract(result.code, result.err, argv)
        return result

    return run


@pytest.fixture
def cli_process() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``ks-analysis`` as a child process (a crash, signal or hang cannot hide), held to
    :func:`check_contract` and the 30 s bound."""

    def run(
        *argv: str, timeout: float = MAX_SECONDS, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        r = run_process(*argv, timeout=timeout, env=env)
        return subprocess.CompletedProcess(list(argv), r.code, "", r.err)

    return run


@pytest.fixture
def raw_with(tmp_path: Path) -> Callable[..., Path]:
    """A raw folder ``tmp_path/raw`` with files (name -> bytes or text) and one source entry."""

    def make(
        files: dict[str, bytes | str],
        *,
        reader: str = "long_csv",
        pattern: str | None = None,
        options: str = "{}",
        extra: str = "",
    ) -> Path:
        raw = tmp_path / "raw"
        raw.mkdir(exist_ok=True)
        for name, data in files.items():
            target = raw / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(data, bytes):
                target.write_bytes(data)
            else:
                target.write_text(data, encoding="utf-8")
        files_field = pattern if pattern is not None else next(iter(files))
        (raw / "sources.yaml").write_text(
            "sources:\n"
            f"  - name: s\n    files: {files_field!r}\n    reader: {reader}\n"
            f"    options: {options}\n    publication_lag: {{days: 30}}\n{extra}",
            encoding="utf-8",
        )
        return raw

    return make


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A copy of the demo raw folder (so a test may change modes or add files)."""
    import shutil

    dst = tmp_path / "demo_raw"
    shutil.copytree(DEMO_DIR, dst)
    return dst
