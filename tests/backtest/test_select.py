"""Tests of backtest/select.py: rolling-origin method selection on earlier years only."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ks_analysis.backtest import replay as bt

RecordsFactory = Callable[..., pd.DataFrame]


def _selection_records(make_records: RecordsFactory, seed: int = 0) -> pd.DataFrame:
    """Two candidate methods on quarterly T2 sums: credibility errs less than ytd_snaive in every year."""
    r = make_records(seed=seed, years=range(2010, 2016), n_series=40)
    r = r[r["method"].isin(["ytd_snaive", "credibility", "naive_annual"])].copy()
    rng = np.random.default_rng(seed)
    err = (rng.normal(0, 1, (r["year"].max() + 1, r["sid"].max() + 1)) * 5)[
        r["year"].to_numpy(), r["sid"].to_numpy()
    ]
    r["actual"] = 100.0 + err  # one outcome per series-year, whatever the method
    r.loc[r["method"].eq("credibility"), "point"] = (
        100.0 + 0.5 * err[r["method"].eq("credibility").to_numpy()]
    )
    return r.assign(agg="sum")


def test_selection_uses_only_earlier_years(make_records: RecordsFactory) -> None:
    """The method chosen for a year comes from earlier years: too few before -> ytd_snaive; a later year's outcomes change nothing before it."""
    r = _selection_records(make_records)
    assert bt.select_methods(r, before_year=2010) == {
        "quarterly|T2|sum": "ytd_snaive"
    }  # nothing earlier
    assert bt.select_methods(r, before_year=2012) == {
        "quarterly|T2|sum": "ytd_snaive"
    }  # 2 x 40 < MIN_SELECT (not 3 x 40)
    assert bt.select_methods(r, before_year=2014) == {"quarterly|T2|sum": "credibility"}
    worse = r.copy()
    hit = worse["year"].eq(2015) & worse["method"].eq("credibility")
    worse.loc[hit, "point"] = worse.loc[hit, "point"] + 1000.0
    assert bt.select_methods(worse, before_year=2015) == bt.select_methods(r, before_year=2015)
    s = bt.score_backtest(r)
    sel = s[s["method"].eq("selected")]
    assert set(sel.loc[sel["year"] <= 2012, "chosen"]) == {"ytd_snaive"}
    assert set(sel.loc[sel["year"] >= 2014, "chosen"]) == {"credibility"}
    # the selected rows are the chosen method's rows with that method's own calibrated interval
    cred = s[s["method"].eq("credibility") & s["year"].ge(2014)].set_index(["year", "sid"])["hi80"]
    assert np.allclose(
        sel[sel["year"] >= 2014].set_index(["year", "sid"])["hi80"].reindex(cred.index), cred
    )


def test_selection_tie_keeps_the_simple_method(make_records: RecordsFactory) -> None:
    """When two methods score the same, selection keeps the simpler one (ytd_snaive)."""
    r = _selection_records(make_records)
    r.loc[r["method"].eq("credibility"), "point"] = 100.0
    assert bt.select_methods(r) == {"quarterly|T2|sum": "ytd_snaive"}
