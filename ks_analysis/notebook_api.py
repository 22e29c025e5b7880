"""The few calls the report notebook makes: one function per cell, so the notebook stays thin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ks_analysis.paths import DEMO_DIR
from ks_analysis.report import charts as plots
from ks_analysis.report import sections as render
from ks_analysis.report import supporting
from ks_analysis.report.build import build_report, write_report_json

__all__ = [
    "build_report_from_parameters",
    "render_front",
    "render_summary",
    "render_goals",
    "render_back",
    "write_report_json",
]


def build_report_from_parameters(
    *,
    municipality: str,
    period: str,
    as_of: str = "",
    raw: str = "",
    sources: str = "",
    goals: str = "",
    assessments: str = "",
    peers: str = "",
) -> dict[str, Any]:
    """build_report with the notebook's string parameters (empty string = default)."""
    return build_report(
        period,
        municipality=municipality,
        raw=Path(raw) if raw else DEMO_DIR,
        sources=Path(sources) if sources else None,
        goals=Path(goals) if goals else None,
        assessments=Path(assessments) if assessments else None,
        as_of=as_of or None,
        peers=[p.strip() for p in peers.split(",") if p.strip()] or None,
    )


def render_front(rep: dict[str, Any]) -> str:
    """First screen and table of contents."""
    return render.first_screen(rep) + render.table_of_contents(rep)


def render_summary(rep: dict[str, Any]) -> str:
    """The summary table of all goals."""
    return render.summary_table(rep)


def render_goals(rep: dict[str, Any]) -> str:
    """Every goal's section, with charts for the steering goals."""
    year = int(rep["period"][:4])
    parts = []
    for g in rep["goals"]:
        charts = plots.goal_charts(g, year) if g["kind"] == "styrande" else ""
        parts.append(render.goal_section(g, charts + supporting.render_goal_extras(g)))
    return "".join(parts)


def render_back(rep: dict[str, Any]) -> str:
    """Rules, changes since the previous forecast, method and provenance."""
    return (
        supporting.render_stands_out(rep)
        + render.rules_section(rep)
        + render.changes_section(rep)
        + render.method_section(rep, _track_record())
    )


def _track_record() -> dict[str, Any]:
    # The committed backtest summary of the real series: the report cites it, never reruns it.
    from ks_analysis.backtest.replay import track_record_summary, track_record_text_sv

    summary = track_record_summary()
    return {**summary, "text_sv": track_record_text_sv()} if summary else summary
