"""Sources manifests: which raw files to read, with which reader, options and publication-lag rule."""

from __future__ import annotations

import datetime as dt
import glob
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ks_analysis.errors import DataFileError
from ks_analysis.paths import guard_read

__all__ = ["SourceSpec", "load_sources", "load_metadata_files", "find_sources_file", "expand_files"]

log = logging.getLogger(__name__)

DEFAULT_NAMES = ("sources.yaml", "sources.yml")


class _TextDatesLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text, so that a bad date (2024-13-01) is reported with its
    entry and field instead of failing inside the YAML parser; load_sources checks them."""


_TextDatesLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


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
    raise DataFileError(
        raw_root,
        "has no sources.yaml",
        fix="write a sources manifest (see docs/templates.md) or pass --sources FILE",
    )


def load_sources(sources_file: Path) -> list[SourceSpec]:
    """Read and check a sources manifest.

    Raises:
        DataFileError: naming the manifest and the entry, e.g. an entry without a publication-lag rule.
    """
    label = str(sources_file)
    try:
        # yaml.load is safe here: _TextDatesLoader is a SafeLoader.
        raw = yaml.load(sources_file.read_text(encoding="utf-8"), Loader=_TextDatesLoader)
    except FileNotFoundError:
        raise DataFileError(
            label, "sources manifest not found", fix="check the --sources path"
        ) from None
    except yaml.YAMLError as exc:
        raise DataFileError(label, f"is not valid YAML ({exc})") from None
    entries = (raw or {}).get("sources") if isinstance(raw, dict) else None
    if not isinstance(entries, list) or not entries:
        raise DataFileError(
            label,
            "has no 'sources:' list",
            fix="list one entry per file or glob (see docs/templates.md)",
        )
    specs: list[SourceSpec] = []
    names: set[str] = set()
    for n, e in enumerate(entries, start=1):
        where = f"entry {n}" + (
            f" ({e.get('name')})" if isinstance(e, dict) and e.get("name") else ""
        )
        if not isinstance(e, dict):
            raise DataFileError(label, f"{where} is not a mapping")
        name = str(e.get("name") or f"source{n}")
        if name in names:
            raise DataFileError(label, f"{where}: duplicate source name {name!r}")
        names.add(name)
        files = e.get("files") or e.get("file")
        if not files:
            raise DataFileError(
                label,
                f"{where}: missing 'files'",
                fix="give a file path or glob relative to the raw folder",
            )
        if not e.get("reader"):
            raise DataFileError(label, f"{where}: missing 'reader'")
        lag = e.get("publication_lag")
        if not isinstance(lag, dict) or not ({"days", "date"} & set(lag)):
            raise DataFileError(
                label,
                f"{where}: missing publication_lag rule",
                fix="add e.g. 'publication_lag: {days: 45}' (days after the period's end) or '{date: 2024-08-30}'",
            )
        lag = _check_lag(label, where, lag)
        precedence = e.get("precedence", 0)
        if isinstance(precedence, bool) or not isinstance(precedence, int):
            raise DataFileError(
                label,
                f"{where}, field 'precedence': {precedence!r} is not a whole number",
                fix="write e.g. 'precedence: 1' (the higher number wins a conflict)",
            )
        specs.append(
            SourceSpec(
                name=name,
                files=tuple([files] if isinstance(files, str) else files),
                reader=str(e["reader"]),
                publication_lag=lag,
                options=dict(e.get("options") or {}),
                precedence=precedence,
                revisions=bool(e.get("revisions", False)),
                election_kpis=tuple(str(k).upper() for k in e.get("election_kpis", []) or []),
                manifest=label,
            )
        )
    return specs


def _whole_days(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_lag(label: str, where: str, lag: dict[str, Any]) -> dict[str, Any]:
    """The publication_lag rule with its date parsed; a DataFileError naming the field when days are
    not whole numbers or the date is not a real date."""
    lag = dict(lag)
    if "days" in lag and not _whole_days(lag["days"]):
        raise DataFileError(
            label,
            f"{where}, field 'publication_lag.days': {lag['days']!r} is not a whole number of days",
            fix="write e.g. 'publication_lag: {days: 45}'",
        )
    if "date" in lag:
        d = lag["date"]
        if not isinstance(d, dt.date):
            try:
                lag["date"] = dt.date.fromisoformat(str(d))
            except ValueError:
                raise DataFileError(
                    label,
                    f"{where}, field 'publication_lag.date': {d!r} is not a date",
                    fix="write YYYY-MM-DD, e.g. '{date: 2024-08-30}'",
                ) from None
    per = lag.get("per_indicator")
    if per is not None:
        if not isinstance(per, dict):
            raise DataFileError(
                label,
                f"{where}, field 'publication_lag.per_indicator': is not a mapping",
                fix="write e.g. 'per_indicator: {N03926: 60}'",
            )
        for kpi, days in per.items():
            if not _whole_days(days):
                raise DataFileError(
                    label,
                    f"{where}, field 'publication_lag.per_indicator.{kpi}': {days!r} is not a whole number of days",
                    fix="write e.g. 'per_indicator: {N03926: 60}'",
                )
    return lag


def load_metadata_files(sources_file: Path) -> list[str]:
    """Paths or globs under the manifest's ``metadata:`` list: files that are read for metadata
    (KPI titles, geo lists, documentation), not for observations, so clean does not warn about them."""
    raw = yaml.safe_load(Path(sources_file).read_text(encoding="utf-8"))
    items = raw.get("metadata") if isinstance(raw, dict) else None
    return [str(i) for i in items or []]


def expand_files(spec: SourceSpec, raw_root: Path) -> list[Path]:
    """The files an entry names, globs expanded, each once, in order of the patterns (sorted within each).

    Every file must resolve, symlinks followed, to a regular file inside ``raw_root``: an absolute
    path, a ``..`` glob or a symlink leading out of it is refused, naming the entry and the path
    (nothing outside the raw folder is ever opened). A file matched by several patterns is read
    once. A plain path that is absent is an error, and so is an entry whose globs match no file
    at all (nothing would be read). A glob that matches nothing beside others that match (e.g.
    the optional municipality_groups pages of a Kolada snapshot) is logged as a warning.
    """
    out: list[Path] = []
    seen: set[Path] = set()
    empty_globs: list[str] = []
    entry = f"source {spec.name!r} of {spec.manifest}"
    for pattern in spec.files:
        where = f"{entry}, file pattern {pattern!r}"
        if Path(pattern).is_absolute() or Path(pattern).expanduser() != Path(pattern):
            raise DataFileError(
                spec.manifest,
                f"{where}: is an absolute path; files are named relative to the raw folder {raw_root}",
                fix="copy the file into the raw folder and name it relative to it",
            )
        if glob.has_magic(pattern):
            hits = sorted(Path(p) for p in glob.glob(str(raw_root / pattern), recursive=True))
            hits = [h for h in hits if not h.is_dir()]
            if not hits:
                empty_globs.append(pattern)
        else:
            p = raw_root / pattern
            if not p.exists() and not p.is_symlink():
                raise DataFileError(
                    pattern,
                    f"is listed in {spec.manifest} (source {spec.name!r}) but does not exist under {raw_root}",
                    fix="restore the file, correct the path, or remove the entry from the manifest",
                )
            hits = [p]
        for h in hits:
            resolved = guard_read(h, entry=where, root=raw_root)
            if resolved in seen:
                log.info("%s: %s is matched again; it is read once", where, h)
                continue
            seen.add(resolved)
            out.append(h)
    if empty_globs and not out:
        raise DataFileError(
            spec.manifest,
            f"source {spec.name!r}: file pattern {', '.join(repr(g) for g in empty_globs)} matches no file under {raw_root}",
            fix="correct the pattern, add the files, or remove the entry from the manifest",
        )
    for pattern in empty_globs:
        log.warning(
            "source %r in %s: file pattern %r matches no file", spec.name, spec.manifest, pattern
        )
    return out
