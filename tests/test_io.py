"""The shared file helpers: atomic writes (replace or never replace) and sha256 of files."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from ks_analysis._io import sha256_bytes, sha256_file, temp_file, write_atomic


def test_write_atomic_replaces_text_bytes_and_callback(tmp_path: Path) -> None:
    """Text, bytes and a writing function each end up in the file; the old content is replaced."""
    target = tmp_path / "sub" / "a.txt"
    write_atomic(target, "första\n")
    assert target.read_text(encoding="utf-8") == "första\n"
    write_atomic(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    write_atomic(target, lambda p: p.write_text("via callback", encoding="utf-8"))
    assert target.read_text(encoding="utf-8") == "via callback"
    assert [p.name for p in target.parent.iterdir()] == ["a.txt"]  # no temporary file left


def test_new_files_get_the_mode_open_would_give(tmp_path: Path) -> None:
    """mkstemp's 0600 is not kept: the file gets 0666 minus the umask, like a plain open()."""
    old = os.umask(0o022)
    try:
        path = write_atomic(tmp_path / "m.txt", "x")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_exclusive_never_replaces(tmp_path: Path) -> None:
    """With exclusive=True an existing file raises FileExistsError and keeps its content."""
    target = tmp_path / "keep.yaml"
    write_atomic(target, "mine", exclusive=True)
    with pytest.raises(FileExistsError):
        write_atomic(target, "theirs", exclusive=True)
    assert target.read_text(encoding="utf-8") == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.yaml"]


def test_failed_write_removes_the_temporary_file(tmp_path: Path) -> None:
    """A writing function that raises leaves neither the target nor a temporary file."""

    def boom(p: Path) -> None:
        p.write_text("half", encoding="utf-8")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        temp_file(tmp_path / "x.csv", boom)
    assert list(tmp_path.iterdir()) == []


def test_sha256_of_file_and_bytes(tmp_path: Path) -> None:
    """Both digests equal hashlib's, also for a file larger than one read chunk."""
    data = os.urandom((1 << 20) + 17)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest() == sha256_bytes(data)
