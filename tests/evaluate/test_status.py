"""Tests of evaluate.py: P(met) direction, outcomes, statuses and roll-up rules."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ks_analysis.evaluate.status import indicator_status, p_met, rollup
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
    """Probabilities map to met (from 0.75), partly_met, not_met (from 0.25 down) and None to not_assessable."""
    assert indicator_status(0.8, TH) == "met"
    assert indicator_status(0.75, TH) == "met"
    assert indicator_status(0.5, TH) == "partly_met"
    assert indicator_status(0.25, TH) == "not_met"
    assert indicator_status(None, TH) == "not_assessable"


def test_rollup_rules() -> None:
    """Roll-ups: mean_p averages, min_p takes the worst, all_met multiplies; all unassessable gives none, an unknown rule is a ValueError."""
    assert rollup("mean_p", [0.9, 0.7], ["met", "partly_met"], TH) == ("met", pytest.approx(0.8))
    assert rollup("min_p", [0.9, 0.2], ["met", "not_met"], TH)[0] == "not_met"
    status, p = rollup("all_met", [0.9, 0.9], ["met", "met"], TH)
    assert status == "met" and p == pytest.approx(0.81)
    assert rollup("mean_p", [None], ["not_assessable"], TH) == ("not_assessable", None)
    with pytest.raises(ValueError, match="unknown roll-up rule"):
        rollup("max", [0.5], ["partly_met"], TH)


def test_rollup_with_an_unassessable_target_indicator() -> None:
    """all_met / min_p: a target indicator without P may be the one that fails, so the goal is at
    best partly met; mean_p keeps the mean of the known ones; none known: not assessable."""
    status, p = rollup("all_met", [0.95, None], ["met", "not_assessable"], TH)
    assert status == "partly_met" and p == pytest.approx(0.95)
    status, p = rollup("min_p", [0.9, None], ["met", "not_assessable"], TH)
    assert status == "partly_met" and p == pytest.approx(0.9)
    assert rollup("all_met", [0.1, None], ["not_met", "not_assessable"], TH)[0] == "not_met"
    assert rollup("min_p", [0.1, None], ["not_met", "not_assessable"], TH)[0] == "not_met"
    assert rollup("mean_p", [0.9, None], ["met", "not_assessable"], TH) == (
        "met",
        pytest.approx(0.9),
    )
    assert rollup("all_met", [None, None], ["not_assessable", "not_assessable"], TH) == (
        "not_assessable",
        None,
    )


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
