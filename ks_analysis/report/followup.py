"""Follow-up beyond the forecast: the analyst's analysis and actions per steering goal, last
year's forecasts against last year's outcome, Kommunkompassen shown once with its scale, and the
catalogue's indicators of supporting goals (Mål 5's health KPIs), or plainly that the data has none.

The analysis and actions come from the ``analyses:`` section of the period file beside the
self-assessments (:func:`ks_analysis.goals.assessments.load_analyses`). A goal whose verdict says
it will not (or may not) be met needs actions; one without any gets a visible "Åtgärder saknas".
HTML is rendered from templates (``templates/fragments/``) with autoescape, so markup in the file
shows as text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pandas as pd

from ks_analysis._memo import Memo
from ks_analysis.forecast.nowcast import METHOD as NOWCAST_METHOD
from ks_analysis.forecast.series import fingerprint, published_by
from ks_analysis.goals.assessments import Analysis
from ks_analysis.goals.catalogue import Catalogue
from ks_analysis.periods import Period
from ks_analysis.report.goals import judge_goals
from ks_analysis.report.html import Markup, render
from ks_analysis.report.model import (
    GoalEntry,
    LastYear,
    LastYearGoal,
    PastVerdict,
    Report,
    SteeringAnalysis,
)
from ks_analysis.swedish import FAMILY_SV

__all__ = [
    "needs_actions",
    "analysis_entry",
    "attach_analyses",
    "render_analysis",
    "last_year_forecasts",
    "indicator_track_record",
    "render_last_year",
    "render_kommunkompassen",
    "kommunkompassen_pointer",
    "supporting_indicators",
    "render_supporting_indicators",
]

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


# Last year's forecasts against its outcome -------------------------------------------------

#: A firm forecast verdict and the outcome that makes it right.
_RIGHT_WHEN = {"met": "met", "not_met": "not_met", "partly_met": "partly_met"}


def _verdict(g: GoalEntry) -> PastVerdict:
    return {
        "status": g["status"],
        "basis": g["basis"],
        "status_text": g["status_text"],
        "p_met": g["p_met"],
    }


def _right(forecast: PastVerdict, outcome: PastVerdict, known: bool) -> bool | None:
    """Whether a firm forecast verdict matched a known outcome (None: nothing firm to compare)."""
    if not known or forecast["status"] not in _RIGHT_WHEN:
        return None
    return _RIGHT_WHEN[forecast["status"]] == outcome["status"]


def _cut(tidy: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """The tidy rows published by ``day``: the report's own vintage cut, at an earlier date."""
    return published_by(tidy, day)


#: Last year's verdicts already judged in this process, by what they were judged from: the
#: rows (by :func:`~ks_analysis.forecast.series.fingerprint`, the key of their tidy index:
#: values, dates, length and order), the catalogue, the kommun, the period and the day.
#: ``report --year`` runs its three periods in one kernel, and all three rebuild last year's T1
#: and T2 verdicts from the same rows; a key of the rows (not of the files or dates) cannot
#: serve verdicts of other data.
_JUDGED: Memo[dict[int, GoalEntry]] = Memo(12)


def _judged(
    rows: pd.DataFrame, cat: Catalogue, municipality: str, per: Period, day: dt.date
) -> dict[int, GoalEntry]:
    """``judge_goals`` of the steering goals (no self-assessments), remembered by content."""
    key = (fingerprint(rows), repr(cat), municipality, per.id, day.isoformat())
    hit = _JUDGED.get(key)
    if hit is None:
        # only the verdicts are shown: no "Vad som krävs" (0.1-0.3 s a cut on the real data)
        goals = judge_goals(rows, cat, municipality, per, day, {}, None, what_it_takes=False)
        hit = _JUDGED.put(key, {g["id"]: g for g in goals})
    return hit


def last_year_forecasts(
    tidy: pd.DataFrame, cat: Catalogue, municipality: str, period: Period, as_of: dt.date
) -> LastYear:
    """Last year's T1 and T2 verdicts of every steering goal, rebuilt at their own cutoffs with
    the data as published then (``published <= cutoff`` of the report's tidy table, which is cut to
    ``as_of`` already) by the report's own :func:`~ks_analysis.report.goals.judge_goals`, against
    last year's outcome as known at ``as_of``.

    The outcome is known only where every target indicator has its full year published by
    ``as_of``; otherwise the table says it is not known yet (an April report knows few of last
    year's annual KPIs: Kolada publishes many of them in May and June).
    """
    year = period.year - 1
    t1, t2, full = Period(year, "T1"), Period(year, "T2"), Period(year, "Y")
    # Supporting goals have no forecast, so only the steering goals are judged.
    steering = replace(cat, goals=tuple(g for g in cat.goals if g.is_steering))

    def judge(per: Period, day: dt.date) -> dict[int, GoalEntry]:
        return _judged(_cut(tidy, day), steering, municipality, per, day)

    at_t1 = judge(t1, min(t1.cutoff, as_of))
    at_t2 = judge(t2, min(t2.cutoff, as_of))
    outcome = judge(full, as_of)
    rows: list[LastYearGoal] = []
    for goal in steering.goals:
        o = _verdict(outcome[goal.id])
        known = o["basis"] == "outcome" and o["status"] != "not_assessable"
        v1, v2 = _verdict(at_t1[goal.id]), _verdict(at_t2[goal.id])
        rows.append(
            {
                "goal": goal.id,
                "title": goal.title,
                "t1": v1,
                "t2": v2,
                "outcome": o,
                "outcome_known": known,
                "t1_right": _right(v1, o, known),
                "t2_right": _right(v2, o, known),
            }
        )
    return {
        "year": year,
        "t1_cutoff": t1.cutoff.isoformat(),
        "t2_cutoff": t2.cutoff.isoformat(),
        "outcome_as_of": as_of.isoformat(),
        "goals": rows,
    }


#: Series kind of a report row, as the backtest's track record names its families.
_FAMILY = {"Y": "annual", "M": "monthly", "Q": "quarterly"}


def indicator_track_record(
    rep: Report, track_record: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """The backtest's figures for the report's own target and signal indicators, at the report's
    cutoff, each beside its family's aggregate (the committed track record's ``by_indicator``).

    The backtest measured each KPI over many kommuner and years (not this kommun alone); an
    indicator it did not cover (a local register) is left out.
    """
    if not track_record:
        return []
    cutoff = rep["period"][5:]
    key = "cells_december" if cutoff == "Y" else "cells"
    cells = {(c.get("cutoff"), c.get("family")): c for c in track_record.get(key) or []}
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for g in rep["goals"]:
        for r in g["indicators"]:
            if r["role"] not in ("target", "signal"):
                continue
            family = "nowcast" if r["method"] == NOWCAST_METHOD else _FAMILY.get(r["frequency"])
            ind = r["base_indicator"]
            cell = cells.get((cutoff, family))
            if family is None or cell is None or (ind, family) in seen:
                continue
            mine = (cell.get("by_indicator") or {}).get(ind)
            if not mine:
                continue
            seen.add((ind, family))
            out.append(
                {
                    "goal": g["id"],
                    "indicator": ind,
                    "title": r["title"],
                    "cutoff": cutoff,
                    "family": family,
                    "n": mine.get("n"),
                    "effective_n": mine.get("effective_n"),
                    "mase_vs_naive_annual": mine.get("mase_vs_naive_annual"),
                    "mase_ci90": mine.get("mase_vs_naive_annual_ci90"),
                    "brier_skill": mine.get("brier_skill"),
                    "all_n": cell.get("n"),
                    "all_effective_n": cell.get("effective_n"),
                    "all_mase_vs_naive_annual": cell.get("mase_vs_naive_annual"),
                    "all_mase_ci90": cell.get("mase_vs_naive_annual_ci90"),
                    "all_brier_skill": cell.get("brier_skill"),
                }
            )
    return out


def render_last_year(rep: Report, track_record: dict[str, Any] | None = None) -> Markup:
    """The section "Förra årets prognoser mot utfallet": the goal table and the track record of
    the report's indicators beside the aggregate."""
    ly = rep.get("last_year_forecasts")
    if not ly:
        return Markup("")
    return render(
        "last_year.html.j2",
        ly=ly,
        indicators=indicator_track_record(rep, track_record),
        family_sv=FAMILY_SV,
        thresholds=rep["catalogue"]["thresholds"],
    )


# Kommunkompassen, once -------------------------------------------------------------------


def render_kommunkompassen(rep: Report) -> Markup:
    """The report's one Kommunkompassen section: areas out of 100, the total out of 800, the
    goals each area is followed up with (empty when the report has no register entry)."""
    kk = rep.get("kommunkompassen")
    if not kk:
        return Markup("")
    return render("kommunkompassen.html.j2", kk=kk)


def kommunkompassen_pointer(g: GoalEntry) -> Markup:
    """One line under a goal mapped to Kommunkompassen areas, pointing to the section (the table
    itself is shown once)."""
    entries = g.get("kommunkompassen") or []
    if not entries:
        return Markup("")
    return render("kommunkompassen_pointer.html.j2", entries=entries)


# Indicators of supporting goals (no forecast) ----------------------------------------------


def supporting_indicators(
    tidy: pd.DataFrame, cat: Catalogue, municipality: str, goals: list[GoalEntry]
) -> None:
    """Give each supporting goal with catalogue indicators its ``indicators_known``: per
    indicator (total, women, men as the catalogue lists them) the latest value in ``tidy`` (cut
    to the report's vintage) for ``municipality``, or ``missing`` when the data has none; in place.

    A supporting goal is never forecast or judged: these are shown as facts beside the self-assessment.
    """
    goal_of = {g.id: g for g in cat.goals if not g.is_steering and g.indicators}
    mine = tidy[tidy["municipality"] == municipality]
    for g in goals:
        goal = goal_of.get(g["id"])
        if goal is None:
            continue
        rows: list[dict[str, Any]] = []
        for ind in goal.indicators:
            series = mine[mine["indicator"] == ind.id]
            by_gender = {}
            for gender in ind.genders:
                known = series[(series["gender"] == gender) & series["value"].notna()]
                if len(known):
                    last = known.sort_values("period_end").iloc[-1]
                    by_gender[gender] = {
                        "value": float(last["value"]),
                        "period": str(last["period"]),
                    }
            rows.append(
                {
                    "indicator": ind.id,
                    "title": ind.title,
                    "unit": ind.unit,
                    "missing": not by_gender,
                    "values": by_gender,
                }
            )
        g["indicators_known"] = rows


def render_supporting_indicators(g: GoalEntry) -> Markup:
    """A supporting goal's catalogue indicators: the latest values, or that the data has none."""
    rows = g.get("indicators_known")
    if not rows:
        return Markup("")
    return render("supporting_indicators.html.j2", rows=rows, goal=g["id"])
