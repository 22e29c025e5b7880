"""Readers for Arbetsförmedlingen workbooks: a monthly series workbook and a one-month table per kommun.

* ``af_monthly_workbook``: one row per month (``År | Månad | <GROUP>_<MEASURE>_<PLACE> ...``), as
  Linköping's ``Inmatning_Manad.xlsx`` (sheet ``Arbetskraften``): registered unemployed
  (``Arbetslösa``) and the labour force AF divides by (``Arbetskraft``) for totals, women, men and
  groups, for a kommun and riket.
* ``af_kommun_columns``: one row per kommun (name in the first column) and one column per
  measure, for one month given in the manifest, as Dagens Samhälle's ``jan19.xlsx`` from AF.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ks_analysis.errors import DataFileError
from ks_analysis.ingest._common import local_id, normalise_period
from ks_analysis.ingest._excel import read_sheet_rows
from ks_analysis.ingest.frame import check_columns, raw_frame
from ks_analysis.ingest.registry import reader

__all__ = ["read_af_monthly_workbook", "read_af_kommun_columns", "AF_GROUP_GENDER"]

#: Column groups that are a gender of the total (the rest are sub-groups with their own id).
AF_GROUP_GENDER = {"TOTALT": "T", "MÄN": "M", "KVINNOR": "K"}
#: Measure part of a column name -> indicator id.
AF_MEASURES = {"ARBETSLÖSA": "AF_ARBETSLOSA", "ARBETSKRAFT": "AF_ARBETSKRAFT"}


@reader("af_monthly_workbook")
def read_af_monthly_workbook(
    path: Path,
    *,
    rel: str,
    sheet: str = "Arbetskraften",
    source: str = "arbetsformedlingen",
    **_: object,
) -> pd.DataFrame:
    """Monthly AF counts from a workbook with ``År | Månad | GROUP_MEASURE_PLACE`` columns.

    ``TOTALT``/``MÄN``/``KVINNOR`` are the genders T/M/K of ``AF_ARBETSLOSA`` (registered
    unemployed) and ``AF_ARBETSKRAFT`` (the labour force AF divides by); other groups
    (``UTRIKES``, ``UNGDOMAR``, ``FÖRGYMN``, ...) are ``<id>__<GROUP>``. The place is the last
    part of the column name (a kommun name or ``Riket``). Cells of formulas are read as their
    cached values; empty cells (months not yet filled in) are missing-value markers.
    ``source_row`` is the sheet row.
    """
    grid = read_sheet_rows(path, rel, sheet)
    if not grid:
        raise DataFileError(rel, f"sheet {sheet!r} is empty", fix="check the workbook")
    header = [str(h).strip() if h is not None else "" for h in grid[0]]
    check_columns(rel, header[:2], ["År", "Månad"], "the first two columns are År and Månad")
    columns: list[tuple[int, str, str, str]] = []
    for j, h in enumerate(header[2:], start=2):
        parts = h.split("_")
        if len(parts) != 3 or parts[1].upper() not in AF_MEASURES:
            raise DataFileError(
                rel,
                f"column {h!r} is not GROUP_MEASURE_PLACE with measure Arbetslösa or Arbetskraft",
                row=1,
                column=h,
                fix="check that this is the AF monthly workbook the manifest names",
            )
        group, measure, place = parts[0].upper(), AF_MEASURES[parts[1].upper()], parts[2]
        gender = AF_GROUP_GENDER.get(group)
        ind = measure if gender else f"{measure}__{local_id('X', group)[2:]}"  # FÖRGYMN -> FORGYMN
        columns.append((j, ind, gender or "T", place))
    out: dict[str, list[object]] = {
        c: [] for c in ["municipality_name", "indicator", "gender", "period", "value", "source_row"]
    }
    for i, row in enumerate(grid[1:], start=2):
        if len(row) < 2 or row[0] in (None, "") or row[1] in (None, ""):
            continue  # a blank line under the table
        y, mth = str(row[0]).strip().removesuffix(".0"), str(row[1]).strip().removesuffix(".0")
        period, _freq = normalise_period(f"{y}-{mth}")
        for j, ind, gender, place in columns:
            out["municipality_name"].append(place)
            out["indicator"].append(ind)
            out["gender"].append(gender)
            out["period"].append(period)
            out["value"].append(row[j] if j < len(row) else None)
            out["source_row"].append(i)
    return raw_frame(out, frequency="M", unit="antal", source=source, source_file=rel)


@reader("af_kommun_columns")
def read_af_kommun_columns(
    path: Path,
    *,
    rel: str,
    period: str | None = None,
    columns: dict[str, str] | None = None,
    suffix: str = "",
    sheet: str | int = 0,
    unit: str = "antal",
    source: str = "arbetsformedlingen",
    **_: object,
) -> pd.DataFrame:
    """One month of AF figures per kommun: the kommun name first, then one column per measure.

    Args:
        period: the month the whole table describes (``2019-01``); the file does not say.
        columns: ``{column: indicator id}``; columns not named are rejected with the reason.
        suffix: appended to every id (``__UTRIKES_FODD`` for the foreign-born table).
    """
    p, freq = normalise_period(period)
    if freq != "M":
        raise DataFileError(
            rel,
            f"option 'period' is {period!r}; this table does not say its month",
            fix="set options: {period: 2019-01} to the month the table describes",
        )
    if not columns:
        raise DataFileError(
            rel, "option 'columns' is empty", fix="map each value column to an indicator id"
        )
    grid = read_sheet_rows(path, rel, sheet)
    if not grid:
        raise DataFileError(rel, "is empty", fix="check the workbook")
    header = [str(h).strip() if h is not None else "" for h in grid[0]]
    check_columns(rel, header, list(columns), f"expected the columns {', '.join(columns)}")
    out: dict[str, list[object]] = {
        c: [] for c in ["municipality_name", "indicator", "period", "value", "source_row", "reject"]
    }
    for i, row in enumerate(grid[1:], start=2):
        if not any(c not in (None, "") for c in row):
            continue
        for j, h in enumerate(header[1:], start=1):
            out["municipality_name"].append(row[0])
            out["indicator"].append(f"{columns[h]}{suffix}" if h in columns else local_id("AF", h))
            out["period"].append(p)
            out["value"].append(row[j] if j < len(row) else None)
            out["source_row"].append(i)
            out["reject"].append(
                None if h in columns else f"column {h!r} is not mapped in the manifest"
            )
    return raw_frame(out, gender="T", frequency="M", unit=unit, source=source, source_file=rel)
