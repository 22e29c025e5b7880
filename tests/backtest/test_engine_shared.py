"""The backtest replays through the forecast engine: a change to the engine reaches both paths."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ks_analysis.backtest import replay
from ks_analysis.backtest.design import SeriesRule
from ks_analysis.backtest.vintages import panels
from ks_analysis.forecast import calibration as cal
from ks_analysis.forecast import engine
from ks_analysis.forecast import methods as m
from ks_analysis.goals.catalogue import Indicator, Target

SEASON = np.array([5, 5, 8, 10, 12, 15, 20, 18, 12, 8, 6, 5], dtype=float)
MUNICIPALITIES = ("0665", "0662", "0680")
CUTOFF = dt.date(2019, 4, 30)
IND = Indicator("X_COUNT", "t", "antal", "M", "sum", "higher_is_better", "t", Target("increase"))


@pytest.fixture(autouse=True)
def no_calibration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Both paths without the committed calibration file, so the test depends on nothing stored."""
    monkeypatch.setattr(cal, "CALIBRATION_FILE", tmp_path / "none.json")


def _tidy() -> pd.DataFrame:
    """Monthly counts 2012-2019 for three kommuner, each month published 20 days after it ends."""
    rng = np.random.default_rng(3)
    rows = []
    for k, mun in enumerate(MUNICIPALITIES):
        for year in range(2012, 2020):
            for i, v in enumerate(rng.poisson(SEASON * (3 + k))):
                end = (pd.Timestamp(year, i + 1, 1) + pd.offsets.MonthEnd(0)).normalize()
                rows.append(
                    {
                        "municipality": mun, "indicator": "X_COUNT", "gender": "T", "frequency": "M",
                        "period": f"{year}-{i + 1:02d}", "value": float(v), "unit": "antal",
                        "published": end + pd.Timedelta(days=20),
                    }
                )  # fmt: skip
    return pd.DataFrame(rows)


def _report_point(tidy: pd.DataFrame, method: str) -> float:
    """The report path's point forecast of 0665 for 2019 at 30 April."""
    fc = engine.forecast_indicator(
        tidy, municipality="0665", indicator=IND, gender="T", year=2019, cutoff=CUTOFF,
        as_of=CUTOFF, method=method,
    )  # fmt: skip
    assert fc.point is not None and fc.method == method
    return fc.point


def _backtest_point(tidy: pd.DataFrame, method: str) -> float:
    """The backtest's point forecast of 0665 for 2019 at 30 April (T1) with ``method``."""
    rules = (SeriesRule("X_COUNT", "sum", "higher_is_better", "X_COUNT"),)
    records = replay.replay_panels(panels(tidy, tidy, rules), methods=(method,))
    row = records[
        records["series"].eq("0665|X_COUNT|T")
        & records["year"].eq(2019)
        & records["cutoff"].eq("T1")
        & records["method"].eq(method)
    ]
    assert len(row) == 1
    return float(row["point"].iloc[0])


def test_a_changed_method_reaches_report_and_backtest(monkeypatch: pytest.MonkeyPatch) -> None:
    """Making ytd_snaive return value + 1000 in the method table moves the report's forecast and the
    backtest's forecast of the same series and cutoff by 1000, and the two stay equal."""
    tidy = _tidy()
    before_report = _report_point(tidy, "ytd_snaive")
    before_backtest = _backtest_point(tidy, "ytd_snaive")
    assert before_report == pytest.approx(before_backtest)
    original = m.METHODS["ytd_snaive"]

    def shifted(hist: np.ndarray, cur: np.ndarray, ctx: m.MethodContext) -> float | None:
        """ytd_snaive plus 1000."""
        v = original(hist, cur, ctx)
        return None if v is None else v + 1000.0

    monkeypatch.setitem(m.METHODS, "ytd_snaive", shifted)
    after_report = _report_point(tidy, "ytd_snaive")
    after_backtest = _backtest_point(tidy, "ytd_snaive")
    assert after_report == pytest.approx(before_report + 1000.0)
    assert after_backtest == pytest.approx(before_backtest + 1000.0)
    assert after_report == pytest.approx(after_backtest)


def test_backtest_uses_the_engines_ladder_and_seasonal_profile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Replacing the engine's ladder and pooled seasonal profile changes both paths alike: the
    backtest has no copy of its own of either step."""
    tidy = _tidy()
    ladder = engine.ladder_point
    calls = {"ladder": 0, "profile": 0}

    def shifted_ladder(
        requested: str, hist: np.ndarray, cur: np.ndarray, ctx: m.MethodContext
    ) -> engine.LadderPoint:
        """The engine's ladder with 1000 added to its point."""
        calls["ladder"] += 1
        lp = ladder(requested, hist, cur, ctx)
        return engine.LadderPoint(
            None if lp.point is None else lp.point + 1000.0, lp.method, lp.rung
        )

    def flat_profile(block: np.ndarray) -> np.ndarray:
        """A flat seasonal profile whatever the peers did."""
        calls["profile"] += 1
        return np.full(block.shape[1], 1.0 / block.shape[1])

    base_report = _report_point(tidy, "ytd_ratio")
    base_backtest = _backtest_point(tidy, "ytd_ratio")
    monkeypatch.setattr(engine, "ladder_point", shifted_ladder)
    monkeypatch.setattr(engine, "seasonal_profile", flat_profile)
    report = _report_point(tidy, "ytd_ratio")
    n_report = dict(calls)
    backtest = _backtest_point(tidy, "ytd_ratio")
    assert n_report["ladder"] >= 1 and n_report["profile"] >= 1
    assert calls["ladder"] > n_report["ladder"] and calls["profile"] > n_report["profile"]
    assert report == pytest.approx(backtest)
    assert report != pytest.approx(base_report) and backtest != pytest.approx(base_backtest)
    # ytd_ratio with a flat profile: Jan-Mar are 3/12 of the year (damped towards the own profile)
    assert report > 1000.0


def test_the_fitted_ets_combination_is_the_same_forecast_in_report_and_backtest() -> None:
    """cred_level_etsfit gives the report and the backtest the same point for the same series,
    year and cutoff, and it differs from both of its parts (it is their mean)."""
    tidy = _tidy()
    combined = _report_point(tidy, "cred_level_etsfit")
    assert combined == pytest.approx(_backtest_point(tidy, "cred_level_etsfit"))
    parts = [_report_point(tidy, "cred_level"), _report_point(tidy, "ets_fit")]
    assert combined == pytest.approx(float(np.mean(parts)))
    assert parts[0] != pytest.approx(parts[1])


def test_a_report_uses_the_method_the_backtest_chose_for_its_origin_year(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The report's default for a monthly sum at T1 is the calibration's choice for its own origin
    year (here the fitted-ETS combination for 2019, ytd_ratio for the others), and follows it
    when that origin's choice changes."""
    path = tmp_path / "calibration.json"
    entry = {"default_by_cell": {"monthly|T1|sum": "ytd_ratio"}}
    content = {
        **entry,
        "by_origin": {
            "2018": entry,
            "2019": {"default_by_cell": {"monthly|T1|sum": "cred_level_etsfit"}},
            "2020": entry,
        },
    }
    path.write_text(json.dumps(content), encoding="utf-8")
    monkeypatch.setattr(cal, "CALIBRATION_FILE", path)
    cal._load.cache_clear()
    try:
        tidy = _tidy()
        fc = engine.forecast_indicator(
            tidy, municipality="0665", indicator=IND, gender="T", year=2019, cutoff=CUTOFF,
            as_of=CUTOFF,
        )  # fmt: skip
        assert fc.method == "cred_level_etsfit"
        assert fc.point == pytest.approx(_backtest_point(tidy, "cred_level_etsfit"))
        content["by_origin"]["2019"] = entry  # the 2019 origin chose otherwise: so does the report
        path.write_text(json.dumps(content), encoding="utf-8")
        cal._load.cache_clear()
        other = engine.forecast_indicator(
            tidy, municipality="0665", indicator=IND, gender="T", year=2019, cutoff=CUTOFF,
            as_of=CUTOFF,
        )  # fmt: skip
        assert other.method == "ytd_ratio"
        assert other.point != pytest.approx(fc.point)
    finally:
        cal._load.cache_clear()
