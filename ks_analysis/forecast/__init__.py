"""Forecast: the one forecast engine, used by reports and by the backtest.

Modules in order: ``series`` (a series' rows as a year x sub-period matrix, its full years),
``methods`` (point forecasts on plain arrays), ``calibration`` (error pools and defaults the
backtest wrote), ``engine`` (point, fallback ladder, intervals and draws: :func:`forecast_indicator`
for reports, :func:`forecast_from_matrix` and its steps for the backtest).

The names below are loaded on first use, so importing this package stays cheap (the CLI's
``--help`` does not load pandas).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ks_analysis.forecast.engine import (
        Forecast,
        MatrixForecast,
        forecast_from_matrix,
        forecast_indicator,
    )
    from ks_analysis.forecast.series import series_matrix, yearly_values

__all__ = [
    "Forecast",
    "MatrixForecast",
    "forecast_indicator",
    "forecast_from_matrix",
    "series_matrix",
    "yearly_values",
]

_HOME = {
    "Forecast": "engine",
    "MatrixForecast": "engine",
    "forecast_indicator": "engine",
    "forecast_from_matrix": "engine",
    "series_matrix": "series",
    "yearly_values": "series",
}


def __getattr__(name: str) -> Any:
    """Load a re-exported name from its module on first use."""
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
