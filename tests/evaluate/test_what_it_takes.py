"""What it takes: the requirement per indicator against its definition, and the goal flips against
the Gaussian copula's closed form and against the goal's own verdict."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ks_analysis.evaluate.status import (
    CORRELATION_SHRINK,
    Part,
    goal_verdict,
    part_from_forecast,
)
from ks_analysis.evaluate.what_it_takes import (
    ConditionedGoal,
    _quantile_of,
    goal_flips,
    goal_met_given,
    requirement,
)

NAN = np.nan
TH = {"met": 0.75, "not_met": 0.25}


def _months(*vals: float) -> np.ndarray:
    return np.asarray(list(vals) + [NAN] * (12 - len(vals)), dtype=float)


# --------------------------------------------------------------------------- requirement


def test_sum_remainder_plus_known_is_the_target_and_history_counts_the_same_months() -> None:
    # 50 dwellings a year; 30 known January-August; the same September-December sums
    # in earlier years were 10, 20, 25 and (last year) 22.
    hist = {
        2015: np.r_[np.full(8, 5.0), [2, 3, 2, 3]],  # Sep-Dec: 10
        2016: np.r_[np.full(8, 5.0), [5, 5, 5, 5]],  # 20
        2017: np.r_[np.full(8, 5.0), [5, 5, 5, 10]],  # 25
        2018: np.r_[np.full(8, 5.0), [4, 6, 6, 6]],  # 22
    }
    cur = _months(5, 5, 5, 5, 2, 3, 3, 2)
    req = requirement(
        hist, cur, 2019, "sum", 50.0, ">=", target_type="at_least", last_value=62.0,
        integer=True, nonnegative=True,
    )  # fmt: skip
    assert req.kind == "remainder_sum"
    assert req.known == 30.0
    assert req.required + req.known == req.threshold == 50.0
    assert req.remaining_periods == (8, 9, 10, 11)
    assert req.last_year_same == 22.0
    assert req.history == {2015: 10.0, 2016: 20.0, 2017: 25.0, 2018: 22.0}
    assert (req.n_achieved, req.n_years) == (3, 4)  # 20, 25 and 22 reach 20
    assert not req.unprecedented


def test_a_strict_target_on_whole_counts_is_restated_as_the_next_whole_number() -> None:
    hist = {2018: np.r_[np.full(12, 10.0)]}
    cur = _months(*([10.0] * 8))
    # increase: the year must exceed 120 (last year's), i.e. be at least 121
    req = requirement(
        hist, cur, 2019, "sum", 120.0, ">", target_type="increase", last_value=120.0,
        integer=True, nonnegative=True,
    )  # fmt: skip
    assert (req.threshold, req.side) == (121.0, ">=")
    assert req.required == 41.0 and req.required + req.known == 121.0


def test_a_remainder_never_seen_in_the_history_is_unprecedented() -> None:
    hist = {y: np.full(12, 1.0) for y in range(2009, 2019)}  # 4 a year Sep-Dec, ten years
    cur = _months(*([1.0] * 8))
    req = requirement(
        hist, cur, 2019, "sum", 40.0, ">=", target_type="at_least", last_value=12.0,
        integer=True, nonnegative=True,
    )  # fmt: skip
    assert req.required == 32.0
    assert (req.n_achieved, req.n_years) == (0, 10)
    assert req.unprecedented


def test_history_is_the_last_ten_years_only() -> None:
    hist = {y: np.full(12, 1.0) for y in range(2000, 2019)}
    req = requirement(
        hist, _months(*([1.0] * 8)), 2019, "sum", 12.0, ">=", target_type="at_least",
        last_value=12.0, integer=True, nonnegative=True,
    )  # fmt: skip
    assert sorted(req.history) == list(range(2009, 2019))


def test_mean_needs_the_average_of_the_remaining_months() -> None:
    # yearly mean at most 100; eight months at 110 known: the last four must average 80
    hist = {2018: np.r_[np.full(8, 100.0), [90, 85, 80, 75]]}
    cur = _months(*([110.0] * 8))
    req = requirement(hist, cur, 2019, "mean", 100.0, "<=", target_type="at_most", last_value=97.0)
    assert req.kind == "remainder_mean"
    assert req.required == pytest.approx(80.0)
    assert (req.required * 4 + req.known) / 12 == pytest.approx(100.0)
    assert req.last_year_same == pytest.approx(82.5)
    assert (req.n_achieved, req.n_years) == (0, 1)


def test_a_point_value_with_a_change_target_compares_year_on_year_changes() -> None:
    # decrease: this year must be below last year's 3.0; the history fell in 2 of 4 changes
    levels = {2014: 4.0, 2015: 3.5, 2016: 3.6, 2017: 3.2, 2018: 3.0}
    hist = {y: np.asarray([v]) for y, v in levels.items()}
    req = requirement(
        hist, np.asarray([NAN]), 2019, "point", 3.0, "<", target_type="decrease", last_value=3.0
    )
    assert req.kind == "value" and req.required == 3.0
    assert req.compare == "change" and req.required_compare == 0.0
    assert req.history == pytest.approx({2015: -0.5, 2016: 0.1, 2017: -0.4, 2018: -0.2})
    assert (req.n_achieved, req.n_years) == (3, 4)
    assert req.last_year_same == 3.0


def test_a_known_part_that_already_reaches_the_target_is_said_so() -> None:
    req = requirement(
        {2018: np.full(12, 1.0)}, _months(*([10.0] * 8)), 2019, "sum", 50.0, ">=",
        target_type="at_least", last_value=12.0, integer=True, nonnegative=True,
    )  # fmt: skip
    assert req.already_met and not req.unprecedented


# --------------------------------------------------------------------------- goal flips


def _normal_part(pid: str, history: dict[int, float], n: int = 4000) -> tuple[Part, np.ndarray]:
    """A part whose predictive distribution is standard normal (exact quantiles), met above 0."""
    draws = stats.norm.ppf((np.arange(n) + 0.5) / n)
    ordered = np.sort(draws)

    def met(u: np.ndarray) -> np.ndarray:
        idx = np.minimum((u * n).astype(int), n - 1)
        return ordered[idx] > 0

    return Part(pid, "uncertain", met, history), draws


def _correlated_histories(rho_target: float, years: int = 41) -> tuple[dict, dict, float]:
    """Two yearly histories whose year-on-year changes correlate; and the shrunk correlation
    the copula uses for them, computed here from its documented formula r * n / (n + K)."""
    rng = np.random.default_rng(7)
    a = rng.normal(size=years - 1)
    b = rho_target * a + np.sqrt(1 - rho_target**2) * rng.normal(size=years - 1)
    ha = dict(zip(range(1980, 1980 + years), np.r_[0, np.cumsum(a)], strict=True))
    hb = dict(zip(range(1980, 1980 + years), np.r_[0, np.cumsum(b)], strict=True))
    n = years - 1
    rho = float(np.corrcoef(a, b)[0, 1]) * n / (n + CORRELATION_SHRINK)
    return ha, hb, rho


def test_the_flip_boundary_matches_the_gaussian_copula_closed_form() -> None:
    # all_met over two standard-normal indicators met above 0 with copula correlation rho:
    # P(rule | X1 = v) = 1[v > 0] * Phi(rho v / sqrt(1 - rho^2)), which reaches 0.75 at
    # v* = Phi^-1(0.75) sqrt(1 - rho^2) / rho.
    ha, hb, rho = _correlated_histories(0.8)
    p1, d1 = _normal_part("A", ha)
    p2, _ = _normal_part("B", hb)
    expected = stats.norm.ppf(0.75) * np.sqrt(1 - rho**2) / rho
    res = goal_flips(
        "all_met", [p1, p2], TH, {"A": (d1, (0.0, ">"), 0.0)}, seed=3, goal_is_met=False
    )
    (flip,) = [f for f in res.flips if f.part_id == "A"]
    assert flip.reachable and flip.flip_side == ">"
    # Monte Carlo error of P from 5 000 draws (~0.6 points) moves v* by about 0.03
    assert flip.boundary == pytest.approx(expected, abs=0.08)
    assert res.deciding == "A"


def test_without_correlation_the_flip_is_the_indicators_own_threshold_or_nothing() -> None:
    # independent parts: fixing A only decides A; B alone is met with P 0.5, so under all_met
    # no value of A makes the goal met, while under any_met A meeting its target does.
    p1, d1 = _normal_part("A", {})
    p2, _ = _normal_part("B", {})
    cand = {"A": (d1, (0.0, ">"), -0.3)}
    none = goal_flips("all_met", [p1, p2], TH, cand, seed=1, goal_is_met=False)
    assert not none.flips[0].reachable and none.deciding is None
    anyr = goal_flips("any_met", [p1, p2], TH, cand, seed=1, goal_is_met=False)
    assert anyr.flips[0].reachable
    assert anyr.flips[0].boundary == pytest.approx(0.0, abs=1e-6)


def test_across_the_boundary_the_goal_status_flips_and_short_of_it_does_not() -> None:
    ha, hb, _ = _correlated_histories(0.8)
    p1, d1 = _normal_part("A", ha)
    p2, _ = _normal_part("B", hb)
    res = goal_flips(
        "all_met", [p1, p2], TH, {"A": (d1, (0.0, ">"), 0.0)}, seed=3, goal_is_met=False
    )
    b = res.flips[0].boundary
    assert b is not None
    cg = ConditionedGoal("all_met", [p1, p2], TH, seed=3)
    ordered = np.sort(d1)
    step = 0.02
    assert goal_met_given(cg, 0, ordered, (0.0, ">"), b + step)[0]
    assert not goal_met_given(cg, 0, ordered, (0.0, ">"), b - step)[0]
    assert not goal_met_given(cg, 0, ordered, (0.0, ">"), 0.5 * b)[0]


def test_conditioning_keeps_the_goals_own_draws() -> None:
    # Averaged over the indicator's own distribution, P(rule | X_A = v) is the goal's P.
    ha, hb, _ = _correlated_histories(0.5)
    p1, d1 = _normal_part("A", ha)
    p2, _ = _normal_part("B", hb)
    verdict = goal_verdict("all_met", [p1, p2], TH, seed=11)
    cg = ConditionedGoal("all_met", [p1, p2], TH, seed=11)
    ordered = np.sort(d1)
    vs = np.quantile(ordered, (np.arange(200) + 0.5) / 200)
    mean_p = np.mean([goal_met_given(cg, 0, ordered, (0.0, ">"), v)[1] for v in vs])
    assert verdict.p_met is not None
    assert mean_p == pytest.approx(verdict.p_met, abs=0.02)


def test_a_goal_that_is_met_says_where_it_stops_being_met() -> None:
    # any_met over A (P 0.98) and B: the goal is met; it stops being met when A falls under
    # a value where B alone no longer carries it.
    n = 4000
    shifted = stats.norm.ppf((np.arange(n) + 0.5) / n) + 2.0
    ordered = np.sort(shifted)

    def met_a(u: np.ndarray) -> np.ndarray:
        return ordered[np.minimum((u * n).astype(int), n - 1)] > 0

    pa = Part("A", "met", met_a, {})
    pb, _ = _normal_part("B", {})
    assert goal_verdict("any_met", [pa, pb], TH, seed=5).status == "met"
    res = goal_flips(
        "any_met", [pa, pb], TH, {"A": (shifted, (0.0, ">"), 2.0)}, seed=5, goal_is_met=True
    )
    flip = res.flips[0]
    assert flip.reachable and flip.flip_side == "<"
    assert flip.boundary == pytest.approx(0.0, abs=1e-6)
    assert flip.p_flip_side == pytest.approx(stats.norm.cdf(-2.0), abs=0.005)


def test_part_from_forecast_draws_are_what_the_flip_scans() -> None:
    # The report builds the parts with part_from_forecast; the flip reads the same draws.
    samples = stats.norm.ppf((np.arange(2000) + 0.5) / 2000) + 1.0
    fc = SimpleNamespace(
        basis="forecast", point=1.0, samples=samples, history=pd.Series({2017: 1.0, 2018: 1.2})
    )
    part = part_from_forecast("A", fc, (1.2, "<"), "uncertain")  # type: ignore[arg-type]
    res = goal_flips(
        "all_met", [part], TH, {"A": (samples, (1.2, "<"), 1.0)}, seed=2, goal_is_met=False
    )
    assert res.flips[0].boundary == pytest.approx(1.2, abs=1e-6)
    assert res.flips[0].flip_side == "<"


@pytest.mark.parametrize("rule", ["all_met", "majority_met", "any_met"])
def test_the_scan_over_many_values_gives_exactly_what_one_value_at_a_time_gives(rule: str) -> None:
    """The grid scan's one pass over the draws (an outcome part, an unskilled part and a part
    without data among them) equals P(rule | X_A = v) worked out value by value, to the bit."""
    ha, hb, _ = _correlated_histories(0.6)
    p1, d1 = _normal_part("A", ha)
    p2, _ = _normal_part("B", hb)
    hit = rule != "any_met"  # an outcome that leaves the rule open
    p3 = Part("C", "met", lambda u: np.full(u.shape, hit), {}, outcome=True)
    p4, _ = _normal_part("D", ha)
    p4 = Part("D", "uncertain", p4.met, ha, unskilled=True)
    p5 = Part("E", "not_assessable", None, {})
    cg = ConditionedGoal(rule, [p1, p2, p3, p4, p5], TH, seed=5)
    ordered = np.sort(d1)
    vs = np.quantile(ordered, np.linspace(0.01, 0.99, 37))
    met_i = vs > 0.0
    us = np.array([_quantile_of(ordered, v) for v in vs])
    lo, hi = cg.p_rule_many(0, met_i, us)
    one = [cg.p_rule(0, bool(m), float(u)) for m, u in zip(met_i, us, strict=True)]
    assert lo.tolist() == [a for a, _ in one]
    assert hi.tolist() == [b for _, b in one]
    assert len(set(lo.tolist()) | set(hi.tolist())) > 3  # the values move P: no constant
