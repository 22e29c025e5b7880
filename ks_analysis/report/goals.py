"""Judging goals into the report model: every goal with its indicators, statuses and P(met).

Pure: takes the tidy table already cut to the vintage (``published <= as_of``) and trusts it.
The Swedish status texts come from :mod:`ks_analysis.swedish`, the report's one status vocabulary.
"""

from __future__ import annotations

import datetime as dt
import math
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ks_analysis import geo as geo_mod
from ks_analysis.evaluate.status import (
    GoalVerdict,
    Part,
    goal_verdict,
    indicator_status,
    p_met,
    part_from_forecast,
    threshold_of,
)
from ks_analysis.forecast import calibration as cal
from ks_analysis.forecast.engine import Forecast, family_of, forecast_indicator, yearly_values
from ks_analysis.forecast.series import unchanged, values_by_municipality
from ks_analysis.goals.assessments import Assessment
from ks_analysis.goals.catalogue import Catalogue, Goal, Indicator
from ks_analysis.periods import Period
from ks_analysis.report.model import Comparison, GoalEntry, IndicatorRow, Trend
from ks_analysis.report.what_it_takes import Judged, attach_what_it_takes
from ks_analysis.swedish import fmt_percent, status_text

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
    #: Whether to add the 'Vad som krävs' objects (not needed for the previous period's verdicts).
    what_it_takes: bool = True


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
    by_m = values_by_municipality(tidy, indicator.id, gender)
    mine = by_m.get(municipality)
    if not mine:
        return None
    year = max(mine)
    at = {m: d[year] for m, d in by_m.items() if year in d}
    peers = [m for m in cat.peer_group if m != municipality and m in at]
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
    # When the mandate period started last year, both arrows would compare with the same year.
    since_start = None if mandate_start == fc.last_year else mandate_start
    for key, ref_year in (("vs_last_year", fc.last_year), ("vs_mandate_start", since_start)):
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


#: Why an indicator cannot be assessed, in the report's Swedish (reason codes in report.json).
REASON_SV = {
    "no_data": "Uppgift saknas i källdata: inga värden för indikatorn finns i de inlästa filerna.",
    "no_local_register": "Uppgift saknas i källdata: inget lokalt register för {what} har lämnats.",
    "no_history": "För kort historik för en prognos.",
    "stale_history": "Senaste kända värde är från {last_year}; det räcker inte för en prognos för {year}.",
    "reference_year_unknown": "Föregående års utfall ({prev}) var ännu inte publicerat, så förändringen kan inte bedömas ännu.",
    "no_reference": "Jämförelsevärdet som målet avser saknas.",
    "outside_life": "Indikatorn mäts inte {year}: {why}.",
    "no_skill": "Osäkert: prognosmetoden har inte visat träffsäkerhet för denna typ av indikator vid denna tidpunkt.",
}


def _unskilled(ctx: _Context, ind: Indicator, fc: Forecast) -> bool:
    """Whether the backtest (on years before the report's) found no skill for this indicator's
    kind at this cutoff (:func:`ks_analysis.forecast.calibration.has_no_skill`): Brier skill of
    P(met) <= 0, or point forecasts not 5 % better than naive. Unknown skill is not no skill."""
    if fc.basis != "forecast":
        return False
    family = family_of(fc.frequency)
    calib = cal.calibration_for(ctx.period.cutoff, ctx.as_of)
    return cal.has_no_skill(calib, ind.id, ctx.period.kind, family)


def _reason(ctx: _Context, ind: Indicator, fc: Forecast | None, p: float | None) -> str | None:
    """The reason code why an indicator row cannot be assessed, or None when it can."""
    if p is not None:
        return None
    if fc is None or (fc.basis == "none" and not len(fc.history) and not fc.known_periods):
        return "no_local_register" if ind.id.startswith("LOKAL_") else "no_data"
    if "stale_history" in fc.flags:
        return "stale_history"
    if fc.basis == "none":
        return "no_history"
    if "reference_year_unknown" in fc.flags or ind.target.type in ("increase", "decrease"):
        return "reference_year_unknown"
    return "no_reference"


def reason_sv(code: str | None, ind: Indicator, year: int, last_year: int | None) -> str | None:
    """The Swedish reason for a reason code."""
    if code is None:
        return None
    why = (
        f"den ersätts av {ind.successor} från {(ind.valid_to or year) + 1}"
        if ind.valid_to is not None and year > ind.valid_to
        else f"den mäts från {ind.valid_from}"
    )
    return REASON_SV[code].format(
        what=ind.title.split("(")[0].strip().lower(), last_year=last_year, year=year,
        prev=year - 1, why=why,
    )  # fmt: skip


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
    code = _reason(ctx, ind, fc, p if status != "not_assessable" else None)
    if status != "not_assessable" and _unskilled(ctx, ind, fc):
        # Whatever P says (met, not met or in between), it is not evidence the goal may rest on.
        status, code = "uncertain", "no_skill"
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
        "status_text": status_text(status, basis, indicator=True),
        "reason_code": code,
        "reason": reason_sv(code, ind, ctx.period.year, fc.last_year),
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


def _placeholder_row(ctx: _Context, ind: Indicator, gender: str, code: str) -> IndicatorRow:
    """A row for an indicator without any forecast (no data, or outside its life): it never vanishes."""
    row: IndicatorRow = {  # type: ignore[typeddict-item]  # the value keys are set to None below
        "indicator": ind.id, "base_indicator": ind.id, "ort": None, "title": ind.title,
        "gender": gender, "role": ind.role, "unit": ind.unit, "direction": ind.direction,
        "aggregation": ind.aggregation, "frequency": ind.frequency,
        "target": ind.target.describe_sv(ind.unit, ind.direction), "target_type": ind.target.type,
        "target_value": ind.target.value, "known_periods": 0, "total_periods": 0,
        "status": "not_assessable", "status_text": status_text("not_assessable", None, indicator=True),
        "reason_code": code, "reason": reason_sv(code, ind, ctx.period.year, None),
        "basis": None, "method": "", "rung": None, "flags": [], "history": {}, "comparison": None,
        "trend": {}, "series_break": ind.series_break, "valid_from": ind.valid_from,
        "valid_to": ind.valid_to, "successor": ind.successor, "predecessor": ind.predecessor,
    }  # fmt: skip
    for k in ("last_value", "last_year", "known_value", "forecast", "lo80", "hi80", "lo95", "hi95", "p_met", "reference_year"):  # fmt: skip
        row[k] = None  # type: ignore[literal-required]
    return row


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


def _per_ort_rows(
    ctx: _Context, ind: Indicator, gender: str, record: list[Judged] | None = None
) -> tuple[list[IndicatorRow], Part]:
    """A per-ort indicator whose target every ort must reach: one row per ort and a summary row.

    The summary's P is the probability that every ort reaches the target, with the orter's
    draws independent of each other (and of the goal's other indicators).
    """
    orter = _orter(ctx.tidy, ind, ctx.municipality)
    if not orter:
        code = "no_local_register" if ind.id.startswith("LOKAL_") else "no_data"
        return [_placeholder_row(ctx, ind, gender, code)], Part(ind.id, "not_assessable", None, {})
    rows: list[IndicatorRow] = []
    ort_parts: list[Part] = []
    for ort in orter:
        fc = _forecast(ctx, ind, gender, ort=ort)
        p = p_met(fc, ind)
        row = _indicator_row(ctx, ind, gender, fc, p, ort, None)
        rows.append(row)
        thr = threshold_of(fc, ind, None)
        ort_parts.append(
            part_from_forecast(
                row["indicator"],
                fc,
                thr,
                row["status"],
                unskilled=row["reason_code"] == "no_skill",
            )  # fmt: skip
        )
        if record is not None:
            record.append(Judged(row, ind, fc, thr))
    known_ps = [r["p_met"] for r in rows if r["p_met"] is not None]
    ort_bases = {r["basis"] for r in rows}
    summary: IndicatorRow = {
        **rows[-1],
        "indicator": ind.id,
        "ort": None,
        "summary_of_orter": True,
        "trend": {},
        "comparison": None,
        "flags": [],
        "history": {},
        "method": "alla orter",
    }
    for k in ("forecast", "lo80", "hi80", "lo95", "hi95", "last_value", "known_value"):
        summary[k] = None  # type: ignore[literal-required]
    if len(known_ps) != len(rows):
        # One ort that cannot be assessed might be the one that misses the target.
        summary["p_met"], summary["status"], summary["basis"] = None, "not_assessable", None
        summary["reason_code"] = "no_history"
        summary["reason"] = (
            "Minst en ort kan inte bedömas, så målet för varje ort kan inte bedömas."
        )
        summary["status_text"] = status_text("not_assessable", None, indicator=True)
        return rows + [summary], Part(ind.id, "not_assessable", None, {})
    summary["p_met"] = float(np.prod(known_ps))
    summary["basis"] = "outcome" if ort_bases == {"outcome"} else "forecast"
    summary["status"] = indicator_status(summary["p_met"], ctx.cat.thresholds)
    summary["reason_code"] = summary["reason"] = None
    # An ort whose forecast has no demonstrated skill leaves "every ort" undecided as well.
    unskilled = any(part.unskilled for part in ort_parts)
    if unskilled and summary["status"] in ("met", "not_met"):
        summary["status"], summary["reason_code"] = "uncertain", "no_skill"
        summary["reason"] = reason_sv("no_skill", ind, ctx.period.year, None)
    summary["status_text"] = status_text(summary["status"], summary["basis"], indicator=True)
    if record is not None:
        record.append(Judged(summary, ind, fc, None))
    seed = _seed(ctx, ind.id)

    # The orter's own uniforms: the same seed gives the same draws for a number of joint draws,
    # so they are drawn once (the goal's verdict and 'Vad som krävs' ask many times).
    draws: dict[tuple[int, ...], list[np.ndarray]] = {}

    def every_ort(u: np.ndarray) -> np.ndarray:
        # One set of draws per joint draw (u's first axis); further axes of u (several
        # conditioning values at once) see the same draws, as separate calls would.
        n = (u.shape[0],) if u.ndim else ()
        if n not in draws:
            rng = np.random.default_rng(seed)
            draws[n] = [rng.random(n) for _ in ort_parts]
        out = np.ones(u.shape, bool)
        for part, d in zip(ort_parts, draws[n], strict=True):
            assert part.met is not None  # every ort has a P (checked above)
            out &= part.met(d).reshape(n + (1,) * (u.ndim - 1))
        return out

    outcome = summary["basis"] == "outcome"
    return rows + [summary], Part(
        ind.id, summary["status"], every_ort, {}, outcome=outcome, unskilled=unskilled
    )


def _seed(ctx: _Context, key: str) -> int:
    """A reproducible seed per report and key (the same report gives the same draws)."""
    return zlib.crc32(f"{ctx.municipality}|{ctx.period.id}|{ctx.as_of}|{key}".encode())


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
    ctx: _Context,
    ind: Indicator,
    gender: str,
    signals: dict[str, Forecast],
    record: list[Judged] | None = None,
) -> tuple[IndicatorRow, Part]:
    """One whole-kommun indicator row, with its predecessor's history beside it after a series break,
    and the indicator as a part of its goal's rule."""
    signal = signals.get(ind.signal) if ind.signal else None
    fc = _forecast(ctx, ind, gender, signal=signal)
    if ind.role == "signal" and gender == "T":
        signals[ind.id] = fc
    reference = _reference(ctx, ind, gender) if ind.target.type == "better_than" else None
    p = p_met(fc, ind, reference)
    cmp = comparisons(ctx.tidy, ind, gender, ctx.municipality, ctx.cat)
    row = _indicator_row(ctx, ind, gender, fc, p, None, cmp)
    thr = threshold_of(fc, ind, reference)
    part = part_from_forecast(
        ind.id, fc, thr, row["status"], unskilled=row["reason_code"] == "no_skill"
    )
    if record is not None:
        record.append(Judged(row, ind, fc, thr))
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
    return row, part


#: A supporting goal without a self-assessment: what the reader is told, and what the analyst does.
MISSING_ASSESSMENT_SV = (
    "Självvärdering saknas för perioden. Den ansvariga förvaltningen behöver lämna en "
    "självvärdering för målet (text, utvecklingens riktning och aktiviteter) innan rapporten tas fram igen."
)


def _supporting_goal(
    ctx: _Context, g: GoalEntry, a: Assessment | None, note: str | None
) -> GoalEntry:
    """A supporting goal: followed up by its self-assessment, never forecast."""
    g["status"] = "not_assessable" if a is None else "no_forecast"
    g["basis"] = None
    g["p_met"] = None
    if a is None:
        g["reason"] = note or MISSING_ASSESSMENT_SV
        g["reason_code"] = "assessment_missing"
        g["assessment"] = None
    else:
        g["reason"] = "Stödjande mål följs upp med självvärdering; ingen prognos görs."
        g["reason_code"] = "supporting_goal"
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


def _decisive_part(ind: Indicator, parts: dict[str, Part]) -> Part:
    """The part the goal's rule counts: the total where the indicator has one; for an indicator
    reported only for women and men, both must reach the target (the same draw for both)."""
    if "T" in parts:
        return parts["T"]
    halves = [parts[g] for g in ("K", "M") if g in parts]
    if not halves or any(h.met is None for h in halves):
        return Part(ind.id, "not_assessable", None, {})

    def both(u: np.ndarray) -> np.ndarray:
        out = np.ones(u.shape, bool)
        for h in halves:
            assert h.met is not None
            out &= h.met(u)
        return out

    statuses = {h.status for h in halves}
    status = statuses.pop() if len(statuses) == 1 else "uncertain"
    return Part(
        ind.id, status, both, halves[0].history, outcome=all(h.outcome for h in halves),
        unskilled=any(h.unskilled for h in halves),
    )  # fmt: skip


def _steering_goal(ctx: _Context, goal: Goal, g: GoalEntry) -> GoalEntry:
    """A steering goal: its indicators forecast and judged; its verdict from joint draws of the
    target indicators under the goal's declared rule. Every catalogue indicator gets a row."""
    signals: dict[str, Forecast] = {}
    # Signals first, so annual indicators can lean on their in-year proxy.
    ordered = sorted(goal.indicators, key=lambda i: 0 if i.role == "signal" else 1)
    rows_by_ind: dict[str, list[IndicatorRow]] = {}
    parts: list[Part] = []
    judged: list[Judged] = []
    for ind in ordered:
        rows: list[IndicatorRow] = []
        by_gender: dict[str, Part] = {}
        if not _in_life(ind, ctx.period.year):
            rows_by_ind[ind.id] = [_placeholder_row(ctx, ind, "T", "outside_life")]
            continue
        for gender in ind.genders:
            if ind.per_ort and ind.target.scope == "every_ort":
                ort_rows, part = _per_ort_rows(ctx, ind, gender, judged)
                rows.extend(ort_rows)
            else:
                row, part = _series_row(ctx, ind, gender, signals, judged)
                rows.append(row)
            by_gender[gender] = part
        rows_by_ind[ind.id] = rows
        if ind.role == "target":
            parts.append(_decisive_part(ind, by_gender))
    for ind in goal.indicators:
        g["indicators"].extend(rows_by_ind.get(ind.id, []))
    goal_seed = _seed(ctx, f"goal{goal.id}")
    verdict = goal_verdict(goal.rollup, parts, ctx.cat.thresholds, seed=goal_seed)
    g["status"] = verdict.status
    g["basis"] = verdict.basis
    g["p_met"] = num(verdict.p_met)
    g["status_text"] = status_text(verdict.status, verdict.basis)
    g["reason_code"] = verdict.reason_code
    g["rule_text"] = RULE_SV[goal.rollup]
    g["share_met"] = verdict.share_met
    g["share_met_text"] = (
        f"{verdict.n_met} av {verdict.n_parts - verdict.n_not_assessable} indikatorer nådde målet"
        if verdict.share_met is not None
        else None
    )
    g["p_bounds"] = list(verdict.p_bounds) if verdict.p_bounds else None
    g["p_model"] = num(verdict.p_model)
    g["parts"] = {
        "total": verdict.n_parts, "met": verdict.n_met, "not_met": verdict.n_not_met,
        "uncertain": verdict.n_uncertain, "not_assessable": verdict.n_not_assessable,
        "no_skill": verdict.n_unskilled,
    }  # fmt: skip
    g["reason"] = goal_reason(goal.rollup, verdict)
    if not ctx.what_it_takes:
        return g
    g["what_it_takes"] = attach_what_it_takes(
        ctx.tidy, ctx.municipality, ctx.period, ctx.as_of, goal, verdict.status, parts,
        ctx.cat.thresholds, goal_seed, judged,
    )  # fmt: skip
    return g


def judge_goals(
    tidy: pd.DataFrame,
    cat: Catalogue,
    municipality: str,
    period: Period,
    as_of: dt.date,
    assessments: dict[int, Assessment],
    assessment_note: str | None,
    *,
    what_it_takes: bool = True,
) -> list[GoalEntry]:
    """Every goal with its indicators, statuses and P(met) at ``period`` as known at ``as_of``.

    ``tidy`` must already be cut to ``as_of`` (the forecast engine, a public boundary, checks again).
    ``what_it_takes``: add the 'Vad som krävs' objects to goals and indicators at risk.
    """
    ctx = _Context(tidy, cat, municipality, period, as_of, what_it_takes)
    out: list[GoalEntry] = []
    with unchanged(tidy):  # hundreds of reads of one table, which judging never changes
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


#: What a goal's declared rule requires, in the report's Swedish.
RULE_SV = {
    "all_met": "Målet uppfylls när alla målindikatorer når sina mål.",
    "majority_met": "Målet uppfylls när fler än hälften av målindikatorerna når sina mål.",
    "any_met": "Målet uppfylls när minst en målindikator når sitt mål.",
}


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


#: Each status of the target indicators as (verb, rest for one, rest for many) for the count
#: sentence; ``*_outcome``: the year is already known.
_COUNT_SV = {
    "met_outcome": ("har", "nått sitt mål", "nått sina mål"),
    "not_met_outcome": ("har", "inte nått sitt mål", "inte nått sina mål"),
    "met": ("bedöms", "nå sitt mål", "nå sina mål"),
    "not_met": ("bedöms", "inte nå sitt mål", "inte nå sina mål"),
    "uncertain": ("är", "osäker", "osäkra"),
}


def _counts_sentence(n: int, counts: list[tuple[str, int]]) -> str:
    """'Av de 3 målindikatorerna bedöms 1 nå sitt mål och 2 är osäkra.' (the verb second), or
    'Alla 3 målindikatorer är osäkra.'"""
    if len(counts) == 1 and counts[0][1] == n:
        verb, _, many = _COUNT_SV[counts[0][0]]
        return f"Alla {n} målindikatorer {verb} {many}."
    items = []
    for k, (status, c) in enumerate(counts):
        verb, one, many = _COUNT_SV[status]
        rest = one if c == 1 else many
        items.append(f"{verb} {c} {rest}" if k == 0 else f"{c} {verb} {rest}")
    listed = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " och " + items[-1]
    return f"Av de {n} målindikatorerna {listed}."


def _bounds_text(v: GoalVerdict) -> str:
    """'; sannolikheten att målet uppfylls ligger därför mellan 0 % och 68 %' (empty when the
    bounds say nothing: 0 % to 100 %)."""
    if not v.p_bounds or v.basis == "outcome":
        return ""
    lo, hi = v.p_bounds
    if lo < 0.005 and hi > 0.995:
        return ""
    return (
        f"; sannolikheten att målet uppfylls ligger därför mellan {fmt_percent(lo)} "
        f"och {fmt_percent(hi)}"
    )


def goal_reason(rule: str, v: GoalVerdict) -> str:
    """The sentences behind a steering goal's verdict: the rule, the indicators' count per status,
    and P (or its bounds where indicators cannot be assessed or have no demonstrated skill)."""
    parts = [RULE_SV[rule]]
    n = v.n_parts
    if v.basis == "outcome":
        assessed = n - v.n_not_assessable
        if assessed == 1:
            parts.append(f"Målindikatorn nådde {'' if v.n_met else 'inte '}sitt mål.")
        elif v.n_met == 0:
            parts.append(f"Ingen av de {assessed} målindikatorerna nådde sitt mål.")
        else:
            parts.append(f"{v.n_met} av {assessed} målindikatorer nådde sina mål.")
    else:
        counts = [
            (s, c)
            for s, c in (
                ("met_outcome", v.n_met_outcome),
                ("not_met_outcome", v.n_not_met_outcome),
                ("met", v.n_met - v.n_met_outcome),
                ("not_met", v.n_not_met - v.n_not_met_outcome),
                ("uncertain", v.n_uncertain),
            )
            if c
        ]
        if counts and n > 1:
            parts.append(_counts_sentence(n, counts))
    unknown = []
    if v.n_not_assessable:
        unknown.append(
            f"{v.n_not_assessable} av {n} målindikatorer kan inte bedömas"
            if n > 1
            else "Målindikatorn kan inte bedömas"
        )
    if v.n_unskilled:
        unknown.append(
            f"för {v.n_unskilled} av {n} målindikatorer har prognosmetoden inte visat "
            "träffsäkerhet vid denna tidpunkt, så deras prognoser räknas varken som nådda eller "
            "som inte nådda"
            if n > 1
            else "för målindikatorn har prognosmetoden inte visat träffsäkerhet vid denna "
            "tidpunkt, så dess prognos räknas varken som nådd eller som inte nådd"
        )
    if unknown:
        text = " och ".join(unknown)
        parts.append(text[:1].upper() + text[1:] + _bounds_text(v) + ".")
    if v.reason_code == "parts_unskilled":
        parts.append(
            f"Utan {'den' if v.n_unskilled == 1 else 'dem'} avgör underlaget inte om målet "
            "uppfylls, så ingen sannolikhet anges för målet."
        )
    if v.decided_by_outcomes and v.p_met is not None and v.basis != "outcome":
        # The outcomes already known decide the rule, whatever the forecasts say.
        parts.append(
            "De utfall som redan är kända avgör regeln: målet "
            + ("uppfylls oavsett resten." if v.p_met == 1.0 else "kan inte längre uppfyllas.")
        )
    elif v.p_met is not None and v.basis != "outcome":
        whole = "hela målet" if v.status == "partly_met" else "målet"
        parts.append(
            f"Sannolikheten att {whole} uppfylls är {fmt_percent(v.p_met)}, beräknad ur gemensamma "
            "dragningar av indikatorernas prognoser."
        )
    return " ".join(parts)
