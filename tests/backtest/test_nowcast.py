"""The backtest family 'nowcast': its cells on the real quarterly data, and its interval and effective-n helpers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from ks_analysis.backtest.nowcast import (
    block_bootstrap_ratio,
    effective_n,
    nowcast_cells,
    nowcast_indicators,
    nowcast_records,
)


@pytest.fixture(scope="module")
def cells(real_nowcast_tidy: pd.DataFrame) -> dict[str, dict[str, Any]]:
    records = nowcast_records(real_nowcast_tidy, nowcast_indicators())
    return {c["cutoff"]: c for c in nowcast_cells(records)}


@pytest.mark.real
def test_nowcast_cells_meet_issue_12_targets_at_t2(cells: dict[str, dict[str, Any]]) -> None:
    """At T2 the bridge beats last year's value: population <= 0.60, unemployment <= 0.80 with the
    90 % block-bootstrap upper bound below 1, Brier skill >= 0.30 (2020 apart)."""
    t2 = cells["T2"]
    assert 2020 not in t2["years"] and t2["shock_years"]["n"] > 0
    by = t2["by_indicator"]
    assert by["N01951"]["mase_vs_naive_annual"] <= 0.60
    for kpi in ("N03920", "N03926"):
        assert by[kpi]["mase_vs_naive_annual"] <= 0.80
        assert by[kpi]["mase_vs_naive_annual_ci90"][1] < 1
    assert t2["brier_skill"] >= 0.30


@pytest.mark.real
def test_nowcast_cells_at_t1_and_what_every_cell_reports(cells: dict[str, dict[str, Any]]) -> None:
    """At T1 the unemployment KPIs reach <= 0.90 x naive; every cell and KPI carries n, effective n, a CI and the fallbacks."""
    by = cells["T1"]["by_indicator"]
    for kpi in ("N03920", "N03926"):
        assert by[kpi]["mase_vs_naive_annual"] <= 0.90
    # no quarter of new firms is out by 30 April (about 120 days after the quarter): all fall back
    assert by["N00999"]["fallback_share"] == 1.0
    assert any("no sub-period" in r for r in cells["T1"]["fallback_reasons"])
    for c in cells.values():
        assert 0 < c["effective_n"] < c["n"]
        lo, hi = c["mase_vs_naive_annual_ci90"]
        assert lo <= c["mase_vs_naive_annual"] <= hi
        assert {"coverage80_calibrated", "coverage95_calibrated", "n_calibrated"} <= set(c)
        last5 = c["coverage_calibrated_last5"]
        assert len(last5["years"]) == 5 and 2020 not in last5["years"]
        assert set(last5["years"]) <= set(c["years"]) and last5["years"] == sorted(last5["years"])
        assert 0 < last5["n"] < c["n_calibrated"]
        assert 0 <= last5["coverage80"] <= last5["coverage95"] <= 1


@pytest.mark.real
def test_nowcast_intervals_widened_for_a_new_year_cover_and_say_what_it_costs(
    cells: dict[str, dict[str, Any]],
) -> None:
    """The bridge's residuals widened for the year's common shock: the 80 % / 95 % intervals of
    both cutoffs cover 75-85 % / 91-98 % over all years (2020 apart), and each cell gives the
    interval score against the unwidened residual quantiles with its year-block interval."""
    for c in cells.values():
        assert 0.75 <= c["coverage80_calibrated"] <= 0.85
        assert 0.91 <= c["coverage95_calibrated"] <= 0.98
        lo, hi = c["interval_score_vs_unwidened_ci90"]
        assert lo <= c["interval_score_vs_unwidened"] <= hi
        assert c["interval_score80"] > 0 and c["interval_score80_unwidened"] > 0


def test_block_bootstrap_resamples_whole_years() -> None:
    """The ratio is mean/mean; with one year's errors all large the interval is wide, and it holds the ratio."""
    years = pd.Series(np.repeat(np.arange(2010, 2020), 10))
    den = pd.Series(np.ones(100))
    num = pd.Series(np.where(years == 2015, 5.0, 0.5))
    ratio, ci = block_bootstrap_ratio(num, den, years)
    assert ratio == pytest.approx(0.95)
    assert ci is not None and ci[0] < 0.6 < ratio < ci[1]
    _, none = block_bootstrap_ratio(num[:20], den[:20], years[:20])
    assert none is None  # two years are too few for an interval


def test_effective_n_counts_shared_year_shocks_once() -> None:
    """Independent errors keep n; errors shared within KPI x year clusters count about once per cluster."""
    rng = np.random.default_rng(3)
    years = np.repeat(np.arange(2000, 2020), 14)
    base = pd.DataFrame({"indicator": "K", "year": years, "point": 0.0, "scale": 1.0})
    indep = base.assign(actual=rng.normal(size=len(years)))
    assert effective_n(indep) > 0.7 * len(years)
    shared = base.assign(
        actual=np.repeat(rng.normal(size=20), 14) + rng.normal(0, 0.01, len(years))
    )
    assert effective_n(shared) < 25
