"""The clean stage's entry points: read what a manifest lists, then clean it with the rules."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from ks_analysis import _logs
from ks_analysis._memo import Memo
from ks_analysis.clean import cache as disk_cache
from ks_analysis.clean.accounting import CleanResult, merge_file_info
from ks_analysis.clean.rules import PreparedRows, clean_indicators, prepare_indicators
from ks_analysis.errors import DataFileError
from ks_analysis.ingest.manifest import SourceSpec
from ks_analysis.ingest.memo import read_key
from ks_analysis.ingest.memo import read_sources_once as read_sources

__all__ = [
    "run_clean",
    "clean_sources",
    "clean_once",
    "cleaned_vintage",
    "kept_on_disk",
    "keep_cleaned",
]

#: Vintages cleaned in this process, by the raw folder's read key and ``as_of``: a report
#: cleans its own and the previous period's vintage, and the periods of ``report --year`` (one
#: kernel) share them. As many as ``report --year`` with its previous periods needs.
_CLEANED: Memo[CleanResult] = Memo(6)
#: The vintage-independent part of cleaning (:class:`PreparedRows`), of the last raw folder read.
_PREPARED: Memo[tuple[PreparedRows, list[_logs.Line] | None]] = Memo(1)


def clean_once(
    raw_root: Path,
    sources_file: Path | None = None,
    *,
    as_of: dt.date | None = None,
    progress: bool = False,
) -> CleanResult:
    """:func:`clean_sources` of what :func:`read_sources_once` reads, cleaned once per vintage
    while the raw folder's files stay the same. Each caller gets its own (copy-on-write) tables.
    """
    key = read_key(raw_root, sources_file)
    hit = _CLEANED.get((key, as_of)) if key is not None else None
    if hit is None:
        stored = disk_cache.content_key(raw_root, sources_file, as_of, key)
        hit = disk_cache.load(stored)
        if hit is None:
            with _logs.recording(enabled=stored is not None) as lines:
                hit = _clean_anew(raw_root, sources_file, key, as_of, progress)
            if lines is not None:
                _logs.said(lines)
                # kept only with every line it said, and if no file changed while it was read
                if lines.complete and disk_cache.still_current(
                    raw_root, sources_file, as_of, stored
                ):
                    disk_cache.store(stored, hit, lines)
        if key is not None:
            _CLEANED.put((key, as_of), hit)
    return replace(
        hit,
        tidy=hit.tidy.copy(deep=False),
        rejected=hit.rejected.copy(deep=False),
        inputs=[dict(i) for i in hit.inputs],
    )


def _clean_anew(
    raw_root: Path, sources_file: Path | None, key: Any, as_of: dt.date | None, progress: bool
) -> CleanResult:
    raw, specs, files_info = read_sources(raw_root, sources_file, progress=progress)
    kept = _PREPARED.get(key) if key is not None else None
    if kept is None:
        with _logs.recording(enabled=_logs.active()) as lines:
            prepared = prepare_indicators(raw, specs)
        if key is not None:
            _PREPARED.put(key, (prepared, lines))  # one raw folder's rows at a time: the big part
    else:
        prepared, said = kept
        _logs.add(said)  # what preparing said, for this vintage's record (None: not recorded)
    hit = prepared.clean(as_of)
    hit.inputs = merge_file_info(hit.inputs, files_info)
    return hit


def cleaned_vintage(
    raw_root: Path, sources_file: Path | None, as_of: dt.date | None
) -> tuple[Any, CleanResult] | None:
    """The vintage :func:`clean_once` kept for ``raw_root`` and ``as_of``, with its key, to hand
    to another process of the same package (:func:`keep_cleaned`); None if none is kept."""
    key = read_key(raw_root, sources_file)
    hit = _CLEANED.get((key, as_of)) if key is not None else None
    return None if hit is None else ((key, as_of), hit)


def kept_on_disk(raw_root: Path, sources_file: Path | None, as_of: dt.date | None) -> bool:
    """Whether the vintage is in the cache on disk (:mod:`ks_analysis.clean.cache`), where
    another process of this package reads it more quickly than it would be handed over."""
    key = disk_cache.content_key(raw_root, sources_file, as_of, read_key(raw_root, sources_file))
    return disk_cache.stored(key)


def keep_cleaned(key: Any, result: CleanResult) -> None:
    """Keep a vintage cleaned by another process under the key :func:`cleaned_vintage` gave it.

    The key holds the raw folder's files with their sizes and modification times: if any
    changed since, :func:`clean_once` computes another key and cleans again.
    """
    _CLEANED.put(key, result)


def run_clean(
    raw_root: Path,
    sources_file: Path | None = None,
    *,
    as_of: dt.date | None = None,
    progress: bool = False,
) -> CleanResult:
    """Read and clean everything a manifest lists; pure apart from reading the raw files."""
    result = clean_once(raw_root, sources_file, as_of=as_of, progress=progress)
    if not sum(i.get("rows_read", 0) for i in result.inputs) and result.tidy.empty:
        raise DataFileError(
            sources_file or raw_root,
            "the manifest lists no readable data rows",
            fix="check the file globs in the manifest",
        )
    return result


def clean_sources(
    raw: pd.DataFrame,
    specs: dict[str, SourceSpec],
    files_info: list[dict[str, Any]],
    *,
    as_of: dt.date | None = None,
) -> CleanResult:
    """Clean what :func:`~ks_analysis.ingest.read.read_sources` read, with the manifest's per-file entries (sha256, reader) merged in.

    Reading is the slow part; a caller that needs several vintages reads once and cleans each ``as_of``.
    """
    result = clean_indicators(raw, specs, as_of=as_of)
    result.inputs = merge_file_info(result.inputs, files_info)
    return result
