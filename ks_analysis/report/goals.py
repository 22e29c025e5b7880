"""Judging goals into the report model: every goal with its indicators, statuses and P(met).

Pure: takes the tidy table already cut to the vintage (``published <= as_of``) and trusts it.
The Swedish status texts come from :mod:`ks_analysis.swedish`, the report's one status vocabulary.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ks_analysis import geo as geo_mod
from ks_analysis.evaluate.status import indicator_status, p_met, rollup
from ks_analysis.forecast.engine import Forecast, forecast_indicator, yearly_values
from ks_analysis.goals.assessments import Assessment
from ks_analysis.goals.catalogue import Catalogue, Goal, Indicator
from ks_analysis.periods import Period
from ks_analysis.report.model import Comparison, GoalEntry, IndicatorRow, Trend
from ks_analysis.swedish import status_text

__all__ = ["judge_goals", "comparisons", "num"]


def num(x: Any) -> float | None:
    """A finite float, or None for missing, NaN, infinite or non-numeric values."""
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


@dataclass(frozen=True)
class _Context:
    """What every goal of one report is judged with."""

    tidy: pd.DataFrame
    cat: Catalogue
    municipality: str
    period: Period
    as_of: dt.date


def _orter(tidy: pd.DataFrame, indicator: Indicator, municipality: str) -> list[str]:
    """The orter (places) the kommun has rows for under a per-ort indicator."""
    prefix = f"{indicator.id}__"
    ids = tidy.loc[
        (tidy["municipality"] == municipality) & tidy["indicator"].str.startswith(prefix),
        "indicator",
    ].unique()
    return sorted(i[len(prefix) :] for i in ids)


def comparisons(
    tidy: pd.DataFrame, indicator: Indicator, gender: str, municipality: str, cat: Catalogue
) -> Comparison | None:
    """The kommun's latest known year with the same year's value for its län, riket and the peer group.

    The peer group's value is the unweighted mean of its members, as Kolada computes group values.
    Only yearly rates and shares compare; counts of places of different size do not.
    """
    if indicator.per_ort or indicator.unit == "antal" or indicator.frequency != "Y":
        return None
    lan = geo_mod.lan_of(municipality)
    rows = tidy[(tidy["indicator"] == indicator.id) & (tidy["gender"] == gender)]
    if rows.empty:
        return None
    table = rows.pivot_table(
        index="period", columns="municipality", values="value", aggfunc="first"
    )
    if municipality not in table.columns or table[municipality].dropna().empty:
        return None
    year = table[municipality].dropna().index.max()
    at = table.loc[year]
    peers = [m for m in cat.peer_group if m != municipality and m in at.index and pd.notna(at[m])]
    return {
        "year": int(str(year)),
        "kommun": num(at.get(municipality)),
        "lan": num(at.get(lan)),
        "lan_name": geo_mod.geo(lan).name,
        "riket": num(at.get("0000")),
        "peers": num(float(np.mean([at[m] for m in peers]))) if peers else None,
        "peers_median": num(float(np.median([at[m] for m in peers]))) if peers else None,
        "peers_n": len(peers),
        "peers_name": cat.peer_group_name,
    }


def _trend(
    fc: Forecast, indicator: Indicator, mandate_start: int | None
) -> dict[str, Trend | None]:
    """Arrows: the forecast (or outcome) against last year and against the mandate period's start."""
    now = num(fc.point)
    out: dict[str, Trend | None] = {}
    for key, ref_year in (("vs_last_year", fc.last_year), ("vs_mandate_start", mandate_start)):
        ref = (
            num(fc.history.get(ref_year))
            if ref_year is not None and ref_year in fc.history.index
            else None
        )
        if now is None or ref is None or ref_year is None:
            out[key] = None
            continue
        diff = now - ref
        tol = 1e-9 + 0.005 * abs(ref)
        direction = "up" if diff > tol else "down" if diff < -tol else "flat"
        better = None if direction == "flat" else (direction == "up") == indicator.higher_is_better
        out[key] = {
            "year": int(ref_year),
            "reference": ref,
            "change": diff,
            "direction": direction,
            "better": better,
        }
    return out


def _indicator_row(
    ctx: _Context,
    ind: Indicator,
    gender: str,
    fc: Forecast,
    p: float | None,
    label: str | None,
    cmp: Comparison | None,
) -> IndicatorRow:
    """One indicator's row: its forecast, P(met), status, history, comparison and trend."""
    status = indicator_status(p, ctx.cat.thresholds) if fc.basis != "none" else "not_assessable"
    basis = None if fc.basis == "none" else "outcome" if fc.basis == "outcome" else "forecast"
    return {
        "indicator": ind.id if label is None else f"{ind.id}__{label}",
        "base_indicator": ind.id,
        "ort": label,
        "title": ind.title,
        "gender": gender,
        "role": ind.role,
        "unit": ind.unit,
        "direction": ind.direction,
        "aggregation": ind.aggregation,
        "frequency": ind.frequency,
        "target": ind.target.describe_sv(ind.unit, ind.direction),
        "target_type": ind.target.type,
        "target_value": ind.target.value,
        "last_value": num(fc.last_value),
        "last_year": fc.last_year,
        "known_value": num(fc.known_value),
        "known_periods": fc.known_periods,
        "total_periods": fc.total_periods,
        "forecast": num(fc.point),
        "lo80": num(fc.lo80),
        "hi80": num(fc.hi80),
        "lo95": num(fc.lo95),
        "hi95": num(fc.hi95),
        "p_met": num(p),
        "status": status,
        "status_text": status_text(status, basis),
        "basis": basis,
        "method": fc.method,
        "rung": fc.rung,
        "flags": list(fc.flags),
        "reference_year": getattr(fc, "reference_year", None),
        "history": {int(str(y)): num(v) for y, v in fc.history.items()},
        "comparison": cmp,
        "trend": _trend(fc, ind, ctx.cat.mandate_start_year),
        "series_break": ind.series_break,
        "valid_from": ind.valid_from,
        "valid_to": ind.valid_to,
        "successor": ind.successor,
        "predecessor": ind.predecessor,
    }


def _forecast(
    ctx: _Context, ind: Indicator, gender: str, *, ort: str | None = None, signal: Any = None
) -> Forecast:
    """The indicator's forecast for the report's year and cutoff (the tidy table is the vintage)."""
    extra: dict[str, Any] = {"ort": ort} if ort is not None else {"signal": signal}
    return forecast_indicator(
        ctx.tidy,
        municipality=ctx.municipality,
        indicator=ind,
        gender=gender,
        year=ctx.period.year,
        cutoff=ctx.period.cutoff,
        as_of=ctx.as_of,
        **extra,
    )


def _per_ort_rows(ctx: _Context, ind: Indicator, gender: str) -> list[IndicatorRow]:
    """A per-ort indicator whose target every ort must reach: one row per ort and a summary row."""
    orter = _orter(ctx.tidy, ind, ctx.municipality)
    rows: list[IndicatorRow] = []
    ps: list[float | None] = []
    for ort in orter:
        fc = _forecast(ctx, ind, gender, ort=ort)
        p = p_met(fc, ind)
        ps.append(p)
        rows.append(_indicator_row(ctx, ind, gender, fc, p, ort, None))
    known_ps = [p for p in ps if p is not None]
    if not orter or len(known_ps) != len(ps):
        return rows
    # Every ort must reach the target: the probability that all do (independent orter).
    ort_bases = {r["basis"] for r in rows}
    summary: IndicatorRow = {
        **rows[-1],
        "indicator": ind.id,
        "ort": None,
        "p_met": float(np.prod(known_ps)),
        "summary_of_orter": True,
        "trend": {},
        "comparison": None,
        "flags": [],
    }
    summary["basis"] = "outcome" if ort_bases == {"outcome"} else "forecast"
    summary["status"] = indicator_status(summary["p_met"], ctx.cat.thresholds)
    summary["status_text"] = status_text(summary["status"], summary["basis"])
    for k in ("forecast", "lo80", "hi80", "lo95", "hi95", "last_value", "known_value"):
        summary[k] = None  # type: ignore[literal-required]
    summary["history"] = {}
    summary["method"] = "alla orter"
    return rows + [summary]


def _reference(ctx: _Context, ind: Indicator, gender: str) -> float | None:
    """For a better-than target: the reference's latest known value, standing for its value this year."""
    cmp_ref: dict[str, Any] = dict(
        comparisons(ctx.tidy, ind, gender, ctx.municipality, ctx.cat) or {}
    )
    return {
        "lan": cmp_ref.get("lan"),
        "riket": cmp_ref.get("riket"),
        "peer_median": cmp_ref.get("peers_median"),
        "peer_mean": cmp_ref.get("peers"),
    }.get(str(ind.target.reference))


def _series_row(
    ctx: _Context, ind: Indicator, gender: str, signals: dict[str, Forecast]
) -> IndicatorRow:
    """One whole-kommun indicator row, with its predecessor's history beside it after a series break."""
    signal = signals.get(ind.signal) if ind.signal else None
    fc = _forecast(ctx, ind, gender, signal=signal)
    if ind.role == "signal" and gender == "T":
        signals[ind.id] = fc
    reference = _reference(ctx, ind, gender) if ind.target.type == "better_than" else None
    p = p_met(fc, ind, reference)
    cmp = comparisons(ctx.tidy, ind, gender, ctx.municipality, ctx.cat)
    row = _indicator_row(ctx, ind, gender, fc, p, None, cmp)
    if ind.predecessor:
        # The old series is shown beside the new one, never joined to it (a series break).
        try:
            old = ctx.cat.indicator(ind.predecessor)
        except KeyError:
            old = None
        if old is not None:
            past = yearly_values(
                ctx.tidy,
                municipality=ctx.municipality,
                indicator=old,
                gender=gender,
                as_of=ctx.as_of,
            )
            row["predecessor_history"] = {int(str(y)): num(v) for y, v in past.items()}
            row["predecessor_title"] = old.title
            row["predecessor_id"] = old.id
    return row


def _supporting_goal(
    ctx: _Context, g: GoalEntry, a: Assessment | None, note: str | None
) -> GoalEntry:
    """A supporting goal: followed up by its self-assessment, never forecast."""
    g["status"] = "not_assessable" if a is None else "no_forecast"
    g["basis"] = None
    g["p_met"] = None
    if a is None:
        g["reason"] = note or "Självvärdering saknas för målet."
        g["assessment"] = None
    else:
        g["reason"] = "Stödjande mål följs upp med självvärdering; ingen prognos görs."
        g["assessment"] = {
            "text": a.text,
            "direction": a.direction,
            "direction_text": a.direction_sv,
            "activities": list(a.activities),
            "author": a.author,
            "date": a.date.isoformat() if a.date else None,
            "added_values": [dict(v) for v in a.added_values],
        }
    g["status_text"] = status_text(g["status"], None)
    return g


def _in_life(ind: Indicator, year: int) -> bool:
    """Whether ``year`` is inside the indicator's life (outside it, its successor/predecessor reports)."""
    return not (
        (ind.valid_to is not None and year > ind.valid_to)
        or (ind.valid_from is not None and year < ind.valid_from)
    )


def _steering_goal(ctx: _Context, goal: Goal, g: GoalEntry) -> GoalEntry:
    """A steering goal: its indicators forecast and judged, rolled up into the goal's status."""
    signals: dict[str, Forecast] = {}
    # Signals first, so annual indicators can lean on their in-year proxy.
    ordered = sorted(goal.indicators, key=lambda i: 0 if i.role == "signal" else 1)
    rows_by_ind: dict[str, list[IndicatorRow]] = {}
    for ind in ordered:
        if not _in_life(ind, ctx.period.year):
            continue
        rows: list[IndicatorRow] = []
        for gender in ind.genders:
            if ind.per_ort and ind.target.scope == "every_ort":
                rows.extend(_per_ort_rows(ctx, ind, gender))
            else:
                rows.append(_series_row(ctx, ind, gender, signals))
        rows_by_ind[ind.id] = rows
    per_indicator_p: list[float | None] = []
    per_indicator_status: list[str] = []
    bases: list[str] = []
    for ind in goal.indicators:
        rows = rows_by_ind.get(ind.id, [])
        g["indicators"].extend(rows)
        if ind.role != "target" or not rows:
            continue
        summary = [r for r in rows if r.get("summary_of_orter")] or [
            r for r in rows if r["ort"] is None
        ]
        p_ind = _indicator_vote(summary)
        per_indicator_p.append(p_ind)
        per_indicator_status.append(
            indicator_status(p_ind, ctx.cat.thresholds) if p_ind is not None else "not_assessable"
        )
        bases.extend(r["basis"] for r in summary if r["basis"])
    status, p_goal = rollup(goal.rollup, per_indicator_p, per_indicator_status, ctx.cat.thresholds)
    basis = "outcome" if bases and all(b == "outcome" for b in bases) else "forecast"
    g["status"] = status
    g["basis"] = basis
    g["p_met"] = num(p_goal)
    g["status_text"] = status_text(status, basis)
    g["reason"] = _rollup_reason(goal, per_indicator_p)
    return g


def judge_goals(
    tidy: pd.DataFrame,
    cat: Catalogue,
    municipality: str,
    period: Period,
    as_of: dt.date,
    assessments: dict[int, Assessment],
    assessment_note: str | None,
) -> list[GoalEntry]:
    """Every goal with its indicators, statuses and P(met) at ``period`` as known at ``as_of``.

    ``tidy`` must already be cut to ``as_of`` (the forecast engine, a public boundary, checks again).
    """
    ctx = _Context(tidy, cat, municipality, period, as_of)
    out: list[GoalEntry] = []
    for goal in cat.goals:
        g: GoalEntry = {  # type: ignore[typeddict-item]  # status keys are filled in below
            "id": goal.id,
            "area": goal.area_title,
            "title": goal.title,
            "kind": goal.kind,
            "ambition": goal.ambition,
            "steering_documents": list(goal.steering_documents),
            "rollup": goal.rollup,
            "indicators": [],
        }
        if goal.is_steering:
            out.append(_steering_goal(ctx, goal, g))
        else:
            out.append(_supporting_goal(ctx, g, assessments.get(goal.id), assessment_note))
    return out


def _indicator_vote(rows: list[IndicatorRow]) -> float | None:
    """One indicator's P in the goal's roll-up: women and men with equal weight where the indicator is
    split (the total is shown but not counted again), else the total."""
    by_gender = {r["gender"]: r["p_met"] for r in rows if r["p_met"] is not None}
    if "K" in by_gender and "M" in by_gender:
        return float(np.mean([by_gender["K"], by_gender["M"]]))
    if "T" in by_gender:
        return float(by_gender["T"])  # type: ignore[arg-type]
    return float(np.mean(list(by_gender.values()))) if by_gender else None


def _rollup_reason(goal: Goal, ps: list[float | None]) -> str:
    """The sentence saying which roll-up rule the goal's status rests on, and on how many indicators."""
    n = sum(p is not None for p in ps)
    rule = {
        "mean_p": "medelvärdet av målindikatorernas P(uppfyllt)",
        "all_met": "sannolikheten att alla målindikatorer uppfylls",
        "min_p": "den lägsta P(uppfyllt) bland målindikatorerna",
    }[goal.rollup]
    return f"Målets status bygger på {rule} ({n} av {len(ps)} målindikatorer med prognos)."
