"""ks-analysis: forecast-based follow-up of a Swedish municipality's goal decisions.

The stages, in pipeline order (one sub-package each):

- ``goals``: what the decision asks (the goal catalogue) and what people report (self-assessments,
  Kommunkompassen).
- ``fetch``: the one writer of raw snapshots (the Kolada API client).
- ``ingest``: readers, one per source format, from a file to raw observation rows.
- ``clean``: raw rows -> the tidy indicator table, rejected rows with reasons, a manifest.
- ``forecast``: the one forecast engine, used by reports and by the backtest.
- ``backtest``: replays the forecast engine on earlier data vintages, scores and calibrates it.
- ``evaluate``: judges indicators and goals against their targets.
- ``report``: the report model of one period and its Swedish HTML.
- ``publish``: runs the notebooks and swaps the finished report in.

The names below are the front door; they load their stage on first use, so ``import ks_analysis``
stays fast and ``ks-analysis --help`` does not load pandas.
See ``docs/architecture.md`` for what each stage owns and the data that flows between them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ks_analysis.backtest.replay import run_backtest
    from ks_analysis.clean import clean_indicators, run_clean
    from ks_analysis.errors import DataFileError, KsAnalysisError, ParameterError
    from ks_analysis.forecast.engine import forecast_indicator
    from ks_analysis.goals.catalogue import load_catalogue
    from ks_analysis.publish.report import publish_report
    from ks_analysis.report.build import build_report

__all__ = [
    "load_catalogue",
    "clean_indicators",
    "run_clean",
    "forecast_indicator",
    "run_backtest",
    "build_report",
    "publish_report",
    "KsAnalysisError",
    "DataFileError",
    "ParameterError",
]

#: Where each public name lives, in pipeline order. Stage modules are named (not the stage
#: packages) because the packages do not re-export these names yet.
_WHERE: dict[str, str] = {
    "load_catalogue": "ks_analysis.goals.catalogue",
    "clean_indicators": "ks_analysis.clean",
    "run_clean": "ks_analysis.clean",
    "forecast_indicator": "ks_analysis.forecast.engine",
    "run_backtest": "ks_analysis.backtest.replay",
    "build_report": "ks_analysis.report.build",
    "publish_report": "ks_analysis.publish.report",
    "KsAnalysisError": "ks_analysis.errors",
    "DataFileError": "ks_analysis.errors",
    "ParameterError": "ks_analysis.errors",
}


def __getattr__(name: str) -> Any:
    """Import a public name's stage module on first use and cache the name on this package."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'ks_analysis' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the public names with the module's own, so tab completion shows the front door."""
    return sorted({*globals(), *__all__})
