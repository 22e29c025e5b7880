"""The pooled level reads the same peers in a report and in the backtest."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ks_analysis.backtest import replay
from ks_analysis.backtest.design import SeriesRule
from ks_analysis.backtest.vintages import panels
from ks_analysis.forecast import calibration as cal
from ks_analysis.forecast import engine
from ks_analysis.goals.catalogue import Indicator, Target

MUNICIPALITIES = ("0665", "0662", "0680", "0682", "0683", "0684", "0685", "0686")
CUTOFF = dt.date(2019, 8, 31)
IND = Indicator("X_NEW", "t", "antal", "Q", "sum", "higher_is_better", "t", Target("increase"))


@pytest.fixture(autouse=True)
def no_calibration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Both paths without the committed calibration file, so the test depends on nothing stored."""
    monkeypatch.setattr(cal, "CALIBRATION_FILE", tmp_path / "none.json")


def _tidy(boost: float = 1.0) -> pd.DataFrame:
    """Quarterly counts 2010-2019 of eight kommuner, each quarter published 110 days after it
    ends (as Tillväxtanalys' new firms); ``boost`` multiplies the peers' (not 0665's) 2018."""
    rng = np.random.default_rng(7)
    rows = []
    for k, mun in enumerate(MUNICIPALITIES):
        for year in range(2010, 2020):
            f = boost if (year == 2018 and mun != "0665") else 1.0
            for i, v in enumerate(rng.poisson(np.array([28, 25, 22, 25]) * (1 + k) * f)):
                end = (pd.Timestamp(year, 3 * i + 3, 1) + pd.offsets.MonthEnd(0)).normalize()
                rows.append(
                    {
                        "municipality": mun, "indicator": "X_NEW", "gender": "T", "frequency": "Q",
                        "period": f"{year}-Q{i + 1}", "value": float(v), "unit": "antal",
                        "published": end + pd.Timedelta(days=110),
                    }
                )  # fmt: skip
    return pd.DataFrame(rows)


def _report_point(tidy: pd.DataFrame) -> float:
    fc = engine.forecast_indicator(
        tidy, municipality="0665", indicator=IND, gender="T", year=2019, cutoff=CUTOFF,
        as_of=CUTOFF, method="pooled_level",
    )  # fmt: skip
    assert fc.point is not None and fc.method == "pooled_level" and fc.known_periods == 1
    return fc.point


def _backtest_point(tidy: pd.DataFrame) -> float:
    rules = (SeriesRule("X_NEW", "sum", "higher_is_better", "X_NEW"),)
    records = replay.replay_panels(panels(tidy, tidy, rules), methods=("pooled_level",))
    row = records[
        records["series"].eq("0665|X_NEW|T")
        & records["year"].eq(2019)
        & records["cutoff"].eq("T2")
        & records["rung"].eq(0)
    ]
    assert len(row) == 1
    return float(row["point"].iloc[0])


def test_report_and_backtest_give_the_same_pooled_level() -> None:
    """The report's pooled level of one kommun equals the backtest's at the same cutoff, and
    both move when only the peers' history changes: the peers, not the series alone, set it."""
    tidy = _tidy()
    report, backtest = _report_point(tidy), _backtest_point(tidy)
    assert report == pytest.approx(backtest)
    boosted = _tidy(boost=1.5)  # the peers' 2018 up by half; 0665's own counts unchanged
    moved_report, moved_backtest = _report_point(boosted), _backtest_point(boosted)
    assert moved_report == pytest.approx(moved_backtest)
    # the group rose by half in 2018 and 0665 did not: its earlier years, deflated to the
    # group's 2018 level, rise by half, and its flat 2018 is partly taken for noise
    assert moved_report > report + 10.0
