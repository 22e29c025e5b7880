"""Tests of backtest/replay.py: the command, a vintage-honest real-data run and its JSON, degenerate scales."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ks_analysis.backtest import replay as bt
from ks_analysis.cli import main


def test_backtest_command_is_registered() -> None:
    """`ks-analysis backtest --help` exists and exits 0."""
    with pytest.raises(SystemExit) as exc:
        main(["backtest", "--help"])
    assert exc.value.code == 0


def test_real_data_subset_is_vintage_honest(real_data: Path) -> None:
    """On real monthly series: at 30 April only the months published by then are known (no look-ahead)."""
    from ks_analysis.paths import PROJECT_ROOT

    rules = tuple(
        r
        for r in bt.BACKTEST_SERIES
        if r.group in ("SOS_EKB_HUSHALL", "SOS_EKB_UTBETALT", "SCB_BAS_ARBETSLOSHET")
    )
    rec = bt.run_backtest(real_data, PROJECT_ROOT / "data" / "real-sources.yaml", rules=rules)
    assert not rec.empty
    t1 = rec[rec["cutoff"] == "T1"]
    sos = t1[t1["group"].str.startswith("SOS")]
    bas = t1[t1["group"] == "SCB_BAS_ARBETSLOSHET"]
    # Socialstyrelsen: 31 days' lag, so March (out 1 May) is not yet known; BAS: 61 days -> January-February
    assert set(sos["known"]) == {2}
    assert set(bas["known"]) == {2}
    t2 = rec[rec["cutoff"] == "T2"]
    assert t2["known"].max() <= 7
    scored = bt.score_backtest(rec)
    assert scored["p_better"].between(0, 1).all()


def test_cli_json_shape(
    real_data: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ks-analysis backtest --format json`` prints runtime_s and the T1/T2 x family cells."""
    from ks_analysis.paths import PROJECT_ROOT

    small = tuple(
        r for r in bt.BACKTEST_SERIES if r.group in ("SOS_EKB_HUSHALL", "KONKURSER", "N03926")
    )
    monkeypatch.setattr(bt, "BACKTEST_SERIES", small)
    assert (
        main(
            [
                "-q",
                "backtest",
                "--raw",
                str(real_data),
                "--sources",
                str(PROJECT_ROOT / "data" / "real-sources.yaml"),
                "--format",
                "json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["runtime_s"] > 0
    assert {(c["cutoff"], c["family"]) for c in out["cells"]} == {
        (c, f) for c in ("T1", "T2") for f in ("monthly", "quarterly", "annual", "nowcast")
    }  # nowcasts of annual KPIs from in-year signals are their own family (issue 12)


def test_degenerate_scales_are_left_out_or_floored() -> None:
    """A KPI published every other year has no year-on-year change to scale by (left out, not
    scaled by 2 % of its level); a series near zero takes a share of its peers' median scale."""
    from ks_analysis.backtest.replay import _floor_scale, _recent_scale
    from ks_analysis.forecast import calibration as cal

    at = np.array([[10.5, np.nan, 10.3, np.nan, 1.0], [10.0, 11.0, 12.0, 11.0, 12.0]])
    s = _recent_scale(at, np.array([1.0, 12.0]))
    assert np.isnan(s[0]) and s[1] == pytest.approx(1.0)
    scale = np.array([0.01, 1.0, 1.2, 0.8, np.nan])
    keys = np.array(["N|s", "N|s", "N|s", "N|s", "N|s"])
    out = _floor_scale(scale, keys)
    assert (
        out[0] == pytest.approx(cal.SCALE_FLOOR_SHARE * 0.9)
        and list(out[1:4]) == [1.0, 1.2, 0.8]
        and np.isnan(out[4])
    )


def test_recent_scale_is_the_engines_scale_for_every_row() -> None:
    """The vectorised annual scale equals the report's ``mase_scale`` row by row: the mean of the
    last six known year-on-year changes (gaps skipped), floored at the relative floor."""
    from ks_analysis.backtest.replay import _recent_scale
    from ks_analysis.forecast import methods as m

    rng = np.random.default_rng(4)
    at = rng.normal(100.0, 10.0, size=(300, 15))
    at[rng.random(at.shape) < 0.3] = np.nan
    at[:5] = np.nan  # nothing known
    last = np.array([r[np.isfinite(r)][-1] if np.isfinite(r).any() else np.nan for r in at])
    got = _recent_scale(at, last)
    for i, row in enumerate(at):
        want = m.mase_scale(row) if np.isfinite(row).any() else None
        if want is None:
            assert np.isnan(got[i])
        else:
            assert got[i] == pytest.approx(want)
