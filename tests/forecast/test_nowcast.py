"""The bridge nowcast: what it learns, that it uses only earlier years, and when it steps aside."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ks_analysis.forecast import nowcast as nc
from ks_analysis.forecast.engine import forecast_indicator
from ks_analysis.goals.catalogue import load_catalogue


def _tidy(
    kpi: dict[tuple[str, int], float], sig: dict[tuple[str, int, int], float]
) -> pd.DataFrame:
    """A tidy table of KPI 'K' (published 53 days after the year) and quarterly signal 'S' (15 days)."""
    rows = []
    for (m, y), v in kpi.items():
        rows.append((m, "K", "T", "Y", str(y), v, pd.Timestamp(y, 12, 31) + pd.Timedelta(days=53)))
    for (m, y, q), v in sig.items():
        end = pd.Timestamp(y, 3 * q, 1) + pd.offsets.MonthEnd(0)
        rows.append((m, "S", "T", "Q", f"{y}-Q{q}", v, end + pd.Timedelta(days=15)))
    return pd.DataFrame(
        rows,
        columns=[
            "municipality",
            "indicator",
            "gender",
            "frequency",
            "period",
            "value",
            "published",
        ],
    )


def _synthetic(
    seed: int = 1,
) -> tuple[dict[tuple[str, int], float], dict[tuple[str, int, int], float]]:
    """Six kommuner, 2010-2022: the annual mean of the quarters is the KPI (mean_of_periods), with noise."""
    rng = np.random.default_rng(seed)
    kpi, sig = {}, {}
    for i in range(6):
        m = f"0{680 + i}"
        level = 100.0 + 20 * i
        for y in range(2010, 2023):
            level *= float(np.exp(rng.normal(0, 0.08)))
            qs = level * np.exp(rng.normal(0, 0.02, 4)) * np.array([1.1, 1.0, 0.95, 0.95])
            for q in range(4):
                sig[(m, y, q + 1)] = float(qs[q])
            kpi[(m, y)] = float(qs.mean() / 10)
    return kpi, sig


def test_bridge_learns_the_year_from_its_known_quarters() -> None:
    """With two quarters known the nowcast is far closer to the year than last year's value, over kommuner and years."""
    kpi, sig = _synthetic()
    data = nc.nowcast_data(_tidy(kpi, sig), "K", "S", "mean_of_periods")
    assert data is not None
    err_now, err_naive = [], []
    for y in range(2016, 2023):
        for m in data.municipalities:
            res = nc.nowcast(data, m, y, dt.date(y, 8, 31))
            assert res.point is not None and res.known_periods == 2
            assert res.lo95 <= res.lo80 <= res.point <= res.hi80 <= res.hi95
            err_now.append(abs(res.point - kpi[(m, y)]))
            err_naive.append(abs(kpi[(m, y - 1)] - kpi[(m, y)]))
    assert np.mean(err_now) < 0.5 * np.mean(err_naive)


def test_nowcast_uses_no_year_after_the_cutoff() -> None:
    """Changing the 2021 and 2022 outcomes and signals leaves the 2019 nowcast made on 31 August 2019 unchanged."""
    kpi, sig = _synthetic()
    base = nc.nowcast_data(_tidy(kpi, sig), "K", "S", "mean_of_periods")
    kpi2 = {k: (v * 3 if k[1] >= 2021 else v) for k, v in kpi.items()}
    sig2 = {k: (v * 0.2 if k[1] >= 2021 else v) for k, v in sig.items()}
    changed = nc.nowcast_data(_tidy(kpi2, sig2), "K", "S", "mean_of_periods")
    assert base is not None and changed is not None
    a = nc.nowcast(base, "0680", 2019, dt.date(2019, 8, 31))
    b = nc.nowcast(changed, "0680", 2019, dt.date(2019, 8, 31))
    assert a.point == b.point and a.hi80 == b.hi80 and a.calibration == b.calibration
    c = nc.nowcast(changed, "0680", 2023, dt.date(2023, 8, 31))
    assert c.point is None or c.point != nc.nowcast(base, "0680", 2023, dt.date(2023, 8, 31)).point


@pytest.mark.parametrize(
    ("muni", "year", "as_of", "reason"),
    [
        ("0680", 2019, dt.date(2019, 4, 10), "no sub-period of 2019"),  # Q1 out on 15 April
        ("0665", 2019, dt.date(2019, 8, 31), "no in-year signal for this kommun"),
        ("0680", 2012, dt.date(2012, 8, 31), "too few earlier years"),
        ("0680", 2019, dt.date(2020, 3, 1), "already published"),
    ],
)
def test_nowcast_says_why_it_steps_aside(muni: str, year: int, as_of: dt.date, reason: str) -> None:
    """Without a usable signal the result has no point and a reason the report records."""
    kpi, sig = _synthetic()
    data = nc.nowcast_data(_tidy(kpi, sig), "K", "S", "mean_of_periods")
    assert data is not None
    res = nc.nowcast(data, muni, year, as_of)
    assert res.point is None and reason in res.reason


@pytest.mark.real
def test_report_forecast_nowcasts_jonkoping_and_says_why_not_vaggeryd(
    real_nowcast_tidy: pd.DataFrame,
) -> None:
    """forecast_indicator on the real data: Jönköping's 2019 unemployment at T2 comes from the bridge;
    Vaggeryd, which has no quarterly signal, gets the annual method and the reason."""
    ind = load_catalogue().indicator("N03920")
    kw = dict(
        indicator=ind,
        gender="T",
        year=2019,
        cutoff=dt.date(2019, 8, 31),
        as_of=dt.date(2019, 8, 31),
    )
    jkp = forecast_indicator(real_nowcast_tidy, municipality="0680", **kw)  # type: ignore[arg-type]
    assert jkp.method == nc.METHOD and jkp.nowcast_note == ""
    assert jkp.lo80 is not None and jkp.lo80 <= jkp.point <= jkp.hi80  # type: ignore[operator]
    assert "fitted on" in jkp.calibration
    vgd = forecast_indicator(real_nowcast_tidy, municipality="0665", **kw)  # type: ignore[arg-type]
    assert vgd.method != nc.METHOD and vgd.basis == "forecast"
    assert "nowcast_unavailable" in vgd.flags and "no in-year signal" in vgd.nowcast_note


def test_interval_widens_for_the_shock_the_kommuner_share_in_a_year() -> None:
    """The bridge's out-of-sample residuals come from a few left-out years; where a year's shock
    (not in the known quarters) hits every kommun, the interval is widened for the number of
    years beyond the residuals' own quantiles (which it stays at without the residuals' years)."""
    import dataclasses

    from ks_analysis.forecast import calibration as cal

    rng = np.random.default_rng(11)
    kpi, sig = _synthetic(seed=3)
    shock = {y: float(rng.normal(0, 0.06)) for y in range(2010, 2023)}
    kpi = {(m, y): v * float(np.exp(shock[y])) for (m, y), v in kpi.items()}
    data = nc.nowcast_data(_tidy(kpi, sig), "K", "S", "mean_of_periods")
    assert data is not None
    kpi_at, sig_at = data.at(dt.date(2018, 8, 31))
    fit = nc.fit_bridge(kpi_at, sig_at, 2018 - data.y0, 2, data.mapping)
    assert fit is not None and fit.out_of_sample and fit.residual_years is not None
    assert fit.residual_years.shape == fit.residuals.shape
    # the year parts as they are (their scaling to the new year's known move is tested below)
    fit = dataclasses.replace(fit, year_move_ratio=None)
    k, rho = cal.year_components(fit.residuals, fit.residual_years)
    assert k == len(set(fit.residual_years.tolist())) and rho > 0.3
    u = np.array([0.1, 0.9])
    wide = np.diff(nc._residual_draws(fit, u))[0]
    plain = np.diff(nc._residual_draws(dataclasses.replace(fit, residual_years=None), u))[0]
    assert np.isclose(plain, np.diff(np.quantile(fit.residuals, u))[0], rtol=0.02)
    assert wide > 1.05 * plain


def test_year_part_scales_with_the_new_years_known_move() -> None:
    """Each left-out year's common residual is scaled to the size of the new year's known move:
    a new year whose known quarters moved three times as far as every earlier year gets three times
    their year parts, the within-year spread is kept, and a calm new year is not made calmer than
    the median earlier year."""
    import dataclasses

    r = np.array([0.02, 0.04, -0.01, -0.03, 0.05, 0.07])
    ry = np.array([1, 1, 2, 2, 3, 3])
    X = np.array([[0.10, 0.0], [0.0, 0.10], [0.1, 0.0], [0.1, 0.0], [0.0, 0.1], [0.1, 0.0]])
    ts = ry.copy()
    wild = nc._year_move_ratio(X, ts, ry, np.array([[0.3, 0.0], [0.0, 0.3]]))
    calm = nc._year_move_ratio(X, ts, ry, np.array([[0.01, 0.0], [np.nan, 0.0]]))
    assert wild is not None and np.allclose(wild, 1 / 3)
    assert calm is not None and np.allclose(calm, 1.0)
    fit = nc.NowcastFit(0.0, np.zeros(2), np.zeros(1), r, True, 6, (1, 2, 3), 1, ry, wild)
    out = nc.new_year_residuals(fit)
    means = np.array([0.03, -0.02, 0.06])
    assert np.allclose(out, r - means[ry - 1] + 3 * means[ry - 1])
    assert np.allclose(nc.new_year_residuals(dataclasses.replace(fit, year_move_ratio=None)), r)
