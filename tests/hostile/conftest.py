"""Helpers of the hostile-input suite: raw folders with one source, the CLI run in-process or as a
child process with a time limit, and a hash of every byte of a folder."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from ks_analysis.cli import main
from ks_analysis.paths import DEMO_DIR

#: A child process still running after this hangs (the issue's 30 s bound is for an idle
#: machine and is measured by benchmarks/bench_hostile.py; a loaded CI runner gets slack).
MAX_SECONDS = 120


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


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Run ``ks-analysis`` in this process (quiet); returns exit code, stderr and seconds."""

    def run(*argv: str) -> Run:
        capsys.readouterr()
        t = time.monotonic()
        try:
            code = main(["-q", *argv])
        except SystemExit as exc:  # argparse's usage errors
            code = int(exc.code or 0)
        return Run(code, capsys.readouterr().err, time.monotonic() - t)

    return run


@pytest.fixture
def cli_process() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``ks-analysis`` as a child process (a crash or signal cannot take the tests down)."""

    def run(*argv: str, timeout: float = MAX_SECONDS) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ks_analysis.cli", "-q", *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

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
