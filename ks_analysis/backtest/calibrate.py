"""Calibration file: the error pools, defaults and tuned parameters the report's forecasts read.

Writes ``ks_analysis/data/calibration.json`` (see :mod:`ks_analysis.forecast.calibration`) from a
scored backtest: quantiles of scaled errors per (family, cutoff, method, error band), the default
method per family and selection cell, the annual SES weights and damped steps, and scale floors.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd

from ks_analysis.backtest.score import BAND_LEVELS
from ks_analysis.backtest.select import SELECT_FALLBACK, AnnualTuning, select_methods
from ks_analysis.forecast import calibration as cal

__all__ = ["write_calibration", "scale_floors"]


def write_calibration(
    scored: pd.DataFrame,
    defaults: dict[str, str],
    tuning: AnnualTuning | None = None,
    path: Path = cal.CALIBRATION_FILE,
) -> Path:
    """Write the error pools (quantiles of scaled errors, all non-shock years and 2020) and defaults.

    ``tuning`` holds the annual SES weights and damped steps chosen on every year
    (:func:`ks_analysis.backtest.select.annual_tuning`); None writes none.

    ``default_by_cell`` holds the sub-annual method per (family, cutoff, aggregation) that
    :func:`select_methods` picks on every backtest year: the same rule the backtest evaluated
    year by year on earlier years only, applied at the latest origin.
    """
    tuning = tuning or AnnualTuning()
    pools: dict[str, Any] = {}
    for (fam, cutoff, method), g in scored[scored["method"].ne("selected")].groupby(
        ["family", "cutoff", "method"]
    ):
        for lev in BAND_LEVELS:
            for band, gb in g.groupby(lev):
                eb = gb["e"].to_numpy()
                if eb.size < cal.MIN_POOLED:
                    continue  # too few: the forecast widens its own errors and flags itself
                pools[cal.CalibrationKey(str(fam), str(cutoff), str(method), str(band)).id()] = {
                    "n": int(eb.size),
                    "q": [round(x, 4) for x in cal.quantiles_of(eb)],
                }
    content = {
        "about": "Scaled forecast errors (actual - forecast) / mean |year-on-year change| from ks-analysis backtest on the real series; quantiles only, no data values.",
        "generated": dt.date.today().isoformat(),
        "quantile_grid": cal.QUANTILE_GRID.tolist(),
        "defaults": {f: (SELECT_FALLBACK if v == "selected" else v) for f, v in defaults.items()},
        "default_by_cell": select_methods(scored) if "agg" in scored else {},
        "params": {
            "M": {"damping": 0.5, "ets_params": [0.2, 0.1]},
            "Q": {"damping": 0.5, "ets_params": [0.2, 0.1]},
            "ses_alpha_by_indicator": dict(tuning.ses_alpha),
            "trend_phi_by_indicator": dict(tuning.trend_phi),
            "scale_floor_by_band": scale_floors(scored),
        },  # fmt: skip
        "pools": pools,
    }
    text = json.dumps(content, separators=(",", ":"))
    path.write_text(
        text.replace('},"', '},\n"') + "\n", encoding="utf-8"
    )  # one pool a line: readable diffs
    cal._load.cache_clear()
    return path


def scale_floors(scored: pd.DataFrame) -> dict[str, float]:
    """Annual KPIs: the scale floor a forecast applies, per 'KPI|kommun size band' and per KPI:
    :data:`ks_analysis.forecast.calibration.SCALE_FLOOR_SHARE` × the median scale at the latest origin year."""
    a = scored[
        scored["family"].eq("annual")
        & scored["method"].eq("naive_annual")
        & scored["cutoff"].eq("T1")
    ]
    if a.empty or "b2" not in a:
        return {}
    a = a[a["year"] == a["year"].max()]
    band = a["band"].astype(str).str.replace(r"\|h\d+$", "", regex=True)
    out = {
        str(k): round(float(v) * cal.SCALE_FLOOR_SHARE, 6)
        for k, v in a.groupby(band)["scale"].median().items()
    }
    out.update(
        {
            str(k): round(float(v) * cal.SCALE_FLOOR_SHARE, 6)
            for k, v in a.groupby("b2")["scale"].median().items()
        }
    )
    return out
