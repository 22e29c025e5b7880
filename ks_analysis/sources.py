"""Sources manifests: which raw files to read, with which reader, options and publication-lag rule."""

from __future__ import annotations

import datetime as dt
import glob
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import DataFileError

__all__ = ["SourceSpec", "load_sources", "load_metadata_files", "find_sources_file", "expand_files"]

DEFAULT_NAMES = ("sources.yaml", "sources.yml")


@dataclass(frozen=True)
class SourceSpec:
    """One entry of a sources manifest.

    ``publication_lag`` is the rule that dates every row: ``{days: N}`` (published = end of the
    period + N days), optionally with ``per_indicator: {KPI: days}``; or ``{date: YYYY-MM-DD}``
    for a file published once. A reader may date rows itself (e.g. API snapshots); the rule then
    applies only to rows it left undated.
    """

    name: str
    files: tuple[str, ...]
    reader: str
    publication_lag: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)
    precedence: int = 0
    revisions: bool = False
    election_kpis: tuple[str, ...] = ()
    manifest: str = ""

    def lag_days(self, indicator: str) -> int | None:
        per = self.publication_lag.get("per_indicator") or {}
        if indicator in per:
            return int(per[indicator])
        days = self.publication_lag.get("days")
        return None if days is None else int(days)

    @property
    def fixed_date(self) -> dt.date | None:
        d = self.publication_lag.get("date")
        if d is None:
            return None
        return d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d))


def find_sources_file(raw_root: Path) -> Path:
    """The manifest inside ``raw_root`` (``sources.yaml``), or a clear error."""
    for name in DEFAULT_NAMES:
        cand = raw_root / name
        if cand.exists():
            return cand
    raise DataFileError(raw_root, "has no sources.yaml", fix="write a sources manifest (see docs/templates.md) or pass --sources FILE")


def load_sources(sources_file: Path) -> list[SourceSpec]:
    """Read and check a sources manifest.

    Raises:
        DataFileError: naming the manifest and the entry, e.g. an entry without a publication-lag rule.
    """
    label = str(sources_file)
    try:
        raw = yaml.safe_load(sources_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataFileError(label, "sources manifest not found", fix="check the --sources path") from None
    except yaml.YAMLError as exc:
        raise DataFileError(label, f"is not valid YAML ({exc})") from None
    entries = (raw or {}).get("sources") if isinstance(raw, dict) else None
    if not isinstance(entries, list) or not entries:
        raise DataFileError(label, "has no 'sources:' list", fix="list one entry per file or glob (see docs/templates.md)")
    specs: list[SourceSpec] = []
    names: set[str] = set()
    for n, e in enumerate(entries, start=1):
        where = f"entry {n}" + (f" ({e.get('name')})" if isinstance(e, dict) and e.get("name") else "")
        if not isinstance(e, dict):
            raise DataFileError(label, f"{where} is not a mapping")
        name = str(e.get("name") or f"source{n}")
        if name in names:
            raise DataFileError(label, f"{where}: duplicate source name {name!r}")
        names.add(name)
        files = e.get("files") or e.get("file")
        if not files:
            raise DataFileError(label, f"{where}: missing 'files'", fix="give a file path or glob relative to the raw folder")
        if not e.get("reader"):
            raise DataFileError(label, f"{where}: missing 'reader'")
        lag = e.get("publication_lag")
        if not isinstance(lag, dict) or not ({"days", "date"} & set(lag)):
            raise DataFileError(label, f"{where}: missing publication_lag rule", fix="add e.g. 'publication_lag: {days: 45}' (days after the period's end) or '{date: 2024-08-30}'")
        specs.append(
            SourceSpec(
                name=name,
                files=tuple([files] if isinstance(files, str) else files),
                reader=str(e["reader"]),
                publication_lag=lag,
                options=dict(e.get("options") or {}),
                precedence=int(e.get("precedence", 0)),
                revisions=bool(e.get("revisions", False)),
                election_kpis=tuple(str(k).upper() for k in e.get("election_kpis", []) or []),
                manifest=label,
            )
        )
    return specs


def load_metadata_files(sources_file: Path) -> list[str]:
    """Paths or globs under the manifest's ``metadata:`` list: files that are read for metadata
    (KPI titles, geo lists, documentation), not for observations, so clean does not warn about them."""
    raw = yaml.safe_load(Path(sources_file).read_text(encoding="utf-8"))
    items = raw.get("metadata") if isinstance(raw, dict) else None
    return [str(i) for i in items or []]


def expand_files(spec: SourceSpec, raw_root: Path) -> list[Path]:
    """The files an entry names, globs expanded, sorted; a plain path that is absent is an error."""
    out: list[Path] = []
    for pattern in spec.files:
        if glob.has_magic(pattern):
            hits = sorted(Path(p) for p in glob.glob(str(raw_root / pattern), recursive=True) if Path(p).is_file())
            out.extend(hits)
        else:
            p = raw_root / pattern
            if not p.exists():
                raise DataFileError(
                    pattern,
                    f"is listed in {spec.manifest} (source {spec.name!r}) but does not exist under {raw_root}",
                    fix="restore the file, correct the path, or remove the entry from the manifest",
                )
            out.append(p)
    return out
