"""Charts for the report: history, forecast fan, target line and comparison lines, as embedded PNG.

Each chart is returned as an HTML figure (the ``figure.html.j2`` fragment) with a base64 PNG (so the report is one
self-contained file) and an alt text that says what the chart shows.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
from functools import lru_cache
from typing import Any

from ks_analysis._memo import Memo
from ks_analysis.paths import PACKAGE_DATA_DIR
from ks_analysis.report.html import Markup, render
from ks_analysis.report.model import GoalEntry, IndicatorRow
from ks_analysis.swedish import fmt_number, fmt_tick, gender_sv

log = logging.getLogger(__name__)

__all__ = ["indicator_chart", "goal_charts", "prepare", "draw_ahead", "keep_drawn"]

_COLORS = {"T": "#1f4e79", "K": "#b5446e", "M": "#2a7f62"}


def _fig_to_html(fig: Any, alt: str, caption: str) -> Markup:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    # A fixed layout draws the figure once; bbox_inches="tight" would draw it twice.
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return render("figure.html.j2", png_base64=data, alt=alt, caption=caption)


#: The report's seaborn theme: ``seaborn.set_theme(**THEME_CALL)``, as the matplotlib settings
#: it makes (``data/chart_theme.json``, written by :func:`write_theme`). Importing seaborn costs
#: the report's kernel 0.7 s (it loads scipy.stats) for nothing but these settings; a test checks
#: that they are what the installed seaborn sets.
THEME_CALL = {"style": "whitegrid", "context": "notebook", "font_scale": 0.9}
THEME_FILE = PACKAGE_DATA_DIR / "chart_theme.json"
#: Not kept: seaborn's default colormap, which only seaborn registers (the report draws no images).
_THEME_LEFT_OUT = {"image.cmap"}


def seaborn_theme() -> dict[str, Any]:
    """The matplotlib settings ``seaborn.set_theme(**THEME_CALL)`` changes, as JSON values
    (the colour cycle as a list of RGB lists, enums by name). Leaves pyplot's settings as they were."""
    import matplotlib as mpl
    import seaborn as sns

    with mpl.rc_context():
        before = dict(mpl.rcParams)
        sns.set_theme(**THEME_CALL)  # type: ignore[arg-type]
        after = dict(mpl.rcParams)
    out: dict[str, Any] = {}
    for key, value in after.items():
        if key in _THEME_LEFT_OUT or value == before.get(key):
            continue
        if key == "axes.prop_cycle":
            value = {"color": [list(c) for c in value.by_key()["color"]]}
        elif hasattr(value, "name") and not isinstance(value, str):
            value = value.name  # an enum such as CapStyle.round
        out[key] = value
    return out


def write_theme() -> None:
    """Write :data:`THEME_FILE` from the installed seaborn (after a seaborn upgrade changed it)."""
    THEME_FILE.write_text(
        json.dumps({"seaborn_set_theme": THEME_CALL, "rc": seaborn_theme()}, indent=1) + "\n",
        encoding="utf-8",
    )


def _theme_rc() -> dict[str, Any]:
    """:data:`THEME_FILE`'s settings as matplotlib takes them."""
    from cycler import cycler

    rc: dict[str, Any] = json.loads(THEME_FILE.read_text(encoding="utf-8"))["rc"]
    if "axes.prop_cycle" in rc:
        rc["axes.prop_cycle"] = cycler(color=[tuple(c) for c in rc["axes.prop_cycle"]["color"]])
    return rc


@lru_cache(maxsize=1)
def _pyplot() -> Any:
    """pyplot on the Agg backend with the report's seaborn theme, set up once per process."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for key, value in _theme_rc().items():
        plt.rcParams[key] = value  # type: ignore[index]  # keys from seaborn, checked by a test
    return plt


def prepare() -> None:
    """Load pyplot with the report's theme now (about a second), ahead of the first chart."""
    _pyplot()


def indicator_chart(rows: list[IndicatorRow], year: int) -> Markup:
    """One chart for one indicator (all its genders): history, forecast fan or outcome, target line.

    Args:
        rows: the report's indicator rows of one indicator (one per gender).
        year: the report year (where the forecast sits).
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.6, 3.3))
    fig.subplots_adjust(left=0.09, right=0.7, top=0.9, bottom=0.1)
    r0 = rows[0]
    alt_parts: list[str] = []
    for r in rows:
        color = _COLORS.get(r["gender"], "#333")
        first = r is rows[0]
        label = f"Kommunen, {gender_sv(r['gender'])}" if len(rows) > 1 else "Kommunen"
        alt_parts += _history_lines(ax, r, color, label, r0["unit"])
        alt_parts += _predecessor_line(ax, r, color, first, r0["unit"])
        if r["forecast"] is not None and r["basis"] == "outcome":
            alt_parts += _outcome_point(ax, r, color, first, year, r0["unit"])
        elif r["forecast"] is not None:
            alt_parts += _forecast_fan(ax, r, color, first, year, r0["unit"])
    alt_parts += _target_line(ax, r0)
    _axes_and_legend(ax, r0)
    alt = f"Diagram: {r0['title']}. " + "; ".join(alt_parts) + "."
    return _fig_to_html(fig, alt, _caption(ax, rows, year))


def _history_lines(ax: Any, r: IndicatorRow, color: str, label: str, unit: str) -> list[str]:
    """Draw the series' history as lines (open over long gaps and series breaks); its alt text."""
    hist = sorted((int(y), v) for y, v in r["history"].items() if v is not None)
    if not hist:
        return []
    xs, ys = zip(*hist, strict=True)
    # A gap of more than one missing year is left open (biennial surveys are joined);
    # a series break is never bridged.
    segments: list[list[tuple[int, float]]] = [[]]
    for x, y in hist:
        if segments[-1] and (
            x - segments[-1][-1][0] > 2
            or (r.get("series_break") and segments[-1][-1][0] < r["series_break"] <= x)
        ):
            segments.append([])
        segments[-1].append((x, y))
    for k, seg in enumerate(segments):
        sx, sy = zip(*seg, strict=True)
        ax.plot(sx, sy, marker="o", ms=3, color=color, label=label if k == 0 else None)
    return [f"{label}: {xs[0]}–{xs[-1]}, senast {fmt_number(ys[-1], unit)} {unit} ({xs[-1]})"]


def _predecessor_line(ax: Any, r: IndicatorRow, color: str, first: bool, unit: str) -> list[str]:
    """Draw the series before a break as a dashed line of its own; its alt text."""
    old = sorted(
        (int(y), v) for y, v in (r.get("predecessor_history") or {}).items() if v is not None
    )
    if not old:
        return []
    ox, oy = zip(*old, strict=True)
    ax.plot(
        ox,
        oy,
        marker="s",
        ms=3,
        ls="--",
        color=color,
        alpha=0.6,
        label=f"Tidigare serie {r.get('predecessor_id', '')} (ej sammanbunden)" if first else None,
    )
    return [
        f"tidigare serie {ox[0]}–{ox[-1]}, senast {fmt_number(oy[-1], unit)} ({ox[-1]}), inte sammanbunden med den nya"
    ]


def _outcome_point(
    ax: Any, r: IndicatorRow, color: str, first: bool, year: int, unit: str
) -> list[str]:
    """Draw the report year's outcome as a diamond; its alt text."""
    ax.plot(
        [year],
        [r["forecast"]],
        marker="D",
        color=color,
        ms=6,
        label=f"Utfall {year}" if first else None,
    )
    return [f"utfall {year}: {fmt_number(r['forecast'], unit)}"]


def _forecast_fan(
    ax: Any, r: IndicatorRow, color: str, first: bool, year: int, unit: str
) -> list[str]:
    """Draw the report year's forecast with its 95 % and 80 % bands (when known); its alt text."""
    if r["lo95"] is not None:
        for lo, hi, alpha, label in (
            (r["lo95"], r["hi95"], 0.15, "95 % intervall"),
            (r["lo80"], r["hi80"], 0.3, "80 % intervall"),
        ):
            ax.fill_between(
                [year - 0.25, year + 0.25],
                [lo] * 2,
                [hi] * 2,
                color=color,
                alpha=alpha,
                lw=0,
                label=label if first else None,
            )
    ax.plot(
        [year],
        [r["forecast"]],
        marker="o",
        mfc="white",
        color=color,
        ms=7,
        label=f"Prognos {year}" if first else None,
    )
    return [
        f"prognos {year}: {fmt_number(r['forecast'], unit)} (80 %: {fmt_number(r['lo80'], unit)}–{fmt_number(r['hi80'], unit)})"
        if r["lo80"] is not None
        else f"prognos {year}: {fmt_number(r['forecast'], unit)}"
    ]


def _target_line(ax: Any, r0: IndicatorRow) -> list[str]:
    """Draw the goal's target level (a fixed target, or last year's value to beat); its alt text."""
    unit = r0["unit"]
    if (
        r0["target_type"] in ("at_least", "at_most")
        and r0["target_value"] is not None
        and not r0.get("summary_of_orter")
    ):
        ax.axhline(
            r0["target_value"], color="#c0392b", ls="--", lw=1.2, label=f"Mål: {r0['target']}"
        )
        return [f"mållinje {fmt_number(r0['target_value'], unit)}"]
    if r0["last_value"] is not None and r0["target_type"] in ("increase", "decrease"):
        ax.axhline(
            r0["last_value"],
            color="#c0392b",
            ls="--",
            lw=1.0,
            label=f"Målnivå: {'över' if r0['target_type'] == 'increase' else 'under'} {r0['last_year']} års värde",
        )
        return [f"målnivå {fmt_number(r0['last_value'], unit)} ({r0['last_year']})"]
    return []


def _axes_and_legend(ax: Any, r0: IndicatorRow) -> None:
    """Mark a series break, label the axes, put the legend right of the plot and set the title."""
    if r0.get("series_break"):
        ax.axvline(r0["series_break"] - 0.5, color="#777", ls=":", lw=1)
        ax.text(
            r0["series_break"] - 0.45,
            ax.get_ylim()[1],
            " serieavbrott",
            va="top",
            fontsize=8,
            color="#555",
        )
    ax.set_ylabel(r0["unit"])
    ax.set_xlabel("")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(fmt_tick))  # Swedish numbers on the value axis
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    # y given: matplotlib then skips placing the title clear of top-axis decorations (there are
    # none), a third of the time of drawing the figure
    ax.set_title(r0["title"], fontsize=10, loc="left", y=1.0)


def _caption(ax: Any, rows: list[IndicatorRow], year: int) -> str:
    """The chart's caption: title, unit and what the chart shows."""
    shown = []
    if any(r["history"] for r in rows):
        shown.append("historik")
    if any(r.get("predecessor_history") for r in rows):
        shown.append("tidigare serie före serieavbrottet")
    if any(r["forecast"] is not None and r["basis"] == "outcome" for r in rows):
        shown.append(f"utfall {year}")
    elif any(r["forecast"] is not None and r["lo80"] is not None for r in rows):
        shown.append(f"prognos för {year} med 80 %- och 95 %-intervall")
    elif any(r["forecast"] is not None for r in rows):
        shown.append(f"prognos för {year}")
    if any("mål" in str(t).lower() for t in ax.get_legend_handles_labels()[1]):
        shown.append("målnivå")
    return f"{rows[0]['title']} ({rows[0]['unit']}). " + (
        ", ".join(shown).capitalize() + "." if shown else ""
    )


#: Charts drawn by another process of the package (``ks-analysis report --year`` draws a
#: period's while the kernel runs the previous period's notebooks), by what they show.
_DRAWN: Memo[Markup] = Memo(64)


def _chart_key(goal: GoalEntry, year: int) -> str:
    """What a goal's charts are drawn from: its indicator rows (every value the charts use; the
    rest of the goal's entry, such as its analysis, is added later and never drawn) and the year."""
    text = json.dumps([goal["indicators"], year], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def draw_ahead(goals: list[GoalEntry], year: int) -> dict[str, Markup]:
    """The charts of the steering goals, drawn now, by their key (for :func:`keep_drawn` in the
    kernel that renders the report)."""
    return {_chart_key(g, year): goal_charts(g, year) for g in goals if g["kind"] == "styrande"}


def draw_ahead_quietly(goals: list[GoalEntry], year: int) -> None:
    """:func:`draw_ahead` into this process's memo, where :func:`goal_charts` finds them; a
    failure is only logged (``goal_charts`` then draws, and fails with its cell if it must)."""
    try:
        draw_ahead(goals, year)  # goal_charts keeps each in the memo
    except Exception:
        log.debug("drawing the charts ahead failed; the report's cell draws them", exc_info=True)


def keep_drawn(drawn: dict[str, Markup]) -> None:
    """Keep charts drawn by :func:`draw_ahead` in another process (rendered fragments, handed
    over as they are): :func:`goal_charts` of the same goal entry and year gives them instead
    of drawing them again. Anything but a rendered fragment is not kept."""
    for key, html in drawn.items():
        if isinstance(html, Markup):
            _DRAWN.put(key, html)


def goal_charts(goal: GoalEntry, year: int) -> Markup:
    """Charts for a steering goal's target and signal indicators with a history (one per indicator)."""
    key = _chart_key(goal, year)
    drawn = _DRAWN.get(key)
    if drawn is not None:
        return drawn
    by_ind: dict[str, list[IndicatorRow]] = {}
    for r in goal["indicators"]:
        if r.get("ort") is not None or r.get("summary_of_orter") or r["role"] == "context":
            continue
        if not r["history"] and r["forecast"] is None and not r.get("predecessor_history"):
            continue
        by_ind.setdefault(r["base_indicator"], []).append(r)
    return _DRAWN.put(key, Markup("").join(indicator_chart(rows, year) for rows in by_ind.values()))
