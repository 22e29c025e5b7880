"""Tests of forecast/calibration.py: the year-level finite-sample widening of pooled error quantiles."""

from __future__ import annotations

import numpy as np

from ks_analysis.forecast import calibration as cal


def _clustered(
    rng: np.random.Generator, years: int, per_year: int, sd_year: float, sd_within: float
) -> tuple[np.ndarray, np.ndarray]:
    """Errors with a shock common to each year plus noise of each series: (errors, years)."""
    shock = rng.normal(0, sd_year, years)
    year = np.repeat(np.arange(years), per_year)
    return shock[year] + rng.normal(0, sd_within, year.size), year


def _coverage80(q: np.ndarray, e: np.ndarray) -> float:
    """Share of ``e`` inside the 10 %-90 % quantiles of the grid ``q``."""
    lo, hi = np.interp([0.10, 0.90], cal.QUANTILE_GRID, q)
    return float(((e >= lo) & (e <= hi)).mean())


def test_year_components_find_the_common_shock_share() -> None:
    """Equal year and series variances give ρ near 1/2; no year shock gives ρ near 0."""
    rng = np.random.default_rng(3)
    e, y = _clustered(rng, 200, 50, 1.0, 1.0)
    k, rho = cal.year_components(e, y)
    assert k == 200 and 0.4 < rho < 0.6
    e0, y0 = _clustered(rng, 200, 50, 0.0, 1.0)
    assert cal.year_components(e0, y0)[1] < 0.02
    assert cal.year_components(e0[:50], y0[:50]) == (1, 0.0)  # one year: nothing to separate


def test_without_year_shocks_the_widening_is_the_row_level_one() -> None:
    """ρ = 0 (or no years given) leaves the split-conformal (n+1)/n stretch (within the 80 % bounds)."""
    q = np.quantile(np.random.default_rng(0).normal(size=500), cal.QUANTILE_GRID)
    assert np.allclose(cal._conformal(q, 500, 8, 0.0), cal._conformal(q, 500))
    med = np.interp(0.5, cal.QUANTILE_GRID, q)
    body = np.abs(cal.QUANTILE_GRID - 0.5) <= cal.TAIL_FROM + 1e-9
    assert np.allclose(cal._conformal(q, 500)[body] - med, (q[body] - med) * (1 + 1 / 500))


def test_outer_tails_are_read_at_the_split_conformal_level() -> None:
    """Beyond the 80 % bounds a quantile is read at 1/2 + (p − 1/2)(n + 1)/n of the stretched
    errors: from 60 errors the 95 % interval widens, the 80 % interval is the row-level stretch."""
    g = cal.QUANTILE_GRID
    q = np.quantile(np.random.default_rng(4).standard_t(4, size=60), g)
    out = cal._conformal(q, 60)
    med = np.interp(0.5, g, q)
    stretched = med + (q - med) * (1 + 1 / 60)
    for p in (0.1, 0.9):
        assert np.isclose(np.interp(p, g, out), np.interp(p, g, stretched))
    for p in (0.025, 0.975):
        level = 0.5 + (p - 0.5) * 61 / 60
        assert np.isclose(np.interp(p, g, out), np.interp(level, g, stretched))
    assert np.interp(0.975, g, out) > np.interp(0.975, g, stretched)
    assert np.interp(0.025, g, out) < np.interp(0.025, g, stretched)
    assert np.all(np.diff(out) >= 0)


def test_fewer_years_and_stronger_shocks_widen_more() -> None:
    """The stretch grows as the years get fewer and their common shock larger; never narrows."""
    q = np.quantile(np.random.default_rng(1).normal(size=2000), cal.QUANTILE_GRID)
    i = int(np.searchsorted(cal.QUANTILE_GRID, 0.9))
    width = {
        (k, rho): cal._conformal(q, 2000, k, rho)[i] - cal._conformal(q, 2000, k, rho)[-i - 1]
        for k in (3, 6, 12)
        for rho in (0.0, 0.3, 1.0)
    }
    base = cal._conformal(q, 2000)[i] - cal._conformal(q, 2000)[-i - 1]
    assert width[(3, 1.0)] > width[(6, 1.0)] > width[(12, 1.0)] > base
    assert width[(6, 1.0)] > width[(6, 0.3)] > width[(6, 0.0)] == base
    # all shock, 12 years: the 80 % interval of Student t(11) with the new-observation factor
    assert np.isclose(width[(12, 1.0)] / base, 1.3634 / 1.2816 * np.sqrt(13 / 12), rtol=2e-3)


def test_year_level_widening_covers_a_new_year_where_row_level_does_not() -> None:
    """Pools of 5 years x 300 series with a year shock: the next year's errors fall inside the
    row-level 80 % interval less often than 80 %, inside the year-level one close to 80 %."""
    rng = np.random.default_rng(2019)
    row, year_level = [], []
    for _ in range(600):
        e, y = _clustered(rng, 6, 300, 1.0, 0.7)
        pool, new = e[y < 5], e[y == 5]
        q = np.quantile(pool, cal.QUANTILE_GRID)
        row.append(_coverage80(cal._conformal(q, pool.size), new))
        k, rho = cal.year_components(pool, y[y < 5])
        year_level.append(_coverage80(cal._conformal(q, pool.size, k, rho), new))
    assert np.mean(row) < 0.74  # thousands of errors, but five year shocks
    assert 0.77 <= np.mean(year_level) <= 0.85


def test_steadiness_tells_a_trend_from_noise_around_a_level() -> None:
    """A series growing every year is steady (1), one that goes up and down by the same amount
    is not (0); only the last six changes count, a gap's missing change is skipped, and with
    fewer than three changes the kind is unknown."""
    trend = np.array([100.0, 102, 104, 105, 107, 110, 112, 115])
    noise = np.array([100.0, 103, 100, 103, 100, 103, 100])
    out = cal.steadiness(np.vstack([trend[:7], noise]))
    assert out[0] == 1.0 and out[1] == 0.0
    # an old fall before the last six changes does not count
    late = np.r_[150.0, 100.0, trend[1:]]
    assert cal.steadiness(late)[0] == 1.0
    assert np.isnan(cal.steadiness(np.array([1.0, 2.0, np.nan, np.nan, 3.0]))[0])
    assert cal.steadiness(np.array([100.0, 104, 100, 104, 105, 106, 107, 108]))[0] == (
        abs(-4 + 4 + 1 + 1 + 1 + 1) / 12
    )
    assert [cal.trend_label(x) for x in (1.0, cal.STEADY_SHARE, 0.5, np.nan)] == [
        "steady",
        "steady",
        "varied",
        None,
    ]


def test_annual_pools_split_by_the_kind_of_recent_changes_where_known() -> None:
    """The kind is the most specific annual pool, before the size band; unknown kind or a
    sub-annual series: the pools as before."""
    kw = {"aggregation": "point", "is_count": False, "years": np.zeros(0), "indicator": "N1"}
    plain = cal.pool_bands("annual", pop_band="s", **kw)
    assert plain == ["N1|s|h1", "N1|h1", "N1"]
    assert cal.pool_bands("annual", pop_band="s", trend="steady", **kw) == [
        "N1|s|h1|steady",
        *plain,
    ]
    sub = {**kw, "aggregation": "sum", "is_count": True, "years": np.array([50.0, 60.0])}
    assert cal.pool_bands("quarterly", pop_band="s", trend="steady", **sub) == cal.pool_bands(
        "quarterly", pop_band="s", **sub
    )
