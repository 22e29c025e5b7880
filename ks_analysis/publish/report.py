"""Publish: run the period's notebooks and render the shareable report, replacing the old one atomically.

Output layout (architecture.md, contract)::

    reports/<municipality>/<period>/rapport.html      the shareable report
    reports/<municipality>/<period>/report.json       the machine-readable sidecar
    reports/<municipality>/<period>/notebooks/*.ipynb the executed notebooks, for analysts
    reports/<municipality>/<period>/rapport.pdf       with --pdf: the same report as A4 PDF
    reports/<municipality>/<period>-per-<as_of>/      a report on a later vintage (--as-of)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ks_analysis._io import output_folder
from ks_analysis.errors import DataFileError, KsAnalysisError
from ks_analysis.goals.catalogue import load_catalogue
from ks_analysis.ingest.manifest import expand_files, find_sources_file, load_sources
from ks_analysis.params import ReportParams
from ks_analysis.paths import NOTEBOOKS_DIR
from ks_analysis.periods import Period
from ks_analysis.publish.notebooks import (
    KernelSession,
    notebook_parameters,
    render_html,
    validate_parameters,
)

__all__ = [
    "ReportRun",
    "ModelsAhead",
    "publish_report",
    "REPORT_NOTEBOOK",
    "check_html",
    "report_folder_name",
]

log = logging.getLogger(__name__)

REPORT_NOTEBOOK = "03-goal-report.ipynb"
#: The analyst's notebooks run for every period beside the report and kept with it: the data
#: quality of exactly the vintage the report used. (05-stands-out is not among them: the report
#: already carries every flag in report.json and the strongest in its own section, and a third
#: kernel on two cores would slow every report by a fifth.)
ANALYST_NOTEBOOKS = ("01-clean-indicators.ipynb",)
MAX_HTML_BYTES = 3 * 1024 * 1024
#: The report model handed to the report notebook (:mod:`ks_analysis.report.handoff`), in the
#: temporary report folder until the notebooks ran.
HANDOFF_FILE = ".report-model.pickle"


@dataclass(frozen=True)
class ReportRun:
    """What one report run produced."""

    period: Period
    folder: Path
    html: Path
    json: Path
    seconds: float
    html_bytes: int
    pdf: Path | None = None


def report_folder_name(period: Period, as_of: dt.date) -> str:
    """``2019-T2`` for the period's own report (data as of its cutoff); ``2019-T2-per-2019-09-15``
    for a report on a later vintage, so that it never replaces the regular one."""
    return period.id if as_of == period.cutoff else f"{period.id}-per-{as_of.isoformat()}"


def _check_inputs(raw: Path, sources: Path | None, goals: Path | None) -> None:
    """What can be checked without a kernel: the manifest, its files and the goal catalogue (exit 2 early)."""
    manifest = Path(sources) if sources else find_sources_file(raw)
    for spec in load_sources(manifest):
        expand_files(spec, raw)
    load_catalogue(goals)


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


def _run_notebooks(
    jobs: list[tuple[Path, Path, dict[str, Any]]],
    cwd: Path,
    session: KernelSession | None,
    meanwhile: Callable[[], None] = lambda: None,
) -> None:
    """Run notebooks in one kernel (``session``'s, or one of their own), started in ``cwd``: the
    first, then the others while this process calls ``meanwhile`` (the report's rendering).

    The kernel is a process of its own, so on two cores the data-quality notebook and the
    rendering of the report notebook run side by side. One kernel, not one per notebook: a
    second kernel's start and its second reading of the raw folder cost more than they save.
    The later notebooks run in the kernel already started in ``cwd``, without papermill's
    ``cwd`` (which changes this whole process's working folder, the rendering thread's too).
    The first failure is raised: the first notebook's before ``meanwhile`` runs, ``meanwhile``'s
    before the later notebooks'.
    """
    with contextlib.ExitStack() as stack:
        if session is None:
            session = stack.enter_context(KernelSession())
        (src, dst, p), rest = jobs[0], jobs[1:]
        session.execute(src, dst, p, cwd=cwd)
        failed: list[BaseException] = []

        def run_rest() -> None:
            try:
                for src, dst, p in rest:
                    session.execute(src, dst, p, cwd=None)
            except BaseException as exc:  # raised by the waiting thread
                failed.append(exc)

        behind = threading.Thread(target=run_rest, name="later-notebooks", daemon=True)
        behind.start()
        try:
            meanwhile()
        finally:
            behind.join()  # the kernel is shut down only after its notebooks
        if failed:
            raise failed[0]


def _load_renderers() -> None:
    """Import what rendering the report needs after its notebooks (nbconvert's exporter, the
    workbook's sheets with openpyxl and the forecasting they format) while the kernel runs them;
    a failed import fails later, where the renderer imports it."""
    try:
        import nbconvert  # noqa: F401

        from ks_analysis.report import excel, what_it_takes  # noqa: F401
    except Exception:  # reported by the renderer's own import
        log.debug("loading the renderers ahead failed", exc_info=True)


#: A report's model as the notebook's build cell would make it: (the report, its cleaned
#: vintages as (memo key, result) pairs, for the data-quality notebook, and its charts drawn
#: ahead by key, for the report's goal sections; empty where the kernel draws them).
Model = tuple[Any, list[tuple[Any, Any]], dict[str, Any]]


def _build_model(
    params: dict[str, str],
    draw: bool = False,
    on_judged: Callable[[list[Any]], None] | None = None,
) -> Model | None:
    """The report of the notebook's text ``params`` built in this process, with its vintage
    and, with ``draw``, its charts; ``on_judged`` gets the goals as soon as they are judged
    (:func:`ks_analysis.report.build.build_report`).

    Bad input is raised as it is (one message, exit 2), before the kernel would find it again.
    Any other failure gives None: the notebook then builds the model itself and fails with its
    cell and message as it always did.
    """
    from ks_analysis.clean.run import cleaned_vintage, kept_on_disk
    from ks_analysis.notebook_api import notebook_report_params
    from ks_analysis.report.build import build_report, load_report_inputs

    try:
        # what the notebook's build cell does without a model handed over
        typed = notebook_report_params(**params)
        report = build_report(load_report_inputs(typed), on_judged)
    except KsAnalysisError:
        raise
    except Exception:
        log.debug("building the report ahead failed; the notebook builds it", exc_info=True)
        return None
    # The kernel reads a vintage kept on disk in a tenth of the time its pickle would take
    # to write here and load there (0.6 s of the real 2022-T2 report).
    on_disk = kept_on_disk(typed.raw, typed.sources, typed.as_of)
    vintage = None if on_disk else cleaned_vintage(typed.raw, typed.sources, typed.as_of)
    drawn: dict[str, Any] = {}
    if draw:
        from ks_analysis.report import charts

        try:
            drawn = charts.draw_ahead(report["goals"], int(report["period"][:4]))
        except Exception:  # the kernel draws them, and fails with its cell if it must
            log.debug("drawing the charts ahead failed; the notebook draws them", exc_info=True)
    return report, [vintage] if vintage else [], drawn


class ModelsAhead:
    """Report models built in a thread of this process ahead of their turn (``report --year``,
    several ``--period``): while the kernel runs one period's notebooks on one core, this
    process builds the later periods' models on the other (it only waits for the kernel
    then). With a session, its kernel draws each model's charts (queued between the cells it
    runs: measured, that is quicker than this thread drawing some of them, which contends for
    this process's lock with the rendering); without one, the thread draws them.

    One model at a time, in the order started, in one daemon thread (an interrupted run does
    not wait for it); a model is taken once, by the parameters it was started for.
    """

    def __init__(self, session: KernelSession | None = None) -> None:
        self._pending: dict[tuple[tuple[str, str], ...], Future[Model | None]] = {}
        self._session = session
        self._queue: queue.SimpleQueue[tuple[dict[str, str], Future[Model | None]] | None] = (
            queue.SimpleQueue()
        )
        self._worker: threading.Thread | None = None

    def __enter__(self) -> ModelsAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pending.clear()
        self._queue.put(None)  # the worker stops after the model it builds

    def _work(self) -> None:
        while (job := self._queue.get()) is not None:
            params, future = job
            if not future.set_running_or_notify_cancel():
                continue
            to_kernel = _charts_to_kernel(self._session, int(params["period"][:4]))
            try:
                future.set_result(_build_model(params, draw=to_kernel is None, on_judged=to_kernel))
            except BaseException as exc:  # raised where the model is taken
                future.set_exception(exc)

    def start(self, params: dict[str, str]) -> None:
        """Build the model of ``params`` (text notebook parameters) after those started before."""
        key = tuple(sorted(params.items()))
        if key in self._pending:
            return
        future: Future[Model | None] = Future()
        self._pending[key] = future
        self._queue.put((params, future))
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="model-ahead", daemon=True)
            self._worker.start()

    def take(self, params: dict[str, str]) -> Future[Model | None] | None:
        """The model started for exactly ``params``, or None."""
        return self._pending.pop(tuple(sorted(params.items())), None)


def _charts_to_kernel(
    session: KernelSession | None, year: int
) -> Callable[[list[Any]], None] | None:
    """A callback for :func:`_build_model`'s judged goals: hand them to ``session``'s kernel (in
    the message itself), which draws their charts on its core while this process finishes the
    model (the report notebook's cells then find them drawn); None without a session."""
    if session is None:
        return None

    def hand_over(goals: list[Any]) -> None:
        from ks_analysis.report.handoff import chart_goals_text

        try:
            text = chart_goals_text(goals, year)
        except Exception:  # the notebook draws them
            log.debug("handing the goals to the kernel for their charts failed", exc_info=True)
            return
        session.send_quietly(
            "import ks_analysis.notebook_api as _ks_ahead\n"
            f"_ks_ahead.draw_charts_ahead({text!r})\n"
            "del _ks_ahead"
        )

    return hand_over


def _prebuild(
    notebook: Path,
    params: dict[str, str],
    dest: Path,
    ahead: ModelsAhead | None = None,
    on_judged: Callable[[list[Any]], None] | None = None,
) -> dict[str, str]:
    """Build the report model in this process while the kernel boots on the other core (or take
    the one ``ahead`` built meanwhile), and hand it to ``notebook`` in ``dest``
    (:mod:`ks_analysis.report.handoff`): the notebook parameter that names it, or none where the
    notebook builds the model itself. ``on_judged``: see :func:`_build_model`.
    """
    if "prebuilt" not in notebook_parameters(notebook):
        return {}  # a notebook of another version, without the parameter
    from ks_analysis.report.handoff import write_prebuilt

    pending = ahead.take(params) if ahead is not None else None
    model = pending.result() if pending is not None else _build_model(params, on_judged=on_judged)
    if model is None:
        return {}
    write_prebuilt(dest, params, *model)
    return {"prebuilt": str(dest)}


def _report_notebook(nb_dir: Path) -> Path:
    """The report notebook of ``nb_dir``, or a DataFileError saying where to run from."""
    notebook = nb_dir / REPORT_NOTEBOOK
    if not notebook.exists():
        raise DataFileError(
            notebook,
            "report notebook not found",
            fix="reinstall ks-analysis (the package ships its notebooks), or in a checkout restore notebooks/ with git",
        )
    return notebook


def _render_into(
    tmp: Path,
    notebook: Path,
    nb_dir: Path,
    nb_params: dict[str, Any],
    analysts: bool,
    per: Period,
    pdf: bool = False,
    session: KernelSession | None = None,
    ahead: ModelsAhead | None = None,
    then: Sequence[dict[str, str]] = (),
) -> None:
    """Run the notebooks into ``tmp`` and render rapport.html there (checked for readers);
    with ``ahead``, start building the models of ``then`` once this report's is handed over."""
    (tmp / "notebooks").mkdir()
    executed = tmp / "notebooks" / REPORT_NOTEBOOK
    report_json = tmp / "report.json"
    analyst = _analyst_jobs(nb_dir, tmp / "notebooks", nb_params, per) if analysts else []
    # The kernel boots on the other core while this process builds the report's model. The
    # model goes into the temporary report folder (a file only this user can read), so that a
    # killed run leaves it where the next run sweeps up, and it is removed before the swap.
    handoff = tmp / HANDOFF_FILE
    prebuilt = _prebuild(notebook, nb_params, handoff, ahead, _charts_to_kernel(session, per.year))
    if ahead is not None:
        for later in then:  # the later reports' models, while the kernel runs this one
            ahead.start(later)
    # This process waits while the kernel runs: it loads what rendering needs meanwhile.
    threading.Thread(target=_load_renderers, name="load-renderers", daemon=True).start()
    jobs = [
        (notebook, executed, {**nb_params, "report_json": str(report_json), **prebuilt}),
        *analyst,
    ]
    _run_render(jobs, tmp, executed, report_json, nb_dir, session)
    handoff.unlink(missing_ok=True)
    if pdf:  # inside the temporary folder, so the PDF is swapped in with the rest or not at all
        from ks_analysis.publish.pdf import write_pdf

        write_pdf(tmp / "rapport.html", tmp / "rapport.pdf")


def _run_render(
    jobs: list[tuple[Path, Path, dict[str, Any]]],
    tmp: Path,
    executed: Path,
    report_json: Path,
    nb_dir: Path,
    session: KernelSession | None,
) -> None:
    """Run the notebooks; render rapport.html and rapport.xlsx from the report notebook."""

    def render() -> None:
        if not report_json.exists():
            raise KsAnalysisError(f"{REPORT_NOTEBOOK}: ran but wrote no report.json")
        rep = json.loads(report_json.read_text(encoding="utf-8"))
        title = f"Målrapport {rep['period_name']} – {rep['municipality_name']}s kommun" + (
            " (demodata)" if rep.get("demo_data") else ""
        )
        check_html(render_html(executed, tmp / "rapport.html", title))
        from ks_analysis.report.excel import write_workbook  # openpyxl: loaded meanwhile

        write_workbook(rep, tmp / "rapport.xlsx")

    # The data-quality notebook runs in the kernel while this process renders the report.
    _run_notebooks(jobs, nb_dir, session, render)


def publish_report(
    params: ReportParams,
    *,
    notebooks_dir: Path | None = None,
    analyst_notebooks: bool = True,
    pdf: bool = False,
    session: KernelSession | None = None,
    ahead: ModelsAhead | None = None,
    then: Sequence[ReportParams] = (),
) -> ReportRun:
    """Run the report notebook for one period and publish rapport.html + report.json atomically.

    ``params`` is built with :func:`ks_analysis.params.report_params` (values already checked).
    The report goes to ``params.out/<municipality>/<period>/`` (``<period>-per-<as_of>/`` when
    ``as_of`` is later than the period's cutoff); with ``pdf`` also ``rapport.pdf`` (A4). With a
    :class:`~ks_analysis.publish.notebooks.KernelSession` the notebooks run in its kernel (several
    reports in one kernel), else in one of their own. With ``ahead`` (:class:`ModelsAhead`) and
    ``then``, the parameters of the reports to publish after it, this process builds their
    models, in that order, while the kernel runs this one's notebooks.

    Raises:
        ParameterError / DataFileError: bad parameters or inputs, before any kernel starts.
        NotebookError: a cell failed; the previous report stays in place.
    """
    started = time.monotonic()
    per = params.period
    nb_dir = notebooks_dir or NOTEBOOKS_DIR
    notebook = _report_notebook(nb_dir)
    nb_params = validate_parameters(notebook, params.notebook_parameters())
    _check_inputs(params.raw, params.sources, params.goals)
    from ks_analysis.report.inputs import check_period_files  # loads pandas: only when reporting

    check_period_files(params)  # the self-assessments and analyses, before any kernel starts
    if pdf:
        from ks_analysis.publish.pdf import check_pdf_available

        check_pdf_available()  # before any kernel starts
    final = params.out / params.municipality / report_folder_name(per, params.as_of)
    created_parent = not final.parent.exists()
    try:
        # Built in a temporary folder beside the report and swapped in as one; one run per report
        # folder at a time (a lock file beside it); litter of killed runs is removed first.
        with output_folder(final, doing="publishing the report") as tmp:
            _render_into(
                tmp,
                notebook,
                nb_dir,
                nb_params,
                analyst_notebooks,
                per,
                pdf,
                session,
                ahead,
                [p.notebook_parameters() for p in then],
            )
    except BaseException:
        if created_parent and final.parent.is_dir() and not any(final.parent.iterdir()):
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
        final / "rapport.pdf" if pdf else None,
    )
