"""Shared fixtures of the backtest tests: synthetic backtest records."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest


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


@pytest.fixture
def make_records() -> Callable[..., pd.DataFrame]:
    """A factory of synthetic backtest records (see ``_records``)."""
    return _records
