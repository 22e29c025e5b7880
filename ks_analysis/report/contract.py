"""The status contract of report.json, checked: what scripts reading the report may rely on.

:func:`contract_violations` lists every breach of the contract in ``docs/outputs.md`` (an empty
list means the report keeps it). The tests call it on every period kind, basis and status; a
script can call it on any report.json it reads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ks_analysis.evaluate.status import GOAL_STATUSES, INDICATOR_STATUSES

__all__ = ["contract_violations", "interval_violations", "possible_bounds"]


def _goal_violations(g: Mapping[str, Any], met_t: float, not_t: float) -> list[str]:
    where = f"goal {g['id']}"
    status, p, basis = g["status"], g["p_met"], g["basis"]
    out: list[str] = []
    if status not in GOAL_STATUSES:
        out.append(f"{where}: status {status!r} is not one of {GOAL_STATUSES}")
    if status in ("not_assessable", "no_forecast") and p is not None:
        out.append(f"{where}: {status} with p_met {p}")
    if basis == "outcome" and p is not None and p not in (0.0, 1.0):
        out.append(f"{where}: outcome basis with p_met {p} (must be 0 or 1)")
    if p is not None:
        if status == "met" and p < met_t:
            out.append(f"{where}: met with p_met {p} < {met_t}")
        if status in ("not_met", "uncertain", "partly_met") and p >= met_t:
            out.append(f"{where}: {status} with p_met {p} >= {met_t}")
        if status == "not_met" and p > not_t:
            out.append(f"{where}: not_met with p_met {p} > {not_t}")
        if status == "uncertain" and p <= not_t:
            out.append(f"{where}: uncertain with p_met {p} <= {not_t}")
    elif status in ("met", "not_met"):
        out.append(f"{where}: {status} without p_met")
    elif status == "uncertain" and g.get("reason_code") != "parts_unskilled":
        out.append(f"{where}: uncertain without p_met (only parts_unskilled has none)")
    out += _unskilled_violations(g, met_t, not_t)
    return out


def _unskilled_violations(g: Mapping[str, Any], met_t: float, not_t: float) -> list[str]:
    """A goal resting on target indicators without demonstrated skill (``no_skill``): a firm
    verdict only where it holds whether they are met or not (``p_bounds`` decide it)."""
    where = f"goal {g['id']}"
    unskilled = {
        r["base_indicator"]
        for r in g.get("indicators") or []
        if r["role"] == "target" and r.get("reason_code") == "no_skill"
    }
    bounds = g.get("p_bounds") or [0.0, 1.0]
    status = g["status"]
    out: list[str] = []
    if g.get("reason_code") == "parts_unskilled":
        if status != "uncertain" or g["p_met"] is not None:
            out.append(f"{where}: parts_unskilled must be uncertain without p_met")
        if not unskilled:
            out.append(f"{where}: parts_unskilled without a no_skill target indicator")
    if not unskilled or g.get("basis") == "outcome" or status in ("partly_met", "not_assessable"):
        return out
    if status in ("met", "not_met") and not g.get("p_bounds"):
        out.append(f"{where}: {status} resting on no_skill indicators without p_bounds")
        return out
    if status == "met" and bounds[0] < met_t:
        out.append(f"{where}: met, but not without the no_skill indicators (bounds {bounds})")
    elif status == "not_met" and bounds[1] > not_t:
        out.append(f"{where}: not_met, but not without the no_skill indicators (bounds {bounds})")
    return out


def _indicator_violations(
    where: str, r: Mapping[str, Any], met_t: float, not_t: float
) -> list[str]:
    out: list[str] = []
    status, p = r["status"], r["p_met"]
    if status not in INDICATOR_STATUSES:
        out.append(f"{where}: indicator status {status!r} is not one of {INDICATOR_STATUSES}")
    if status == "not_assessable" and not r.get("reason"):
        out.append(f"{where}: not_assessable without a reason")
    if p is not None and (
        (status == "met" and p < met_t)
        or (status == "not_met" and p > not_t)
        or (status == "uncertain" and not not_t < p < met_t and r.get("reason_code") != "no_skill")
    ):
        out.append(f"{where}: status {status} does not match p_met {p}")
    if r.get("basis") == "outcome" and status == "uncertain":
        out.append(f"{where}: an outcome is met or not met, never uncertain")
    lo, hi, point = r.get("lo95"), r.get("hi95"), r.get("forecast")
    if lo is not None and hi is not None and point is not None and not lo <= point <= hi:
        out.append(f"{where}: forecast {point} outside its 95 % interval [{lo}, {hi}]")
    return out


#: Kinds of an indicator's ``what_it_takes`` (docs/outputs.md).
WHAT_IT_TAKES_KINDS = ("remainder_sum", "remainder_mean", "value", "known_outcome", "every_ort")


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _requirement_violations(where: str, w: Mapping[str, Any]) -> list[str]:
    """An indicator's ``what_it_takes`` against its definition."""
    kind = w.get("kind")
    if kind not in WHAT_IT_TAKES_KINDS:
        return [f"{where}: what_it_takes kind {kind!r} is not one of {WHAT_IT_TAKES_KINDS}"]
    out = [] if w.get("text") else [f"{where}: what_it_takes without a text"]
    if kind in ("known_outcome", "every_ort"):
        return out
    req, thr, known = w["required"], w["threshold"], w.get("known")
    if kind == "remainder_sum" and not _close(req + known, thr):
        out.append(f"{where}: required {req} + known {known} is not the threshold {thr}")
    if kind == "remainder_mean":
        rest = len(w["remaining_periods"])
        if not _close(req * rest + known, thr * w["total_periods"]):
            out.append(f"{where}: required mean {req} over {rest} periods does not reach {thr}")
    if kind == "value" and not _close(req, thr):
        out.append(f"{where}: required value {req} is not the threshold {thr}")
    if not 0 <= w["n_achieved"] <= w["n_years"]:
        out.append(f"{where}: {w['n_achieved']} of {w['n_years']} years achieved it")
    if w["unprecedented"] != (w["n_years"] > 0 and w["n_achieved"] == 0 and not w["already_met"]):
        out.append(f"{where}: unprecedented {w['unprecedented']} does not match the years counted")
    return out


def _flip_violations(where: str, w: Mapping[str, Any]) -> list[str]:
    """A goal's ``what_it_takes``: a text, and reachable flips with a boundary and a side."""
    out = [] if w.get("text") else [f"{where}: what_it_takes without a text"]
    reachable = {f["indicator"] for f in w["flips"] if f["reachable"]}
    for f in w["flips"]:
        if f["reachable"] and (f["boundary"] is None or f["flip_side"] not in ("<", ">")):
            out.append(f"{where}: flip of {f['indicator']} without a boundary and side")
    if w.get("deciding") is not None and w["deciding"] not in reachable:
        out.append(f"{where}: deciding indicator {w['deciding']} has no reachable flip")
    return out


#: Units whose values cannot be negative (counts, rates per inhabitant, shares, indexes, days).
NONNEGATIVE_UNITS = ("%", "index", "dagar")
#: Units on a 0-100 scale (shares in per cent, the indexes of the catalogue).
CAPPED_UNITS = ("%", "index")


def possible_bounds(r: Mapping[str, Any]) -> tuple[float, float]:
    """The range an indicator row's year can take, from the row alone: >= 0 for counts, rates,
    shares and indexes; <= 100 for shares and indexes whose history never exceeded 100; with
    known sub-periods, a yearly sum is at least its year to date and a yearly mean of P
    sub-periods lies between (k × known mean + (P − k) × lowest) / P and the same with the
    highest. Written apart from the forecast engine, so that it checks the engine."""
    unit = str(r.get("unit") or "").strip()
    history = [v for v in (r.get("history") or {}).values() if v is not None]
    nonneg = unit.startswith("antal") or unit in NONNEGATIVE_UNITS
    capped = unit in CAPPED_UNITS and all(v <= 100 for v in history)
    lo_one, hi_one = (0.0 if nonneg else -math.inf), (100.0 if capped else math.inf)
    k, n, known = r.get("known_periods") or 0, r.get("total_periods") or 0, r.get("known_value")
    if known is None or k <= 0 or n <= 1 or r.get("ort") is not None and k > n:
        return lo_one, hi_one
    if r.get("aggregation") == "sum":
        return known + (n - k) * lo_one, known + (n - k) * hi_one
    if r.get("aggregation") == "mean":
        return (known * k + (n - k) * lo_one) / n, (known * k + (n - k) * hi_one) / n
    return lo_one, hi_one


def interval_violations(rep: Mapping[str, Any]) -> list[str]:
    """Every printed value (forecast, lo80, hi80, lo95, hi95) of every indicator row outside the
    range its year can take (:func:`possible_bounds`), and every interval whose bounds are out
    of order (lo95 <= lo80 <= forecast <= hi80 <= hi95)."""
    out: list[str] = []
    for g in rep["goals"]:
        for r in g["indicators"]:
            where = f"goal {g['id']} {r['indicator']} {r['gender']}"
            lo, hi = possible_bounds(r)
            keys = ("lo95", "lo80", "forecast", "hi80", "hi95")
            vals = [(key, r.get(key)) for key in keys if r.get(key) is not None]
            for key, v in vals:
                tol = 1e-9 * max(1.0, abs(v))
                if v < lo - tol or v > hi + tol:
                    out.append(f"{where}: {key} {v} outside the possible range [{lo}, {hi}]")
            for (ka, a), (kb, b) in zip(vals, vals[1:], strict=False):
                if a > b + 1e-9 * max(1.0, abs(a)):
                    out.append(f"{where}: {ka} {a} > {kb} {b}")
    return out


def contract_violations(
    rep: Mapping[str, Any], catalogue_ids: Mapping[int, list[str]]
) -> list[str]:
    """Every breach of the status contract in ``rep`` (a report.json as a mapping).

    ``catalogue_ids`` maps each goal id to its catalogue indicator ids: every one of them must
    appear in the goal's indicators, or for a supporting goal in its ``indicators_known``
    (nothing vanishes).
    """
    th = rep["catalogue"]["thresholds"]
    met_t, not_t = float(th["met"]), float(th["not_met"])
    out: list[str] = []
    for g in rep["goals"]:
        out += _goal_violations(g, met_t, not_t)
        # A supporting goal's catalogue indicators (Mål 5's health KPIs) are listed, never judged.
        shown = {r["base_indicator"] for r in g["indicators"]} | {
            r["indicator"] for r in g.get("indicators_known") or []
        }
        for ind_id in catalogue_ids.get(g["id"], []):
            if ind_id not in shown:
                out.append(f"goal {g['id']}: catalogue indicator {ind_id} is missing")
        if g.get("kind") == "styrande" and g.get("basis") is not None:
            if not g.get("what_it_takes"):
                out.append(f"goal {g['id']}: a judged steering goal without what_it_takes")
            else:
                out += _flip_violations(f"goal {g['id']}", g["what_it_takes"])
        for r in g["indicators"]:
            where = f"goal {g['id']} {r['indicator']} {r['gender']}"
            out += _indicator_violations(where, r, met_t, not_t)
            if r["role"] == "target" and r["status"] in ("uncertain", "not_met"):
                if not r.get("what_it_takes"):
                    out.append(f"{where}: {r['status']} target indicator without what_it_takes")
                else:
                    out += _requirement_violations(where, r["what_it_takes"])
    return out
