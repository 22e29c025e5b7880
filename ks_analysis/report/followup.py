"""Follow-up of the steering goals beyond the forecast: the analyst's analysis and actions per goal.

The analysis and actions come from the ``analyses:`` section of the period file beside the
self-assessments (:func:`ks_analysis.goals.assessments.load_analyses`). A goal whose verdict says
it will not (or may not) be met needs actions; one without any gets a visible "Åtgärder saknas".
HTML is rendered from templates (``templates/fragments/``) with autoescape, so markup in the file
shows as text.
"""

from __future__ import annotations

from ks_analysis.goals.assessments import Analysis
from ks_analysis.report.html import Markup, render
from ks_analysis.report.model import GoalEntry, SteeringAnalysis

__all__ = ["needs_actions", "analysis_entry", "attach_analyses", "render_analysis"]

#: Verdicts that call for corrective actions: at forecast basis "Bedöms inte uppfyllas",
#: "Bedöms delvis uppfyllas" and "Osäkert"; at outcome basis "Ej uppfyllt".
_NEEDS_ACTIONS = {
    ("not_met", "forecast"),
    ("partly_met", "forecast"),
    ("uncertain", "forecast"),
    ("not_met", "outcome"),
}


def needs_actions(status: str, basis: str | None) -> bool:
    """Whether a goal's verdict calls for actions (a corrective action for every red)."""
    return (status, basis) in _NEEDS_ACTIONS


def analysis_entry(a: Analysis) -> SteeringAnalysis:
    """An analysis as report.json holds it."""
    return {
        "analys": a.analys,
        "atgarder": list(a.atgarder),
        "author": a.author,
        "date": a.date.isoformat() if a.date else None,
        "source_file": a.source_file,
    }


def attach_analyses(goals: list[GoalEntry], analyses: dict[int, Analysis]) -> None:
    """Give every steering goal of ``goals`` its ``analysis`` (None when none was written) and
    ``actions_missing`` (its verdict needs actions and none are given); in place."""
    for g in goals:
        if g["kind"] != "styrande":
            continue
        a = analyses.get(g["id"])
        g["analysis"] = analysis_entry(a) if a else None
        g["actions_missing"] = needs_actions(g["status"], g["basis"]) and not (a and a.atgarder)


def render_analysis(g: GoalEntry) -> Markup:
    """The goal's "Analys" and "Åtgärder" (empty for a supporting goal)."""
    if g["kind"] != "styrande":
        return Markup("")
    return render(
        "analysis.html.j2",
        a=g.get("analysis"),
        missing=bool(g.get("actions_missing")),
        verdict=g["status_text"],
    )
