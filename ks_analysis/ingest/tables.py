"""Readers for statistics-office tables: SCB (BAS, housing, PX-Web CSV, year-by-month CSV),
Socialstyrelsen, Bolagsverket, Tillväxtanalys län tables and bankruptcy counts.

Most of these are one table per sheet with a header row, a place column (code, name, or code and
name in one field), a period (one column, or a year and a month column) and one or more value
columns. :func:`read_table` reads that shape from options; the named readers below are presets
for the real files, so that a sources manifest names the format, not twenty options.

Indicator ids (documented in ``data/real-sources.yaml``): a preset gives each value column its
id (``SCB_BAS_ARBETSLOSHET``); columns listed in ``dims`` (e.g. ``SNIkod``, ``hustyp``) are
appended as ``__<VALUE>`` so that every row has its own key (``SCB_BYGG_PABORJADE__SMAHUS``).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ks_analysis.errors import DataFileError
from ks_analysis.ingest._common import (
    MONTHS_SV,
    gender_code,
    local_id,
    normalise_period,
    ort_key,
    region_code,
    sniff_delimiter,
    split_region_label,
)
from ks_analysis.ingest.frame import check_columns, raw_frame
from ks_analysis.ingest.registry import reader

__all__ = [
    "read_table",
    "read_scb_pxweb_csv",
    "read_scb_year_by_month_csv",
    "read_scb_bas_monthly",
    "read_scb_unemployment_lan_monthly",
    "read_scb_unemployment_share_monthly",
    "read_scb_housing_quarterly",
    "read_bankruptcies_monthly",
    "read_socialstyrelsen_monthly",
    "read_bolagsverket_monthly",
    "read_tillvaxtanalys_lan_quarterly",
]


def _grid(
    path: Path, rel: str, sheet: str | int = 0, encoding: str = "utf-8-sig"
) -> list[list[object]]:
    """All cells of a spreadsheet sheet or a delimited text file, row 1 first, empty cells as None."""
    if path.suffix.lower() in (".xlsx", ".xls", ".xlsm", ".xlsb", ".ods"):
        from ks_analysis.ingest._excel import read_sheet_rows

        return read_sheet_rows(path, rel, sheet)
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        raise DataFileError(
            rel, "is a binary file, not CSV text", fix="export the table again as CSV"
        )
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataFileError(
            rel,
            f"is not {encoding} (byte {data[exc.start]:#04x})",
            row=line,
            fix=f"save the file as {encoding}, or set 'encoding:' in the manifest's options",
        ) from None
    if not text.strip():
        raise DataFileError(
            rel,
            "is empty",
            fix="export the data again, or remove the file from the sources manifest",
        )
    first = text.splitlines()[0]
    rows = csv.reader(io.StringIO(text), delimiter=sniff_delimiter(first))
    return [[None if c.strip() == "" else c.strip() for c in r] for r in rows]


def _month(cell: object) -> int | None:
    if cell is None:
        return None
    text = str(cell).strip().lower().removesuffix(".0")
    if text.isdigit():
        return int(text)
    return MONTHS_SV.get(text)


def _norm_header(h: object) -> str:
    return re.sub(r"\s+", " ", str(h)).strip() if h is not None else ""


@reader("table")
def read_table(
    path: Path,
    *,
    rel: str,
    values: dict[str, Any] | str,
    sheet: str | int = 0,
    header_row: int = 1,
    names: list[str] | None = None,
    region_code_col: str | None = None,
    region_name_col: str | None = None,
    region_label_col: str | None = None,
    municipality: str | None = None,
    municipality_name: str | None = None,
    title_place: bool = False,
    period_col: str | None = None,
    yyyy0q_periods: bool = False,
    year_col: str | None = None,
    month_col: str | None = None,
    quarter_col: str | None = None,
    gender_col: str | None = None,
    dims: list[str] | None = None,
    exclude: list[str] | None = None,
    indicator_prefix: str = "",
    unit: str = "",
    source: str = "",
    encoding: str = "utf-8-sig",
    **_: object,
) -> pd.DataFrame:
    """Read a table with a header row: one raw row per data row and value column.

    Args:
        path: the file (xlsx, xls or delimited text).
        rel: its path relative to the raw root (``source_file``).
        values: ``{column: indicator}`` or ``{column: {indicator: ..., unit: ...}}``; or ``"*"`` for
            every column not used otherwise, each becoming ``<indicator_prefix>_<COLUMN>``.
        sheet: sheet name or index.
        header_row: 1-based row of the header; rows above it (titles) are skipped.
        names: header to use instead of the file's (for tables whose header cells are blank).
        region_code_col / region_name_col / region_label_col: where the place is: a code ('06',
            '2080', 665), a name, or a PX-Web label with both ('20 Dalarnas län').
        municipality / municipality_name: a fixed place for the whole file.
        title_place: take the place name from the title in row 1 after its last comma
            ('Ekonomiskt bistånd, Dalarnas län').
        period_col / year_col + month_col / year_col + quarter_col: the period.
        yyyy0q_periods: read six digits ``YYYY0Q`` as a quarter (Tillväxtanalys); off elsewhere,
            where ``201203`` is rejected by clean as not a valid period.
        gender_col: kön column ('totalt', 'kvinnor', 'män'); default T.
        dims: columns whose value is appended to the indicator id (``__<VALUE>``).
        exclude: columns that are neither values nor used ("*" values skip them).

    Returns:
        Raw rows (:data:`~ks_analysis.schema.RAW_COLUMNS`), ``source_row`` the spreadsheet row.
    """
    grid = _grid(path, rel, sheet, encoding)
    if len(grid) < header_row:
        raise DataFileError(
            rel,
            f"has no header row (expected it in row {header_row})",
            fix="export the table again with its header",
        )
    header = [_norm_header(h) for h in (names or grid[header_row - 1])]
    pos = {h: j for j, h in enumerate(header) if h}
    used = [
        c
        for c in [
            region_code_col,
            region_name_col,
            region_label_col,
            period_col,
            year_col,
            month_col,
            quarter_col,
            gender_col,
            *(dims or []),
            *(exclude or []),
        ]
        if c
    ]
    if values == "*":
        spec = {
            h: {"indicator": local_id(indicator_prefix, h), "unit": unit}
            for h in header
            if h and h not in used
        }
    else:
        mapping: dict[str, Any] = dict(values) if isinstance(values, dict) else {}
        spec = {
            c: (v if isinstance(v, dict) else {"indicator": v, "unit": unit})
            for c, v in mapping.items()
        }
    check_columns(
        rel,
        header,
        [*used, *spec],
        f"the table needs the columns named in the manifest's options (header in row {header_row})",
    )
    fixed_name = municipality_name
    if title_place and grid and grid[0] and grid[0][0]:
        fixed_name = str(grid[0][0]).rsplit(",", 1)[-1].strip()
    fixed_code = region_code(municipality) if municipality is not None else None
    # Row attributes are worked out once per distinct cell value, then repeated per value column.
    rows = [
        i
        for i in range(header_row, len(grid))
        if any(c is not None and str(c).strip() != "" for c in grid[i])
    ]

    def column(col: str) -> list[object]:
        j = pos[col]
        return [grid[i][j] if j < len(grid[i]) else None for i in rows]

    def mapped(values: list[object], fn: Any) -> list[Any]:
        cache: dict[object, Any] = {}
        out = []
        for v in values:
            key = (type(v), v)
            if key not in cache:
                cache[key] = fn(v)
            out.append(cache[key])
        return out

    n = len(rows)
    codes: list[Any] = [fixed_code] * n
    place_names: list[Any] = [fixed_name] * n
    if region_code_col:
        codes = mapped(column(region_code_col), region_code)
    if region_name_col:
        place_names = mapped(
            column(region_name_col), lambda v: None if v is None else str(v).strip()
        )
    if region_label_col:
        pairs = mapped(column(region_label_col), split_region_label)
        codes, place_names = [p[0] for p in pairs], [p[1] for p in pairs]
    if period_col:
        periods = mapped(column(period_col), lambda v: normalise_period(v, yyyy0q=yyyy0q_periods))
    elif year_col and month_col:

        def year_month(pair: tuple[object, object]) -> tuple[str, str | None]:
            y_cell, m_cell = pair
            m = _month(m_cell)
            y = str(y_cell).strip().removesuffix(".0")
            return (
                (f"{y}-{m:02d}", "M")
                if m and 1 <= m <= 12 and y.isdigit()
                else (f"{y} {m_cell}", None)
            )

        periods = mapped(list(zip(column(year_col), column(month_col), strict=True)), year_month)
    elif year_col and quarter_col:
        periods = mapped(
            [
                f"{str(y).strip().removesuffix('.0')}{str(q).strip()}"
                for y, q in zip(column(year_col), column(quarter_col), strict=True)
            ],
            normalise_period,
        )
    elif year_col:
        periods = mapped(column(year_col), normalise_period)
    else:
        raise DataFileError(
            rel,
            "the manifest names no period column",
            fix="set period_col, or year_col with month_col/quarter_col",
        )
    genders = mapped(column(gender_col), gender_code) if gender_col else ["T"] * n
    suffixes = [""] * n
    for d in dims or []:
        part = mapped(column(d), lambda v: f"__{ort_key(str(v))}")
        suffixes = [a + b for a, b in zip(suffixes, part, strict=True)]
    k = len(spec)
    value_cols = [column(c) for c in spec]
    cols = {
        "municipality": np.repeat(np.asarray(codes, dtype=object), k),
        "municipality_name": np.repeat(np.asarray(place_names, dtype=object), k),
        "indicator": [f"{s['indicator']}{suffix}" for suffix in suffixes for s in spec.values()],
        "gender": np.repeat(np.asarray(genders, dtype=object), k),
        "frequency": np.repeat(np.asarray([f for _, f in periods], dtype=object), k),
        "period": np.repeat(np.asarray([p for p, _ in periods], dtype=object), k),
        "value": [vc[r] for r in range(n) for vc in value_cols],
        "unit": [s.get("unit", unit) for _ in range(n) for s in spec.values()],
        "source_row": np.repeat(np.asarray(rows, dtype=np.int64) + 1, k),
    }
    return raw_frame(cols, source=source, source_file=rel)


def _preset(defaults: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    return {**defaults, **options}


@reader("scb_bas_monthly")
def read_scb_bas_monthly(path: Path, *, rel: str, **options: Any) -> pd.DataFrame:
    """SCB BAS monthly per kommun (``arbetsloshet_kommun.xlsx``): rate, unemployed and labour force.

    The real workbook is malformed for openpyxl (missing drawing, ``dimension`` A1); calamine
    reads it whole. regionkod '00'/'20'/'2080' -> '0000'/'0020'/'2080'; months '2020M01'.
    """
    defaults = {
        "region_code_col": "regionkod", "period_col": "månad", "gender_col": "kön",
        "values": {
            "arbetslöshet": {"indicator": "SCB_BAS_ARBETSLOSHET", "unit": "%"},
            "antal arbetslösa": {"indicator": "SCB_BAS_ARBETSLOSA", "unit": "antal"},
            "antal sysselsatta och arbetslösa (arbetskraften)": {"indicator": "SCB_BAS_ARBETSKRAFT", "unit": "antal"},
        },
        "source": "scb",
    }  # fmt: skip
    return read_table(path, rel=rel, **_preset(defaults, options))


@reader("scb_unemployment_lan_monthly")
def read_scb_unemployment_lan_monthly(path: Path, *, rel: str, **options: Any) -> pd.DataFrame:
    """SCB BAS monthly unemployment rate 20-64 by län (``arbetsmarknadsstatus_tidsserie.xlsx``)."""
    defaults = {
        "region_code_col": "regionkod", "period_col": "Period", "gender_col": "kön",
        "values": {"arbetslöshet": {"indicator": "SCB_BAS_ARBETSLOSHET", "unit": "%"}}, "source": "scb",
    }  # fmt: skip
    return read_table(path, rel=rel, **_preset(defaults, options))


@reader("scb_unemployment_share_monthly")
def read_scb_unemployment_share_monthly(path: Path, *, rel: str, **options: Any) -> pd.DataFrame:
    """Monthly unemployment share by födelseregion (``andel_arblosa_*.xlsx``): one indicator per födelseregion."""
    defaults = {
        "region_code_col": "regionkod", "period_col": "tid", "dims": ["födelseregion"],
        "values": {"andel": {"indicator": "SCB_BAS_ARBETSLOSHET", "unit": "%"}}, "source": "scb",
    }  # fmt: skip
    return read_table(path, rel=rel, **_preset(defaults, options))


@reader("scb_housing_quarterly")
def read_scb_housing_quarterly(path: Path, *, rel: str, **options: Any) -> pd.DataFrame:
    """SCB housing construction per quarter (``byggande.xlsx``, quarters 'K1'..'K4'), one indicator per hustyp.

    Sheet ``Nybyggnation`` gives started and completed dwellings, sheet ``Bygglov`` building
    permits; choose with ``sheet`` and ``values`` in the manifest.
    """
    defaults = {
        "sheet": "Nybyggnation", "region_name_col": "region", "year_col": "ar", "quarter_col": "kvartal", "dims": ["hustyp"],
        "values": {"Paborjade": {"indicator": "SCB_BYGG_PABORJADE", "unit": "antal"}, "Fardigstallda": {"indicator": "SCB_BYGG_FARDIGSTALLDA", "unit": "antal"}},
        "source": "scb",
    }  # fmt: skip
    return read_table(path, rel=rel, **_preset(defaults, options))


@reader("bankruptcies_monthly")
def read_bankruptcies_monthly(path: Path, *, rel: str, **options: Any) -> pd.DataFrame:
    """Monthly bankruptcies per SNI group (``konkurser_korrekt.xlsx``).

    One indicator per SNI code (``KONKURSER__<SNI>``, incl. ``US`` = uppgift saknas); the file
    has no total row, the county total is the sum over all SNI codes and is left to analysis.
    """
    defaults = {
        "sheet": "Antal konkurser", "region_code_col": "regionkod", "period_col": "tid", "dims": ["SNIkod"],
        "values": {"Konkurser": {"indicator": "KONKURSER", "unit": "antal"}}, "source": "tillvaxtanalys",
    }  # fmt: skip
    return read_table(path, rel=rel, **_preset(defaults, options))


@reader("socialstyrelsen_monthly")
def read_socialstyrelsen_monthly(path: Path, *, rel: str, **options: Any) -> pd.DataFrame:
    """Socialstyrelsen monthly ekonomiskt bistånd: title row with the place, then År | Månad (Swedish names) | values."""
    defaults = {
        "header_row": 2, "title_place": True, "year_col": "År", "month_col": "Månad",
        "values": {
            "Antal hushåll": {"indicator": "SOS_EKB_HUSHALL", "unit": "antal"},
            "Utbetalt ekonomiskt bistånd tkr": {"indicator": "SOS_EKB_UTBETALT", "unit": "tkr"},
        },
        "source": "socialstyrelsen",
    }  # fmt: skip
    return read_table(path, rel=rel, **_preset(defaults, options))


@reader("bolagsverket_monthly")
def read_bolagsverket_monthly(path: Path, *, rel: str, **options: Any) -> pd.DataFrame:
    """Bolagsverket monthly new registrations per company form: one indicator per form (``BV_NYREG_AKTIEBOLAG`` ...).

    ``Län`` holds the län number (20 -> 0020); month is an integer without zero padding.
    """
    defaults = {
        "region_code_col": "Län", "year_col": "År", "month_col": "Månad", "values": "*", "indicator_prefix": "BV_NYREG",
        "unit": "antal", "source": "bolagsverket",
    }  # fmt: skip
    return read_table(path, rel=rel, **_preset(defaults, options))


@reader("tillvaxtanalys_lan_quarterly")
def read_tillvaxtanalys_lan_quarterly(path: Path, *, rel: str, **options: Any) -> pd.DataFrame:
    """Tillväxtanalys PX-Web xlsx 'Nystartade företag ... efter kvartal, län': title, blank row, then kvartal | '20 Dalarnas län' | count."""
    defaults = {
        "header_row": 3, "names": ["kvartal", "region", "antal"], "period_col": "kvartal", "yyyy0q_periods": True, "region_label_col": "region",
        "values": {"antal": {"indicator": "TVA_NYSTARTADE", "unit": "antal"}}, "source": "tillvaxtanalys",
    }  # fmt: skip
    return read_table(path, rel=rel, **_preset(defaults, options))


@reader("scb_pxweb_csv")
def read_scb_pxweb_csv(
    path: Path,
    *,
    rel: str,
    indicator: str | None = None,
    unit: str = "",
    source: str = "scb",
    municipality: str = "0000",
    encoding: str = "latin-1",
    **_: object,
) -> pd.DataFrame:
    """SCB PX-Web CSV export: dimension columns, then one column per period; latin-1, ``..`` missing.

    A column whose cells look like '06 Jönköping county' is the place (code and name in one
    field); without one the file is national (``municipality``, default riket). A 'kön'/'sex'
    column gives the gender; any other dimension is appended to the indicator id.
    The indicator id defaults to ``SCB_<FILE STEM>``.
    """
    grid = _grid(path, rel, encoding=encoding)
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
