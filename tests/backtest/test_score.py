"""Tests of backtest/score.py: split-conformal intervals from earlier years only, summary cells and goals."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ks_analysis.backtest import replay as bt

RecordsFactory = Callable[..., pd.DataFrame]


def test_conformal_intervals_cover_at_their_level(make_records: RecordsFactory) -> None:
    """With stationary errors, calibrated 80 % / 95 % intervals cover about 80 % / 95 % in later years."""
    s = bt.score_backtest(make_records())
    later = s[(s["year"] >= 2013) & (s["method"] == "ytd_snaive")]
    cov80 = ((later["actual"] >= later["lo80"]) & (later["actual"] <= later["hi80"])).mean()
    cov95 = ((later["actual"] >= later["lo95"]) & (later["actual"] <= later["hi95"])).mean()
    assert 0.74 <= cov80 <= 0.86 and 0.92 <= cov95 <= 0.985
    assert (later["lo95"] <= later["lo80"]).all() and (later["hi80"] <= later["hi95"]).all()
    assert s[s["year"] == 2010][
        "flagged"
    ].all()  # the first year has no earlier errors: reference shape


def test_calibration_uses_only_earlier_years(make_records: RecordsFactory) -> None:
    """Changing one year's outcomes changes the intervals of later years only, never its own."""
    a = make_records(seed=1)
    b = a.copy()
    hit = b["year"] == 2015
    b.loc[hit, "actual"] = b.loc[hit, "actual"] + 500.0
    sa, sb = bt.score_backtest(a), bt.score_backtest(b)
    key = ["year", "sid", "method"]
    sa, sb = sa.sort_values(key).reset_index(drop=True), sb.sort_values(key).reset_index(drop=True)
    same = sa["year"] <= 2015
    assert np.allclose(sa.loc[same, "hi80"], sb.loc[same, "hi80"])
    assert not np.allclose(sa.loc[~same, "hi80"], sb.loc[~same, "hi80"])


def test_summary_cells_and_goal_table(make_records: RecordsFactory) -> None:
    """The summary has one cell per cutoff x family with every score, all years counted, and a goal table and text table built from it."""
    s = bt.score_backtest(make_records())
    summary = bt.summarise(
        s, {"monthly": "ytd_snaive", "quarterly": "credibility", "annual": "naive_annual"}, 1.0
    )
    cells = {(c["cutoff"], c["family"]): c for c in summary["cells"]}
    c = cells[("T2", "quarterly")]
    for k in (
        "n",
        "mase_vs_naive_annual",
        "mase_vs_ytd_snaive",
        "win_rate_vs_ytd_snaive",
        "coverage80",
        "coverage95",
        "brier_skill",
        "methods",
    ):
        assert k in c
    assert (
        c["n"] == 10 * 60 and c["judged"]
    )  # every year is scored; the first one with the flagged reference shape
    assert c["mase_vs_naive_annual"] < 0.7  # the synthetic default errs half as much as naive
    assert set(c["methods"]) >= {"ytd_snaive", "naive_annual", "credibility"}
    table = bt.goal_table(summary)
    assert {"quantity", "cutoff", "family", "n", "goal", "value", "met"} <= set(table.columns)
    assert "Backtest" in bt.format_table(summary)
