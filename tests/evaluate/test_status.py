"""Tests of evaluate.py: P(met) direction, outcomes, statuses and roll-up rules."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ks_analysis.evaluate.status import (
    Part,
    goal_verdict,
    indicator_status,
    p_met,
    part_from_forecast,
)
from ks_analysis.forecast.engine import Forecast
from ks_analysis.goals.catalogue import Indicator, Target

TH = {"met": 0.75, "not_met": 0.25}


def _fc(
    point: float, samples: np.ndarray | None, last: float = 10.0, basis: str = "forecast"
) -> Forecast:
    return Forecast(
        "0665", "X", "T", 2019, dt.date(2019, 4, 30), dt.date(2019, 4, 30), "M", "mean", basis, 3, 12, 9.0, point,
        point - 1, point + 1, point - 2, point + 2, "ytd_snaive", 0, (), 2018, last, pd.Series(dtype=float), samples,
    )  # fmt: skip


def _ind(ttype: str, direction: str, value: float | None = None, tol: float = 0.0) -> Indicator:
    return Indicator(
        "X", "t", "%", "M", "mean", direction, "target", Target(ttype, value, tolerance=tol)
    )


def test_p_met_decrease_for_lower_is_better() -> None:
    """Forecast draws mostly below last year: a decrease target is likely met."""
    s = np.random.default_rng(0).normal(9.0, 0.5, 4000)
    assert p_met(_fc(9.0, s), _ind("decrease", "lower_is_better")) > 0.95
    assert p_met(_fc(9.0, s), _ind("increase", "higher_is_better")) < 0.05


def test_better_than_follows_direction() -> None:
    """'better_than' a reference is likely met for a higher forecast when higher is better, unlikely when lower is; no reference gives None."""
    s = np.random.default_rng(0).normal(5.0, 0.5, 4000)
    hi = p_met(_fc(5.0, s), _ind("better_than", "higher_is_better"), reference=4.0)
    lo = p_met(_fc(5.0, s), _ind("better_than", "lower_is_better"), reference=4.0)
    assert hi > 0.95 and lo < 0.05
    assert p_met(_fc(5.0, s), _ind("better_than", "higher_is_better")) is None  # no reference


def test_at_least_at_most_and_tolerance() -> None:
    """at_least at the target is about a coin flip, at_most well below the target is met, and a tolerance gives slack to 'increase'."""
    s = np.random.default_rng(0).normal(50.0, 5.0, 4000)
    assert p_met(_fc(50, s), _ind("at_least", "higher_is_better", 50)) == pytest.approx(
        0.5, abs=0.05
    )
    assert p_met(_fc(50, s), _ind("at_most", "lower_is_better", 60)) > 0.95
    # tolerance gives slack: 10 -> 9.9 counts as no decrease, but is within a 0.2 tolerance for 'increase'
    assert p_met(_fc(9.9, np.full(10, 9.9)), _ind("increase", "higher_is_better", tol=0.2)) == 1.0


def test_outcome_gives_zero_or_one() -> None:
    """An outcome meets the goal with probability 1 or 0; no basis gives None."""
    assert p_met(_fc(8.0, None, basis="outcome"), _ind("decrease", "lower_is_better")) == 1.0
    assert p_met(_fc(12.0, None, basis="outcome"), _ind("decrease", "lower_is_better")) == 0.0
    assert p_met(_fc(12.0, None, basis="none"), _ind("decrease", "lower_is_better")) is None


def test_status_thresholds() -> None:
    """Probabilities map to met (from 0.75), uncertain, not_met (from 0.25 down); None to not_assessable.
    An indicator is never 'partly' met."""
    assert indicator_status(0.8, TH) == "met"
    assert indicator_status(0.75, TH) == "met"
    assert indicator_status(0.5, TH) == "uncertain"
    assert indicator_status(0.74, TH) == "uncertain"
    assert indicator_status(0.25, TH) == "not_met"
    assert indicator_status(None, TH) == "not_assessable"


def _part(name: str, p: float, hist: dict[int, float] | None = None) -> Part:
    """A part met in a share p of the quantiles (met when u < p): P(met) = p exactly."""
    status = indicator_status(p, TH)
    return Part(name, status, lambda u: u < p, hist or {})


def _outcome_part(name: str, hit: bool) -> Part:
    return Part(
        name, "met" if hit else "not_met", lambda u: np.full(u.shape, hit), {}, outcome=True
    )


def test_goal_p_is_the_probability_of_the_rule_from_joint_draws() -> None:
    """Two independent parts with P 0.9: all_met is 0.81, any_met 0.99, majority (both of 2) 0.81."""
    parts = [_part("a", 0.9), _part("b", 0.9)]
    v = goal_verdict("all_met", parts, TH, seed=1)
    assert v.p_met == pytest.approx(0.81, abs=0.02) and v.status == "met"
    assert goal_verdict("any_met", parts, TH, seed=1).p_met == pytest.approx(0.99, abs=0.01)
    assert goal_verdict("majority_met", parts, TH, seed=1).p_met == pytest.approx(0.81, abs=0.02)


def test_correlated_parts_are_drawn_together() -> None:
    """Parts whose yearly changes moved together are drawn together: P(all met) rises toward the
    smaller P (0.8) from the independent product (0.64)."""
    rng = np.random.default_rng(3)
    steps = rng.normal(0, 1, 30)
    h1 = {2000 + i: float(x) for i, x in enumerate(np.cumsum(steps))}
    h2 = {2000 + i: float(x) for i, x in enumerate(np.cumsum(steps + rng.normal(0, 0.05, 30)))}
    indep = goal_verdict("all_met", [_part("a", 0.8), _part("b", 0.8)], TH, seed=2).p_met
    joint = goal_verdict("all_met", [_part("a", 0.8, h1), _part("b", 0.8, h2)], TH, seed=2).p_met
    assert indep == pytest.approx(0.64, abs=0.02)
    assert joint is not None and joint > 0.72


def test_partly_met_needs_confident_parts_on_both_sides() -> None:
    """2 parts likely met and 1 likely not: partly met; three coin flips: uncertain; one likely
    not met and nothing met: not met."""
    v = goal_verdict("all_met", [_part("a", 0.95), _part("b", 0.9), _part("c", 0.1)], TH, seed=1)
    assert v.status == "partly_met" and v.p_met is not None and v.p_met < 0.25
    v = goal_verdict("all_met", [_part("a", 0.5), _part("b", 0.5), _part("c", 0.5)], TH, seed=1)
    assert v.status == "not_met"  # P(all three) = 0.125: the rule fails though no part is sure
    assert goal_verdict("all_met", [_part("a", 0.6)], TH, seed=1).status == "uncertain"
    assert goal_verdict("all_met", [_part("a", 0.1)], TH, seed=1).status == "not_met"


def test_outcome_goal_has_p_zero_or_one_and_a_share() -> None:
    """At outcome basis P is 1 or 0; 2 of 3 met under all_met is 'delvis uppfyllt' with share 2/3."""
    v = goal_verdict(
        "all_met",
        [_outcome_part("a", True), _outcome_part("b", True), _outcome_part("c", False)],
        TH,
    )
    assert (v.basis, v.status, v.p_met, v.share_met) == (
        "outcome",
        "partly_met",
        0.0,
        pytest.approx(2 / 3),
    )
    v = goal_verdict(
        "majority_met",
        [_outcome_part("a", True), _outcome_part("b", True), _outcome_part("c", False)],
        TH,
    )
    assert (v.status, v.p_met) == ("met", 1.0)


def test_unassessable_parts_count_both_ways() -> None:
    """A part without data counts as met and as not met: if that decides, the goal cannot be
    assessed (with bounds); if the known parts already fail the rule, the goal is not met."""
    missing = Part("x", "not_assessable", None, {})
    v = goal_verdict("all_met", [_part("a", 0.9), missing], TH, seed=1)
    assert v.status == "not_assessable" and v.p_met is None
    assert (
        v.p_bounds is not None
        and v.p_bounds[0] == 0.0
        and v.p_bounds[1] == pytest.approx(0.9, abs=0.02)
    )
    v = goal_verdict("all_met", [_part("a", 0.05), missing], TH, seed=1)
    assert v.status == "not_met" and v.p_met is not None and v.p_met <= 0.25
    v = goal_verdict("any_met", [_part("a", 0.95), missing], TH, seed=1)
    assert v.status == "met" and v.p_met == pytest.approx(0.95, abs=0.02)
    assert goal_verdict("all_met", [missing], TH).status == "not_assessable"
    with pytest.raises(ValueError, match="unknown roll-up rule"):
        goal_verdict("mean_p", [_part("a", 0.5)], TH)


def test_part_from_forecast_reproduces_p_met() -> None:
    """A forecast's part, drawn at uniform quantiles, is met as often as p_met says."""
    s = np.random.default_rng(0).normal(9.5, 0.5, 4000)
    fc = _fc(9.5, s)
    ind = _ind("decrease", "lower_is_better")
    part = part_from_forecast("X", fc, (10.0, "<"), "met")
    assert part.met is not None
    u = np.random.default_rng(1).random(20000)
    assert part.met(u).mean() == pytest.approx(p_met(fc, ind), abs=0.015)


def test_change_target_needs_year_minus_one() -> None:
    """At 30 April a lagged KPI's year - 1 is not yet published: an increase/decrease target is not
    judged against an older year (P None, flag reference_year_unknown); known year - 1 is the reference."""
    from ks_analysis.forecast.engine import forecast_indicator

    rows = [
        {"municipality": "0665", "indicator": "N00001", "gender": "T", "frequency": "Y", "period": str(y), "period_end": pd.Timestamp(y, 12, 31),
         "value": 10.0 + (y % 3), "unit": "%", "source": "t", "source_file": "t.csv", "source_row": y, "published": pd.Timestamp(y + 1, 6, 1)}
        for y in range(2008, 2019)
    ]  # fmt: skip
    tidy = pd.DataFrame(rows)
    ind = Indicator(
        "N00001", "t", "%", "Y", "point", "lower_is_better", "target", Target("decrease")
    )
    t1 = forecast_indicator(
        tidy,
        municipality="0665",
        indicator=ind,
        gender="T",
        year=2019,
        cutoff=dt.date(2019, 4, 30),
        as_of=dt.date(2019, 4, 30),
    )
    assert (
        t1.last_year == 2017 and t1.reference_year is None and "reference_year_unknown" in t1.flags
    )
    assert p_met(t1, ind) is None and indicator_status(p_met(t1, ind), TH) == "not_assessable"
    t2 = forecast_indicator(
        tidy,
        municipality="0665",
        indicator=ind,
        gender="T",
        year=2019,
        cutoff=dt.date(2019, 8, 31),
        as_of=dt.date(2019, 8, 31),
    )
    assert (
        t2.reference_year == 2018
        and "reference_year_unknown" not in t2.flags
        and p_met(t2, ind) is not None
    )
    level = Indicator(
        "N00001", "t", "%", "Y", "point", "lower_is_better", "target", Target("at_most", 12.0)
    )
    t1_level = forecast_indicator(
        tidy,
        municipality="0665",
        indicator=level,
        gender="T",
        year=2019,
        cutoff=dt.date(2019, 4, 30),
        as_of=dt.date(2019, 4, 30),
    )
    assert "reference_year_unknown" not in t1_level.flags and p_met(t1_level, level) is not None


def _unskilled(name: str, p: float) -> Part:
    """A part whose forecast says P = p but whose kind showed no skill in the backtest."""
    return Part(name, "uncertain", lambda u: u < p, {}, unskilled=True)


def test_a_goal_resting_on_unskilled_parts_is_uncertain_without_p() -> None:
    """Mål 2 on the real data at 2022-T2: three target indicators without demonstrated skill whose
    draws multiply to P 13 % must not read 'Bedöms inte uppfyllas'. The verdict is uncertain with
    no p_met; the draws' P is kept as p_model and the bounds count each unskilled part both ways."""
    parts = [_unskilled("a", 0.41), _unskilled("b", 0.56), _unskilled("c", 0.42)]
    v = goal_verdict("all_met", parts, TH, seed=1)
    assert (v.status, v.p_met, v.reason_code) == ("uncertain", None, "parts_unskilled")
    assert v.p_bounds == (0.0, 1.0) and v.n_unskilled == 3
    assert v.p_model == pytest.approx(0.41 * 0.56 * 0.42, abs=0.02)
    # The same parts with skill: the draws are evidence and the rule fails.
    skilled = [_part("a", 0.41), _part("b", 0.56), _part("c", 0.42)]
    assert goal_verdict("all_met", skilled, TH, seed=1).status == "not_met"


def test_skilled_parts_still_decide_a_goal_with_unskilled_ones() -> None:
    """A verdict that holds whatever the unskilled parts do stays firm: all_met with a skilled part
    surely missed is not met; any_met with a skilled part surely met is met; mixed confident parts
    are partly met. Each with the bounds that show it does not rest on the unskilled part."""
    v = goal_verdict("all_met", [_part("a", 0.1), _unskilled("b", 0.9)], TH, seed=1)
    assert v.status == "not_met" and v.p_bounds is not None and v.p_bounds[1] <= 0.25
    v = goal_verdict("any_met", [_part("a", 0.9), _unskilled("b", 0.1)], TH, seed=1)
    assert v.status == "met" and v.p_bounds is not None and v.p_bounds[0] >= 0.75
    v = goal_verdict(
        "all_met", [_part("a", 0.95), _part("b", 0.05), _unskilled("c", 0.5)], TH, seed=1
    )
    assert v.status == "partly_met"
    # A skilled part at 0.9 and an unskilled one at 0.95: P 0.86 from the draws, but the goal
    # rests on the unskilled part, so it is not 'met'.
    v = goal_verdict("all_met", [_part("a", 0.9), _unskilled("b", 0.95)], TH, seed=1)
    assert (v.status, v.p_met) == ("uncertain", None)
    assert v.p_bounds == (0.0, pytest.approx(0.9, abs=0.02))


def test_missing_data_that_decides_still_makes_the_goal_not_assessable() -> None:
    """A part without data that would decide the rule whatever the draws say keeps the goal
    not assessable, also next to an unskilled part; an outcome is never 'unskilled'."""
    missing = Part("x", "not_assessable", None, {})
    v = goal_verdict("all_met", [_part("a", 0.9), _unskilled("b", 0.9), missing], TH, seed=1)
    assert v.status == "not_assessable" and v.reason_code == "parts_not_assessable"
    hit = Part("o", "met", lambda u: np.full(u.shape, True), {}, outcome=True, unskilled=True)
    v = goal_verdict("all_met", [hit, _part("a", 0.9)], TH, seed=1)
    assert v.status == "met" and v.n_unskilled == 0


def test_known_outcomes_that_decide_the_rule_are_said_to() -> None:
    """An outcome that misses an all_met goal decides it whatever the forecasts say; an outcome
    that meets it does not."""
    miss = Part("o", "not_met", lambda u: np.full(u.shape, False), {}, outcome=True)
    hit = Part("h", "met", lambda u: np.full(u.shape, True), {}, outcome=True)
    v = goal_verdict("all_met", [miss, _part("a", 0.6)], TH, seed=1)
    assert v.decided_by_outcomes and v.p_met == 0.0 and v.n_not_met_outcome == 1
    v = goal_verdict("all_met", [hit, _part("a", 0.9)], TH, seed=1)
    assert not v.decided_by_outcomes and v.n_met_outcome == 1
    v = goal_verdict("any_met", [hit, _part("a", 0.1)], TH, seed=1)
    assert v.decided_by_outcomes and v.p_met == 1.0
