"""Data quality of the cleaned indicators: rows kept/rejected/missing per source, coverage, rejected rows.

The functions behind ``notebooks/01-clean-indicators.ipynb``; each returns a small frame to show.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ks_analysis import geo as geo_mod
from ks_analysis.clean import CleanResult, run_clean
from ks_analysis.clean._columnar import _on_unique
from ks_analysis.paths import DEMO_DIR, PROJECT_ROOT

__all__ = [
    "clean_sources",
    "rows_per_source",
    "coverage_groups",
    "coverage_by_year",
    "coverage_by_group",
    "rejected_by_reason",
]


def clean_sources(raw: str | Path = "", sources: str | Path = "") -> CleanResult:
    """Clean a raw folder with its manifest; empty ``raw`` means the demo data.

    Relative paths are taken from the project root, so the notebook runs from any folder.
    """
    raw_dir = Path(raw) if raw else DEMO_DIR
    if not raw_dir.is_absolute():
        raw_dir = PROJECT_ROOT / raw_dir
    src = Path(sources) if sources else None
    if src is not None and not src.is_absolute():
        src = PROJECT_ROOT / src
    return run_clean(raw_dir, src)


def rows_per_source(result: CleanResult) -> pd.DataFrame:
    """One row per input file and source entry: rows read, kept, rejected, missing, duplicate.

    Columns in Swedish for the reader; a last row sums them (``Totalt``).
    """
    frame = pd.DataFrame(result.inputs)
    cols = [
        "source",
        "file",
        "reader",
        "rows_read",
        "rows_kept",
        "rows_rejected",
        "rows_missing",
        "rows_duplicate",
    ]
    frame = frame.reindex(columns=cols)
    total = frame[cols[3:]].sum().to_frame().T.assign(source="Totalt", file="", reader="")
    frame = pd.concat([frame, total[cols]], ignore_index=True)
    return frame.rename(
        columns={
            "source": "källa",
            "file": "fil",
            "reader": "läsare",
            "rows_read": "rader lästa",
            "rows_kept": "behållna",
            "rows_rejected": "avvisade",
            "rows_missing": "saknade värden",
            "rows_duplicate": "dubbletter",
        }
    )


def coverage_groups(municipality: str) -> dict[str, list[str]]:
    """The places to compare: the kommun, its län peers, the län and riket (codes per group)."""
    code = str(municipality).zfill(4)
    lan = geo_mod.lan_of(code)
    peers = [c for c in geo_mod.kommuner_in_lan(lan) if c != code]
    return {
        geo_mod.geo(code).name: [code],
        "länets övriga kommuner": peers,
        geo_mod.geo(lan).name: [lan],
        "riket": ["0000"],
    }


def coverage_by_year(tidy: pd.DataFrame, municipality: str) -> pd.DataFrame:
    """Observations per indicator and year for one kommun (all genders and months counted).

    Returns:
        One row per indicator, one column per year, 0 where nothing was kept.
    """
    sub = tidy[tidy["municipality"] == str(municipality).zfill(4)]
    if sub.empty:
        return pd.DataFrame()
    year = sub["period"].str.slice(0, 4)
    return pd.crosstab(sub["indicator"], year).rename_axis(index="indikator", columns="år")


def coverage_by_group(tidy: pd.DataFrame, municipality: str) -> pd.DataFrame:
    """Per indicator and place group: first and last year with data and how many of the group's places have any.

    Returns:
        One row per indicator; for each group the columns ``<group>: år`` ('2010–2022') and
        ``<group>: platser`` ('12/12').
    """
    out: dict[str, pd.Series] = {}
    for label, codes in coverage_groups(municipality).items():
        sub = tidy[tidy["municipality"].isin(codes)]
        year = pd.to_numeric(sub["period"].str.slice(0, 4))
        grouped = sub.assign(year=year).groupby("indicator")
        first, last = grouped["year"].min(), grouped["year"].max()
        out[f"{label}: år"] = first.astype(str) + "–" + last.astype(str)
        out[f"{label}: platser"] = grouped["municipality"].nunique().astype(str) + f"/{len(codes)}"
    frame = pd.DataFrame(out).fillna("–")
    return frame.rename_axis(index="indikator")


def rejected_by_reason(result: CleanResult) -> pd.DataFrame:
    """Rejected rows counted per file and reason (numbers and quoted values folded together), most first."""
    rej = result.rejected
    if rej.empty:
        return pd.DataFrame(columns=["fil", "skäl", "rader"])
    # folded once per distinct reason (a few hundred in 268 000 rows of the real data)
    reason = _on_unique(
        rej["reason"],
        lambda u: u.str.replace(r"'[^']*'", "'…'", regex=True).str.replace(
            r"\d+(\.\d+)?", "N", regex=True
        ),
    ).astype("str")
    counts = (
        rej.assign(reason=reason)
        .groupby(["source_file", "reason"])
        .size()
        .sort_values(ascending=False)
    )
    return counts.reset_index().set_axis(["fil", "skäl", "rader"], axis=1)
