"""Readers for SCB's CSV exports: PX-Web tables (one column per period) and year-by-month tables."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ks_analysis.errors import DataFileError
from ks_analysis.ingest._common import (
    gender_code,
    local_id,
    normalise_period,
    ort_key,
    region_code,
    split_region_label,
)
from ks_analysis.ingest.frame import check_columns, raw_frame
from ks_analysis.ingest.registry import reader
from ks_analysis.ingest.tables import _grid, _norm_header

__all__ = ["read_scb_pxweb_csv", "read_scb_year_by_month_csv"]


@reader("scb_pxweb_csv")
def read_scb_pxweb_csv(
    path: Path,
    *,
    rel: str,
    indicator: str | None = None,
    unit: str = "",
    source: str = "scb",
    municipality: str = "0000",
    encoding: str | None = None,
    **_: object,
) -> pd.DataFrame:
    """SCB PX-Web CSV export: dimension columns, then one column per period; latin-1 (or UTF-8, sniffed), ``..`` missing.

    A column whose cells look like '06 Jönköping county' is the place (code and name in one
    field); without one the file is national (``municipality``, default riket). A 'kön'/'sex'
    column gives the gender; any other dimension is appended to the indicator id.
    The indicator id defaults to ``SCB_<FILE STEM>``.
    """
    grid = _grid(path, rel, encoding=encoding, fallback="latin-1")
    header = [_norm_header(h) for h in grid[0]]
    period_cols = [(j, *normalise_period(h)) for j, h in enumerate(header)]
    periods = [(j, p, f) for j, p, f in period_cols if f is not None]
    dims = [j for j, _, f in period_cols if f is None]
    if not periods:
        raise DataFileError(
            rel,
            f"has no period columns in its header {header}",
            row=1,
            fix="export the PX-Web table with time as columns",
        )
    if len(grid) < 2:
        raise DataFileError(
            rel, "has a header but no data rows", row=1, fix="export the table again"
        )
    base = (indicator or local_id("SCB", path.stem)).upper()
    body = grid[1:]
    label_col = next(
        (
            j
            for j in dims
            if sum(bool(re.match(r"^\d{2,4}\s+\S", str(r[j] or ""))) for r in body)
            >= 0.8 * len(body)
        ),
        None,
    )
    gender_col = next((j for j in dims if header[j].lower() in ("kön", "sex", "gender")), None)
    other = [j for j in dims if j not in (label_col, gender_col)]
    cols: dict[str, list[object]] = {
        c: []
        for c in [
            "municipality",
            "municipality_name",
            "indicator",
            "gender",
            "frequency",
            "period",
            "value",
            "source_row",
        ]
    }
    fixed = region_code(municipality)
    for i, row in enumerate(body, start=2):
        if not any(c is not None for c in row):
            continue
        code, name = split_region_label(row[label_col]) if label_col is not None else (fixed, None)
        if label_col is not None and code is None:
            code = None
        gender = gender_code(row[gender_col]) if gender_col is not None else "T"
        ind = base + "".join(f"__{ort_key(str(row[j]))}" for j in other)
        for j, p, f in periods:
            cols["municipality"].append(code)
            cols["municipality_name"].append(name)
            cols["indicator"].append(ind)
            cols["gender"].append(gender)
            cols["frequency"].append(f)
            cols["period"].append(p)
            cols["value"].append(row[j] if j < len(row) else None)
            cols["source_row"].append(i)
    return raw_frame(cols, unit=unit, source=source, source_file=rel)


@reader("scb_year_by_month_csv")
def read_scb_year_by_month_csv(
    path: Path,
    *,
    rel: str,
    indicator: str = "SCB_KPI",
    unit: str = "index",
    source: str = "scb",
    municipality: str = "0000",
    **_: object,
) -> pd.DataFrame:
    """A year-by-month table (``År;1;...;12;Year``), e.g. SCB's consumer price index ``KPI.csv``.

    Semicolon separated, CRLF, no-break spaces as thousands separators ('1\u00a0900', parsed by
    clean). Month columns give monthly rows, a ``Year`` column the annual value; empty cells
    (the current year's later months) are missing-value markers.
    """
    grid = _grid(path, rel)
    header = [_norm_header(h) for h in grid[0]]
    check_columns(rel, header[:1], ["År"], "a year-by-month table starts with the column År")
    if len(grid) < 2:
        raise DataFileError(
            rel, "has a header but no data rows", row=1, fix="export the table again"
        )
    cols: dict[str, list[object]] = {c: [] for c in ["period", "frequency", "value", "source_row"]}
    for i, row in enumerate(grid[1:], start=2):
        if not any(c is not None for c in row):
            continue
        year = str(row[0]).strip()
        for j, h in enumerate(header[1:], start=1):
            if h.isdigit():
                period, freq = normalise_period(f"{year}-{int(h):02d}")
            elif h.lower() in ("year", "år", "helår", "årsmedel"):
                period, freq = normalise_period(year)
            else:
                continue
            cols["period"].append(period)
            cols["frequency"].append(freq)
            cols["value"].append(row[j] if j < len(row) else None)
            cols["source_row"].append(i)
    return raw_frame(
        cols,
        municipality=region_code(municipality),
        indicator=indicator,
        gender="T",
        unit=unit,
        source=source,
        source_file=rel,
    )
