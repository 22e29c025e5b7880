"""The reader registry: readers register by name, and a sources manifest names the reader of each entry.

Every reader has the signature ``read_x(path: Path, *, rel: str, **options) -> pd.DataFrame``
(see :mod:`ks_analysis.ingest`). A reader module registers itself on import with
:func:`reader` (and :func:`batch_reader` for a many-files form); a new module is added to
:data:`_READER_MODULES`.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

import pandas as pd

from ks_analysis.errors import DataFileError

__all__ = [
    "READERS",
    "BATCH_READERS",
    "reader",
    "batch_reader",
    "get_reader",
    "get_batch_reader",
    "reader_options",
]

ReaderFn = Callable[..., pd.DataFrame]
READERS: dict[str, ReaderFn] = {}
#: Readers that read many files of one source entry at once: ``read_part(path, *, rel, **options)``
#: reads one file (and raises for it, as the plain reader does) and ``combine(parts)`` builds one
#: raw frame from the parts, equal to concatenating the plain reader's frames file by file.
BATCH_READERS: dict[str, tuple[Callable[..., Any], Callable[[list[Any]], pd.DataFrame]]] = {}


def reader(name: str) -> Callable[[ReaderFn], ReaderFn]:
    """Register a reader function under ``name`` (the ``reader:`` of a sources manifest)."""

    def deco(fn: ReaderFn) -> ReaderFn:
        READERS[name] = fn
        return fn

    return deco


def batch_reader(
    name: str, read_part: Callable[..., Any], combine: Callable[[list[Any]], pd.DataFrame]
) -> None:
    """Register the many-files form of reader ``name`` (see :data:`BATCH_READERS`)."""
    BATCH_READERS[name] = (read_part, combine)


def get_batch_reader(
    name: str,
) -> tuple[Callable[..., Any], Callable[[list[Any]], pd.DataFrame]] | None:
    """``(read_part, combine)`` of reader ``name`` when it has a many-files form, else None."""
    _load_all()
    return BATCH_READERS.get(name)


def get_reader(name: str, manifest: str = "sources manifest") -> ReaderFn:
    """The reader registered as ``name``; a clear error listing the known readers otherwise."""
    _load_all()
    try:
        return READERS[name]
    except KeyError:
        known = ", ".join(sorted(READERS))
        raise DataFileError(
            manifest, f"unknown reader {name!r}", fix=f"use one of: {known}"
        ) from None


#: Reader modules, imported (and so registered) the first time a reader is asked for.
_READER_MODULES = [
    "kolada_bulk",
    "kolada_web",
    "local",
    "agencies",
    "tables",
    "scb_csv",
    "kolada_snapshot",
    "pcaxis",
    "af_excel",
    "records",
]


def _load_all() -> None:
    """Import every reader module, so that each registers its readers."""
    for name in _READER_MODULES:
        importlib.import_module(f"ks_analysis.ingest.{name}")


def reader_options(fn: Callable[..., Any]) -> frozenset[str] | None:
    """The option names reader ``fn`` takes in a manifest's ``options:`` (a preset reader's are
    those of the reader it presets, its ``options_of``); None for a reader that takes any."""
    target = getattr(fn, "options_of", fn)
    params = inspect.signature(target).parameters.values()
    named = {
        p.name
        for p in params
        if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    } - {"path", "rel"}
    if not named and any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return frozenset(named)
