"""Publish: run the period's notebooks and render the shareable report, replacing the old one atomically.

Output layout (architecture.md, contract)::

    reports/<municipality>/<period>/rapport.html      the shareable report
    reports/<municipality>/<period>/report.json       the machine-readable sidecar
    reports/<municipality>/<period>/notebooks/*.ipynb the executed notebooks, for analysts
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ks_analysis import geo as geo_mod
from ks_analysis.errors import DataFileError, KsAnalysisError, ParameterError
from ks_analysis.paths import DEMO_DIR, NOTEBOOKS_DIR, REPORTS_DIR
from ks_analysis.periods import Period, parse_period
from ks_analysis.publish.notebooks import (
    execute_notebook,
    render_html,
    replace_dir_atomically,
    validate_parameters,
)

__all__ = ["ReportRun", "publish_report", "REPORT_NOTEBOOK", "check_html"]

log = logging.getLogger(__name__)

REPORT_NOTEBOOK = "03-goal-report.ipynb"
#: The analyst's notebooks run for every period beside the report and kept with it: the data
#: quality of exactly the vintage the report used. (05-stands-out is not among them: the report
#: already carries every flag in report.json and the strongest in its own section, and a third
#: kernel on two cores would slow every report by a fifth.)
ANALYST_NOTEBOOKS = ("01-clean-indicators.ipynb",)
MAX_HTML_BYTES = 3 * 1024 * 1024


@dataclass(frozen=True)
class ReportRun:
    """What one report run produced."""

    period: Period
    folder: Path
    html: Path
    json: Path
    seconds: float
    html_bytes: int


def _check_municipality(code: Any) -> None:
    if not re.fullmatch(r"\d{4}", str(code)):
        raise ParameterError(
            f"--municipality {code!r}: a Kolada code has 4 digits, e.g. 0665 for Vaggeryd"
        )
    if geo_mod.geos().get(str(code), None) is None or geo_mod.geo(str(code)).type != "K":
        raise ParameterError(f"--municipality {code!r} is not a kommun code")


def _check_date(value: Any) -> None:
    if value:
        try:
            dt.date.fromisoformat(str(value))
        except ValueError:
            raise ParameterError(f"--as-of {value!r} is not a date; write YYYY-MM-DD") from None


def _check_peers(value: Any) -> None:
    for code in [c.strip() for c in str(value).split(",") if c.strip()]:
        if (
            not re.fullmatch(r"\d{4}", code)
            or code not in geo_mod.geos()
            or geo_mod.geo(code).type != "K"
        ):
            raise ParameterError(
                f"--peers: {code!r} is not a kommun code (4 digits, e.g. 0604 for Aneby)"
            )


def _check_inputs(raw: Path, sources: Path | None, goals: Path | None) -> None:
    """What can be checked without a kernel: the manifest, its files and the goal catalogue (exit 2 early)."""
    from ks_analysis.goals.catalogue import load_catalogue
    from ks_analysis.ingest.manifest import expand_files, find_sources_file, load_sources

    manifest = Path(sources) if sources else find_sources_file(raw)
    for spec in load_sources(manifest):
        expand_files(spec, raw)
    load_catalogue(goals)


def _recover(final: Path) -> None:
    """Put back a report left aside by a run killed between its two renames (see replace_dir_atomically)."""
    if final.exists():
        return
    left = sorted(final.parent.glob(f".{final.name}.old-*"))
    if left:
        os.replace(left[-1], final)
        log.warning("restored the previous report %s left aside by an interrupted run", final)


def _check_dir(what: str) -> Any:
    def check(value: Any) -> None:
        if value and not Path(value).exists():
            raise DataFileError(value, f"{what} does not exist", fix=f"check the {what} path")

    return check


def check_html(html: Path) -> None:
    """Refuse a rendered report that would load anything from the network or is too big."""
    text = html.read_text(encoding="utf-8")
    bad = re.findall(
        r"<(?:script|link|iframe|img)[^>]+(?:src|href)\s*=\s*[\"']?(?:https?:)?//[^\"'>\s]+",
        text,
        flags=re.I,
    )
    if bad:
        raise KsAnalysisError(f"{html.name}: would load from the network: {bad[0][:120]}")
    size = html.stat().st_size
    if size > MAX_HTML_BYTES:
        raise KsAnalysisError(
            f"{html.name}: {size / 1e6:.1f} MB is over the 3 MB limit for a shareable report"
        )


def _analyst_jobs(
    nb_dir: Path, out_dir: Path, params: dict[str, Any], per: Period
) -> list[tuple[Path, Path, dict[str, Any]]]:
    """The analyst notebooks present, each with the report's parameters it declares (validated)."""
    from ks_analysis.publish.notebooks import notebook_parameters

    jobs = []
    extra = {"year": per.year}
    for name in ANALYST_NOTEBOOKS:
        path = nb_dir / name
        if not path.exists():
            continue
        declared = notebook_parameters(path)
        mine = {k: v for k, v in {**params, **extra}.items() if k in declared and v != ""}
        validate_parameters(path, mine)
        jobs.append((path, out_dir / name, mine))
    return jobs


def _run_all(jobs: list[tuple[Path, Path, dict[str, Any]]], cwd: Path) -> None:
    """Run notebooks side by side (each in its own kernel); the first failure is raised."""
    from concurrent.futures import ThreadPoolExecutor

    from ks_analysis.publish.notebooks import ensure_kernel

    ensure_kernel()  # once, before the threads start
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(execute_notebook, src, dst, p, cwd=cwd) for src, dst, p in jobs]
        errors = [f.exception() for f in futures]
    for err in errors:
        if err is not None:
            raise err


def publish_report(
    period: str | Period,
    *,
    municipality: str = "0665",
    raw: Path | None = None,
    sources: Path | None = None,
    goals: Path | None = None,
    assessments: Path | None = None,
    as_of: str | None = None,
    peers: str = "",
    out: Path | None = None,
    notebooks_dir: Path | None = None,
    analyst_notebooks: bool = True,
) -> ReportRun:
    """Run the report notebook for one period and publish rapport.html + report.json atomically.

    Raises:
        ParameterError: bad parameters, before any kernel starts.
        NotebookError: a cell failed; the previous report stays in place.
    """
    started = time.monotonic()
    per = period if isinstance(period, Period) else parse_period(str(period))
    raw = (raw or DEMO_DIR).resolve()
    out_root = (out or REPORTS_DIR).resolve()
    nb_dir = notebooks_dir or NOTEBOOKS_DIR
    notebook = nb_dir / REPORT_NOTEBOOK
    if not notebook.exists():
        raise DataFileError(
            notebook,
            "report notebook not found",
            fix="run from the project folder, or pass the notebooks folder",
        )
    params: dict[str, Any] = {
        "municipality": str(municipality),
        "period": per.id,
        "as_of": as_of or "",
        "raw": str(raw),
        "sources": str(Path(sources).resolve()) if sources else "",
        "goals": str(Path(goals).resolve()) if goals else "",
        "assessments": str(Path(assessments).resolve()) if assessments else "",
        "peers": peers or "",
    }
    validate_parameters(
        notebook,
        params,
        {
            "municipality": _check_municipality,
            "as_of": _check_date,
            "raw": _check_dir("raw data folder"),
            "sources": _check_dir("sources manifest"),
            "goals": _check_dir("goal catalogue"),
            "peers": _check_peers,
        },
    )
    if as_of and dt.date.fromisoformat(str(as_of)) < per.cutoff:
        raise ParameterError(
            f"--as-of {as_of} is before the cutoff of {per.id} ({per.cutoff.isoformat()}); a report uses what was published by its cutoff or later"
        )
    _check_inputs(
        raw, Path(sources).resolve() if sources else None, Path(goals).resolve() if goals else None
    )
    final = out_root / str(municipality) / per.id
    created_parent = not final.parent.exists()
    final.parent.mkdir(parents=True, exist_ok=True)
    _recover(final)
    tmp = Path(tempfile.mkdtemp(prefix=f".{per.id}.tmp-", dir=final.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the published report folder is for readers
    try:
        (tmp / "notebooks").mkdir()
        executed = tmp / "notebooks" / REPORT_NOTEBOOK
        report_json = tmp / "report.json"
        jobs = [(notebook, executed, {**params, "report_json": str(report_json)})]
        if analyst_notebooks:
            jobs += _analyst_jobs(nb_dir, tmp / "notebooks", params, per)
        _run_all(jobs, nb_dir)
        if not report_json.exists():
            raise KsAnalysisError(f"{REPORT_NOTEBOOK}: ran but wrote no report.json")
        rep = json.loads(report_json.read_text(encoding="utf-8"))
        title = f"Målrapport {rep['period_name']} – {rep['municipality_name']}s kommun" + (
            " (demodata)" if rep.get("demo_data") else ""
        )
        html = render_html(executed, tmp / "rapport.html", title)
        check_html(html)
        replace_dir_atomically(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if created_parent and not any(final.parent.iterdir()):
            final.parent.rmdir()  # a failed first run leaves no empty reports/<kommun>/ behind
        raise
    html_final = final / "rapport.html"
    return ReportRun(
        per,
        final,
        html_final,
        final / "report.json",
        time.monotonic() - started,
        html_final.stat().st_size,
    )
