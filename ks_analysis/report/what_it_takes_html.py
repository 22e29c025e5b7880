"""'Vad som krävs' in the report's HTML: the box per goal at risk, its line in 'I korthet' and its rule.

Rendered from the ``what_it_takes`` objects of the report model (``report/what_it_takes.py``)
through the Jinja2 fragments ``what_it_takes_*.html.j2``; no new numbers are computed here.
"""

from __future__ import annotations

from typing import Any

from ks_analysis.evaluate.status import N_JOINT
from ks_analysis.evaluate.what_it_takes import HISTORY_YEARS
from ks_analysis.report.html import Markup, render
from ks_analysis.report.model import GoalEntry, Report
from ks_analysis.report.what_it_takes import GOAL_AT_RISK
from ks_analysis.swedish import fmt_number, gender_sv

__all__ = ["what_it_takes_box", "what_it_takes_brief", "what_it_takes_rules", "at_risk"]


def at_risk(g: GoalEntry) -> bool:
    """Whether a goal's section shows the box: a steering goal not judged met, with the object."""
    return g["kind"] == "styrande" and g["status"] in GOAL_AT_RISK and bool(g.get("what_it_takes"))


def _items(g: GoalEntry) -> list[dict[str, Any]]:
    """One line per target indicator at risk: the total where there is one (women's and men's
    lines are in report.json and rapport.xlsx), and a per-ort target's summary of its orter."""
    out = []
    totals = {r["base_indicator"] for r in g["indicators"] if r["gender"] == "T"}
    for r in g["indicators"]:
        w = r.get("what_it_takes")
        if not w or r["ort"] is not None or (r["gender"] != "T" and r["base_indicator"] in totals):
            continue
        label = gender_sv(r["gender"], capital=True) if r["gender"] != "T" else ""
        out.append({"label": label, "text": w["text"]})
    return out


def what_it_takes_box(g: GoalEntry) -> Markup:
    """The goal's 'Vad som krävs' box, or nothing for a goal that is not at risk."""
    if not at_risk(g):
        return Markup("")
    w = g["what_it_takes"]
    others = [f["text"] for f in w["flips"] if f["reachable"] and f["indicator"] != w["deciding"]]
    return render(
        "what_it_takes_box.html.j2",
        goal_id=g["id"],
        goal_text=w["text"],
        other_ways=others,
        items=_items(g),
    )


def what_it_takes_brief(rep: Report) -> Markup:
    """The 'Vad som krävs' line of 'I korthet': the deciding sentence of every goal at risk."""
    goals = [
        {"id": g["id"], "text": g["what_it_takes"]["text"]} for g in rep["goals"] if at_risk(g)
    ]
    if not goals:
        return Markup("")
    return render("what_it_takes_brief.html.j2", goals=goals)


def what_it_takes_rules(thresholds: dict[str, float]) -> Markup:
    """How the boxes are computed, in plain Swedish, for 'Så bedöms målen'."""
    return render(
        "what_it_takes_rule.html.j2",
        years=HISTORY_YEARS,
        draws=fmt_number(N_JOINT, "antal"),
        met=round(100 * thresholds.get("met", 0.75)),
    )
