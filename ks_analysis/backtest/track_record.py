"""Track record: the committed backtest summary as tables, Swedish prose and a reliability figure.

Reads and writes ``ks_analysis/data/track_record.json`` (aggregate figures only, no data values),
which the report's method section and notebook 02 cite without rerunning the backtest.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ks_analysis.paths import PACKAGE_DATA_DIR
from ks_analysis.periods import cutoff_of
from ks_analysis.swedish import AGG_SV, FAMILY_SV, fmt_day_month, fmt_number, fmt_tick, method_sv

__all__ = [
    "TRACK_RECORD_FILE",
    "track_record_summary",
    "track_record_table",
    "method_table",
    "selection_table",
    "goal_table",
    "plot_reliability",
    "write_summary",
    "json_default",
    "format_table",
    "track_record_text_sv",
]

TRACK_RECORD_FILE = PACKAGE_DATA_DIR / "track_record.json"


def track_record_summary(path: Path | None = None) -> dict[str, Any]:
    """The committed backtest summary the report's method section cites (no rerun needed).

    Returns the JSON written by ``ks-analysis backtest --write-summary``: ``runtime_s``,
    ``defaults``, ``cells`` (per cutoff T1/T2 and family: n, MASE ratios, win rate, coverage,
    Brier skill, per-method metrics), ``shock_2020``, ``reliability``. {} if none is committed.
    """
    p = path or TRACK_RECORD_FILE
    if not p.exists():
        return {}
    return dict(json.loads(p.read_text(encoding="utf-8")))


def track_record_table(
    summary: dict[str, Any] | None = None, *, key: str = "cells"
) -> pd.DataFrame:
    """The summary's cells as a table: one row per cutoff x family with the goal quantities."""
    s = summary if summary is not None else track_record_summary()
    rows = [{k: v for k, v in c.items() if k != "methods"} for c in s.get(key, [])]
    return pd.DataFrame(rows)


def method_table(summary: dict[str, Any] | None = None) -> pd.DataFrame:
    """Per-method metrics of every cell: one row per cutoff x family x method."""
    s = summary if summary is not None else track_record_summary()
    rows = []
    for c in s.get("cells", []):
        for meth, v in c.get("methods", {}).items():
            rows.append({"cutoff": c["cutoff"], "family": c["family"], "method": meth, **v})
    return pd.DataFrame(rows)


def plot_reliability(summary: dict[str, Any] | None = None, *, as_image: bool = True) -> Any:
    """Reliability diagram of P(better than last year) for the default methods at T1 and T2.

    Returns a PNG image object that notebooks show under any matplotlib backend (``as_image``),
    or the matplotlib figure.
    """
    import matplotlib

    if as_image:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import seaborn as sns

    s = summary if summary is not None else track_record_summary()
    families = (
        ("monthly", "Månadsserier"),
        ("quarterly", "Kvartalsserier"),
        ("annual", "Årsvärden (Kolada)"),
    )
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.2), sharey=True)
    from matplotlib.ticker import FuncFormatter

    for ax, (fam, title) in zip(axes, families, strict=True):
        ax.xaxis.set_major_formatter(FuncFormatter(fmt_tick))  # 0,2 not 0.2
        ax.yaxis.set_major_formatter(FuncFormatter(fmt_tick))
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfekt kalibrering")
        for cutoff, marker in (("T1", "o"), ("T2", "s")):
            t = pd.DataFrame(s.get("reliability", {}).get(f"{cutoff}|{fam}", []))
            if t.empty:
                continue
            sns.lineplot(
                data=t,
                x="p_mean",
                y="observed",
                marker=marker,
                ax=ax,
                label=f"{cutoff} ({int(t['n'].sum())} prognoser)",
            )
        ax.set_xlabel("Prognostiserad sannolikhet")
        ax.set_ylabel("Observerad andel")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_title(title)
        ax.legend(loc="upper left", fontsize=8)
    fig.suptitle("Tillförlitlighet: P(bättre än föregående år) mot utfall")
    fig.tight_layout()
    if not as_image:
        return fig
    import io

    from IPython.display import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return Image(data=buf.getvalue(), format="png")


def selection_table(summary: dict[str, Any] | None = None) -> pd.DataFrame:
    """Which method the selection used per cell (family|cutoff|aggregation) and evaluation year, chosen on earlier years only."""
    s = summary if summary is not None else track_record_summary()
    t = pd.DataFrame(s.get("selection_by_year", []))
    if t.empty:
        return t
    return t.pivot(index="year", columns="cell", values="method").fillna("")


def write_summary(summary: dict[str, Any], path: Path = TRACK_RECORD_FILE) -> Path:
    """Write the track-record summary the report cites (aggregate figures only, no data values)."""
    path.write_text(
        json.dumps(summary, indent=1, ensure_ascii=False, default=json_default) + "\n",
        encoding="utf-8",
    )
    return path


def json_default(o: Any) -> Any:
    """JSON for numpy scalars (non-finite floats become null)."""
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return None if not np.isfinite(o) else float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    raise TypeError(type(o))


def format_table(summary: dict[str, Any]) -> str:
    """A readable table of the goal quantities per cutoff and family (the CLI's default output)."""
    cols = [
        ("n", "n", "{:d}"), ("mase_vs_naive_annual", "MASE/naive", "{:.2f}"), ("mase_vs_ytd_snaive", "MASE/snaive", "{:.2f}"),
        ("win_rate_vs_ytd_snaive", "win%", "{:.0%}"), ("coverage80", "cov80", "{:.0%}"), ("coverage95", "cov95", "{:.0%}"),
        ("brier_skill", "BSS", "{:.2f}"),
    ]  # fmt: skip
    lines = []
    for key, title in (("cells", "Backtest (2020 excluded)"), ("shock_2020", "Shock year 2020")):
        lines.append(title)
        head = f"{'cutoff':<7}{'family':<11}{'default':<14}" + "".join(f"{c[1]:>12}" for c in cols)
        lines.append(head)
        for c in summary.get(key, []):
            vals = "".join(
                f"{(c[k] if isinstance(c.get(k), int) else fmt.format(c[k])) if c.get(k) is not None else '-':>12}"
                for k, _, fmt in cols
            )
            lines.append(
                f"{c['cutoff']:<7}{c['family']:<11}{c['default']:<14}{vals}{'' if c.get('judged', True) else '  (n<100: not judged)'}"
            )
        lines.append("")
    lines.append(f"defaults: {summary.get('defaults')}   runtime: {summary.get('runtime_s')} s")
    return "\n".join(lines)


def goal_table(summary: dict[str, Any] | None = None) -> pd.DataFrame:
    """The design's goals next to the measured figures: one row per quantity and cutoff, with met yes/no.

    Sub-annual MASE goals are judged on monthly and quarterly cells; cells with n < 100 are not judged.
    """
    s = summary if summary is not None else track_record_summary()
    goals: list[tuple[str, tuple[str, ...], dict[str, tuple[float | None, float | None]]]] = [
        (
            "mase_vs_naive_annual",
            ("monthly", "quarterly"),
            {"T1": (None, 0.80), "T2": (None, 0.60)},
        ),
        ("mase_vs_ytd_snaive", ("monthly", "quarterly"), {"T1": (None, 0.92), "T2": (None, 0.85)}),
        (
            "win_rate_vs_ytd_snaive",
            ("monthly", "quarterly"),
            {"T1": (0.55, None), "T2": (0.55, None)},
        ),
        (
            "coverage80",
            ("monthly", "quarterly", "annual"),
            {"T1": (0.75, 0.85), "T2": (0.75, 0.85)},
        ),
        (
            "coverage95",
            ("monthly", "quarterly", "annual"),
            {"T1": (0.91, 0.98), "T2": (0.91, 0.98)},
        ),
        (
            "brier_skill",
            ("monthly", "quarterly", "annual"),
            {"T1": (0.20, None), "T2": (0.35, None)},
        ),
        ("mase_vs_naive_annual", ("annual",), {"T1": (None, 1.00), "T2": (None, 1.00)}),
    ]
    rows = []
    cells = {(c["cutoff"], c["family"]): c for c in s.get("cells", [])}
    for qty, fams, limits in goals:
        for cutoff, (lo, hi) in limits.items():
            for fam in fams:
                c = cells.get((cutoff, fam))
                if c is None:
                    continue
                v = c.get(qty)
                met = (
                    None
                    if v is None or not c.get("judged")
                    else bool((lo is None or v >= lo) and (hi is None or v <= hi))
                )
                goal = (
                    f">= {lo:g}" if hi is None else f"<= {hi:g}" if lo is None else f"{lo:g}-{hi:g}"
                )
                rows.append(
                    {
                        "quantity": qty,
                        "cutoff": cutoff,
                        "family": fam,
                        "n": c.get("n"),
                        "default": c.get("default"),
                        "goal": goal,
                        "value": v,
                        "met": met,
                    }
                )
    return pd.DataFrame(rows)


#: Day and month of each in-year cutoff in words ("30 april"), from the period definitions.
_CUTOFF_SV = {k: fmt_day_month(cutoff_of(2000, k)) for k in ("T1", "T2")}


def _relative_sv(ratio: float) -> str:
    """'29 % mindre' / '3 % större' / 'lika stora' for a ratio of mean errors."""
    pct = round(100 * (1 - ratio))
    if pct > 0:
        return f"{pct} % mindre"
    if pct < 0:
        return f"{-pct} % större"
    return "lika stora"


def track_record_text_sv(summary: dict[str, Any] | None = None) -> list[str]:
    """Swedish sentences for the report's method section, from the committed track record.

    One sentence on the defaults, then one per cutoff with the interval coverage and how much
    better than last year's value the forecasts were. Empty list without a committed summary.
    """
    # Over 80 lines: the sentences are kept word for word until the shared Swedish vocabulary takes them.
    s = summary if summary is not None else track_record_summary()
    if not s:
        return []
    d = s.get("defaults", {})
    sel = s.get("selected_methods", {})
    out: list[str] = []
    if sel and "selected" in (d.get("monthly"), d.get("quarterly")):
        out.append(
            "Prognosmetoder: för månads- och kvartalsserier väljs metoden för varje tidpunkt och typ av serie efter hur "
            "metoderna har träffat tidigare år. Vid prövningen nedan valdes metoden för varje år bara utifrån åren "
            "före, så siffrorna visar hur valet fungerar på år det inte kunnat anpassas till. Där det finns för få "
            f"tidigare prognoser används det enklaste: {method_sv('ytd_snaive')}."
        )
        used: dict[str, list[str]] = {}
        for fam in ("monthly", "quarterly"):
            for agg in ("sum", "mean"):
                for cutoff in ("T1", "T2"):
                    meth = sel.get(f"{fam}|{cutoff}|{agg}")
                    differs = sel.get(f"{fam}|T1|{agg}") != sel.get(f"{fam}|T2|{agg}")
                    kind = f"{FAMILY_SV[fam]} ({AGG_SV[agg]}{', per ' + _CUTOFF_SV[cutoff] if differs else ''})"
                    if meth and kind not in used.setdefault(meth, []):
                        used[meth].append(kind)
        if used:
            out.append(
                "Just nu används för "
                + "; för ".join(f"{' och '.join(v)}: {method_sv(k)}" for k, v in used.items())
                + "."
            )
        out.append(
            f"Årsvärden: {method_sv(d.get('annual', ''))}. Intervallen och sannolikheten att målet nås bygger på hur stora felen varit tidigare år."
        )
    else:
        out.append(
            "Prognosmetoder (valda efter en efterhandsprövning på verkliga data): "
            + "; ".join(
                f"{FAMILY_SV[f]}: {method_sv(d.get(f, ''))}"
                for f in ("monthly", "quarterly", "annual")
            )
            + ". Intervallen och sannolikheten att målet nås bygger på hur stora felen varit tidigare år."
        )
    for cutoff in ("T1", "T2"):
        parts = []
        for c in s.get("cells", []):
            if c["cutoff"] != cutoff or not c.get("n"):
                continue
            cov80 = c.get("coverage80")
            ratio = c.get("mase_vs_naive_annual")
            n_sv = fmt_number(c["n"], decimals=0)
            txt = f"{FAMILY_SV[c['family']]} ({n_sv} prognoser)"
            if cov80 is not None:
                txt += f": 80 %-intervallet innehöll utfallet i {round(100 * cov80)} % av fallen"
            if ratio is not None:
                txt += ", felen var " + _relative_sv(ratio) + " än med bara förra årets värde"
                r2 = c.get("mase_vs_ytd_snaive")
                if r2 is not None and c["family"] != "annual":
                    txt += (
                        " och "
                        + _relative_sv(r2)
                        + " än med utfallet hittills plus förra årets värden för resten av året"
                    )
            parts.append(txt)
        if parts:
            out.append(
                f"Prövat per {_CUTOFF_SV[cutoff]} (2020 undantaget): " + "; ".join(parts) + "."
            )
    if any(
        c["cutoff"] == "T1" and c["family"] == "quarterly" and c.get("n")
        for c in s.get("cells", [])
    ):
        out.append(
            "Per 30 april är inget kvartal av året publicerat ännu för kvartalsserierna, så prognosen bygger då bara på "
            "tidigare år och kan inte bli mycket bättre än förra årets värde. Om ett värde blir bättre eller sämre än "
            "förra året går sällan att förutse för årsvärden."
        )
    return out
