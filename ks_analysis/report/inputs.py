"""Everything a report reads, loaded once at the edge so :func:`~ks_analysis.report.build.build_report` stays pure.

:func:`load_report_inputs` reads the raw files (cleaned as known at ``as_of``, and at the previous
period's cutoff for the changes), the goal catalogue, the self-assessments, the Kommunkompassen
register, Kolada's titles and the hashes of the files the report cites.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from ks_analysis import geo as geo_mod
from ks_analysis._config import load_yaml
from ks_analysis.clean import CleanResult, clean_once
from ks_analysis.errors import DataFileError
from ks_analysis.goals.assessments import Analysis, Assessment, load_analyses, load_assessments
from ks_analysis.goals.catalogue import Catalogue, load_catalogue
from ks_analysis.goals.kommunkompassen import Evaluation, read_register
from ks_analysis.ingest.kolada_web import kolada_titles
from ks_analysis.params import ReportParams
from ks_analysis.periods import Period
from ks_analysis.report.model import InputFile

__all__ = [
    "ReportInputs",
    "PeriodInputs",
    "load_report_inputs",
    "package_version",
    "check_period_files",
]


def package_version() -> str:
    """The installed version of ks-analysis (``0+unknown`` from a plain checkout)."""
    try:
        return version("ks-analysis")
    except PackageNotFoundError:  # pragma: no cover - running from a plain checkout
        return "0+unknown"


@dataclass(frozen=True)
class PeriodInputs:
    """One period's data as known at its vintage: the cleaned table and the self-assessments."""

    period: Period
    as_of: dt.date
    clean: CleanResult
    assessments: dict[int, Assessment]
    assessment_note: str | None
    #: The steering goals' analysis and actions (the period file's ``analyses:``), by goal id.
    analyses: dict[int, Analysis] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportInputs:
    """Everything :func:`~ks_analysis.report.build.build_report` needs, already read and checked."""

    params: ReportParams
    catalogue: Catalogue
    current: PeriodInputs
    previous: PeriodInputs | None
    cited_files: tuple[InputFile, ...]
    titles: dict[str, str]
    evaluations: tuple[Evaluation, ...]
    demo_data: bool
    generated: str
    package_version: str


def _sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, in hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _is_demo(raw: Path, sources: Path | None) -> bool:
    """Whether the manifest says it lists demo data (``demo: true``)."""
    manifest = sources or raw / "sources.yaml"
    try:
        data = load_yaml(Path(manifest), what="sources manifest") or {}
    except DataFileError:
        return False  # the manifest is checked, with its own message, before the report is built
    return bool(isinstance(data, dict) and data.get("demo"))


def assessments_folder(params: ReportParams) -> Path:
    """Where the self-assessments are: ``--assessments`` or ``RAW/assessments``."""
    return params.assessments or params.raw / "assessments"


def _assessments_for(
    params: ReportParams, cat: Catalogue, period_id: str
) -> tuple[dict[int, Assessment], str | None]:
    """Self-assessments of the period; they are the catalogue kommun's own, so another kommun gets none."""
    if params.municipality != cat.municipality:
        return {}, (
            f"Självvärderingarna gäller {geo_mod.geo(cat.municipality).name}s kommun; "
            f"för {geo_mod.geo(params.municipality).name} finns ingen självvärdering."
        )
    supporting = [g.id for g in cat.goals if not g.is_steering]
    return load_assessments(assessments_folder(params), period_id, supporting)


def _catalogue_label(path: Path) -> str:
    """The goal catalogue as the inputs list names it: the packaged one by what it is, an
    analyst's own by its file name."""
    from ks_analysis.paths import PACKAGE_DIR

    try:
        path.resolve().relative_to(PACKAGE_DIR.resolve())
    except ValueError:
        return f"målkatalog: {path.name}"
    return "målkatalog (paketets)"


def _analyses_for(params: ReportParams, cat: Catalogue, period_id: str) -> dict[int, Analysis]:
    """The steering goals' analyses of the period: the catalogue kommun's own, like its assessments."""
    if params.municipality != cat.municipality:
        return {}
    steering = [g.id for g in cat.goals if g.is_steering]
    return load_analyses(assessments_folder(params), period_id, steering)


def check_period_files(params: ReportParams) -> None:
    """Read the report period's self-assessment file (both sections) and the previous period's,
    as the report will: a bad one is refused before any kernel starts.

    Raises:
        DataFileError: naming the file, the field path and the value.
    """
    cat = load_catalogue(params.goals)
    prev = params.period.previous()
    for pid in [params.period.id] + ([prev.id] if prev else []):
        _assessments_for(params, cat, pid)
        _analyses_for(params, cat, pid)


def _cited_files(params: ReportParams, cat: Catalogue) -> tuple[InputFile, ...]:
    """The catalogue and the assessment files of this and the previous period, with their hashes."""
    files: list[InputFile] = [{"file": _catalogue_label(cat.path), "sha256": _sha256(cat.path)}]
    prev = params.period.previous()
    folder = assessments_folder(params)
    for pid in [params.period.id] + ([prev.id] if prev else []):
        for p in sorted(folder.glob(f"{pid}.yaml")):
            files.append({"file": f"assessments/{p.name}", "sha256": _sha256(p)})
    return tuple(files)


def load_report_inputs(params: ReportParams, *, progress: bool = False) -> ReportInputs:
    """Read and clean everything one report needs (the raw files are read once for both vintages).

    Raises:
        DataFileError / CatalogueError: for a missing or malformed input, naming the file.
    """
    cat = load_catalogue(params.goals)
    per = params.period
    clean_now = clean_once(params.raw, params.sources, as_of=params.as_of, progress=progress)
    current = PeriodInputs(
        per,
        params.as_of,
        clean_now,
        *_assessments_for(params, cat, per.id),
        analyses=_analyses_for(params, cat, per.id),
    )
    previous = None
    prev = per.previous()
    if prev is not None:
        # The previous forecast as it was made: its own cutoff, never later than this report's vintage.
        prev_as_of = min(params.as_of, prev.cutoff)
        clean_prev = clean_once(params.raw, params.sources, as_of=prev_as_of)
        previous = PeriodInputs(
            prev, prev_as_of, clean_prev, *_assessments_for(params, cat, prev.id)
        )
    return ReportInputs(
        params=params,
        catalogue=cat,
        current=current,
        previous=previous,
        cited_files=_cited_files(params, cat),
        titles=kolada_titles(params.raw),
        evaluations=tuple(read_register(params.raw)),
        demo_data=_is_demo(params.raw, params.sources),
        generated=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        package_version=package_version(),
    )
