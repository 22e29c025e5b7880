"""Sources manifests: which raw files to read, with which reader, options and publication-lag rule."""

from __future__ import annotations

import datetime as dt
import glob
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ks_analysis._config import field_path, first_error, load_yaml, validate
from ks_analysis.errors import DataFileError
from ks_analysis.paths import guard_read

__all__ = ["SourceSpec", "load_sources", "load_metadata_files", "find_sources_file", "expand_files"]

log = logging.getLogger(__name__)

DEFAULT_NAMES = ("sources.yaml", "sources.yml")


#: The longest publication lag a rule may give: ten years. The slowest source read (SCB's final
#: population figures) publishes within months; a larger number is a typo (``days: 100000000``
#: would date a 2019 value beyond what a date can hold, and wrap to another century).
MAX_LAG_DAYS = 3650

_Days = Annotated[int, Field(ge=0, le=MAX_LAG_DAYS)]


class _LagModel(BaseModel):
    """``publication_lag``: ``{days: N}`` (optionally ``per_indicator``) or ``{date: YYYY-MM-DD}``,
    with ``source``: where the lag comes from (the agency's release calendar), cited in the track record."""

    model_config = ConfigDict(strict=True, extra="forbid")
    days: _Days | None = None
    date: str | None = None
    per_indicator: dict[str, _Days] | None = None
    source: str | None = Field(default=None, max_length=500)

    @field_validator("date")
    @classmethod
    def _real_date(cls, v: str | None) -> str | None:
        if v is not None:
            dt.date.fromisoformat(v)  # ValueError: not a real date (2019-02-30)
        return v

    @model_validator(mode="after")
    def _one_rule(self) -> _LagModel:
        # both would leave a reader of the manifest guessing which one dates the rows
        if self.days is not None and self.date is not None:
            raise ValueError(
                "give either days (a lag after each period) or date (one publication date), not both"
            )
        if self.per_indicator is not None and self.date is not None:
            raise ValueError("per_indicator goes with days, not with a single date")
        return self


class _EntryModel(BaseModel):
    """One entry of ``sources:``; what each field may be (pydantic checks the types)."""

    model_config = ConfigDict(strict=True, extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    files: str | list[str] | None = None
    file: str | list[str] | None = None
    reader: str = Field(min_length=1, max_length=100)
    publication_lag: _LagModel
    options: dict[str, Any] = Field(default_factory=dict)
    precedence: int = Field(default=0, ge=-1000, le=1000)
    revisions: bool = False
    election_kpis: list[str] = Field(default_factory=list)


class _ManifestModel(BaseModel):
    """A sources manifest: ``sources:`` and optionally ``metadata:`` (and free top-level flags)."""

    model_config = ConfigDict(strict=True, extra="allow")
    sources: list[Any] = Field(min_length=1)
    metadata: list[str] = Field(default_factory=list)


_WHOLE_DAYS = (
    f"is not a whole number of days from 0 to {MAX_LAG_DAYS}",
    "write e.g. 'publication_lag: {days: 45}' (days after the period's end)",
)
#: What each manifest field may be, in the words of the messages (field path -> problem, fix).
_FIELDS = {
    "publication_lag.days": _WHOLE_DAYS,
    "publication_lag.date": ("is not a date", "write YYYY-MM-DD, e.g. '{date: 2024-08-30}'"),
    "publication_lag.per_indicator": (
        "is not a mapping",
        "write e.g. 'per_indicator: {N03926: 60}'",
    ),
    "precedence": (
        "is not a whole number from -1000 to 1000",
        "write e.g. 'precedence: 1' (the higher number wins a conflict)",
    ),
    "files": (
        "is not a path or a list of paths",
        "give a file path or glob relative to the raw folder, or a list of them",
    ),
    "file": (
        "is not a path or a list of paths",
        "give a file path or glob relative to the raw folder, or a list of them",
    ),
    "options": ("is not a mapping", "write the reader's options as 'key: value' lines"),
    "election_kpis": ("is not a list of KPI ids", "write e.g. 'election_kpis: [N05401]'"),
    "revisions": ("is not true or false", "write 'revisions: true' or leave it out"),
    "reader": ("is not a reader name", "name one of the readers in docs/templates.md"),
    "name": ("is not a name", "write a short text, e.g. 'name: kolada'"),
}


def _entry_field(field: str) -> tuple[str, str] | None:
    """The problem and fix of a manifest field path (list positions and mapping keys folded)."""
    if field.startswith("publication_lag.per_indicator."):
        return (_WHOLE_DAYS[0], "write e.g. 'per_indicator: {N03926: 60}'")
    for key in ("files", "file", "election_kpis"):
        if field == key or field.startswith(key + "["):
            return _FIELDS[key]
    return _FIELDS.get(field)


def _manifest_doc(sources_file: Path) -> dict[str, Any]:
    """The manifest's YAML, loaded safely within limits, with its top level checked."""
    label = str(sources_file)
    if not Path(sources_file).exists():
        raise DataFileError(label, "sources manifest not found", fix="check the --sources path")
    raw = load_yaml(Path(sources_file), what="sources manifest")
    if not isinstance(raw, dict) or not isinstance(raw.get("sources"), list) or not raw["sources"]:
        raise DataFileError(
            label,
            "has no 'sources:' list",
            fix="list one entry per file or glob (see docs/templates.md)",
        )
    validate(_ManifestModel, raw, label, default_fix="see docs/templates.md")
    return raw


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
    """Read and check a sources manifest (a safe, bounded YAML load, then a typed model per entry).

    Raises:
        DataFileError: naming the manifest, the entry and the field, the value and what is
            allowed, e.g. an entry without a publication-lag rule or ``options`` that are a list.
    """
    label = str(sources_file)
    entries = _manifest_doc(Path(sources_file))["sources"]
    specs: list[SourceSpec] = []
    names: set[str] = set()
    for n, e in enumerate(entries, start=1):
        name_text = e.get("name") if isinstance(e, dict) else None
        where = f"entry {n}" + (
            f" ({name_text})" if isinstance(name_text, str) and name_text else ""
        )
        if not isinstance(e, dict):
            raise DataFileError(
                label,
                f"{where} is not a mapping",
                fix="write 'name:', 'files:', 'reader:' ... lines",
            )
        if not (e.get("files") or e.get("file")):
            raise DataFileError(
                label,
                f"{where}: missing 'files'",
                fix="give a file path or glob relative to the raw folder",
            )
        if not e.get("reader"):
            raise DataFileError(
                label, f"{where}: missing 'reader'", fix="name the reader of the files"
            )
        lag = e.get("publication_lag")
        if not isinstance(lag, dict) or not ({"days", "date"} & set(lag)):
            raise DataFileError(
                label,
                f"{where}: missing publication_lag rule",
                fix="add e.g. 'publication_lag: {days: 45}' (days after the period's end) or '{date: 2024-08-30}'",
            )
        model = _validate_entry(e, label, where)
        name = model.name or f"source{n}"
        if name in names:
            raise DataFileError(
                label,
                f"{where}: duplicate source name {name!r}",
                fix="give each entry its own name",
            )
        names.add(name)
        files = model.files if model.files is not None else model.file
        rule: dict[str, Any] = {
            k: v for k, v in model.publication_lag.model_dump().items() if v is not None
        }
        if "date" in rule:
            rule["date"] = dt.date.fromisoformat(rule["date"])
        specs.append(
            SourceSpec(
                name=name,
                files=tuple([files] if isinstance(files, str) else files or ()),
                reader=model.reader,
                publication_lag=rule,
                options=dict(model.options),
                precedence=model.precedence,
                revisions=model.revisions,
                election_kpis=tuple(k.upper() for k in model.election_kpis),
                manifest=label,
            )
        )
    return specs


def _validate_entry(e: dict[str, Any], label: str, where: str) -> _EntryModel:
    """One entry as a typed model; a DataFileError naming entry, field, value and what is allowed."""
    try:
        return _EntryModel.model_validate(e)
    except ValidationError as exc:
        field = field_path(tuple(first_error(exc)["loc"]))
        custom = _entry_field(field)
        validate(
            _EntryModel,
            e,
            label,
            where=where,
            fields={field: custom} if custom else None,
            default_fix="see docs/templates.md",
        )
        raise  # pragma: no cover - validate has raised


def load_metadata_files(sources_file: Path) -> list[str]:
    """Paths or globs under the manifest's ``metadata:`` list: files that are read for metadata
    (KPI titles, geo lists, documentation), not for observations, so clean does not warn about them."""
    return [str(i) for i in _manifest_doc(Path(sources_file)).get("metadata") or []]


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
