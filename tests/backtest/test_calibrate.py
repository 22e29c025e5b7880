"""Tests of backtest/calibrate.py: calibrations per origin year, so a report never uses the future."""

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
from ks_analysis.evaluate.status import p_met
from ks_analysis.forecast import calibration as cal
from ks_analysis.forecast import engine
from ks_analysis.goals.catalogue import Indicator, Target

KOMMUNER = [f"{600 + k:04d}" for k in range(45)]
POP = Indicator(
    "N01951", "Invånare", "antal", "Y", "point", "higher_is_better", "t", Target("increase")
)
RULES = (SeriesRule("N01951", "point", "higher_is_better", "N01951"),)


def _population(shock_2021: float = 0.0) -> pd.DataFrame:
    """Inhabitants 2000-2023 of 45 kommuner (trend + noise), each year published 53 days after it;
    ``shock_2021`` is added to every kommun's 2021 value (a changed 2021 outcome)."""
    rng = np.random.default_rng(7)
    rows = []
    for k, mun in enumerate(KOMMUNER):
        level, step = 9_000.0 + 300 * k, 40.0 + 5 * (k % 7)
        for year in range(2000, 2024):
            level += step + rng.normal(0, 30 + 4 * (k % 5))
            end = pd.Timestamp(year, 12, 31)
            rows.append(
                {
                    "municipality": mun, "indicator": "N01951", "gender": "T", "frequency": "Y",
                    "period": str(year), "period_end": end,
                    "value": round(level + (shock_2021 if year == 2021 else 0.0)), "unit": "antal",
                    "source": "test", "source_file": "t.csv", "source_row": len(rows) + 2,
                    "published": end + pd.Timedelta(days=53),
                }
            )  # fmt: skip
    return pd.DataFrame(rows)


def _calibration(tidy: pd.DataFrame, path: Path) -> Path:
    """The whole backtest on ``tidy``: replay, scoring, tuning per origin, the calibration file."""
    records = replay.replay_panels(panels(tidy, tidy, RULES))
    tuning = replay.annual_tuning_by_origin(records, replay.annual_tuning(records))
    scored = replay.score_backtest(records)
    return replay.write_calibration(scored, replay.choose_defaults(scored), tuning, path=path)


def _report(
    tidy: pd.DataFrame, year: int, as_of: dt.date
) -> tuple[float, float, float, float | None]:
    """Kommun 0610's forecast for ``year`` at 31 August: point, 80 % interval, P(met) (None when
    last year is not yet known at ``as_of``)."""
    fc = engine.forecast_indicator(
        tidy, municipality="0610", indicator=POP, gender="T", year=year,
        cutoff=dt.date(year, 8, 31), as_of=as_of,
    )  # fmt: skip
    p = p_met(fc, POP)
    assert fc.point is not None and fc.lo80 is not None and fc.hi80 is not None
    assert (p is None) == (as_of.year < year)
    return fc.point, fc.lo80, fc.hi80, p


@pytest.fixture(scope="module")
def two_calibrations(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The calibration fitted on the population panel, and on the same panel with 2021 changed."""
    tmp_path = tmp_path_factory.mktemp("calibrations")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = _calibration(_population(), tmp_path / "a" / "calibration.json")
    b = _calibration(_population(shock_2021=400.0), tmp_path / "b" / "calibration.json")
    return a, b


def test_a_changed_2021_outcome_does_not_change_the_2019_report(
    two_calibrations: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Changing every kommun's 2021 outcome changes the calibration fitted on later years (and
    the 2023 report), but not the 2019 report's forecast, interval or P(met): a report of 2019, or
    with --as-of in 2019, uses no error, method choice or weight of 2019 or later."""
    a, b = two_calibrations
    tidy = _population()
    results = {}
    for name, path in (("a", a), ("b", b)):
        monkeypatch.setattr(cal, "CALIBRATION_FILE", path)
        results[name] = {
            "2019": _report(tidy, 2019, dt.date(2019, 8, 31)),
            "2022 as of 2019": _report(tidy, 2022, dt.date(2019, 8, 31)),
            "2023": _report(tidy, 2023, dt.date(2023, 8, 31)),
        }
    assert results["a"]["2019"] == results["b"]["2019"]
    assert results["a"]["2022 as of 2019"] == results["b"]["2022 as of 2019"]
    assert results["a"]["2023"] != results["b"]["2023"]  # the change did reach later calibrations
    ca, cb = (json.loads(p.read_text(encoding="utf-8")) for p in (a, b))
    assert ca["by_origin"]["2019"] == cb["by_origin"]["2019"]
    assert ca["by_origin"]["2023"]["pools"] != cb["by_origin"]["2023"]["pools"]


def test_origin_lookup_takes_the_earlier_year_and_refuses_the_unknown_past(
    two_calibrations: tuple[Path, Path],
) -> None:
    """The origin is the earlier of the cutoff's and as_of's year; an origin after the last stored
    takes every year; one before the first stored gets nothing (default methods, wide errors)."""
    path, _ = two_calibrations
    content = json.loads(path.read_text(encoding="utf-8"))
    stored = sorted(int(y) for y in content["by_origin"])
    assert cal.origin_year(dt.date(2022, 8, 31), dt.date(2019, 8, 31)) == 2019
    assert cal.origin_year(dt.date(2019, 8, 31)) == 2019
    assert cal.load_calibration(path, stored[-1] + 1)["pools"] == content["pools"]
    assert cal.load_calibration(path, stored[0] - 1) == {}
    assert cal.load_calibration(path, 2019)["pools"] == content["by_origin"]["2019"]["pools"]


def test_skill_for_takes_the_most_specific_judged_entry() -> None:
    """A KPI with too few forecasts to judge falls back on its family, unless its own forecasts
    show no skill at all: then that is what it gets. None at all gives None."""
    calib = {
        "skill": {
            "T2": {
                "annual": {"brier_skill": 0.12, "effective_n": 900.0},
                "N03920": {"brier_skill": None, "effective_n": 40.0, "brier_skill_unjudged": -0.1},
                "N03926": {"brier_skill": None, "effective_n": 40.0, "brier_skill_unjudged": 0.2},
                "N01951": {"brier_skill": 0.31, "effective_n": 150.0},
            }
        }
    }
    assert cal.skill_for(calib, "N01951", "T2", family="annual") == pytest.approx(0.31)
    assert cal.skill_for(calib, "N03926", "T2", family="annual") == pytest.approx(0.12)
    assert cal.skill_for(calib, "N03920", "T2", family="annual") == pytest.approx(-0.1)
    assert cal.skill_for(calib, "N03920", "T2") == pytest.approx(-0.1)
    assert cal.skill_for(calib, "N03926", "T2") is None
    assert cal.skill_for(calib, "N01951", "T1", family="annual") is None


def test_skill_entries_compare_the_default_with_the_naive_benchmark_on_the_same_forecasts() -> None:
    """mase_vs_naive is the default's mean |scaled error| over the naive benchmark's on the
    series-years both forecast (2020 left out), per family and per series group."""
    from ks_analysis.backtest.calibrate import origin_skill

    rows = []
    for year, e_default, e_naive in ((2016, 0.5, 1.0), (2017, -1.0, 2.0), (2020, 9.0, 0.1)):
        for method, e in (("ses_pooled", e_default), ("naive_annual", e_naive)):
            rows.append(
                {"family": "annual", "cutoff": "T2", "year": year, "series": "0665|N03920|T",
                 "group": "N03920", "method": method, "e": e, "p_better": 0.6, "better": year % 2 == 0}
            )  # fmt: skip
    # a series-year only the default forecast: not in the comparison
    rows.append({**rows[0], "year": 2018, "e": 5.0, "better": True})
    skill = origin_skill(
        pd.DataFrame(rows), {"annual": "ses_pooled", "monthly": "x", "quarterly": "x"}, None
    )
    assert skill["T2"]["N03920"]["mase_vs_naive"] == pytest.approx((0.5 + 1.0) / (1.0 + 2.0))
    assert skill["T2"]["annual"]["mase_vs_naive"] == pytest.approx(0.5)


def test_an_annual_kpi_not_five_percent_better_than_naive_has_no_skill() -> None:
    """An annual KPI's own point record decides, however few its forecasts; a sub-annual group
    is judged by its Brier skill alone (its forecast starts from the year so far)."""
    calib = {
        "skill": {
            "T2": {
                "annual": {"brier_skill": 0.12, "effective_n": 900.0, "mase_vs_naive": 0.92},
                "U00408": {
                    "brier_skill": None,
                    "brier_skill_unjudged": 0.1,
                    "mase_vs_naive": 0.956,
                },
                "N01951": {"brier_skill": 0.3, "brier_skill_unjudged": 0.3, "mase_vs_naive": 0.81},
                "N00999": {
                    "brier_skill": None,
                    "brier_skill_unjudged": -0.03,
                    "mase_vs_naive": 0.94,
                },
                "SOS_EKB_UTBETALT": {
                    "brier_skill": None,
                    "brier_skill_unjudged": 0.65,
                    "mase_vs_naive": 1.0,
                },
                "quarterly": {"brier_skill": 0.2, "effective_n": 400.0, "mase_vs_naive": 0.9},
            }
        }
    }
    assert cal.has_no_skill(calib, "U00408", "T2", "annual")
    assert not cal.has_no_skill(calib, "N01951", "T2", "annual")
    assert cal.has_no_skill(calib, "N00999", "T2", "annual")  # by its Brier skill
    assert not cal.has_no_skill(calib, "N07917", "T2", "annual")  # no own entry: the family's 0.92
    assert not cal.has_no_skill(calib, "SOS_EKB_UTBETALT", "T2", "quarterly")
    assert not cal.has_no_skill(calib, "U00408", "T1", "annual")  # nothing known: not no skill
    worse = {"skill": {"T2": {"annual": {"brier_skill": 0.1, "mase_vs_naive": 0.97}}}}
    assert cal.has_no_skill(worse, "N07917", "T2", "annual")


def test_pools_store_their_years_and_the_report_widens_as_the_backtest(
    two_calibrations: tuple[Path, Path],
) -> None:
    """Every stored pool says how many forecast years its errors come from and their common-shock
    share; a report's lookup widens the stored quantiles with them, as the backtest widened them."""
    content = json.loads(two_calibrations[0].read_text(encoding="utf-8"))
    widened = 0
    for origin, entry in content["by_origin"].items():
        for pool_id, pool in entry["pools"].items():
            assert 1 <= pool["years"] <= cal.POOL_YEARS and 0.0 <= pool["between"] <= 1.0
            fam, cutoff, method, band = pool_id.split("|", 3)
            key = cal.CalibrationKey(fam, cutoff, method, band)
            q, source, n = cal.scaled_errors(
                key, two_calibrations[0], bands=[band], origin_year=int(origin)
            )
            assert source == pool_id and n == pool["n"] and q is not None
            stored = np.asarray(pool["q"])
            want = cal._conformal(stored, n, pool["years"], pool["between"])
            assert np.allclose(q, want)
            if pool["between"] > 0 and pool["years"] >= 2:
                assert q[-2] - q[1] > (cal._conformal(stored, n)[-2] - cal._conformal(stored, n)[1])
                widened += 1
    assert widened > 0  # some pools estimate a common year shock (ρ is floored at 0, not forced)


def test_pools_split_by_steadiness_keep_their_size_bands_years_and_reports_read_them(
    two_calibrations: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The population panel grows steadily: the calibration stores 'steady' pools of the size
    band (only with every year of their band's pool) and a report of a steadily growing kommun
    reads its interval from one, as the backtest scored it."""
    content = json.loads(two_calibrations[0].read_text(encoding="utf-8"))
    split = 0
    for entry in content["by_origin"].values():
        pools = entry["pools"]
        for pool_id, pool in pools.items():
            if pool_id.endswith(("|steady", "|varied")):
                parent = pools[pool_id.rsplit("|", 1)[0]]
                assert pool["years"] == parent["years"] and pool["n"] <= parent["n"]
                split += 1
    assert split > 0
    monkeypatch.setattr(cal, "CALIBRATION_FILE", two_calibrations[0])
    fc = engine.forecast_indicator(
        _population(), municipality="0610", indicator=POP, gender="T", year=2023,
        cutoff=dt.date(2023, 8, 31), as_of=dt.date(2023, 8, 31),
    )  # fmt: skip
    assert "|steady" in str(fc.calibration)
