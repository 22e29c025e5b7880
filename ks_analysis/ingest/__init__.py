"""Readers: one small function per source format, from a file to raw observation rows.

Every reader has the signature ``read_x(path: Path, *, rel: str, **options) -> pd.DataFrame``
and returns the columns of :data:`ks_analysis.schema.RAW_COLUMNS`, one row per value cell it
read (missing markers included, so that clean can count them), with ``source_file = rel`` and
``source_row`` the 1-based row a person sees in a spreadsheet or editor. Readers only read:
they never write, and they raise :class:`~ks_analysis.errors.DataFileError` for a file they
cannot read at all (wrong format, truncated, missing columns). Row-level problems (text in a
number column, an unknown kommun name) are left to ``clean``, which rejects the row with a reason.

Readers register themselves by name with :func:`reader`; sources manifests refer to that name.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import DataFileError
from ..schema import RAW_COLUMNS

__all__ = ["READERS", "reader", "get_reader", "raw_frame"]

ReaderFn = Callable[..., pd.DataFrame]
READERS: dict[str, ReaderFn] = {}


def reader(name: str) -> Callable[[ReaderFn], ReaderFn]:
    """Register a reader function under ``name`` (the ``reader:`` of a sources manifest)."""

    def deco(fn: ReaderFn) -> ReaderFn:
        READERS[name] = fn
        return fn

    return deco


def get_reader(name: str, manifest: str = "sources manifest") -> ReaderFn:
    """The reader registered as ``name``; a clear error listing the known readers otherwise."""
    _load_all()
    try:
        return READERS[name]
    except KeyError:
        known = ", ".join(sorted(READERS))
        raise DataFileError(manifest, f"unknown reader {name!r}", fix=f"use one of: {known}") from None


def raw_frame(rows: dict[str, Any] | pd.DataFrame, **constants: Any) -> pd.DataFrame:
    """Build a reader result with exactly :data:`RAW_COLUMNS` from columns and constants.

    Missing columns are filled with None (``published`` with NaT, ``reject`` with None).
    """
    frame = pd.DataFrame(rows) if not isinstance(rows, pd.DataFrame) else rows.copy()
    for key, value in constants.items():
        frame[key] = value  # broadcast a scalar; no Python list of n copies
    for col in RAW_COLUMNS:
        if col not in frame.columns:
            frame[col] = pd.Series(None, index=frame.index, dtype="object")
    frame = frame[RAW_COLUMNS]
    frame["published"] = pd.to_datetime(frame["published"], errors="coerce")
    frame["source_row"] = frame["source_row"].astype("int64")
    return frame


def check_columns(path: Path | str, found: list[str], needed: list[str], fix: str) -> None:
    """Raise a DataFileError naming the missing columns of a file."""
    missing = [c for c in needed if c not in found]
    if missing:
        raise DataFileError(
            path,
            f"missing column(s) {', '.join(repr(m) for m in missing)}; found {', '.join(repr(f) for f in found) or 'none'}",
            row=1,
            fix=fix,
        )


def _load_all() -> None:
    # Reader modules register themselves on import; add a new module to this list.
    import importlib

    for name in _READER_MODULES:
        importlib.import_module(f"{__name__}.{name}")


_READER_MODULES = ["kolada", "kolada_web", "local", "agencies", "tables", "kolada_api"]
