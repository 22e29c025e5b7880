"""Ingest: does any raw file of a manifest mention an indicator id? A check before any kernel starts.

``explore N99999`` should be refused in well under a second, not after a kernel has started and
the whole raw folder was cleaned. Cleaning is what knows for sure which ids have rows, so this
check only decides the clear case: every file the manifest lists is text (CSV, JSON, YAML,
PC-Axis) or names its indicator in its file name, and none of them contains the id anywhere. An
id found anywhere, or a manifest with a binary file (a workbook, SQLite, parquet) that does not
name it, is left to the cleaning, which gives the precise answer.
"""

from __future__ import annotations

import mmap
import re
from dataclasses import dataclass
from pathlib import Path

from ks_analysis.ingest.manifest import expand_files, find_sources_file, load_sources
from ks_analysis.paths import reading_under

__all__ = ["Mentions", "indicator_mentions"]

#: File suffixes whose bytes hold their indicator ids as plain text.
TEXT_SUFFIXES = frozenset({".csv", ".tsv", ".txt", ".json", ".yaml", ".yml", ".px"})
#: Ids that look like indicator ids, for suggestions (Kolada KPIs, local registers' ids).
_ID = re.compile(rb"(?<![A-Za-z0-9_])([NU]\d{5}|LOKAL_[A-Z0-9_]{2,60})(?![A-Za-z0-9_])", re.I)
#: Only this much of a file is scanned for suggestions (the presence check reads it all).
SUGGEST_BYTES = 2_000_000


@dataclass(frozen=True)
class Mentions:
    """Whether the raw files mention an id: True, False (surely not), or None (cannot tell)."""

    found: bool | None
    files: int
    ids: tuple[str, ...]


def indicator_mentions(raw_root: Path, sources_file: Path | None, indicator: str) -> Mentions:
    """Scan the manifest's files for ``indicator`` (case-insensitive, as a whole id).

    Files are read inside the raw root's read guard, as cleaning reads them, and opened
    read-only. The ids of the scanned text (its first :data:`SUGGEST_BYTES`) and file names are
    returned for a suggestion.
    """
    raw_root = Path(raw_root)
    sources = Path(sources_file) if sources_file else find_sources_file(raw_root)
    needle = re.compile(
        rb"(?<![A-Za-z0-9_])" + re.escape(indicator.encode("utf-8")) + rb"(?![A-Za-z0-9_])", re.I
    )
    ids: set[str] = set()
    found: bool | None = False
    n = 0
    with reading_under(raw_root):
        files = [f for spec in load_sources(sources) for f in expand_files(spec, raw_root)]
        for f in dict.fromkeys(files):
            n += 1
            name = f.name.encode("utf-8", "replace")
            ids |= {m.decode().upper() for m in _ID.findall(name)}
            if needle.search(name):
                return Mentions(True, n, ())
            if f.suffix.lower() not in TEXT_SUFFIXES:
                if _ID.search(name) is None:
                    found = None  # a workbook or database that does not say what it holds
                continue
            if _scan(f, needle, ids):
                return Mentions(True, n, ())
    return Mentions(found, n, tuple(sorted(ids)))


def _scan(path: Path, needle: re.Pattern[bytes], ids: set[str]) -> bool:
    """Whether ``path`` contains ``needle``; adds the ids of its beginning to ``ids``."""
    with open(path, "rb") as fh:
        if path.stat().st_size == 0:
            return False
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            ids.update(
                m.decode("ascii", "replace").upper() for m in _ID.findall(mm[:SUGGEST_BYTES])
            )
            return needle.search(mm) is not None  # type: ignore[call-overload]
