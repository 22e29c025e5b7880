"""Supporting-goal content and results that stand out: what enriches the report beyond forecasts.

:func:`enrich_report` is called by :func:`ks_analysis.report.build_report` once the goals are
judged; it returns keys to add to the report (``stands_out``) and may add keys to goal dicts
(``kommunkompassen``; resolved ``assessment.added_values``). :func:`render_goal_extras` and
:func:`render_stands_out` give the HTML for those parts.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from .catalogue import Catalogue
from .periods import Period

__all__ = ["enrich_report", "render_goal_extras", "render_stands_out"]


def enrich_report(
    *, tidy: pd.DataFrame, catalogue: Catalogue, municipality: str, period: Period, as_of: dt.date, raw: Path, goals: list[dict[str, Any]]
) -> dict[str, Any]:
    """Report-level additions; goal dicts in ``goals`` may be extended in place."""
    return {}


def render_goal_extras(goal: dict[str, Any]) -> str:
    """HTML added at the end of a goal's section."""
    return ""


def render_stands_out(report: dict[str, Any]) -> str:
    """HTML of the section 'Resultat som sticker ut' (empty when the report has none)."""
    return ""
