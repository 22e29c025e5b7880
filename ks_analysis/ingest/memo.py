"""Ingest: read a raw folder once per process while its files stay the same.

Reading is the slow part of cleaning. The report notebook and the data-quality notebook of one
period, and the three periods of ``report --year``, run in one kernel and read the same raw
folder: they get the rows read by the first, as long as no file of the raw folder (or the
manifest) changed size or modification time since. Every caller gets its own copy of the rows,
so no caller can change what another reads.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from ks_analysis import _logs
from ks_analysis._memo import Memo
from ks_analysis.ingest.manifest import SourceSpec, find_sources_file
from ks_analysis.ingest.read import read_sources

__all__ = ["read_sources_once", "read_key", "read_lines", "walk_raw", "RawEntry", "clear"]

log = logging.getLogger(__name__)

#: How many raw folders (or manifests) are kept; a kernel rarely reads more than one.
MAX_ENTRIES = 2

_Read = tuple[pd.DataFrame, dict[str, SourceSpec], list[dict[str, Any]]]
_CACHE: Memo[tuple[_Read, list[_logs.Line] | None]] = Memo(MAX_ENTRIES)


class RawEntry(NamedTuple):
    """One entry of a raw folder as its readers see it (symlinks followed inside the folder)."""

    rel: str  #: path relative to the raw folder, as a glob of the manifest matches it
    path: str  #: the path to open
    link: str | None  #: where a symlink points, as written (None: not a symlink)
    inside: bool  #: whether it resolves inside the raw folder (a reader only opens those)


def walk_raw(raw_root: Path) -> Iterator[RawEntry]:
    """Every file of ``raw_root`` in a fixed order, also those under symlinked folders inside
    it (a manifest's glob reads through them), each folder once (a symlink loop ends there).
    A folder or file leading out of the raw folder is given, not entered or opened."""
    root = os.path.realpath(raw_root)
    seen: set[str] = set()

    def inside(real: str) -> bool:
        return os.path.commonpath([root, real]) == root

    def entries(folder: str, rel: str) -> Iterator[tuple[str, str]]:
        real = os.path.realpath(folder)
        if real in seen:
            return
        seen.add(real)
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            return  # unreadable: the read itself says so
        for name in names:
            yield os.path.join(folder, name), os.path.join(rel, name) if rel else name

    # depth first in name order, without recursion (a folder may be nested deeper than
    # Python's recursion limit)
    stack = [entries(str(raw_root), "")]
    while stack:
        step = next(stack[-1], None)
        if step is None:
            stack.pop()
            continue
        p, r = step
        link = os.readlink(p) if os.path.islink(p) else None
        real_p = os.path.realpath(p)
        if not inside(real_p):
            yield RawEntry(r, p, link, False)
        elif os.path.isdir(p):
            if link is not None:
                yield RawEntry(r, p, link, True)  # the link itself, then what it holds
            stack.append(entries(p, r))
        else:
            yield RawEntry(r, p, link, True)


def _fingerprint(raw_root: Path, sources_file: Path) -> tuple[Any, ...]:
    """The raw folder's files and the manifest, each with its size and modification time (and
    where a symlink points)."""
    files: list[tuple[str, int, int, str | None]] = []
    for e in walk_raw(raw_root):
        try:
            st = os.stat(e.path)
        except OSError:
            files.append((e.rel, -1, -1, e.link))  # vanished or dangling: the read says so
            continue
        files.append((e.rel, st.st_size, st.st_mtime_ns, e.link))
    st = os.stat(sources_file)
    return (
        str(raw_root.resolve()),
        str(sources_file.resolve()),
        st.st_size,
        st.st_mtime_ns,
        tuple(files),
    )


def read_lines(raw_root: Path, sources_file: Path | None = None) -> list[_logs.Line]:
    """What the read kept for ``raw_root`` said (where it was recorded), for tests and tools."""
    key = read_key(raw_root, sources_file)
    kept = _CACHE.get(key) if key is not None else None
    return list(kept[1] or []) if kept is not None else []


def read_key(raw_root: Path, sources_file: Path | None = None) -> tuple[Any, ...] | None:
    """What :func:`read_sources_once` keys its rows by (the folder's files with their sizes and
    modification times, and the manifest's), or None where it does not keep them."""
    raw_root = Path(raw_root)
    if not raw_root.is_dir():
        return None
    sources = Path(sources_file) if sources_file else find_sources_file(raw_root)
    if not sources.is_file():
        return None  # not kept: the read itself says the manifest is missing (exit 2)
    return _fingerprint(raw_root, sources)


def read_sources_once(
    raw_root: Path, sources_file: Path | None = None, *, progress: bool = False
) -> _Read:
    """:func:`ks_analysis.ingest.read.read_sources`, read once per unchanged raw folder.

    Errors are never kept: a failed read is read again (and fails again with its message).
    """
    raw_root = Path(raw_root)
    key = read_key(raw_root, sources_file)
    if key is None:
        # a missing folder or manifest: the read refuses it with its own message (exit 2)
        return read_sources(raw_root, sources_file, progress=progress)
    sources = Path(sources_file) if sources_file else find_sources_file(raw_root)
    kept = _CACHE.get(key)
    if kept is None:
        # What the read says is kept with its rows where a caller records it (a vintage for
        # the cache on disk), so that a second vintage of this read records it too.
        with _logs.recording(enabled=_logs.active()) as lines:
            kept = _CACHE.put(key, (read_sources(raw_root, sources, progress=progress), lines))
    else:
        log.debug("raw rows of %s read earlier in this process, files unchanged", raw_root)
        _logs.add(kept[1])  # None where it was read without recording: the record is incomplete
    rows, specs, files_info = kept[0]
    # pandas' copy-on-write: a shallow copy's changes never reach the kept rows (nor theirs it),
    # and it costs nothing until a caller writes to it.
    return rows.copy(deep=False), dict(specs), [dict(f) for f in files_info]


def clear() -> None:
    """Forget every raw folder read."""
    _CACHE.clear()
