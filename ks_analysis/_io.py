"""File helpers shared by the stages: atomic writes and sha256 of files (imports nothing of ours)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["temp_file", "write_atomic", "sha256_file", "sha256_bytes"]


def _default_mode() -> int:
    """The mode a plain ``open()`` gives a new file: 0666 minus the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync(path: Path) -> None:
    """Flush a written file's bytes to disk, so a rename never shows a file that is not there yet."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_file(path: Path, write: Callable[[Path], object]) -> Path:
    """Write through ``write(tmp)`` to a temporary file beside ``path`` and return it, synced, for renaming.

    The temporary file is hidden (``.<name>.*.tmp``) in ``path``'s folder (created if needed),
    so the rename is atomic; it gets the mode a plain ``open()`` would give (mkstemp makes 0600)
    and is removed again when ``write`` fails.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        tmp.chmod(_default_mode())
        _fsync(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def write_atomic(
    path: Path,
    data: str | bytes | Callable[[Path], object],
    *,
    encoding: str = "utf-8",
    exclusive: bool = False,
) -> Path:
    """Write ``data`` (text, bytes or a function writing a given path) to ``path`` all at once.

    Readers see the old file or the new one, never a part. With ``exclusive`` an existing
    ``path`` is never replaced: the new file is linked into place and ``FileExistsError`` raised
    if ``path`` exists (also when it appeared meanwhile).
    """
    path = Path(path)
    if isinstance(data, str):
        text = data
        tmp = temp_file(path, lambda p: p.write_text(text, encoding=encoding))
    elif isinstance(data, bytes):
        blob = data
        tmp = temp_file(path, lambda p: p.write_bytes(blob))
    else:
        tmp = temp_file(path, data)
    try:
        if exclusive:
            os.link(tmp, path)
        else:
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def sha256_file(path: Path) -> str:
    """The sha256 hex digest of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    """The sha256 hex digest of bytes in memory (a response body before it is saved)."""
    return hashlib.sha256(data).hexdigest()
