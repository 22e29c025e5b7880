"""Tests of backtest/score.py: split-conformal intervals from earlier years only, scaled by a series' own
track record, effective n, year-block intervals, summary cells and goals."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from ks_analysis.backtest import replay as bt
from ks_analysis.backtest import score

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
    # coverage where a calibration applies, with its year-block interval and effective n, also
    # in the last five years, and printed as such
    lo, hi = c["coverage80_calibrated_ci90"]
    assert lo <= c["coverage80_calibrated"] <= hi and 0 < c["effective_n_calibrated"] <= c["n"]
    last5 = c["coverage_calibrated_last5"]
    assert last5["coverage80_ci90"][0] <= last5["coverage80"] <= last5["coverage80_ci90"][1]
    line = next(
        ln
        for ln in bt.format_table(summary).splitlines()
        if ln.startswith("T2     quarterly  last 5 years")
    )
    assert f"{last5['coverage80']:.1%}" in line and f"{last5['coverage80_ci90'][0]:.1%}" in line


def test_own_track_record_sharpens_where_series_differ(make_records: RecordsFactory) -> None:
    """Half the series err ten times less than the others (in scale units): from earlier years the
    credibility ratio sees it, the scaled intervals win on the calibration years, and the default
    intervals are sharper than the pool's alone while still covering about 80 %."""
    r = make_records(years=range(2000, 2020), n_series=80)
    calm = r["sid"] % 2 == 0
    r.loc[calm, "actual"] = 100.0 + (r.loc[calm, "actual"] - 100.0) / 10.0
    s = bt.score_backtest(r)
    later = s[(s["year"] >= 2014) & (s["method"] == "ytd_snaive")]
    assert later["cred_used"].all()
    assert later.loc[later["sid"] % 2 == 0, "lam"].median() < 0.5
    assert later.loc[later["sid"] % 2 == 1, "lam"].median() > 1.3
    new = score.interval_score(later["lo80"], later["hi80"], later["actual"]).mean()
    pool = score.interval_score(later["lo80_pool"], later["hi80_pool"], later["actual"]).mean()
    assert new < 0.8 * pool
    cov = ((later["actual"] >= later["lo80"]) & (later["actual"] <= later["hi80"])).mean()
    assert 0.74 <= cov <= 0.86


def test_alike_series_keep_the_pools_width(make_records: RecordsFactory) -> None:
    """Series that err alike give the own track record no weight: the pool's interval stands."""
    s = bt.score_backtest(make_records(years=range(2000, 2016)))
    later = s[(s["year"] >= 2010) & (s["method"] == "ytd_snaive")]
    assert np.allclose(later["lam"], 1.0, atol=0.15)
    assert np.allclose(later["hi80"], later["hi80_pool"], rtol=0.05)


def test_effective_n_counts_clusters_and_gender_splits() -> None:
    """A shock common to every kommun in a KPI-year makes the cell worth about one forecast per
    KPI-year; independent errors keep it near the number of kommun-years; women's and men's series
    count with the total."""
    rng = np.random.default_rng(0)
    rows = []
    for year in range(2000, 2020):
        shock = rng.normal(0, 5)
        for k in range(50):
            for g in ("T", "K", "M"):
                rows.append(
                    {"series": f"{k:04d}|N1|{g}", "group": "N1", "year": year,
                     "common": shock + rng.normal(0, 0.1), "indep": rng.normal()}
                )  # fmt: skip
    d = pd.DataFrame(rows)
    common = score.effective_n(d.assign(e=d["common"]))
    indep = score.effective_n(d.assign(e=d["indep"]))
    assert 20 <= common < 25  # 20 KPI-years
    assert 800 <= indep <= 1000  # 1000 kommun-years, not 3000 series-years


def test_year_block_interval_holds_the_ratio_and_needs_years() -> None:
    """The bootstrap interval of a ratio holds the ratio, widens when years disagree, and is
    None with fewer than three years."""
    years = np.repeat(np.arange(2010, 2020), 30)
    num = np.ones(years.size)
    steady = score.ratio_ci90(years, num * 0.8, num)
    assert (
        steady is not None and steady[0] == pytest.approx(0.8) and steady[1] == pytest.approx(0.8)
    )
    mixed = score.ratio_ci90(years, np.where(years % 2 == 0, 0.5, 1.1), num)
    assert mixed is not None and mixed[0] < 0.8 < mixed[1]
    assert score.ratio_ci90(years[:60], num[:60], num[:60]) is None


def test_coverage_interval_resamples_whole_years() -> None:
    """A year whose shock every interval misses widens the coverage's interval as a block: nine
    years covered in full and one missed give 90 % with an interval below and above it."""
    years = np.repeat(np.arange(2010, 2020), 40)
    hits = years != 2015
    lo, hi = score.coverage_ci90(years, hits)
    assert lo < 0.9 < hi or hi == pytest.approx(1.0)
    assert lo <= 0.8  # two or more missed years among ten resampled ones happen often
    assert score.coverage_ci90(years[:80], hits[:80]) is None  # two years


def test_intervals_count_years_not_rows_where_years_share_a_shock(
    make_records: RecordsFactory,
) -> None:
    """Every series of a year shares its shock: the default intervals are the row-level pool's
    (``_pool``) widened for a new year, the more the fewer years the pool holds; without a
    common shock they stay the pool's (ρ near 0). Their coverage is checked over many
    replications in tests/forecast/test_calibration.py: one backtest holds a dozen shocks."""
    rec = make_records(seed=5, years=range(2000, 2016), n_series=60)
    shock = np.random.default_rng(5).normal(0, 5.0, 16)
    rec["actual"] = rec["actual"] + shock[rec["year"].to_numpy() - 2000]
    s = bt.score_backtest(rec)
    d = s[(s["year"] >= 2004) & (s["method"] == "ytd_snaive")]
    ratio = (d["hi80"] - d["lo80"]) / (d["hi80_pool"] - d["lo80_pool"])
    assert (d["n_years"] >= 4).all() and d["between"].between(0.3, 0.9).all()
    assert (ratio >= 1.0).all()
    by_k = ratio.groupby(d["n_years"]).mean()
    assert by_k.iloc[0] > by_k.iloc[-1] > 1.02  # 4 years widen more than 12
    covered = (d["actual"] >= d["lo80"]) & (d["actual"] <= d["hi80"])
    covered_pool = (d["actual"] >= d["lo80_pool"]) & (d["actual"] <= d["hi80_pool"])
    assert covered.mean() > covered_pool.mean()
    # the pool-only benchmark is widened the same way: where the default is the pool's own
    # errors, the two intervals are the same, so interval_score_vs_pool compares like with like
    plain = d[~d["cred_used"]]
    assert len(plain) > 0.9 * len(d)
    assert np.allclose(plain["hi80"], plain["hi80_poolw"]) and np.allclose(
        plain["lo80"], plain["lo80_poolw"]
    )
    assert ((d["hi80_poolw"] - d["lo80_poolw"]) > (d["hi80_pool"] - d["lo80_pool"])).all()
    summary = score._sharpness(d, None)
    assert summary["interval_score_vs_pool"] == pytest.approx(1.0, abs=0.01)
    assert summary["interval_score_vs_pool_unwidened"] != pytest.approx(1.0, abs=0.001)
    widening = score._year_widening(d)
    assert widening["pool_years_mean"] == pytest.approx(d["n_years"].mean(), abs=0.01)
    assert widening["factor80_mean"] == pytest.approx(ratio.mean(), rel=0.01)

    calm = bt.score_backtest(make_records(seed=5, years=range(2000, 2016), n_series=60))
    c = calm[(calm["year"] >= 2004) & (calm["method"] == "ytd_snaive")]
    calm_ratio = (c["hi80"] - c["lo80"]) / (c["hi80_pool"] - c["lo80_pool"])
    assert calm_ratio.between(1.0, 1.03).all()


def test_a_pool_of_one_year_is_not_a_calibration(
    make_records: RecordsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """60 new series of one kommun size band, first forecast in 2018 (as SCB BAS's 290 kommuner
    from 2023): in 2019 their own band holds 60 errors but one year's shock, so they take the
    broader pool with the years of the other series; counting rows alone, they would not."""
    old = make_records(seed=2)
    new = make_records(seed=3, years=range(2018, 2020))
    new = new.assign(
        sid=new["sid"] + 1000, series="n" + new["series"], band="sum|small|xs"
    )  # same aggregation and size, another kommun size band
    records = pd.concat([old, new], ignore_index=True)

    def new_2019(s: pd.DataFrame) -> pd.DataFrame:
        d = s[s["series"].str.startswith("n") & (s["method"] == "ytd_snaive")]
        return d[d["year"] == 2019]

    y19 = new_2019(bt.score_backtest(records))
    b1 = score.BAND_LEVELS.index("b1")  # the next broader pool
    assert (y19["pool_level"] == b1).all() and (y19["n_years"] >= 2).all()
    assert not y19["flagged"].any()
    monkeypatch.setattr(score.cal, "MIN_POOL_YEARS", 1)
    assert (new_2019(bt.score_backtest(records))["pool_level"] == 0).all()


def test_the_kind_of_recent_changes_sharpens_where_it_keeps_every_year(
    make_records: RecordsFactory,
) -> None:
    """Half the series are steady (b0 '...|steady') and err four times less in scale units: their
    own pool makes the default intervals sharper than the size band's pool (the benchmark
    ``_poolw``), and each kind keeps about 80 % coverage. Where one kind lacks a year its size
    band has, it is not split off: the band's pool stands."""
    r = make_records(years=range(2000, 2016), n_series=80)
    steady = r["sid"] % 2 == 0
    r.loc[steady, "actual"] = 100.0 + (r.loc[steady, "actual"] - 100.0) / 4.0
    r["b0"] = r["band"] + np.where(steady, "|steady", "|varied")
    s = bt.score_backtest(r)
    later = s[(s["year"] >= 2006) & (s["method"] == "ytd_snaive")]
    assert (later["pool_level"] == 0).all()
    new = score.interval_score(later["lo80"], later["hi80"], later["actual"]).mean()
    band = score.interval_score(later["lo80_poolw"], later["hi80_poolw"], later["actual"]).mean()
    assert new < 0.8 * band
    covered = (later["actual"] >= later["lo80"]) & (later["actual"] <= later["hi80"])
    for kind in (True, False):
        assert 0.72 <= covered[(later["sid"] % 2 == 0) == kind].mean() <= 0.88

    gap = r[~(steady & r["year"].eq(2003))]  # the steady series have no error of 2003
    g = bt.score_backtest(gap)
    g = g[(g["year"] >= 2006) & (g["method"] == "ytd_snaive")]
    assert (g.loc[g["sid"] % 2 == 0, "pool_level"] == score.BAND_LEVELS.index("band")).all()
    assert (g.loc[g["sid"] % 2 == 1, "pool_level"] == 0).all()
