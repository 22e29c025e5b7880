"""Backtest: vintage-honest rolling-origin replay of the forecast engine, scores and calibration.

Modules in order: ``design`` (series rules, origins = the report cutoffs), ``vintages`` (every
published version as panels), ``replay`` (forecasts at every origin through
``ks_analysis.forecast.engine``), ``select`` (method choice and annual tuning on earlier years
only), ``score`` (split-conformal intervals, metrics, the summary), ``calibrate`` (writes
``calibration.json``) and ``track_record`` (the committed summary as tables, Swedish prose and a
figure). ``replay`` also re-exports every public name, for notebooks.

The names below are loaded on first use, so importing this package stays cheap. (The notebook
adapter ``replay.track_record`` is not re-exported here: ``track_record`` is also a module name.)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ks_analysis.backtest.calibrate import write_calibration
    from ks_analysis.backtest.replay import run_and_summarise, run_backtest
    from ks_analysis.backtest.score import score_backtest, summarise
    from ks_analysis.backtest.select import select_methods
    from ks_analysis.backtest.track_record import (
        format_table,
        track_record_summary,
        track_record_text_sv,
        write_summary,
    )
    from ks_analysis.backtest.vintages import load_vintages

__all__ = [
    "load_vintages",
    "run_backtest",
    "run_and_summarise",
    "select_methods",
    "score_backtest",
    "summarise",
    "write_calibration",
    "write_summary",
    "format_table",
    "track_record_summary",
    "track_record_text_sv",
]

_HOME = {
    "load_vintages": "vintages",
    "run_backtest": "replay",
    "run_and_summarise": "replay",
    "select_methods": "select",
    "score_backtest": "score",
    "summarise": "score",
    "write_calibration": "calibrate",
    "write_summary": "track_record",
    "format_table": "track_record",
    "track_record_summary": "track_record",
    "track_record_text_sv": "track_record",
}


def __getattr__(name: str) -> Any:
    """Load a re-exported name from its module on first use."""
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
