"""The one module the notebooks call: one function per cell, so no cell holds logic.

Papermill and JupyterLab give the notebooks text parameters (empty text = the default). They are
parsed here, once, by :mod:`ks_analysis.params` (relative paths from the project folder, as the
notebooks run in ``notebooks/``); the library below takes typed values. Render functions return
:class:`IPython.display.HTML`, which the notebook shows as the cell's result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from IPython.display import HTML

from ks_analysis.backtest import replay as _backtest
from ks_analysis.clean import CleanResult, run_clean
from ks_analysis.clean import quality as _quality
from ks_analysis.clean.run import keep_cleaned
from ks_analysis.evaluate import standout as _standout
from ks_analysis.goals.catalogue import load_catalogue
from ks_analysis.ingest.kolada_web import kolada_titles
from ks_analysis.params import (
    ReportParams,
    parse_as_of,
    parse_gender,
    parse_municipality,
    parse_path,
    parse_peers,
    report_params,
)
from ks_analysis.paths import DEMO_DIR, PROJECT_ROOT
from ks_analysis.report import charts as _charts
from ks_analysis.report import exploration as _ex
from ks_analysis.report import exploration_forecast as _exf
from ks_analysis.report import followup as _followup
from ks_analysis.report import sections as _sections
from ks_analysis.report import supporting as _supporting
from ks_analysis.report.build import build_report, load_report_inputs
from ks_analysis.report.handoff import read_chart_goals, read_prebuilt
from ks_analysis.report.model import Report
from ks_analysis.report.sidecar import write_report_json
from ks_analysis.report.what_it_takes_html import what_it_takes_box

__all__ = [
    "prepare_kernel",
    "show_tables",
    "notebook_report_params",
    "build_report_from_parameters",
    "draw_charts_ahead",
    "render_front",
    "render_summary",
    "render_goals",
    "render_back",
    "save_report_json",
    "clean_raw",
    "rows_per_source",
    "coverage_by_year",
    "coverage_by_group",
    "rejected_by_reason",
    "first_rejected",
    "track_record",
    "goal_table",
    "track_record_table",
    "by_indicator_table",
    "selection_table",
    "track_record_text",
    "method_table",
    "plot_reliability",
    "load_exploration",
    "explore_heading",
    "explore_series",
    "explore_peers",
    "explore_gender",
    "explore_provenance",
    "explore_forecast",
    "find_standouts",
    "flag_counts",
    "flags_table",
]


def prepare_kernel() -> None:
    """Load what the report's cells need beyond this module (pyplot with the report's theme,
    BeautifulSoup) ahead of them. ``ks-analysis report`` starts its kernel with this call, so the
    kernel does it while the command still checks its inputs (and sets the collector for a
    kernel that runs a few notebooks and ends, see :mod:`ks_analysis._gc`)."""
    import bs4  # noqa: F401  (the report's tables are labelled with it)

    from ks_analysis._gc import tune_for_batch
    from ks_analysis.report import charts

    tune_for_batch()
    charts.prepare()


def show_tables(max_colwidth: int = 120) -> None:
    """How wide table cells may be in the notebook's output."""
    pd.set_option("display.max_colwidth", max_colwidth)


def _path(value: str, name: str) -> Path | None:
    """A notebook path parameter: relative to the project folder; empty = None."""
    return parse_path(value, name, base=PROJECT_ROOT)


# 03-goal-report ---------------------------------------------------------------------------


def notebook_report_params(
    *,
    municipality: str = "",
    period: str,
    as_of: str = "",
    raw: str = "",
    sources: str = "",
    goals: str = "",
    assessments: str = "",
    peers: str = "",
) -> ReportParams:
    """The report notebook's text parameters as :class:`ReportParams` (the CLI's parser)."""
    return report_params(
        period=period,
        as_of=as_of,
        municipality=municipality,
        peers=peers,
        raw=raw,
        sources=sources,
        goals=goals,
        assessments=assessments,
        base=PROJECT_ROOT,
    )


def build_report_from_parameters(prebuilt: str = "", **text: str) -> Report:
    """Load the inputs named by the notebook's text parameters and build the report.

    ``prebuilt`` names the file in which ``ks-analysis report`` hands over the report it built
    with these parameters while this kernel started (:mod:`ks_analysis.report.handoff`), with
    the cleaned vintage the data-quality notebook then shows (and charts drawn ahead, which
    :func:`render_goals` then shows); empty, or a file for other
    parameters or another package version, builds the report here.
    """
    handed = read_prebuilt(prebuilt, text)
    if handed is not None:
        rep, cleaned, drawn = handed
        for key, result in cleaned:
            keep_cleaned(key, result)
        _charts.keep_drawn(drawn)
        return rep
    return build_report(load_report_inputs(notebook_report_params(**text)))


def draw_charts_ahead(text: str) -> None:
    """Draw the charts of the goals ``ks-analysis report`` handed over as ``text``
    (:func:`ks_analysis.report.handoff.chart_goals_text`) while it finishes the report's model;
    :func:`render_goals` then shows them. The command queues this call in the kernel before the
    report notebook's cells; goals not handed over, or drawn from other values, are drawn by
    the cell.
    """
    handed = read_chart_goals(text)
    if handed is not None:
        _charts.draw_ahead_quietly(*handed)


def _html(fragment: str) -> HTML:
    """A rendered fragment as the cell's HTML result. Its text is handed over as a plain ``str``:
    a ``Markup`` would escape any plain string later added to it."""
    return HTML(str(fragment))


def render_front(rep: Report) -> HTML:
    """First screen and table of contents."""
    return _html(_sections.first_screen(rep) + _sections.table_of_contents(rep))


def render_summary(rep: Report) -> HTML:
    """The summary table of all goals."""
    return _html(_sections.summary_table(rep))


def render_goals(rep: Report) -> HTML:
    """Every goal's section, with charts for the steering goals."""
    year = int(rep["period"][:4])
    parts = []
    for g in rep["goals"]:
        charts = _charts.goal_charts(g, year) if g["kind"] == "styrande" else ""
        extra = (
            what_it_takes_box(g)
            + _followup.render_analysis(g)
            + _followup.render_supporting_indicators(g)
            + charts
            + _supporting.render_goal_extras(g)
        )
        parts.append(_sections.goal_section(g, extra))
    return _html("".join(parts))


def render_back(rep: Report) -> HTML:
    """Kommunkompassen, results that stand out, rules, changes since the previous forecast,
    last year's forecasts against the outcome, method and provenance."""
    return _html(
        _followup.render_kommunkompassen(rep)
        + _supporting.render_stands_out(rep)
        + _sections.rules_section(rep)
        + _sections.changes_section(rep)
        + _followup.render_last_year(rep, (tr := _track_record()))
        + _sections.method_section(rep, tr)
    )


def save_report_json(rep: Report, report_json: str) -> None:
    """Write report.json to ``report_json``; empty = do not write (an analyst's run in Lab)."""
    if report_json:
        write_report_json(rep, Path(report_json))


def _track_record() -> dict[str, Any]:
    """The committed backtest summary of the real series: the report cites it, never reruns it."""
    summary = _backtest.track_record_summary()
    return {**summary, "text_sv": _backtest.track_record_text_sv()} if summary else summary


# 01-clean-indicators ----------------------------------------------------------------------


def clean_raw(raw: str = "", sources: str = "", as_of: str = "") -> CleanResult:
    """Clean a raw folder with its manifest; empty ``raw`` = the demo data. ``as_of``
    (YYYY-MM-DD) keeps what was published by that day, as a report of that vintage sees it;
    empty = everything published. Within one kernel a vintage is cleaned once: the report run
    passes its own ``as_of``, so this notebook shows the rows the report used without cleaning
    them again."""
    return run_clean(
        _path(raw, "raw") or DEMO_DIR, _path(sources, "sources"), as_of=parse_as_of(as_of)
    )


def rows_per_source(result: CleanResult) -> pd.DataFrame:
    """Rows read, kept, rejected, missing and duplicate per input file."""
    return _quality.rows_per_source(result)


def coverage_by_year(result: CleanResult, municipality: str = "") -> pd.DataFrame:
    """Coverage per indicator and year for the kommun (empty = the catalogue's kommun)."""
    return _quality.coverage_by_year(result.tidy, parse_municipality(municipality))


def coverage_by_group(result: CleanResult, municipality: str = "") -> pd.DataFrame:
    """Coverage for the kommun, the län's other kommuner, the län and riket."""
    return _quality.coverage_by_group(result.tidy, parse_municipality(municipality))


def rejected_by_reason(result: CleanResult) -> pd.DataFrame:
    """Rejected rows counted per reason."""
    return _quality.rejected_by_reason(result)


def first_rejected(result: CleanResult, n: int = 50) -> pd.DataFrame:
    """The first ``n`` rejected rows with their reasons."""
    return result.rejected.head(n)


# 02-forecast-track-record -----------------------------------------------------------------


def track_record(raw: str = "", sources: str = "") -> dict[str, Any]:
    """The committed track record (empty ``raw``) or a fresh backtest run on ``raw``."""
    raw_p = _path(raw, "raw")
    return _backtest.track_record(raw_p or "", _path(sources, "sources") or "")


def goal_table(summary: dict[str, Any]) -> pd.DataFrame:
    """The backtest's goals next to the measured figures."""
    return _backtest.goal_table(summary)


def track_record_table(summary: dict[str, Any], key: str = "cells") -> pd.DataFrame:
    """Accuracy per cutoff and series family (``key="shock_2020"`` for the pandemic year)."""
    return _backtest.track_record_table(summary, key=key)


def by_indicator_table(summary: dict[str, Any]) -> pd.DataFrame:
    """Accuracy, skill, coverage and sharpness per indicator, cutoff and family."""
    return _backtest.by_indicator_table(summary)


def selection_table(summary: dict[str, Any]) -> pd.DataFrame:
    """The method chosen per year without hindsight."""
    return _backtest.selection_table(summary)


def track_record_text(summary: dict[str, Any]) -> None:
    """Print the text the report's method section cites."""
    print("\n\n".join(_backtest.track_record_text_sv(summary)))


def method_table(summary: dict[str, Any]) -> pd.DataFrame:
    """Accuracy of every method."""
    return _backtest.method_table(summary)


def plot_reliability(summary: dict[str, Any]) -> Any:
    """The reliability diagram of P(better than the previous year)."""
    return _backtest.plot_reliability(summary)


# 04-explore-indicator ---------------------------------------------------------------------


def load_exploration(
    *,
    indicator: str,
    municipality: str = "",
    peers: str = "",
    gender: str = "",
    raw: str = "",
    sources: str = "",
    as_of: str = "",
) -> _ex.Exploration:
    """One indicator's rows for one kommun, from the notebook's text parameters (checked here)."""
    return _ex.load_exploration(
        indicator=indicator,
        municipality=parse_municipality(municipality),
        peers=parse_peers(peers),
        gender=parse_gender(gender),
        raw=_path(raw, "raw"),
        sources=_path(sources, "sources"),
        as_of=parse_as_of(as_of),
    )


def explore_heading(x: _ex.Exploration) -> HTML:
    """The exploration's heading."""
    return _html(_ex.render_heading(x))


def explore_series(x: _ex.Exploration) -> HTML:
    """The series over time."""
    return _html(_ex.render_series(x))


def explore_peers(x: _ex.Exploration) -> HTML:
    """The kommun beside its peers."""
    return _html(_ex.render_peers(x))


def explore_gender(x: _ex.Exploration) -> HTML:
    """Women and men."""
    return _html(_ex.render_gender(x))


def explore_provenance(x: _ex.Exploration) -> HTML:
    """Where every value comes from."""
    return _html(_ex.render_provenance(x))


def explore_forecast(x: _ex.Exploration) -> HTML:
    """The forecast with its method diagnostics."""
    return _html(_exf.render_forecast(x))


# 05-stands-out ----------------------------------------------------------------------------


def find_standouts(
    *,
    municipality: str = "",
    year: int = 0,
    peers: str = "",
    raw: str = "",
    sources: str = "",
    as_of: str = "",
    k: float = 2.5,
) -> pd.DataFrame:
    """Every flag of the stand-out rules, strongest first (``year=0``: each indicator's latest year).

    Empty ``peers`` = the län's other kommuner; empty ``raw`` = the demo data; empty ``as_of`` =
    everything known. Titles come from the goal catalogue and, where present, Kolada's titles.
    """
    code = parse_municipality(municipality)
    codes = parse_peers(peers)
    day = parse_as_of(as_of)
    raw_p = _path(raw, "raw") or DEMO_DIR
    tidy = run_clean(raw_p, _path(sources, "sources"), as_of=day).tidy
    cat = load_catalogue()
    titles = {**kolada_titles(raw_p), **{i.id: i.title for _, i in cat.indicators()}}
    return _standout.find_standouts(
        tidy,
        municipality=code,
        year=year or None,
        peers=list(codes) if codes else None,
        as_of=day,
        rules=_standout.StandOutRules(k=k),
        titles=titles,
        directions={i.id: i.higher_is_better for _, i in cat.indicators()},
        aggregations={i.id: i.aggregation for _, i in cat.indicators()},
        units={i.id: i.unit for _, i in cat.indicators()},
    )


def flag_counts(flags: pd.DataFrame) -> pd.DataFrame:
    """How many flags each rule raised."""
    return flags["code"].value_counts().rename("flaggor").to_frame()


def flags_table(flags: pd.DataFrame) -> pd.DataFrame:
    """The flags as a readable table: numbers rounded, Swedish column names."""
    return _standout.flags_table(flags)
