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
from pathlib import Path
from typing import Any

import pandas as pd

from ks_analysis._memo import Memo
from ks_analysis.ingest.manifest import SourceSpec, find_sources_file
from ks_analysis.ingest.read import read_sources

__all__ = ["read_sources_once", "read_key", "clear"]

log = logging.getLogger(__name__)

#: How many raw folders (or manifests) are kept; a kernel rarely reads more than one.
MAX_ENTRIES = 2

_Read = tuple[pd.DataFrame, dict[str, SourceSpec], list[dict[str, Any]]]
_CACHE: Memo[_Read] = Memo(MAX_ENTRIES)


def _fingerprint(raw_root: Path, sources_file: Path) -> tuple[Any, ...]:
    """The raw folder's files and the manifest, each with its size and modification time."""
    files: list[tuple[str, int, int]] = []
    for folder, dirs, names in os.walk(raw_root):
        dirs.sort()
        for name in sorted(names):
            p = os.path.join(folder, name)
            try:
                st = os.stat(p)
            except OSError:
                continue  # vanished or unreadable: the read itself will say so
            files.append((os.path.relpath(p, raw_root), st.st_size, st.st_mtime_ns))
    st = os.stat(sources_file)
    return (
        str(raw_root.resolve()),
        str(sources_file.resolve()),
        st.st_size,
        st.st_mtime_ns,
        tuple(files),
    )


def read_key(raw_root: Path, sources_file: Path | None = None) -> tuple[Any, ...] | None:
    """What :func:`read_sources_once` keys its rows by (the folder's files with their sizes and
    modification times, and the manifest's), or None where it does not keep them."""
    raw_root = Path(raw_root)
    if not raw_root.is_dir():
        return None
    sources = Path(sources_file) if sources_file else find_sources_file(raw_root)
    return _fingerprint(raw_root, sources)


def read_sources_once(
    raw_root: Path, sources_file: Path | None = None, *, progress: bool = False
) -> _Read:
    """:func:`ks_analysis.ingest.read.read_sources`, read once per unchanged raw folder.

    Errors are never kept: a failed read is read again (and fails again with its message).
    """
    raw_root = Path(raw_root)
    if not raw_root.is_dir():
        return read_sources(raw_root, sources_file, progress=progress)  # its own message
    sources = Path(sources_file) if sources_file else find_sources_file(raw_root)
    key = _fingerprint(raw_root, sources)
    hit = _CACHE.get(key)
    if hit is None:
        hit = _CACHE.put(key, read_sources(raw_root, sources, progress=progress))
    else:
        log.debug("raw rows of %s read earlier in this process, files unchanged", raw_root)
    rows, specs, files_info = hit
    # pandas' copy-on-write: a shallow copy's changes never reach the kept rows (nor theirs it),
    # and it costs nothing until a caller writes to it.
    return rows.copy(deep=False), dict(specs), [dict(f) for f in files_info]


def clear() -> None:
    """Forget every raw folder read."""
    _CACHE.clear()
