"""Tests of backtest.py: split-conformal scoring without look-ahead, summaries, and a real-data run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ks_analysis.backtest import replay as bt
from ks_analysis.cli import main


def _records(
    seed: int = 0, years: range = range(2010, 2020), n_series: int = 60, sd: float = 1.0
) -> pd.DataFrame:
    """Synthetic forecasts: actual = point + N(0, sd) x scale, half the series higher-is-better."""
    rng = np.random.default_rng(seed)
    rows = []
    for y in years:
        for sid in range(n_series):
            for method, noise in (
                ("ytd_snaive", sd),
                ("naive_annual", 2 * sd),
                ("credibility", sd),
                ("ets_remainder", sd),
                ("cred_ets", sd),
                ("ytd_ratio", sd),
            ):
                point = 100.0
                rows.append(
                    {
                        "family": "quarterly", "cutoff": "T2", "year": y, "sid": sid, "group": "G", "series": f"s{sid}",
                        "actual": point + rng.normal(0, noise) * 5, "scale": 5.0, "last": 100.0, "sign": 1.0 if sid % 2 else -1.0,
                        "band": "sum|small|s", "b1": "sum|small", "b2": "sum", "floor": np.nan, "known": 2,
                        "method": method, "point": point, "rung": 0,
                    }
                )  # fmt: skip
    return pd.DataFrame(rows)


def test_conformal_intervals_cover_at_their_level() -> None:
    """With stationary errors, calibrated 80 % / 95 % intervals cover about 80 % / 95 % in later years."""
    s = bt.score_backtest(_records())
    later = s[(s["year"] >= 2013) & (s["method"] == "ytd_snaive")]
    cov80 = ((later["actual"] >= later["lo80"]) & (later["actual"] <= later["hi80"])).mean()
    cov95 = ((later["actual"] >= later["lo95"]) & (later["actual"] <= later["hi95"])).mean()
    assert 0.74 <= cov80 <= 0.86 and 0.92 <= cov95 <= 0.985
    assert (later["lo95"] <= later["lo80"]).all() and (later["hi80"] <= later["hi95"]).all()
    assert s[s["year"] == 2010][
        "flagged"
    ].all()  # the first year has no earlier errors: reference shape


def test_calibration_uses_only_earlier_years() -> None:
    """Changing one year's outcomes changes the intervals of later years only, never its own."""
    a = _records(seed=1)
    b = a.copy()
    hit = b["year"] == 2015
    b.loc[hit, "actual"] = b.loc[hit, "actual"] + 500.0
    sa, sb = bt.score_backtest(a), bt.score_backtest(b)
    key = ["year", "sid", "method"]
    sa, sb = sa.sort_values(key).reset_index(drop=True), sb.sort_values(key).reset_index(drop=True)
    same = sa["year"] <= 2015
    assert np.allclose(sa.loc[same, "hi80"], sb.loc[same, "hi80"])
    assert not np.allclose(sa.loc[~same, "hi80"], sb.loc[~same, "hi80"])


def test_summary_cells_and_goal_table() -> None:
    """The summary has one cell per cutoff x family with every score, all years counted, and a goal table and text table built from it."""
    s = bt.score_backtest(_records())
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


def test_committed_track_record_for_the_report() -> None:
    """The report reads the committed summary without rerunning the backtest."""
    summary = bt.track_record_summary()
    if not summary:
        pytest.skip("no committed track record")
    pairs = {(c["cutoff"], c["family"]) for c in summary["cells"]}
    assert pairs == {(c, f) for c in ("T1", "T2") for f in ("monthly", "quarterly", "annual")}
    assert set(summary["defaults"]) == {"monthly", "quarterly", "annual"}
    assert summary["runtime_s"] > 0


def test_track_record_without_raw_reads_the_summary_file_and_never_reruns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """track_record(raw="") returns what the summary file holds and does not run the backtest."""
    fake = tmp_path / "track_record.json"
    fake.write_text(json.dumps({"runtime_s": 1.5, "cells": [], "defaults": {"annual": "x"}}))
    monkeypatch.setattr(bt, "TRACK_RECORD_FILE", fake)

    def _no_rerun(*args: object, **kwargs: object) -> None:
        raise AssertionError("the backtest was rerun")

    monkeypatch.setattr(bt, "run_and_summarise", _no_rerun)
    assert bt.track_record(raw="") == {"runtime_s": 1.5, "cells": [], "defaults": {"annual": "x"}}
    fake.unlink()
    assert bt.track_record(raw="") == {}


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
        (c, f) for c in ("T1", "T2") for f in ("monthly", "quarterly", "annual")
    }


def test_track_record_text_for_the_report() -> None:
    """Swedish sentences for the report's method section, with figures from the committed summary."""
    lines = bt.track_record_text_sv()
    if not bt.track_record_summary():
        assert lines == []
        return
    assert lines[0].startswith("Prognosmetoder")
    assert any("30 april" in x for x in lines) and any("31 augusti" in x for x in lines)


def test_track_record_notebook_runs(tmp_path: Path) -> None:
    """notebooks/02-forecast-track-record.ipynb runs with papermill on the committed summary."""
    papermill = pytest.importorskip("papermill")
    from ks_analysis.paths import NOTEBOOKS_DIR

    if not bt.track_record_summary():
        pytest.skip("no committed track record")
    out = tmp_path / "o.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS_DIR / "02-forecast-track-record.ipynb"),
        str(out),
        kernel_name="python3",
        progress_bar=False,
    )
    nb = json.loads(out.read_text(encoding="utf-8"))
    assert any("image/png" in o.get("data", {}) for c in nb["cells"] for o in c.get("outputs", []))


def _selection_records(seed: int = 0) -> pd.DataFrame:
    """Two candidate methods on quarterly T2 sums: credibility errs less than ytd_snaive in every year."""
    r = _records(seed=seed, years=range(2010, 2016), n_series=40)
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


def test_selection_uses_only_earlier_years() -> None:
    """The method chosen for a year comes from earlier years: too few before -> ytd_snaive; a later year's outcomes change nothing before it."""
    r = _selection_records()
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


def test_selection_tie_keeps_the_simple_method() -> None:
    """When two methods score the same, selection keeps the simpler one (ytd_snaive)."""
    r = _selection_records()
    r.loc[r["method"].eq("credibility"), "point"] = 100.0
    assert bt.select_methods(r) == {"quarterly|T2|sum": "ytd_snaive"}


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
