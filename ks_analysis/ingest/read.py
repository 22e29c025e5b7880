"""Reading a sources manifest's files with the registered readers into one raw frame."""

from __future__ import annotations

import glob
import itertools
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from ks_analysis._io import sha256_file
from ks_analysis.errors import DataFileError
from ks_analysis.ingest.frame import as_category, concat_raw
from ks_analysis.ingest.manifest import (
    SourceSpec,
    expand_files,
    find_sources_file,
    load_metadata_files,
    load_sources,
)
from ks_analysis.ingest.registry import get_batch_reader, get_reader, reader_options
from ks_analysis.paths import reading_under, relative_to_root

__all__ = ["read_sources"]

log = logging.getLogger(__name__)


def read_sources(
    raw_root: Path, sources_file: Path | None = None, *, progress: bool = False
) -> tuple[pd.DataFrame, dict[str, SourceSpec], list[dict[str, Any]]]:
    """Read every file a sources manifest lists.

    Returns:
        (raw rows of all files with a ``spec`` column, specs by name, one dict per file with
        ``file, sha256, reader, source``).

    Raises:
        DataFileError: for a listed file that is absent or unreadable (nothing is written).
    """
    raw_root = Path(raw_root)
    if not raw_root.is_dir():
        raise DataFileError(raw_root, "raw data folder not found", fix="check the --raw path")
    sources_file = Path(sources_file) if sources_file else find_sources_file(raw_root)
    with reading_under(raw_root):
        return _read_all(raw_root, sources_file, progress)


def _read_all(
    raw_root: Path, sources_file: Path, progress: bool
) -> tuple[pd.DataFrame, dict[str, SourceSpec], list[dict[str, Any]]]:
    """:func:`read_sources` inside the raw root's read guard."""
    specs = load_sources(sources_file)
    jobs: list[tuple[SourceSpec, Path]] = []
    for spec in specs:
        _known_options(spec)
        files = expand_files(spec, raw_root)  # a pattern that matches no file is a DataFileError
        jobs.extend((spec, f) for f in files)
    listed = {f.resolve() for _, f in jobs}
    for pattern in load_metadata_files(sources_file):
        listed |= {Path(p).resolve() for p in glob.glob(str(raw_root / pattern), recursive=True)}
    _warn_unlisted(raw_root, listed, sources_file)
    frames = []
    files_info = []
    bar = _progress(len(jobs), "reading", progress)

    def guarded(fn: Any, spec: SourceSpec, f: Path, rel: str) -> Any:
        try:
            return fn(f, rel=rel, **spec.options)
        except DataFileError:
            raise
        except TypeError as exc:
            if "unexpected keyword" in str(exc) or "got multiple values" in str(exc):
                raise DataFileError(
                    spec.manifest,
                    f"source {spec.name!r}, field 'options': {str(exc).split(') ', 1)[-1]}",
                    fix=f"check the options of reader {spec.reader!r} (docs/templates.md)",
                ) from None
            raise DataFileError(
                rel,
                f"could not be read by reader {spec.reader!r} ({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''})",
                fix="check that the file is complete and in the format the manifest says",
            ) from exc
        except MemoryError:
            raise DataFileError(
                rel,
                f"is too large to read with reader {spec.reader!r} (out of memory)",
                fix="check that it is the file the manifest means, or split it",
            ) from None
        except Exception as exc:  # a reader's unexpected failure still names the file
            raise DataFileError(
                rel,
                f"could not be read by reader {spec.reader!r} ({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''})",
                fix="check that the file is complete and in the format the manifest says",
            ) from exc

    for spec, group in itertools.groupby(jobs, key=lambda job: job[0]):
        files = [f for _, f in group]
        batch = get_batch_reader(spec.reader) if len(files) > 1 else None
        parts = []
        for f in files:
            rel = relative_to_root(f, raw_root)
            if batch is not None:  # many files of one entry: read each, build one frame
                parts.append(guarded(batch[0], spec, f, rel))
            else:
                frame = guarded(get_reader(spec.reader, spec.manifest), spec, f, rel)
                frame["spec"] = as_category(spec.name, len(frame))
                frames.append(frame)
            files_info.append(
                {
                    "file": rel,
                    "sha256": sha256_file(f.resolve()),
                    "reader": spec.reader,
                    "source": spec.name,
                }
            )
            bar.update(1)
        if batch is not None:
            frame = batch[1](parts)
            frame["spec"] = as_category(spec.name, len(frame))
            frames.append(frame)
    bar.close()
    raw = concat_raw(frames) if frames else pd.DataFrame()
    return raw, {s.name: s for s in specs}, files_info


def _warn_unlisted(raw_root: Path, listed: set[Path], sources_file: Path) -> None:
    skip_names = {sources_file.name, "README.md", "SOURCES.md", ".gitkeep", "fetch-log.jsonl"}
    # A subfolder with its own sources.yaml is another raw root (e.g. data/raw/demo), not ours to list.
    nested = [d.parent for d in raw_root.rglob("sources.yaml") if d.parent != raw_root]
    for p in sorted(raw_root.rglob("*")):
        if not p.is_file() or p.name in skip_names or p.name.startswith("."):
            continue
        if any(root in p.parents for root in nested):
            continue
        if p.resolve() not in listed and p.resolve() != sources_file.resolve():
            if any(
                part in ("assessments", "sjalvvarderingar", "kommunkompassen")
                for part in p.relative_to(raw_root).parts
            ):
                continue
            log.warning(
                "%s is in the raw folder but not listed in %s; it was not read",
                relative_to_root(p, raw_root),
                sources_file.name,
            )


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, desc: str, enabled: bool) -> Any:
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="file", leave=False)


def _known_options(spec: SourceSpec) -> None:
    """Refuse a manifest option its reader does not take (``bogus: 1``, ``municipalty:``): the
    readers would ignore it without a word, and what it was meant to do would not happen."""
    allowed = reader_options(get_reader(spec.reader))
    if allowed is None:
        return
    unknown = sorted(set(spec.options) - allowed)
    if unknown:
        raise DataFileError(
            spec.manifest,
            f"source {spec.name!r}, field 'options': {unknown[0]!r} is not an option of reader "
            f"{spec.reader!r}",
            fix=f"correct its spelling or remove it; the reader takes {', '.join(sorted(allowed))}",
        )
