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
from ks_analysis.swedish import (
    AGG_SV,
    FAMILY_SV,
    fmt_day_month,
    fmt_number,
    fmt_percent,
    fmt_tick,
    method_sv,
)

__all__ = [
    "TRACK_RECORD_FILE",
    "track_record_summary",
    "track_record_table",
    "by_indicator_table",
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
    rows = []
    for c in s.get(key, []):
        row = {k: v for k, v in c.items() if not isinstance(v, dict)}
        for part, label in (
            ("coverage_calibrated_last5", "last5"),
            ("coverage_calibrated_smallest_band", "smallest_band"),
        ):
            for k, v in (c.get(part) or {}).items():
                if k.startswith("coverage"):
                    row[f"{k}_calibrated_{label}"] = v
        rows.append(row)
    return pd.DataFrame(rows)


def by_indicator_table(
    summary: dict[str, Any] | None = None, *, key: str = "cells"
) -> pd.DataFrame:
    """Per indicator (series group), cutoff and family: n, effective n, MASE ratio to naive with
    its CI90, Brier skill, calibrated coverage and interval scores (new and pool-only)."""
    s = summary if summary is not None else track_record_summary()
    rows = [
        {"cutoff": c["cutoff"], "family": c["family"], "indicator": g, **v}
        for c in s.get(key, [])
        for g, v in (c.get("by_indicator") or {}).items()
    ]
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
        ("n", "n", "{:d}"), ("effective_n", "eff.n", "{:.0f}"), ("mase_vs_naive_annual", "MASE/naive", "{:.3f}"),
        ("mase_vs_naive_annual_ci90", "CI90", "ci"), ("mase_vs_ytd_snaive", "MASE/snaive", "{:.3f}"),
        ("mase_vs_ytd_snaive_ci90", "CI90", "ci"), ("coverage80_calibrated", "cov80c", "{:.1%}"),
        ("coverage95_calibrated", "cov95c", "{:.1%}"), ("fallback_share", "fallbk", "{:.0%}"),
        ("brier_skill", "BSS", "{:.3f}"), ("interval_score_vs_pool", "IS/pool", "{:.3f}"),
        ("interval_score_vs_naive", "IS/naive", "{:.3f}"),
    ]  # fmt: skip
    lines = []
    for key, title in (("cells", "Backtest (2020 excluded)"), ("shock_2020", "Shock year 2020")):
        lines.append(title)
        head = f"{'cutoff':<7}{'family':<11}{'default':<11}" + "".join(
            f"{c[1]:>{13 if c[2] == 'ci' else 9}}" for c in cols
        )
        lines.append(head)
        for c in summary.get(key, []):
            vals = "".join(_table_value(c.get(k), fmt) for k, _, fmt in cols)
            lines.append(
                f"{c['cutoff']:<7}{c['family']:<11}{c['default']:<11}{vals}{'' if c.get('judged', True) else '  (effective n < 100: not judged)'}"
            )
        lines.append("")
    lines.extend(_coverage_lines(summary))
    lines.append(f"defaults: {summary.get('defaults')}   runtime: {summary.get('runtime_s')} s")
    return "\n".join(lines)


def _coverage_lines(summary: dict[str, Any]) -> list[str]:
    """Coverage where a calibration applies, overall, in the last five years and in the smallest
    size band: n, effective n, and the 80 % and 95 % coverage with year-block 90 % intervals."""
    lines = [
        "Coverage where a calibration applies (90 % year-block intervals)",
        f"{'cutoff':<7}{'family':<11}{'part':<15}{'n':>7}{'eff.n':>8}"
        f"{'cov80':>8}{'CI90':>17}{'cov95':>8}{'CI90':>17}",
    ]

    def ci(v: Any) -> str:
        return f"{'[' + f'{v[0]:.1%}, {v[1]:.1%}' + ']' if v else '-':>17}"

    def pct(v: Any) -> str:
        return f"{v:>8.1%}" if isinstance(v, int | float) else f"{'-':>8}"

    for c in summary.get("cells", []):
        parts = [
            (
                "all",
                {
                    "n": c.get("n_calibrated"),
                    "effective_n": c.get("effective_n_calibrated"),
                    "coverage80": c.get("coverage80_calibrated"),
                    "coverage95": c.get("coverage95_calibrated"),
                    "coverage80_ci90": c.get("coverage80_calibrated_ci90"),
                    "coverage95_ci90": c.get("coverage95_calibrated_ci90"),
                },
            ),
            ("last 5 years", c.get("coverage_calibrated_last5") or {}),
        ]
        band = c.get("coverage_calibrated_smallest_band")
        if band and band.get("band"):
            parts.append((f"band {band['band']}", band))
        for name, part in parts:
            if not part.get("n"):
                continue
            eff = part.get("effective_n")
            lines.append(
                f"{c['cutoff']:<7}{c['family']:<11}{name:<15}{part['n']:>7}"
                f"{(f'{eff:.0f}' if eff is not None else '-'):>8}"
                f"{pct(part.get('coverage80'))}{ci(part.get('coverage80_ci90'))}"
                f"{pct(part.get('coverage95'))}{ci(part.get('coverage95_ci90'))}"
            )
    lines.append("")
    return lines


def _table_value(v: Any, fmt: str) -> str:
    """One value of :func:`format_table`, right-aligned ('-' when missing)."""
    if fmt == "ci":
        return f"{'[' + f'{v[0]:.3f}, {v[1]:.3f}' + ']' if v else '-':>13}"
    if v is None:
        return f"{'-':>9}"
    return f"{v if isinstance(v, int) and fmt == '{:d}' else fmt.format(v):>9}"


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
        parts = [_cell_sv(c) for c in s.get("cells", []) if c["cutoff"] == cutoff and c.get("n")]
        if parts:
            out.append(
                f"Prövat per {_CUTOFF_SV[cutoff]} (2020 redovisas för sig): "
                + "; ".join(parts)
                + "."
            )
    out.extend(_fallback_sv(s))
    out.extend(_shock_sv(s))
    if any(
        c["cutoff"] == "T1" and c["family"] == "quarterly" and c.get("n")
        for c in s.get("cells", [])
    ):
        out.append(
            "Per 30 april är inget kvartal av året publicerat ännu för kvartalsserierna, så prognosen bygger då bara på "
            "tidigare år och kan inte bli mycket bättre än förra årets värde. Om ett värde blir bättre eller sämre än "
            "förra året går sällan att förutse för årsvärden."
        )
    out.extend(_lags_sv(s))
    return out


def _ci_sv(ci: list[float] | None) -> str:
    """' (90 %-intervall för kvoten 0,91–0,97)' for a bootstrap interval of a ratio; '' without one."""
    if not ci:
        return ""
    lo, hi = fmt_number(ci[0], decimals=2), fmt_number(ci[1], decimals=2)
    return f" (90 %-intervall för kvoten {lo}–{hi})"


def _cell_sv(c: dict[str, Any]) -> str:
    """One family at one cutoff: n and effective n, then the claims only when the effective n allows."""
    txt = f"{FAMILY_SV[c['family']]} ({fmt_number(c['n'], decimals=0)} prognoser"
    if c.get("effective_n") is not None:
        txt += f", värda omkring {fmt_number(c['effective_n'], decimals=0)} oberoende"
    txt += ")"
    if not c.get("judged", True):
        return txt + ": för få prognoser för att bedöma"
    cov80 = c.get("coverage80_calibrated", c.get("coverage80"))
    ratio = c.get("mase_vs_naive_annual")
    if cov80 is not None:
        txt += f": 80 %-intervallet innehöll utfallet i {fmt_percent(cov80)} av fallen"
    if ratio is not None:
        txt += ", felen var " + _relative_sv(ratio) + " än med bara förra årets värde"
        txt += _ci_sv(c.get("mase_vs_naive_annual_ci90"))
        r2 = c.get("mase_vs_ytd_snaive")
        if r2 is not None and c["family"] != "annual":
            txt += " och " + _relative_sv(r2)
            txt += " än med utfallet hittills plus förra årets värden för resten av året"
            txt += _ci_sv(c.get("mase_vs_ytd_snaive_ci90"))
    return txt


def _fallback_sv(s: dict[str, Any]) -> list[str]:
    """The share of forecasts that had too few earlier errors and got the fixed wide interval."""
    parts = []
    for fam in ("monthly", "quarterly", "annual"):
        shares = [
            c["fallback_share"]
            for c in s.get("cells", [])
            if c["family"] == fam and c.get("fallback_share") is not None and c.get("n")
        ]
        if shares and max(shares) >= 0.005:
            parts.append(f"{FAMILY_SV[fam]} {fmt_percent(max(shares))}")
    if not parts:
        return []
    return [
        "Andel prognoser med för få tidigare fel att kalibrera mot, som därför fick ett fast, brett "
        "intervall (täckningen ovan gäller de övriga): " + ", ".join(parts) + "."
    ]


def _shock_sv(s: dict[str, Any]) -> list[str]:
    """2020 reported apart: the 80 % coverage per family at 31 August in the shock year."""
    parts = [
        f"{FAMILY_SV[c['family']]} {fmt_percent(c['coverage80_calibrated'])}"
        for c in s.get("shock_2020", [])
        if c.get("cutoff") == "T2" and c.get("n") and c.get("coverage80_calibrated") is not None
    ]
    if not parts:
        return []
    return [
        "Pandemiåret 2020 per 31 augusti: 80 %-intervallet innehöll utfallet för "
        + ", ".join(parts)
        + " (ett chockår säger inte hur metoden fungerar vanliga år)."
    ]


def _lags_sv(s: dict[str, Any]) -> list[str]:
    """How the values were dated: how many sources' publication lags rest on the agency's own
    release calendar, with their span in days, and how many are estimates. (The citations, in the
    manifest's words, are in the backtest's JSON: ``publication_lags``.)"""
    cited: list[int] = []
    n_cited = n_uncited = 0
    for lag in s.get("publication_lags", []):
        days = sorted({int(d) for d in (lag.get("days") or {}).values() if d is not None})
        if not days and not lag.get("date"):
            continue
        if lag.get("cited"):
            n_cited += 1
            cited.extend(days)
        else:
            n_uncited += 1
    if not n_cited and not n_uncited:
        return []
    span = ""
    if cited:
        lo, hi = min(cited), max(cited)
        span = (
            f" ({lo} dagar efter periodens slut)"
            if lo == hi
            else f" ({lo}–{hi} dagar efter periodens slut)"
        )
    text = (
        "Vad som var känt vid varje brytdag bygger på när källorna publicerar: för "
        f"{n_cited} av {n_cited + n_uncited} källor enligt källans egen publiceringskalender{span}"
    )
    if n_uncited:
        text += (
            f"; för {n_uncited} {'källa' if n_uncited == 1 else 'källor'} saknas belägg, "
            "och fördröjningen är en uppskattning"
        )
    return [text + "."]
