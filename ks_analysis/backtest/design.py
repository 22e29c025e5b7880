"""Backtest design: which real series are replayed, at which origins, with which candidate methods.

The origins are the report cutoffs of :mod:`ks_analysis.periods` (30 April = T1, 31 August = T2,
31 December = Y of each year). 2020 is a shock year and is reported apart.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ks_analysis import periods
from ks_analysis.forecast import methods as m

__all__ = [
    "SeriesRule",
    "BACKTEST_SERIES",
    "CUTOFF_KINDS",
    "SHOCK_YEARS",
    "MIN_JUDGED",
    "SUBYEAR_EVAL_METHODS",
    "ANNUAL_EVAL_METHODS",
    "SES_ALPHAS",
    "TREND_PHIS",
    "origins",
    "outcome_vintage",
    "rule_for",
]

#: Origins within a year: the report period kinds, in cutoff order (dates from ``periods``).
CUTOFF_KINDS = periods.CUTOFF_KINDS
SHOCK_YEARS = (2020,)
#: A cell needs this many forecasts before its figures are judged.
MIN_JUDGED = 100
SUBYEAR_EVAL_METHODS = m.SUBYEAR_METHODS
ANNUAL_EVAL_METHODS = ("naive_annual", "ses_pooled")
SES_ALPHAS = (0.2, 0.35, 0.5, 0.7, 0.85, 1.0)
#: Damped year-on-year step added to the last value (annual candidates next to SES).
TREND_PHIS = (0.25, 0.5, 0.75, 1.0)


def origins(year: int) -> list[tuple[str, dt.date]]:
    """The backtest's origins in ``year``: each report period kind with its cutoff date."""
    return [(kind, periods.cutoff_of(year, kind)) for kind in CUTOFF_KINDS]


def outcome_vintage(year: int) -> dt.date:
    """The vintage a year's outcome is first read from: delår 1 of the next year (30 April)."""
    return periods.cutoff_of(year + 1, "T1")


@dataclass(frozen=True)
class SeriesRule:
    """Which tidy indicators the backtest uses and how a year of them is judged."""

    pattern: str  # regular expression on the indicator id
    aggregation: str  # sum / mean / point
    direction: str  # higher_is_better / lower_is_better
    group: str  # series in one group share a pooled seasonal profile / smoothing weight
    min_level: float = 0.0  # skip series whose yearly level is below this (near-empty categories)


#: The real series that fit (see ../shared/data/real/SOURCES.md and data/real-sources.yaml).
BACKTEST_SERIES: tuple[SeriesRule, ...] = (
    SeriesRule(r"TVA_NYSTARTADE", "sum", "higher_is_better", "TVA_NYSTARTADE"),
    SeriesRule(r"AF_ARBETSLOSA", "mean", "lower_is_better", "AF_ARBETSLOSA"),
    SeriesRule(r"SCB_BAS_ARBETSLOSHET(__.*)?", "mean", "lower_is_better", "SCB_BAS_ARBETSLOSHET"),
    SeriesRule(r"SCB_BAS_ARBETSLOSA", "mean", "lower_is_better", "SCB_BAS_ARBETSLOSA"),
    SeriesRule(r"SOS_EKB_HUSHALL", "mean", "lower_is_better", "SOS_EKB_HUSHALL"),
    SeriesRule(r"SOS_EKB_UTBETALT", "sum", "lower_is_better", "SOS_EKB_UTBETALT"),
    SeriesRule(r"BV_NYREG_.*", "sum", "higher_is_better", "BV_NYREG", min_level=20),
    SeriesRule(r"KONKURSER__.*", "sum", "lower_is_better", "KONKURSER", min_level=10),
    SeriesRule(r"SCB_BYGG_PABORJADE__.*", "sum", "higher_is_better", "SCB_BYGG_PABORJADE"),
    SeriesRule(r"SCB_BYGG_FARDIGSTALLDA__.*", "sum", "higher_is_better", "SCB_BYGG_FARDIGSTALLDA"),
    SeriesRule(r"SCB_BYGGLOV__.*", "sum", "higher_is_better", "SCB_BYGGLOV"),
    # Annual Kolada KPIs of the goal catalogue (point values), all kommuner.
    SeriesRule(r"N01951", "point", "higher_is_better", "N01951"),
    SeriesRule(r"N07917", "point", "higher_is_better", "N07917"),
    SeriesRule(r"N07923", "point", "higher_is_better", "N07923"),
    SeriesRule(r"N03926", "point", "lower_is_better", "N03926"),
    SeriesRule(r"N03920", "point", "lower_is_better", "N03920"),
    SeriesRule(r"N31816", "point", "lower_is_better", "N31816"),
    SeriesRule(r"N00999", "point", "higher_is_better", "N00999"),
    SeriesRule(r"N01004", "point", "higher_is_better", "N01004"),
    SeriesRule(r"N00926", "point", "lower_is_better", "N00926"),
    SeriesRule(r"U00408", "point", "higher_is_better", "U00408"),
)


def rule_for(indicator: str, rules: Iterable[SeriesRule]) -> SeriesRule | None:
    """The first rule whose pattern matches the whole indicator id, or None."""
    for r in rules:
        if re.fullmatch(r.pattern, indicator):
            return r
    return None
