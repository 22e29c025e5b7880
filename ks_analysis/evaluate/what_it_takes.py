"""What it would take: what the rest of the year must bring for a target, and which indicator decides a goal.

Two computations, both pure (arrays and parts in, dataclasses out); ``report/what_it_takes.py``
turns them into the report's Swedish and report.json (definitions in ``docs/outputs.md``).

* :func:`requirement` — for one indicator: the year's threshold restated for what is still
  unknown. A yearly **sum** with known sub-periods needs a remainder ``R = threshold − known sum``
  over the unknown sub-periods; a yearly **mean** of ``P`` sub-periods needs the remaining ones to
  average ``(threshold × P − known sum) / remaining``; a **point** value (an annual KPI, or the
  last sub-period's value) needs the threshold itself. The same measure is computed for each of the
  last (up to) ten years over the same sub-periods, and counted where it reached the requirement.
* :func:`goal_flips` — for one goal: for each target indicator ``i``, the value ``b`` of its
  outcome at which the goal's status would flip under its declared rule, from the *same* joint
  draws as the goal's P (:func:`ks_analysis.evaluate.status.goal_verdict`). Fixing ``X_i = v``
  conditions the Gaussian copula: with ``z_i(v) = Φ⁻¹(F_i(v))``, every other part's normal score
  in each joint draw becomes ``z_j + ρ_ij (z_i(v) − z_i)``, which has exactly the conditional
  distribution of ``z_j`` given ``z_i = z_i(v)`` (the residual ``z_j − ρ_ij z_i`` is independent
  of ``z_i``). ``P(rule holds | X_i = v)`` is then the share of the conditioned draws in which the
  rule holds (indicator ``i`` meets its target or not, deterministically, at ``v``), and the goal's
  status at ``v`` follows the thresholds exactly as in ``goal_verdict``. ``b`` is the boundary,
  nearest the forecast, of the values where the status is the wanted one (met, for a goal that is
  not met; not met, for a goal that is).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from ks_analysis.evaluate.status import (
    N_JOINT,
    Part,
    _correlation,
    _met,
    _rule_holds,
    joint_uniforms,
)

__all__ = [
    "HISTORY_YEARS",
    "Requirement",
    "Flip",
    "GoalFlips",
    "requirement",
    "goal_flips",
    "ConditionedGoal",
]

#: How many earlier years the requirement is compared with ("3 av de senaste 10 åren").
HISTORY_YEARS = 10
#: Grid of quantiles of an indicator's predictive draws on which the goal's status is scanned.
GRID_SIZE = 81
#: Bisection steps that narrow a status boundary between two grid points.
BISECTION_STEPS = 30


@dataclass(frozen=True)
class Requirement:
    """What the unknown rest of the year must bring for one indicator's target to be met.

    ``kind``: ``remainder_sum`` (the sum over the unknown sub-periods), ``remainder_mean`` (their
    average) or ``value`` (the year's value itself: an annual KPI, or a sub-annual value that is
    the year's last). ``required`` with ``side`` ('>', '>=', '<', '<=') is what that measure must
    be; ``threshold`` is the year's own threshold (``required + known`` for a sum; for a whole
    count restated as a whole number: 'more than 5 348' is 'at least 5 349'). For a change
    target (increase/decrease) on a ``value``, the history compares year-on-year *changes* with the
    required change ``threshold − last value``; otherwise levels are compared.
    """

    kind: str
    threshold: float
    side: str
    required: float
    known: float | None
    known_periods: tuple[int, ...]
    remaining_periods: tuple[int, ...]
    total_periods: int
    last_year_same: float | None
    compare: str  # "level" or "change"
    required_compare: float  # the required level, or the required change from last year
    history: dict[int, float]
    n_years: int
    n_achieved: int
    #: The requirement is already met by what is known (a sum whose known part reaches it).
    already_met: bool
    #: The requirement cannot be met at all (e.g. a remainder below 0 for a count).
    impossible: bool

    @property
    def unprecedented(self) -> bool:
        """No year of the compared history achieved it (and there was history to compare)."""
        return self.n_years > 0 and self.n_achieved == 0 and not self.already_met


def _tighten_integer(value: float, side: str) -> tuple[float, str]:
    """For whole counts: 'more than 1 620,4' is 'at least 1 621'; 'fewer than 3' is 'at most 2'."""
    if side == ">":
        return float(np.floor(value) + 1), ">="
    if side == ">=":
        return float(np.ceil(value)), ">="
    if side == "<":
        return float(np.ceil(value) - 1), "<="
    return float(np.floor(value)), "<="


def requirement(
    hist: dict[int, np.ndarray],
    cur: np.ndarray,
    year: int,
    aggregation: str,
    threshold: float,
    side: str,
    *,
    target_type: str,
    last_value: float | None,
    integer: bool = False,
    nonnegative: bool = False,
) -> Requirement:
    """The requirement for one series-year (see :class:`Requirement`).

    Args:
        hist: earlier years' sub-period values ``{year: (P,)}``, NaN where unpublished.
        cur: this year's sub-period values as known at the cutoff, NaN = not yet known.
        aggregation: 'sum', 'mean', 'point' or 'last' (an annual series is 'point').
        threshold, side: the year's threshold (``status.threshold_of``).
        target_type: the catalogue's target type (a change target compares changes for a value).
        last_value: last year's full-year value (for the required change).
        integer: the series is a whole count: a requirement is rounded to a whole number.
        nonnegative: the series cannot be negative (a remainder below 0 is reached already).
    """
    P = cur.shape[0]
    known_mask = np.isfinite(cur)
    known_idx = tuple(int(i) for i in np.flatnonzero(known_mask))
    rest_idx = tuple(int(i) for i in np.flatnonzero(~known_mask))
    sub = P > 1 and aggregation in ("sum", "mean") and 0 < len(known_idx) < P
    earlier = sorted(y for y in hist if y < year)[-HISTORY_YEARS:]
    if integer and aggregation != "mean":
        # a whole count's year: 'more than 5 348' is 'at least 5 349'
        threshold, side = _tighten_integer(threshold, side)
    if sub:
        done = float(cur[known_mask].sum())
        rest = np.asarray(rest_idx)
        if aggregation == "sum":
            kind, required = "remainder_sum", threshold - done
        else:
            kind, required = "remainder_mean", (threshold * P - done) / rest.size
        measure = {
            y: float(hist[y][rest].sum() if aggregation == "sum" else hist[y][rest].mean())
            for y in earlier
            if np.isfinite(hist[y][rest]).all()
        }
        req_side = side
        compare, req_compare = "level", required
        last_same = measure.get(year - 1)
        known: float | None = done
    else:
        kind, required, req_side, known = "value", threshold, side, None
        if aggregation == "last" and P > 1:
            # the year's value is its last sub-period's
            levels = {y: float(hist[y][-1]) for y in earlier if np.isfinite(hist[y][-1])}
        elif aggregation == "sum" and P > 1:
            levels = {y: float(hist[y].sum()) for y in earlier if np.isfinite(hist[y]).all()}
        elif aggregation == "mean" and P > 1:
            levels = {y: float(hist[y].mean()) for y in earlier if np.isfinite(hist[y]).all()}
        else:
            levels = {y: float(np.nanmean(hist[y])) for y in earlier if np.isfinite(hist[y]).any()}
        if target_type in ("increase", "decrease") and last_value is not None:
            compare, req_compare = "change", required - last_value
            measure = {y: levels[y] - levels[y - 1] for y in levels if y - 1 in levels}
        else:
            compare, req_compare = "level", required
            measure = levels
        last_same = levels.get(year - 1)
    achieved = _met(np.asarray(list(measure.values()), dtype=float), req_compare, req_side)
    lowest = 0.0 if nonnegative else -np.inf
    already = kind == "remainder_sum" and bool(_met(np.asarray([lowest]), required, req_side)[0])
    impossible = (
        kind != "value"
        and nonnegative
        and req_side in ("<", "<=")
        and bool(not _met(np.asarray([lowest]), required, req_side)[0])
    )
    return Requirement(
        kind=kind,
        threshold=float(threshold),
        side=req_side,
        required=float(required),
        known=known,
        known_periods=known_idx,
        remaining_periods=rest_idx if sub else (),
        total_periods=P,
        last_year_same=last_same,
        compare=compare,
        required_compare=float(req_compare),
        history=measure,
        n_years=len(measure),
        n_achieved=int(achieved.sum()),
        already_met=already,
        impossible=impossible,
    )


# --------------------------------------------------------------------------- goal flips


@dataclass(frozen=True)
class Flip:
    """Where one indicator's outcome flips its goal's status (see the module docstring).

    ``boundary`` is ``b``; the goal has the wanted status when the outcome lies on ``flip_side``
    of it ('<' below, '>' above), within the scanned range of the indicator's draws. ``p_flip_side``
    is the forecast's probability of that side (its share of the indicator's own draws);
    ``p_rule_at`` P(rule holds | X_i = v) just inside the flip side.
    """

    part_id: str
    reachable: bool
    boundary: float | None
    flip_side: str | None
    p_flip_side: float | None
    p_rule_at: float | None
    point: float | None
    #: The best P(rule holds | X_i = v) over the scanned values (the highest for a goal not met,
    #: the lowest for a met goal): how far this indicator alone can move the goal.
    p_best: float | None = None


@dataclass(frozen=True)
class GoalFlips:
    """The flips of one goal: ``want`` is the status looked for ('met' or 'not_met_any')."""

    want: str
    flips: tuple[Flip, ...]
    deciding: str | None
    #: Parts that could not be scanned (no single predictive distribution), with why.
    skipped: dict[str, str]


class ConditionedGoal:
    """A goal's joint draws, ready to be conditioned on one target indicator's outcome.

    Built from the same parts and seed as :func:`~ks_analysis.evaluate.status.goal_verdict`, so
    the uniforms and their normal scores are the very draws behind the goal's P.
    """

    def __init__(
        self, rule: str, parts: Sequence[Part], thresholds: dict[str, float], *, seed: int
    ) -> None:
        self.rule = rule
        self.met_t = thresholds.get("met", 0.75)
        self.not_t = thresholds.get("not_met", 0.25)
        self.assessable = [p for p in parts if p.met is not None]
        self.missing = len(parts) - len(self.assessable)
        self.u = joint_uniforms(self.assessable, seed=seed, n=N_JOINT)
        eps = 0.5 / N_JOINT
        self.z = special.ndtri(np.clip(self.u, eps, 1 - eps))
        self.corr = _correlation([p.history for p in self.assessable])
        self._cache: dict[int, np.ndarray] = {}

    def _residuals(self, i: int) -> np.ndarray:
        """``z_j − ρ_ij z_i`` per draw and part: independent of ``z_i`` (cached per ``i``)."""
        if i not in self._cache:
            self._cache[i] = self.z - self.corr[i][None, :] * self.z[:, [i]]
        return self._cache[i]

    def index(self, part_id: str) -> int | None:
        """The column of a part among the assessable ones, or None."""
        for i, p in enumerate(self.assessable):
            if p.id == part_id:
                return i
        return None

    def p_rule(self, i: int, met_i: bool, u_i: float) -> tuple[float, float]:
        """(lower, upper) P(rule holds | part i's outcome) with part i's quantile fixed at ``u_i``.

        Lower and upper count the parts that cannot be assessed, and the other parts without
        demonstrated skill (``Part.unskilled``, as in ``goal_verdict``), as not met and as met.
        """
        zi = float(special.ndtri(u_i))
        residual = self._residuals(i)
        cols = []
        free = self.missing
        for j, p in enumerate(self.assessable):
            if j == i:
                cols.append(np.full(self.u.shape[0], met_i))
                continue
            if p.unskilled and not p.outcome:
                free += 1
                continue
            assert p.met is not None
            cols.append(p.met(special.ndtr(residual[:, j] + self.corr[i, j] * zi)))
        return (
            float(_holds(self.rule, cols, free, missing_met=False).mean()),
            float(_holds(self.rule, cols, free, missing_met=True).mean()),
        )

    def p_rule_many(
        self, i: int, met_i: np.ndarray, u_i: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`p_rule` for several values of part i at once (one column per value): the
        same numbers, in one pass over the draws instead of one pass per value."""
        zi = special.ndtri(np.asarray(u_i, dtype=float))
        residual = self._residuals(i)
        n = self.u.shape[0]
        cols = []
        free = self.missing
        for j, p in enumerate(self.assessable):
            if j == i:
                cols.append(np.broadcast_to(np.asarray(met_i, dtype=bool)[None, :], (n, zi.size)))
                continue
            if p.unskilled and not p.outcome:
                free += 1
                continue
            assert p.met is not None
            cols.append(p.met(special.ndtr(residual[:, [j]] + self.corr[i, j] * zi[None, :])))
        return (
            _holds(self.rule, cols, free, missing_met=False).mean(axis=0),
            _holds(self.rule, cols, free, missing_met=True).mean(axis=0),
        )

    def is_met(self, lo: float, hi: float) -> bool:
        """Whether the goal's status would be 'met' with these bounds (goal_verdict's rule: with
        parts counted both ways, met when the lower bound reaches the met threshold)."""
        return lo >= self.met_t


def _holds(rule: str, cols: list[np.ndarray], missing: int, *, missing_met: bool) -> np.ndarray:
    """``_rule_holds`` of the parts' met columns and ``missing`` parts all met or all not met,
    without stacking them into one array (this runs thousands of times per report)."""
    if rule == "all_met":
        if missing and not missing_met:
            return np.zeros(cols[0].shape, bool)
        return np.logical_and.reduce(cols)
    if rule == "majority_met":
        count = np.add.reduce([c.astype(np.int64) for c in cols])
        return np.asarray((count + (missing if missing_met else 0)) * 2 > len(cols) + missing)
    if rule == "any_met":
        if missing and missing_met:
            return np.ones(cols[0].shape, bool)
        return np.logical_or.reduce(cols)
    return _rule_holds(rule, np.column_stack(cols))  # its message for an unknown rule


def _quantile_of(ordered: np.ndarray, v: float) -> float:
    """The mid-rank quantile of ``v`` among the sorted draws, kept inside (0, 1)."""
    n = ordered.size
    left = np.searchsorted(ordered, v, side="left")
    right = np.searchsorted(ordered, v, side="right")
    return float(np.clip((left + right) / (2 * n), 0.5 / n, 1 - 0.5 / n))


def goal_met_given(
    cg: ConditionedGoal, i: int, ordered: np.ndarray, threshold: tuple[float, str], v: float
) -> tuple[bool, float]:
    """(goal met?, P lower bound) when part ``i``'s outcome is ``v``."""
    met_i = bool(_met(np.asarray([v]), *threshold)[0])
    lo, hi = cg.p_rule(i, met_i, _quantile_of(ordered, v))
    return cg.is_met(lo, hi), lo


def _scan(
    cg: ConditionedGoal,
    i: int,
    ordered: np.ndarray,
    threshold: tuple[float, str],
    point: float,
    want_met: bool,
) -> tuple[tuple[float, str, float] | None, float]:
    """((boundary, side of the wanted status, P there) nearest ``point``, or None if the status is
    never the wanted one; the best P(rule holds) over the scanned values)."""
    thr = threshold[0]
    span = float(ordered[-1] - ordered[0]) or max(abs(point), 1.0)
    tiny = 1e-9 * max(span, abs(thr), 1.0)
    grid = np.quantile(ordered, np.linspace(0.0005, 0.9995, GRID_SIZE))
    grid = np.unique(np.r_[grid, thr - tiny, thr + tiny, point])
    met_i = _met(grid, *threshold)
    lo_all, hi_all = cg.p_rule_many(i, met_i, np.array([_quantile_of(ordered, v) for v in grid]))
    status = np.array(
        [cg.is_met(float(lo), float(hi)) == want_met for lo, hi in zip(lo_all, hi_all, strict=True)]
    )
    lows = [float(lo) for lo in lo_all]
    best = max(lows) if want_met else min(lows)
    if not status.any():
        return None, best
    wanted = grid[status]
    nearest = float(wanted[np.argmin(np.abs(wanted - point))])
    k = int(np.searchsorted(grid, nearest))
    # the wanted region around `nearest`: find its edge toward the point, or, if it holds the
    # point, its nearer edge
    if nearest == point:
        left = k
        while left > 0 and status[left - 1]:
            left -= 1
        right = k
        while right < grid.size - 1 and status[right + 1]:
            right += 1
        cands = []
        if left > 0:
            cands.append((grid[left - 1], grid[left], ">"))
        if right < grid.size - 1:
            cands.append((grid[right + 1], grid[right], "<"))
        if not cands:
            return None, best  # wanted over the whole range: no value flips it
        outside, inside, side = min(cands, key=lambda c: abs(c[1] - point))
    elif nearest > point:
        outside, inside, side = grid[k - 1], grid[k], ">"
    else:
        outside, inside, side = grid[k + 1], grid[k], "<"
    a, b = float(outside), float(inside)
    for _ in range(BISECTION_STEPS):
        mid = (a + b) / 2
        if goal_met_given(cg, i, ordered, threshold, mid)[0] == want_met:
            b = mid
        else:
            a = mid
    boundary = (a + b) / 2
    return (boundary, side, goal_met_given(cg, i, ordered, threshold, b)[1]), best


def goal_flips(
    rule: str,
    parts: Sequence[Part],
    thresholds: dict[str, float],
    candidates: dict[str, tuple[np.ndarray, tuple[float, str], float]],
    *,
    seed: int,
    goal_is_met: bool,
) -> GoalFlips:
    """For each candidate part: where its outcome flips the goal's status (see the module docstring).

    Args:
        rule, parts, thresholds, seed: exactly as given to ``goal_verdict`` for the goal.
        candidates: part id -> (the indicator's predictive draws, its threshold, its point
            forecast): the target indicators with one predictive distribution each.
        goal_is_met: the goal's current status is 'met' (look for where it stops being met);
            otherwise look for where it becomes met.
    """
    flips: list[Flip] = []
    skipped: dict[str, str] = {}
    if not any(p.id in candidates and p.met is not None for p in parts):
        skipped = {
            p.id: "not_assessable" if p.met is None else "no_single_distribution" for p in parts
        }
        return GoalFlips("not_met_any" if goal_is_met else "met", (), None, skipped)
    cg = ConditionedGoal(rule, parts, thresholds, seed=seed)
    for part in parts:
        if part.id not in candidates:
            skipped[part.id] = "not_assessable" if part.met is None else "no_single_distribution"
            continue
        i = cg.index(part.id)
        draws, threshold, point = candidates[part.id]
        if i is None:
            skipped[part.id] = "not_assessable"
            continue
        ordered = np.sort(np.asarray(draws, dtype=float))
        found, best = _scan(cg, i, ordered, threshold, point, want_met=not goal_is_met)
        if found is None:
            flips.append(Flip(part.id, False, None, None, None, None, point, best))
            continue
        b, side, p_at = found
        share = float(np.mean(ordered > b) if side == ">" else np.mean(ordered < b))
        flips.append(Flip(part.id, True, b, side, share, p_at, point, best))
    reach = [f for f in flips if f.reachable]
    deciding = max(reach, key=lambda f: f.p_flip_side or 0.0).part_id if reach else None
    return GoalFlips("not_met_any" if goal_is_met else "met", tuple(flips), deciding, skipped)
