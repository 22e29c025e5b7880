"""Evaluate: P(target met) from a forecast's predictive draws, the indicator status and the goal verdict.

The status contract (``docs/outputs.md``):

* an **indicator** is ``met`` / ``not_met`` / ``uncertain`` (forecast P between the thresholds) /
  ``not_assessable`` (with a reason code). An indicator is never "partly" met.
* a **goal** is ``met`` / ``partly_met`` / ``not_met`` / ``uncertain`` / ``not_assessable`` /
  ``no_forecast``. Its ``p_met`` is the probability that its declared rule holds, computed from
  joint draws of its target indicators' predictive distributions (:func:`goal_verdict`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special  # ndtr: the normal CDF without loading scipy.stats (about 1 s)

from ks_analysis.forecast.engine import Forecast
from ks_analysis.goals.catalogue import Indicator

__all__ = [
    "GOAL_STATUSES",
    "INDICATOR_STATUSES",
    "GoalVerdict",
    "Part",
    "goal_verdict",
    "indicator_status",
    "joint_uniforms",
    "met_outcome",
    "p_met",
    "part_from_forecast",
    "threshold_of",
]

#: Status codes of an indicator; their Swedish words are in ks_analysis.swedish.
INDICATOR_STATUSES = ("met", "not_met", "uncertain", "not_assessable")
#: A goal's status codes: a supporting goal with a self-assessment has no forecast.
GOAL_STATUSES = ("met", "partly_met", "not_met", "uncertain", "not_assessable", "no_forecast")

#: Joint draws per goal (the Monte Carlo error of P is at most 0.5 / sqrt(N) = 0.7 points).
N_JOINT = 5000
#: Shrinkage of an estimated correlation toward 0: r * n / (n + K) with n year-on-year changes.
CORRELATION_SHRINK = 10
#: Fewest common year-on-year changes for a correlation to be estimated at all.
MIN_COMMON_CHANGES = 5


def threshold_of(
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
    if fc.method == "latest_known":
        return fc.last_year is None  # compared with the observation before the latest
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
    thr = threshold_of(fc, indicator, reference)
    if thr is None:
        return None
    if fc.basis == "outcome" or fc.samples is None:
        if fc.basis != "outcome":
            return None
        return 1.0 if met_outcome(fc.point, *thr) else 0.0
    return float(np.mean(_met(np.asarray(fc.samples), *thr)))


def indicator_status(p: float | None, thresholds: dict[str, float]) -> str:
    """met if P >= thresholds['met'], not_met if P <= thresholds['not_met'], else uncertain;
    no P -> not_assessable. An outcome's P is 1 or 0, so it is met or not_met."""
    if p is None or not np.isfinite(p):
        return "not_assessable"
    if p >= thresholds.get("met", 0.75):
        return "met"
    if p <= thresholds.get("not_met", 0.25):
        return "not_met"
    return "uncertain"


# --------------------------------------------------------------------------- joint draws


@dataclass(frozen=True)
class Part:
    """One target indicator of a goal, as the goal's rule sees it.

    ``met`` maps uniforms ``u`` (shape ``(N,)``, one per joint draw) to whether the indicator's
    target is met in each draw: the indicator's predictive distribution evaluated at quantile
    ``u`` (an outcome ignores ``u``). It also takes ``u`` of shape ``(N, G)`` (G conditioning
    values at once, see ``what_it_takes``) and must then give column by column what ``(N,)``
    calls would. ``None`` when the indicator cannot be assessed.
    ``history`` holds the indicator's yearly values (for the correlation between parts).
    ``unskilled``: the backtest found no skill for P(met) of the indicator's kind at this cutoff
    (its status is ``uncertain`` with reason ``no_skill``): its draws say nothing the goal's
    verdict may rest on, so :func:`goal_verdict` counts it both as met and as not met.
    """

    id: str
    status: str
    met: Callable[[np.ndarray], np.ndarray] | None
    history: dict[int, float]
    outcome: bool = False
    unskilled: bool = False


def part_from_forecast(
    part_id: str,
    fc: Forecast,
    threshold: tuple[float, str] | None,
    status: str,
    *,
    unskilled: bool = False,
) -> Part:
    """A goal part from one forecast: draws through the forecast's empirical quantile function.
    ``unskilled``: the indicator's kind has no demonstrated skill at this cutoff (see :class:`Part`)."""
    history = {int(str(y)): float(v) for y, v in fc.history.items() if np.isfinite(v)}
    if threshold is None or fc.point is None or fc.basis == "none":
        return Part(part_id, "not_assessable", None, history)
    thr, side = threshold
    if fc.basis == "outcome" or fc.samples is None:
        if fc.basis != "outcome":
            return Part(part_id, "not_assessable", None, history)
        hit = met_outcome(fc.point, thr, side)
        return Part(part_id, status, lambda u: np.full(u.shape, hit), history, outcome=True)
    ordered = np.sort(np.asarray(fc.samples, dtype=float))

    def met(u: np.ndarray) -> np.ndarray:
        idx = np.minimum((u * ordered.size).astype(int), ordered.size - 1)
        return _met(ordered[idx], thr, side)

    return Part(part_id, status, met, history, unskilled=unskilled)


def _correlation(histories: Sequence[dict[int, float]]) -> np.ndarray:
    """Correlation of the parts' year-on-year changes in the kommun's own history, shrunk toward 0.

    r * n / (n + CORRELATION_SHRINK) over the n common changes (0 with fewer than
    MIN_COMMON_CHANGES), then the nearest positive semi-definite matrix (eigenvalues clipped).
    """
    k = len(histories)
    r = np.eye(k)
    changes = []
    for h in histories:
        years = sorted(h)
        changes.append({y: h[y] - h[y - 1] for y in years if y - 1 in h})
    for i in range(k):
        for j in range(i + 1, k):
            common = sorted(set(changes[i]) & set(changes[j]))
            if len(common) < MIN_COMMON_CHANGES:
                continue
            a = np.array([changes[i][y] for y in common])
            b = np.array([changes[j][y] for y in common])
            if a.std() == 0 or b.std() == 0:
                continue
            rho = float(np.corrcoef(a, b)[0, 1]) * len(common) / (len(common) + CORRELATION_SHRINK)
            r[i, j] = r[j, i] = rho
    vals, vecs = np.linalg.eigh(r)
    r = vecs @ np.diag(np.clip(vals, 1e-6, None)) @ vecs.T
    d = np.sqrt(np.diag(r))
    return np.asarray(r / np.outer(d, d))


def joint_uniforms(parts: Sequence[Part], *, seed: int, n: int = N_JOINT) -> np.ndarray:
    """Uniforms ``(n, k)`` from a Gaussian copula with the parts' shrunk history correlation."""
    corr = _correlation([p.history for p in parts])
    z = np.random.default_rng(seed).multivariate_normal(np.zeros(len(parts)), corr, size=n)
    return np.asarray(special.ndtr(z))


@dataclass(frozen=True)
class GoalVerdict:
    """A steering goal's verdict: status, P(rule holds) and the counts behind them."""

    status: str
    p_met: float | None
    basis: str  # "forecast" or "outcome"
    n_parts: int
    n_met: int
    n_not_met: int
    n_uncertain: int
    n_not_assessable: int
    #: The share of assessable target indicators met (at outcome basis); None otherwise.
    share_met: float | None
    #: Bounds on P when some parts cannot be assessed or have no demonstrated skill: (those
    #: counted as not met, as met).
    p_bounds: tuple[float, float] | None
    reason_code: str
    #: Target indicators whose forecasts have no demonstrated skill (status uncertain, no_skill).
    n_unskilled: int = 0
    #: With reason ``parts_unskilled``: the joint-draw P that takes the unskilled parts' draws at
    #: face value. Not a probability the report stands behind (never printed); None otherwise.
    p_model: float | None = None
    #: Of n_met and n_not_met: the target indicators whose year is already known (outcomes).
    n_met_outcome: int = 0
    n_not_met_outcome: int = 0
    #: The outcomes already known decide the rule, whatever the other parts turn out to be.
    decided_by_outcomes: bool = False


def _rule_holds(rule: str, met: np.ndarray) -> np.ndarray:
    """Whether the rule holds in each draw; ``met`` is ``(N, k)`` booleans."""
    k = met.shape[1]
    if rule == "all_met":
        return np.asarray(met.all(axis=1))
    if rule == "majority_met":
        return np.asarray(met.sum(axis=1) * 2 > k)
    if rule == "any_met":
        return np.asarray(met.any(axis=1))
    raise ValueError(f"unknown roll-up rule {rule!r}; use all_met, majority_met or any_met")


def goal_verdict(
    rule: str, parts: Sequence[Part], thresholds: dict[str, float], *, seed: int = 0
) -> GoalVerdict:
    """The goal's status and P(rule holds) from joint draws of its target indicators.

    A part that cannot be assessed, or whose forecast has no demonstrated skill (``unskilled``),
    is counted both ways: as not met (lower bound of P) and as met (upper bound). If the bounds
    decide the status (lower >= met threshold, or upper <= not-met threshold) the goal is judged
    on them. Otherwise a goal with parts that cannot be assessed is ``not_assessable`` when they
    would decide it whatever the other parts' draws say, and a goal resting on unskilled parts is
    ``uncertain`` (reason ``parts_unskilled``, no ``p_met``; the draws' P is kept as ``p_model``).
    ``partly_met``: the rule does not hold with confidence, but some parts are met and others not
    met, each with confidence (P >= the met threshold, or <= the not-met threshold, from a
    forecast with skill; an outcome counts as sure).
    """
    met_t, not_t = thresholds.get("met", 0.75), thresholds.get("not_met", 0.25)
    counts = {s: sum(p.status == s for p in parts) for s in INDICATOR_STATUSES}
    assessable = [p for p in parts if p.met is not None]
    missing = len(parts) - len(assessable)
    free = [p.unskilled and not p.outcome for p in assessable]
    n_free = sum(free)
    basis = "outcome" if assessable and all(p.outcome for p in assessable) else "forecast"

    def outcomes_decide() -> bool:
        known = np.array([[bool(p.met(np.zeros(1))[0]) for p in parts if p.outcome and p.met]])
        rest = len(parts) - known.shape[1]
        if known.shape[1] == 0 or rest == 0:
            return False
        lo_o = _rule_holds(rule, np.hstack([known, np.zeros((1, rest), bool)]))[0]
        hi_o = _rule_holds(rule, np.hstack([known, np.ones((1, rest), bool)]))[0]
        return bool(lo_o == hi_o)

    def verdict(
        status: str,
        p: float | None,
        bounds: tuple[float, float] | None,
        code: str,
        model: float | None = None,
    ) -> GoalVerdict:
        share = counts["met"] / len(assessable) if basis == "outcome" and assessable else None
        return GoalVerdict(
            status, p, basis, len(parts), counts["met"], counts["not_met"], counts["uncertain"],
            counts["not_assessable"], share, bounds, code, n_free, model,
            sum(p.outcome and p.status == "met" for p in parts),
            sum(p.outcome and p.status == "not_met" for p in parts), outcomes_decide(),
        )  # fmt: skip

    if not assessable:
        return verdict("not_assessable", None, None, "no_part_assessable")
    u = joint_uniforms(assessable, seed=seed, n=1 if basis == "outcome" else N_JOINT)
    drawn = np.column_stack([p.met(u[:, i]) for i, p in enumerate(assessable)])  # type: ignore[misc]
    n = drawn.shape[0]
    # With the unskilled parts' draws at face value, and the missing parts counted both ways.
    lo_m = float(_rule_holds(rule, np.hstack([drawn, np.zeros((n, missing), bool)])).mean())
    hi_m = float(_rule_holds(rule, np.hstack([drawn, np.ones((n, missing), bool)])).mean())
    # The unskilled parts counted both ways too.
    sure = drawn[:, [not f for f in free]]
    unknown = missing + n_free
    lo = float(_rule_holds(rule, np.hstack([sure, np.zeros((n, unknown), bool)])).mean())
    hi = float(_rule_holds(rule, np.hstack([sure, np.ones((n, unknown), bool)])).mean())
    bounds = (lo, hi) if unknown else None
    p: float | None = lo
    if unknown:
        p = lo if lo >= met_t else hi if hi <= not_t else None
    mixed = counts["met"] > 0 and counts["not_met"] > 0
    if p is not None and p >= met_t:
        return verdict("met", p, bounds, "rule_holds")
    if mixed:
        return verdict("partly_met", p, bounds, "some_parts_met")
    if p is None:
        # Missing data that would decide the rule whatever the unskilled draws say: no verdict.
        decided_without_missing = lo_m >= met_t or hi_m <= not_t or not missing
        if n_free and decided_without_missing:
            model = lo_m if not missing or lo_m >= met_t else hi_m
            return verdict("uncertain", None, bounds, "parts_unskilled", model)
        return verdict("not_assessable", None, bounds, "parts_not_assessable")
    if p <= not_t:
        return verdict("not_met", p, bounds, "rule_fails")
    return verdict("uncertain", p, bounds, "evidence_undecided")
