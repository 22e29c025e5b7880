"""Tests of forecast.py: the Forecast contract, vintages (no look-ahead), intervals, fallbacks."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from ks_analysis.forecast.engine import Forecast, forecast_indicator, yearly_values
from ks_analysis.goals.catalogue import Indicator, Target


def _monthly(
    values_by_year: dict[int, list[float]],
    *,
    indicator: str = "X_COUNT",
    lag_days: int = 20,
    unit: str = "antal",
) -> pd.DataFrame:
    rows = []
    for year, vals in values_by_year.items():
        for i, v in enumerate(vals):
            end = (pd.Timestamp(year, i + 1, 1) + pd.offsets.MonthEnd(0)).normalize()
            rows.append(
                {
                    "municipality": "0665", "indicator": indicator, "gender": "T", "frequency": "M",
                    "period": f"{year}-{i + 1:02d}", "period_end": end, "value": float(v), "unit": unit,
                    "source": "test", "source_file": "t.csv", "source_row": len(rows) + 2,
                    "published": end + pd.Timedelta(days=lag_days),
                }
            )  # fmt: skip
    return pd.DataFrame(rows)


def _annual(
    values: dict[int, float], *, indicator: str = "N00001", lag_days: int = 100
) -> pd.DataFrame:
    rows = []
    for year, v in values.items():
        end = pd.Timestamp(year, 12, 31)
        rows.append(
            {
                "municipality": "0665", "indicator": indicator, "gender": "T", "frequency": "Y", "period": str(year),
                "period_end": end, "value": float(v), "unit": "%", "source": "test", "source_file": "t.csv",
                "source_row": len(rows) + 2, "published": end + pd.Timedelta(days=lag_days),
            }
        )  # fmt: skip
    return pd.DataFrame(rows)


def _ind(
    iid: str = "X_COUNT",
    freq: str = "M",
    agg: str = "sum",
    direction: str = "higher_is_better",
    target: Target | None = None,
    per_ort: bool = False,
) -> Indicator:
    return Indicator(
        iid,
        "t",
        "antal",
        freq,
        agg,
        direction,
        "target",
        target or Target("increase"),
        per_ort=per_ort,
    )


SEASON = [5, 5, 8, 10, 12, 15, 20, 18, 12, 8, 6, 5]


def test_forecast_has_the_contract_fields() -> None:
    """The report relies on these names."""
    tidy = _monthly({y: SEASON for y in range(2014, 2020)})
    fc = forecast_indicator(
        tidy,
        municipality="0665",
        indicator=_ind(),
        gender="T",
        year=2019,
        cutoff=dt.date(2019, 4, 30),
        as_of=dt.date(2019, 4, 30),
    )
    assert isinstance(fc, Forecast)
    for name in [
        "municipality",
        "indicator",
        "gender",
        "year",
        "cutoff",
        "as_of",
        "frequency",
        "aggregation",
        "basis",
        "known_periods",
        "total_periods",
        "known_value",
        "point",
        "lo80",
        "hi80",
        "lo95",
        "hi95",
        "method",
        "rung",
        "flags",
        "last_year",
        "last_value",
        "history",
        "samples",
    ]:
        assert hasattr(fc, name), name
    assert fc.basis == "forecast"
    assert fc.known_periods == 3 and fc.total_periods == 12  # April not yet published on 30 April
    assert fc.known_value == pytest.approx(18.0)
    assert fc.last_year == 2018 and fc.last_value == pytest.approx(sum(SEASON))
    assert list(fc.history.index) == list(range(2014, 2019))


def test_pure_seasonal_series_is_forecast_exactly() -> None:
    """A series that repeats the same months each year: full year = last year's total, for every method."""
    tidy = _monthly({y: SEASON for y in range(2012, 2020)})
    for method in ["ytd_snaive", "ytd_ratio", "credibility", "ets_remainder", "naive_annual"]:
        fc = forecast_indicator(
            tidy,
            municipality="0665",
            indicator=_ind(),
            gender="T",
            year=2019,
            cutoff=dt.date(2019, 8, 31),
            as_of=dt.date(2019, 8, 31),
            method=method,
        )
        assert fc.method == method
        assert fc.point == pytest.approx(sum(SEASON), rel=0.02), method


def test_no_look_ahead() -> None:
    """A value published after as_of does not change the forecast."""
    tidy = _monthly({y: SEASON for y in range(2014, 2019)} | {2019: [50] * 12}, lag_days=20)
    ind = _ind()
    kw = dict(
        municipality="0665",
        indicator=ind,
        gender="T",
        year=2019,
        cutoff=dt.date(2019, 4, 30),
        as_of=dt.date(2019, 4, 30),
    )
    a = forecast_indicator(tidy, **kw)  # type: ignore[arg-type]
    changed = tidy.copy()
    late = changed["period"] == "2019-04"
    changed.loc[late, "value"] = 10_000.0  # published 20 May: after as_of
    b = forecast_indicator(changed, **kw)  # type: ignore[arg-type]
    assert a.point == b.point and a.lo95 == b.lo95 and a.known_periods == b.known_periods == 3
    later = forecast_indicator(changed, **(kw | {"as_of": dt.date(2019, 5, 31)}))  # type: ignore[arg-type]
    assert later.known_periods == 4 and later.point != a.point


def test_intervals_are_ordered() -> None:
    """lo95 <= lo80 <= point <= hi80 <= hi95 for every method and cutoff."""
    rng = np.random.default_rng(1)
    tidy = _monthly({y: list(rng.poisson(np.array(SEASON) * 2)) for y in range(2012, 2020)})
    for method in [
        "ytd_snaive",
        "ytd_ratio",
        "credibility",
        "ets_remainder",
        "naive_annual",
        "cred_ets",
    ]:
        for cutoff in [dt.date(2019, 4, 30), dt.date(2019, 8, 31)]:
            fc = forecast_indicator(
                tidy,
                municipality="0665",
                indicator=_ind(),
                gender="T",
                year=2019,
                cutoff=cutoff,
                as_of=cutoff,
                method=method,
            )
            assert fc.lo95 <= fc.lo80 <= fc.point <= fc.hi80 <= fc.hi95, (method, cutoff)
            assert fc.samples is not None and len(fc.samples) > 100
            assert fc.lo95 >= fc.known_value  # a count's year cannot end below its year to date


def test_outcome_when_the_year_is_published() -> None:
    """Once the whole year is published the forecast is the outcome: its point is the sum and the interval has no width."""
    tidy = _monthly({y: SEASON for y in range(2016, 2020)}, lag_days=5)
    fc = forecast_indicator(
        tidy,
        municipality="0665",
        indicator=_ind(),
        gender="T",
        year=2019,
        cutoff=dt.date(2019, 12, 31),
        as_of=dt.date(2020, 2, 1),
    )
    assert fc.basis == "outcome" and fc.point == sum(SEASON) and fc.lo95 == fc.hi95 == fc.point


@pytest.fixture
def no_calibration(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Forecasts without the committed calibration file: baseline defaults, own errors widened."""
    from ks_analysis.forecast import calibration as cal

    monkeypatch.setattr(cal, "CALIBRATION_FILE", tmp_path / "none.json")


def test_annual_point_value_and_lag(no_calibration: None) -> None:
    """A Kolada-style yearly value: naive by default; an unpublished last year makes the horizon 2."""
    tidy = _annual({2014: 3.0, 2015: 3.2, 2016: 3.1, 2017: 2.9, 2018: 2.7})
    ind = Indicator(
        "N00001", "t", "%", "Y", "point", "lower_is_better", "target", Target("decrease")
    )
    fc = forecast_indicator(
        tidy,
        municipality="0665",
        indicator=ind,
        gender="T",
        year=2019,
        cutoff=dt.date(2019, 4, 30),
        as_of=dt.date(2019, 4, 30),
    )
    assert fc.point == 2.7 and fc.last_year == 2018 and fc.method == "naive_annual"
    assert "few_calibration_errors" in fc.flags
    early = forecast_indicator(
        tidy,
        municipality="0665",
        indicator=ind,
        gender="T",
        year=2019,
        cutoff=dt.date(2019, 3, 31),
        as_of=dt.date(2019, 3, 31),
    )
    assert early.last_year == 2017 and "horizon_2" in early.flags
    assert (early.hi95 - early.lo95) > 0
    ys = yearly_values(
        tidy, municipality="0665", indicator=ind, gender="T", as_of=dt.date(2019, 4, 30)
    )
    assert list(ys.index) == [2014, 2015, 2016, 2017, 2018]


def test_fallback_for_short_history(no_calibration: None) -> None:
    """ETS needs three years: with one it falls back down the ladder and records the rung."""
    tidy = _monthly({2018: SEASON, 2019: SEASON[:3]})
    fc = forecast_indicator(
        tidy,
        municipality="0665",
        indicator=_ind(),
        gender="T",
        year=2019,
        cutoff=dt.date(2019, 4, 30),
        as_of=dt.date(2019, 4, 30),
        method="ets_remainder",
    )
    assert (
        fc.basis == "forecast"
        and fc.method != "ets_remainder"
        and fc.rung >= 1
        and "fallback" in fc.flags
    )
    assert "few_calibration_errors" in fc.flags
    empty = forecast_indicator(
        tidy.iloc[0:0],
        municipality="0665",
        indicator=_ind(),
        gender="T",
        year=2019,
        cutoff=dt.date(2019, 4, 30),
        as_of=dt.date(2019, 4, 30),
    )
    assert empty.basis == "none" and empty.point is None


def test_per_ort_total_and_single_ort() -> None:
    """A per-ort indicator forecasts the total over its orter, or one ort when asked."""
    a = _monthly({y: SEASON for y in range(2016, 2020)}, indicator="LOKAL_X__HOK")
    b = _monthly({y: [1] * 12 for y in range(2016, 2020)}, indicator="LOKAL_X__VAGGERYD")
    tidy = pd.concat([a, b], ignore_index=True)
    ind = _ind("LOKAL_X", per_ort=True)
    total = forecast_indicator(
        tidy,
        municipality="0665",
        indicator=ind,
        gender="T",
        year=2019,
        cutoff=dt.date(2019, 8, 31),
        as_of=dt.date(2019, 8, 31),
    )
    hok = forecast_indicator(
        tidy,
        municipality="0665",
        indicator=ind,
        gender="T",
        year=2019,
        cutoff=dt.date(2019, 8, 31),
        as_of=dt.date(2019, 8, 31),
        ort="HOK",
    )
    assert total.last_value == sum(SEASON) + 12 and hok.last_value == sum(SEASON)
    assert hok.indicator == "LOKAL_X__HOK"


def test_engine_does_not_load_statsmodels_at_import() -> None:
    """Importing the forecast engine, methods, calibration and status leaves statsmodels unloaded.

    (That `import ks_analysis` loads no stage is checked in tests/test_front_door.py.)
    """
    code = "import sys, ks_analysis.forecast.engine, ks_analysis.evaluate.status, ks_analysis.forecast.methods, ks_analysis.forecast.calibration; print('statsmodels' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[0] == "False"


def test_committed_calibration_gives_pooled_intervals() -> None:
    """With the committed calibration file a monthly count at T2 of a year after the backtest's
    last uses the method and a pooled error pool fitted on every backtest year, unflagged."""
    from ks_analysis.forecast import calibration as cal

    if not cal.CALIBRATION_FILE.exists():
        pytest.skip("no committed calibration file")
    rng = np.random.default_rng(3)
    tidy = _monthly({y: list(rng.poisson(np.array(SEASON) * 3)) for y in range(2019, 2027)})
    fc = forecast_indicator(
        tidy,
        municipality="0665",
        indicator=_ind(),
        gender="T",
        year=2026,
        cutoff=dt.date(2026, 8, 31),
        as_of=dt.date(2026, 8, 31),
    )
    assert fc.method == cal.default_by_cell().get(
        "monthly|T2|sum", cal.default_methods()["monthly"]
    )
    assert "few_calibration_errors" not in fc.flags and fc.calibration.startswith("monthly|T2|")
    assert fc.lo95 <= fc.lo80 <= fc.point <= fc.hi80 <= fc.hi95


def test_intervals_stay_in_the_possible_range() -> None:
    """A share in per cent that has never been negative gets no negative lower bound, nor one above 100."""
    tidy = _annual({2012: 0.4, 2013: 0.1, 2014: 0.9, 2015: 0.2, 2016: 1.5, 2017: 0.3, 2018: 0.2})
    ind = Indicator(
        "N00001", "t", "%", "Y", "point", "lower_is_better", "target", Target("decrease")
    )
    fc = forecast_indicator(
        tidy,
        municipality="0665",
        indicator=ind,
        gender="T",
        year=2019,
        cutoff=dt.date(2019, 8, 31),
        as_of=dt.date(2019, 8, 31),
    )
    assert fc.lo95 >= 0.0 and fc.hi95 <= 100.0
    assert fc.samples is not None and fc.samples.min() >= 0.0


def test_no_forecast_from_a_stale_history() -> None:
    """A KPI last published long ago (e.g. retired) gets no forecast rather than a ten-year naive."""
    tidy = _annual({2008: 50.0, 2010: 52.0, 2012: 51.0})
    ind = Indicator(
        "N00001", "t", "%", "Y", "point", "higher_is_better", "target", Target("increase")
    )
    fc = forecast_indicator(
        tidy,
        municipality="0665",
        indicator=ind,
        gender="T",
        year=2022,
        cutoff=dt.date(2022, 8, 31),
        as_of=dt.date(2022, 8, 31),
    )
    assert fc.basis == "none" and fc.point is None and "stale_history" in fc.flags
    assert fc.last_year == 2012  # the history is still reported


def test_signal_ratio_scales_last_value_by_the_signal() -> None:
    """method='signal_ratio': an annual KPI moves with its in-year signal's forecast ratio (flagged uncalibrated)."""
    sig_tidy = _monthly(
        {y: [100.0] * 12 for y in range(2015, 2019)} | {2019: [80.0] * 12}, indicator="X_SIGNAL"
    )
    sig_ind = Indicator(
        "X_SIGNAL", "t", "antal", "M", "mean", "lower_is_better", "signal", Target("decrease")
    )
    signal = forecast_indicator(
        sig_tidy,
        municipality="0665",
        indicator=sig_ind,
        gender="T",
        year=2019,
        cutoff=dt.date(2019, 8, 31),
        as_of=dt.date(2019, 8, 31),
    )
    tidy = _annual({2015: 3.0, 2016: 3.1, 2017: 2.9, 2018: 3.0})
    ind = Indicator(
        "N00001",
        "t",
        "%",
        "Y",
        "point",
        "lower_is_better",
        "target",
        Target("decrease"),
        signal="X_SIGNAL",
    )
    fc = forecast_indicator(
        tidy,
        municipality="0665",
        indicator=ind,
        gender="T",
        year=2019,
        cutoff=dt.date(2019, 8, 31),
        as_of=dt.date(2019, 8, 31),
        method="signal_ratio",
        signal=signal,
    )
    assert fc.method == "signal_ratio" and "signal_uncalibrated" in fc.flags
    assert fc.point == pytest.approx(3.0 * signal.point / signal.last_value)
    assert fc.point < 3.0 and fc.lo95 <= fc.lo80 <= fc.point <= fc.hi80 <= fc.hi95


def test_later_as_of_never_uses_periods_after_the_cutoff() -> None:
    """A T1 report ('per 30 april') with a later as_of: March (known at T1) changes the forecast,
    May (published before as_of, but after the cutoff) does not; the year stays a forecast."""
    tidy = _monthly({y: SEASON for y in range(2014, 2020)}, lag_days=20)
    kw = dict(
        municipality="0665",
        indicator=_ind(),
        gender="T",
        year=2019,
        cutoff=dt.date(2019, 4, 30),
        as_of=dt.date(2019, 12, 31),
    )
    base = forecast_indicator(tidy, **kw)  # type: ignore[arg-type]
    assert base.basis == "forecast" and base.known_periods == 4 and base.total_periods == 12
    assert base.known_value == pytest.approx(sum(SEASON[:4]))
    may = tidy.copy()
    may.loc[may["period"] == "2019-05", "value"] = 500.0
    b = forecast_indicator(may, **kw)  # type: ignore[arg-type]
    assert (
        b.point == base.point
        and b.lo80 == base.lo80
        and b.hi95 == base.hi95
        and b.known_periods == 4
    )
    march = tidy.copy()
    march.loc[march["period"] == "2019-03", "value"] = 500.0
    c = forecast_indicator(march, **kw)  # type: ignore[arg-type]
    assert c.point != base.point


def test_annual_value_of_the_year_is_an_outcome_only_at_the_year_end() -> None:
    """A once-a-year value of the forecast year published before as_of is not known at 30 April."""
    tidy = _annual({y: 10.0 + y - 2010 for y in range(2010, 2020)}, lag_days=30)
    ind = Indicator(
        "N00001", "t", "%", "Y", "point", "higher_is_better", "target", Target("increase")
    )
    kw = dict(municipality="0665", indicator=ind, gender="T", year=2019, as_of=dt.date(2020, 4, 30))
    t1 = forecast_indicator(tidy, cutoff=dt.date(2019, 4, 30), **kw)  # type: ignore[arg-type]
    assert t1.basis == "forecast" and t1.known_periods == 0 and t1.known_value is None
    y = forecast_indicator(tidy, cutoff=dt.date(2019, 12, 31), **kw)  # type: ignore[arg-type]
    assert y.basis == "outcome" and y.point == pytest.approx(19.0) and y.known_periods == 1


def _calibration_file(tmp_path, errors: np.ndarray, floors: dict[str, float] | None = None):  # type: ignore[no-untyped-def]
    """A calibration file with one annual pool of ``errors`` for N00001 at every cutoff."""
    import json

    from ks_analysis.forecast import calibration as cal

    q = [float(x) for x in np.quantile(errors, cal.QUANTILE_GRID)]
    pools = {
        f"annual|{c}|naive_annual|N00001": {"n": int(errors.size), "q": q}
        for c in ("T1", "T2", "Y")
    }
    path = tmp_path / "calibration.json"
    path.write_text(
        json.dumps(
            {
                "pools": pools,
                "defaults": {"annual": "naive_annual"},
                "params": {"scale_floor_by_band": floors or {}},
            }
        ),
        encoding="utf-8",
    )
    return path


def test_implausibly_wide_interval_is_flagged(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An 80 % interval wider than twice the level (a degenerate error pool) carries 'wide_interval'."""
    from ks_analysis.forecast import calibration as cal

    tidy = _annual({y: 12.0 + (y % 3) for y in range(2008, 2019)})
    ind = Indicator(
        "N00001", "t", "%", "Y", "point", "higher_is_better", "target", Target("increase")
    )
    kw = dict(
        municipality="0665",
        indicator=ind,
        gender="T",
        year=2019,
        cutoff=dt.date(2019, 8, 31),
        as_of=dt.date(2019, 8, 31),
    )
    monkeypatch.setattr(
        cal, "CALIBRATION_FILE", _calibration_file(tmp_path, np.linspace(-70, 1000, 200))
    )
    wide = forecast_indicator(tidy, **kw)  # type: ignore[arg-type]
    assert (
        wide.calibration.startswith("annual|T2|naive_annual|N00001")
        and "wide_interval" in wide.flags
    )
    (tmp_path / "narrow").mkdir()
    monkeypatch.setattr(
        cal, "CALIBRATION_FILE", _calibration_file(tmp_path / "narrow", np.linspace(-1, 1, 200))
    )
    ok = forecast_indicator(tidy, **kw)  # type: ignore[arg-type]
    assert "wide_interval" not in ok.flags


def test_scale_floor_and_no_pool_without_consecutive_years(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """A series near zero takes the KPI's scale floor; one published every other year has no
    year-on-year change to scale pooled errors by, so it does not use the pool."""
    from ks_analysis.forecast import calibration as cal

    monkeypatch.setattr(
        cal,
        "CALIBRATION_FILE",
        _calibration_file(tmp_path, np.linspace(-2, 2, 200), {"N00001": 1.5}),
    )
    ind = Indicator(
        "N00001", "t", "%", "Y", "point", "higher_is_better", "target", Target("increase")
    )
    kw = dict(
        municipality="0665",
        indicator=ind,
        gender="T",
        year=2019,
        cutoff=dt.date(2019, 8, 31),
        as_of=dt.date(2019, 8, 31),
    )
    near_zero = forecast_indicator(
        _annual({y: 0.1 + 0.01 * (y % 2) for y in range(2008, 2019)}), **kw
    )  # type: ignore[arg-type]
    assert near_zero.scale == pytest.approx(1.5)
    biennial = forecast_indicator(_annual({2011: 10.5, 2013: 10.3, 2015: 1.0, 2017: 12.0}), **kw)  # type: ignore[arg-type]
    assert (
        not biennial.calibration.startswith("annual|")
        and "few_calibration_errors" in biennial.flags
    )


def test_cutoff_kind_follows_the_report_cutoffs() -> None:
    """A forecast date is calibrated as the first report cutoff on or after it (periods.py's dates);
    an unknown period kind is refused with the kinds that exist."""
    from ks_analysis.errors import PeriodError
    from ks_analysis.forecast.engine import cutoff_kind
    from ks_analysis.periods import cutoff_of

    assert [cutoff_kind(cutoff_of(2019, k)) for k in ("T1", "T2", "Y")] == ["T1", "T2", "Y"]
    assert cutoff_kind(dt.date(2019, 3, 31)) == "T1"
    assert cutoff_kind(dt.date(2019, 5, 1)) == "T2"
    assert cutoff_kind(dt.date(2019, 9, 1)) == "Y"
    with pytest.raises(PeriodError, match="T1, T2, Y"):
        cutoff_of(2019, "T3")


def test_possible_range_respects_known_months_and_scales() -> None:
    """Seven known months of a yearly mean force its lower bound; a sum cannot fall below its
    year to date; a share or an index that has always been 0-100 stays there."""
    from ks_analysis.forecast.engine import possible_range

    hist = np.full((3, 12), 300.0)
    cur = np.r_[np.full(7, 360.0), np.full(5, np.nan)]
    lo, hi = possible_range(hist, cur, "mean", is_count=True, unit="antal")
    assert lo == pytest.approx(7 * 360 / 12) and hi == np.inf
    lo, _ = possible_range(hist, cur, "sum", is_count=True, unit="antal")
    assert lo == pytest.approx(7 * 360)
    share = np.r_[np.full(7, 90.0), np.full(5, np.nan)]
    lo, hi = possible_range(np.full((3, 12), 80.0), share, "mean", is_count=False, unit="%")
    assert (lo, hi) == (pytest.approx(630 / 12), pytest.approx((630 + 500) / 12))
    assert possible_range(
        np.array([[55.0]]), np.array([np.nan]), "point", is_count=False, unit="index"
    ) == (0.0, 100.0)
    # a series that has been negative has no lower bound
    assert (
        possible_range(np.array([[-1.0]]), np.array([np.nan]), "point", is_count=False, unit="%")[0]
        == -np.inf
    )


def test_intervals_never_leave_the_possible_range() -> None:
    """A wide error pool around a monthly mean with seven known months: every draw, and so every
    printed bound, is at least what the known months force, and the draws are truncated (moved
    inside), not piled up on the bound."""
    from ks_analysis.forecast.engine import forecast_from_matrix

    rng = np.random.default_rng(0)
    hist = rng.normal(300, 120, (8, 12)).clip(0)
    cur = np.r_[np.full(7, 360.0), np.full(5, np.nan)]
    res = forecast_from_matrix(hist, cur, aggregation="mean", frequency="M", cutoff=dt.date(2022, 8, 31), is_count=True, unit="antal")  # fmt: skip
    floor = 7 * 360 / 12
    assert res.samples is not None and res.samples.min() >= floor - 1e-9
    assert res.lo95 is not None and res.lo95 >= floor - 1e-9
    assert np.mean(np.isclose(res.samples, floor)) < 0.01  # no point mass on the bound


def test_latest_known_indicator_is_the_latest_election_as_outcome() -> None:
    """Between elections, turnout is the latest election's result, an outcome compared with the
    election before it (no forecast of a year without an election)."""
    rows = [
        {"municipality": "0665", "indicator": "N05401", "gender": "T", "frequency": "Y", "period": str(y), "period_end": pd.Timestamp(y, 12, 31),
         "value": v, "unit": "%", "source": "t", "source_file": "t.csv", "source_row": y, "published": pd.Timestamp(y, 12, 31)}
        for y, v in ((2010, 82.0), (2014, 84.7), (2018, 86.1))
    ]  # fmt: skip
    ind = Indicator("N05401", "t", "%", "Y", "point", "higher_is_better", "context", Target("increase"), latest_known=True)  # fmt: skip
    fc = forecast_indicator(pd.DataFrame(rows), municipality="0665", indicator=ind, gender="T", year=2019, cutoff=dt.date(2019, 8, 31), as_of=dt.date(2019, 8, 31))  # fmt: skip
    assert (fc.basis, fc.point, fc.last_year, fc.last_value) == ("outcome", 86.1, 2014, 84.7)
    assert "latest_of_2018" in fc.flags and fc.lo80 == fc.hi80 == 86.1
    from ks_analysis.evaluate.status import p_met

    assert p_met(fc, ind) == 1.0


def test_pool_with_credibility_scales_by_the_series_own_record(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """A pool stored with credibility parameters narrows a series whose own past forecasts erred
    little (a steady rise, forecast as last value + last step) and widens one that erred much (a
    zigzag the step overshoots); without them the pool's width stands."""
    import json

    from ks_analysis.forecast import calibration as cal

    errors = np.linspace(-2, 2, 200)
    q = [float(x) for x in np.quantile(errors, cal.QUANTILE_GRID)]

    def calib(cred: dict[str, float] | None, name: str):  # type: ignore[no-untyped-def]
        pool: dict[str, object] = {"n": 200, "q": q}
        if cred:
            pool["cred"] = cred
        (tmp_path / name).mkdir()
        path = tmp_path / name / "calibration.json"
        path.write_text(
            json.dumps(
                {
                    "pools": {"annual|T2|ses_pooled|N00001": pool},
                    "defaults": {"annual": "ses_pooled"},
                    "params": {"trend_phi_by_indicator": {"N00001": 1.0}},
                }
            ),
            encoding="utf-8",
        )
        return path

    ind = Indicator(
        "N00001", "t", "%", "Y", "point", "higher_is_better", "target", Target("increase")
    )
    kw = dict(
        municipality="0665", indicator=ind, gender="T", year=2019,
        cutoff=dt.date(2019, 8, 31), as_of=dt.date(2019, 8, 31),
    )  # fmt: skip
    steady = _annual({y: 10.0 + 0.5 * (y - 2000) + 0.01 * (y % 2) for y in range(2000, 2019)})
    rough = _annual({y: 10.0 + (1.0 if y % 2 == 0 else -1.0) for y in range(2000, 2019)})
    width = {}
    for name, cred in (("plain", None), ("cred", {"mu": 1.0, "k": 3.0, "cap": 10.0})):
        monkeypatch.setattr(cal, "CALIBRATION_FILE", calib(cred, name))
        for label, tidy in (("steady", steady), ("rough", rough)):
            fc = forecast_indicator(tidy, **kw)  # type: ignore[arg-type]
            assert fc.hi80 is not None and fc.lo80 is not None and fc.scale
            width[(name, label)] = (fc.hi80 - fc.lo80) / fc.scale
            assert ("|lam=" in fc.calibration) == (name == "cred")
    assert width[("cred", "steady")] < 0.6 * width[("plain", "steady")]
    assert width[("cred", "rough")] > 1.1 * width[("plain", "rough")]
