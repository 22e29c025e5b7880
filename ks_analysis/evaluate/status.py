"""Evaluate: P(target met) from a forecast's predictive draws, the indicator status and the goal roll-up."""

from __future__ import annotations

import numpy as np

from ks_analysis.forecast.engine import Forecast
from ks_analysis.goals.catalogue import Indicator

__all__ = ["p_met", "met_outcome", "indicator_status", "rollup", "STATUSES", "GOAL_STATUSES"]

#: Status codes of an indicator (and of a steering goal); their Swedish words are in ks_analysis.swedish.
STATUSES = ("met", "partly_met", "not_met", "not_assessable")
#: A goal's status codes: a supporting goal with a self-assessment has no forecast.
GOAL_STATUSES = (*STATUSES, "no_forecast")


def _threshold(
    fc: Forecast, indicator: Indicator, reference: float | None
) -> tuple[float, str] | None:
    """(threshold, side) with side '>' (met above it) or '<' (met below it), or None without a reference.

    Tolerance gives slack: ``increase`` is met when the value exceeds last year's minus the
    tolerance; ``decrease`` when it is below last year's plus the tolerance; ``better_than``
    likewise in the indicator's direction. ``at_least`` / ``at_most`` are inclusive.
    """
    t = indicator.target
    tol = t.tolerance
    if t.type in ("increase", "decrease") and _reference_year_unknown(fc):
        return None
    if t.type == "increase":
        return None if fc.last_value is None else (fc.last_value - tol, ">")
    if t.type == "decrease":
        return None if fc.last_value is None else (fc.last_value + tol, "<")
    if t.type == "at_least":
        return None if t.value is None else (t.value, ">=")
    if t.type == "at_most":
        return None if t.value is None else (t.value, "<=")
    if t.type == "better_than":
        if reference is None:
            return None
        if indicator.higher_is_better:
            return (reference - tol, ">")
        return (reference + tol, "<")
    return None


def _reference_year_unknown(fc: Forecast) -> bool:
    """A change target compares the year with year - 1; if year - 1 is not yet known (a lagged
    KPI at 30 April), comparing with an older year would judge another change: not assessable."""
    if "reference_year_unknown" in fc.flags:
        return True
    return fc.last_year is not None and fc.last_year != fc.year - 1


def _met(values: np.ndarray, thr: float, side: str) -> np.ndarray:
    if side == ">":
        return values > thr
    if side == ">=":
        return values >= thr
    if side == "<":
        return values < thr
    return values <= thr


def met_outcome(value: float, threshold: float, side: str) -> bool:
    """Whether an actual value meets a threshold (used for outcomes and in the backtest)."""
    return bool(_met(np.asarray([value]), threshold, side)[0])


def p_met(fc: Forecast, indicator: Indicator, reference: float | None = None) -> float | None:
    """P(target met) read off the forecast's predictive draws, for the target type and direction.

    An outcome gives 1.0 or 0.0 from the actual value. None when there is no forecast, no draws,
    or no reference to compare with (e.g. no previous year for ``increase``, or year - 1 not yet
    published: the forecast then carries the flag ``reference_year_unknown``).
    """
    if fc.point is None or fc.basis == "none":
        return None
    thr = _threshold(fc, indicator, reference)
    if thr is None:
        return None
    if fc.basis == "outcome" or fc.samples is None:
        if fc.basis != "outcome":
            return None
        return 1.0 if met_outcome(fc.point, *thr) else 0.0
    return float(np.mean(_met(np.asarray(fc.samples), *thr)))


def indicator_status(p: float | None, thresholds: dict[str, float]) -> str:
    """met if P >= thresholds['met'], not_met if P <= thresholds['not_met'], else partly_met; None -> not_assessable."""
    if p is None or not np.isfinite(p):
        return "not_assessable"
    if p >= thresholds.get("met", 0.75):
        return "met"
    if p <= thresholds.get("not_met", 0.25):
        return "not_met"
    return "partly_met"


def rollup(
    rule: str, ps: list[float | None], statuses: list[str], thresholds: dict[str, float]
) -> tuple[str, float | None]:
    """A goal's status and P from its target indicators (one entry per indicator).

    Rules: ``mean_p`` (mean of the indicators' P), ``min_p`` (the weakest indicator), ``all_met``
    (P that every indicator is met, assuming independence; status met only if each is met, not met
    if any is not met). The goal is ``not_assessable`` only when no target indicator has a P
    ("Kan inte bedömas" is its own state). Otherwise its P comes from the indicators that have
    one; under ``all_met`` and ``min_p`` an indicator that cannot be assessed might be the one that
    fails, so the goal is then at best ``partly_met`` (never ``met``); ``mean_p`` keeps the mean of
    the known ones (the report says how many of the target indicators have a forecast).
    """
    valid = [float(p) for p in ps if p is not None and np.isfinite(p)]
    if not valid:
        return "not_assessable", None
    missing = len(valid) < len(ps)
    if rule == "mean_p":
        p = float(np.mean(valid))
        return indicator_status(p, thresholds), p
    if rule == "min_p":
        p = float(min(valid))
        status = indicator_status(p, thresholds)
        return ("partly_met" if missing and status == "met" else status), p
    if rule == "all_met":
        p = float(np.prod(valid))
        assessed = [s for s in statuses if s != "not_assessable"]
        if (
            assessed
            and all(s == "met" for s in assessed)
            and not missing
            and len(assessed) == len(statuses)
        ):
            status = "met"
        elif any(s == "not_met" for s in assessed):
            status = "not_met"
        else:
            status = "partly_met"
        return status, p
    raise ValueError(f"unknown roll-up rule {rule!r}; use mean_p, all_met or min_p")
