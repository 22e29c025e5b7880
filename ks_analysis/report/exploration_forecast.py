"""The forecast section of the indicator exploration (notebook 04): the next year's forecast with its
method diagnostics, and how the forecast engine did on this series in the last years.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from ks_analysis.forecast.engine import Forecast, forecast_indicator
from ks_analysis.periods import Period
from ks_analysis.report.exploration import (
    _COLORS,
    Exploration,
    _axes,
    _figure,
    _section,
    _table,
    _yearly,
)
from ks_analysis.report.html import Markup
from ks_analysis.swedish import fmt_day_month, fmt_number

__all__ = ["render_forecast", "backtest_series"]

#: The track record replays the forecast of delår 2, the interim report closest to the year's end.
_TRACK_PERIOD = "T2"


def backtest_series(x: Exploration, years: int = 5) -> pd.DataFrame:
    """What the forecast engine would have said for each of the last ``years`` complete years, at delår 2's cutoff (31 August), against the outcome.

    Returns:
        One row per year: year, forecast, lo80, hi80, outcome, error, inside80, method.
    """
    s = _yearly(x, x.municipality, x.gender)
    out = []
    for y in [int(v) for v in s.index][-years:]:
        cutoff = Period(y, _TRACK_PERIOD).cutoff
        fc = forecast_indicator(
            x.rows,
            municipality=x.municipality,
            indicator=x.indicator,
            gender=x.gender,
            year=y,
            cutoff=cutoff,
            as_of=min(cutoff, x.as_of),
        )
        if fc.point is None:
            continue
        actual = float(s.loc[y])
        inside = None if fc.lo80 is None or fc.hi80 is None else bool(fc.lo80 <= actual <= fc.hi80)
        out.append(
            {
                "year": y,
                "forecast": fc.point,
                "lo80": fc.lo80,
                "hi80": fc.hi80,
                "outcome": actual,
                "error": fc.point - actual,
                "inside80": inside,
                "method": fc.method,
            }
        )
    return pd.DataFrame(
        out, columns=["year", "forecast", "lo80", "hi80", "outcome", "error", "inside80", "method"]
    )


def _forecast_now(x: Exploration) -> Forecast:
    """The engine's forecast of the year after the last one known, as of the exploration's date."""
    s = _yearly(x, x.municipality, x.gender)
    year = int(s.index.max()) + 1 if not s.empty else x.as_of.year
    cutoff = min(x.as_of, dt.date(year, 12, 31)) if x.as_of.year >= year else dt.date(year, 1, 1)
    return forecast_indicator(
        x.rows,
        municipality=x.municipality,
        indicator=x.indicator,
        gender=x.gender,
        year=year,
        cutoff=cutoff,
        as_of=x.as_of,
    )


def render_forecast(x: Exploration) -> Markup:
    """The forecast of the next year with its method diagnostics, and how the engine did on this series before."""
    fc = _forecast_now(x)
    if fc.point is None:
        return _section("Prognos", message="För få värden för en prognos.")
    fig = _forecast_chart(fc, fc.point, x.gender)
    alt = f"Diagram: {x.title}, utfall till {fc.last_year} och prognos {fc.year} {fmt_number(fc.point, x.indicator.unit)} med intervall."
    parts = [
        _figure(fig, alt, f"Prognos {fc.year} med 80 % och 95 % intervall"),
        _table(_diagnostics(fc, x.indicator.unit), "Prognosen och metodens diagnostik"),
    ]
    track = _track_record(x)
    return _section("Prognos och metod", *parts, *([track] if track is not None else []))


def _forecast_chart(fc: Forecast, point: float, gender: str) -> Any:
    """The series' outcomes with the forecast ``point`` (``fc.point``, known) and its 80 % and 95 % bars (a matplotlib figure)."""
    fig, ax = _axes()
    hist = fc.history
    ax.plot(
        hist.index,
        hist.to_numpy(),
        "-o",
        color=_COLORS.get(gender, "#1f4e79"),
        markersize=3,
        label="Utfall",
    )
    if fc.lo95 is not None and fc.hi95 is not None and fc.lo80 is not None and fc.hi80 is not None:
        for lo, hi, colour, label in (
            (fc.lo95, fc.hi95, "#bbb", "95 %"),
            (fc.lo80, fc.hi80, "#777", "80 %"),
        ):
            ax.errorbar(
                [fc.year],
                [point],
                yerr=[[point - lo], [hi - point]],
                fmt="none",
                ecolor=colour,
                elinewidth=6,
                label=label,
            )
    ax.plot([fc.year], [point], "D", color="#c0392b", label=f"Prognos {fc.year}")
    ax.legend(frameon=False, fontsize=8)
    return fig


def _diagnostics(fc: Forecast, u: str) -> pd.DataFrame:
    """The forecast and its method's diagnostics as a two-column table (field, value)."""
    rows = [
        ("År", fc.year),
        ("Grund", {"forecast": "prognos", "outcome": "utfall"}.get(fc.basis, fc.basis)),
        ("Metod", fc.method),
        ("Steg i reservordningen (0 = förstahand)", fc.rung),
        ("Prognos", fmt_number(fc.point, u)),
        ("80 %-intervall", f"{fmt_number(fc.lo80, u)} – {fmt_number(fc.hi80, u)}"),
        ("95 %-intervall", f"{fmt_number(fc.lo95, u)} – {fmt_number(fc.hi95, u)}"),
        ("Senast kända år och värde", f"{fc.last_year}: {fmt_number(fc.last_value, u)}"),
        ("Kända delperioder", f"{fc.known_periods} av {fc.total_periods}"),
        ("Seriens skala (medel av årsförändringar)", fmt_number(fc.scale, u)),
        ("Kalibrering", fc.calibration or "–"),
        ("Flaggor", ", ".join(fc.flags) or "–"),
    ]
    return pd.DataFrame({"Fält": [f for f, _ in rows], "Värde": [v for _, v in rows]})


def _track_record(x: Exploration) -> Markup | None:
    """The table of what the forecast at delår 2 said in the last years against the outcome (None when none)."""
    u = x.indicator.unit
    bt = backtest_series(x)
    if not len(bt):
        return None
    when = fmt_day_month(Period(x.as_of.year, _TRACK_PERIOD).cutoff)  # '31 augusti'
    short = when[: when.index(" ") + 4]  # '31 aug'
    mae = float(bt["error"].abs().mean())
    hits = bt["inside80"].dropna()
    return _table(
        pd.DataFrame(
            {
                "År": bt["year"],
                f"Prognos ({short})": [fmt_number(v, u) for v in bt["forecast"]],
                "80 %": [
                    f"{fmt_number(a, u)} – {fmt_number(b, u)}"
                    for a, b in zip(bt["lo80"], bt["hi80"], strict=True)
                ],
                "Utfall": [fmt_number(v, u) for v in bt["outcome"]],
                "Fel": [fmt_number(v, u) for v in bt["error"]],
                "Inom 80 %": [
                    "ja" if v else "nej" if v is not None else "–" for v in bt["inside80"]
                ],
                "Metod": bt["method"],
            }
        ),
        f"Så hade prognosen (per {when}) träffat de senaste åren: medelfel {fmt_number(mae, u)}, {int(hits.sum())} av {len(hits)} inom 80 %-intervallet",
    )
