"""The clean stage's entry points: read what a manifest lists, then clean it with the rules."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from ks_analysis.clean.accounting import CleanResult, merge_file_info
from ks_analysis.clean.rules import clean_indicators
from ks_analysis.errors import DataFileError
from ks_analysis.ingest.manifest import SourceSpec
from ks_analysis.ingest.memo import read_sources_once as read_sources

__all__ = ["run_clean", "clean_sources"]


def run_clean(
    raw_root: Path,
    sources_file: Path | None = None,
    *,
    as_of: dt.date | None = None,
    progress: bool = False,
) -> CleanResult:
    """Read and clean everything a manifest lists; pure apart from reading the raw files."""
    raw, specs, files_info = read_sources(raw_root, sources_file, progress=progress)
    if raw.empty:
        raise DataFileError(
            sources_file or raw_root,
            "the manifest lists no readable data rows",
            fix="check the file globs in the manifest",
        )
    return clean_sources(raw, specs, files_info, as_of=as_of)


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
