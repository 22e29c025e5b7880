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
    option_place,
    ort_key,
    read_csv_text,
    region_code,
    split_region_label,
    swedish_decimal,
    too_many_fields_reason,
)
from ks_analysis.ingest.frame import check_columns, raw_frame
from ks_analysis.ingest.registry import reader

__all__ = [
    "read_table",
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
    path: Path,
    rel: str,
    sheet: str | int = 0,
    encoding: str | None = None,
    fallback: str = "cp1252",
) -> list[list[object]]:
    """All cells of a spreadsheet sheet or a delimited text file, row 1 first, empty cells as None.

    Text files are sniffed (UTF-8 with or without BOM, else ``fallback``; ',' or ';' with decimal
    comma; CRLF or LF) unless the manifest declares ``encoding``.
    """
    if _is_spreadsheet(path):
        from ks_analysis.ingest._excel import read_sheet_rows

        return read_sheet_rows(path, rel, sheet)
    declared = None if encoding in (None, "utf-8-sig", "utf-8", "utf8") else encoding
    csvtext, _data = read_csv_text(path, rel, fallback=fallback, declared=declared)
    rows = csv.reader(io.StringIO(csvtext.text), delimiter=csvtext.delimiter)
    fix = swedish_decimal if csvtext.decimal_comma else (lambda c: c)
    try:
        return [[None if c.strip() == "" else fix(c.strip()) for c in r] for r in rows]
    except csv.Error as exc:
        raise DataFileError(
            rel,
            f"is not readable CSV ({exc})",
            row=rows.line_num,
            fix="check the quoting on that line, or export the file again",
        ) from None


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
    encoding: str | None = None,
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
    spec = _value_spec(header, values, used, indicator_prefix, unit)
    check_columns(
        rel,
        header,
        [*used, *spec],
        f"the table needs the columns named in the manifest's options (header in row {header_row})",
    )
    fixed_name = municipality_name
    if title_place and grid and grid[0] and grid[0][0]:
        fixed_name = str(grid[0][0]).rsplit(",", 1)[-1].strip()
    fixed_code = option_place(municipality, rel) if municipality is not None else None
    table = _Cells(grid, header, header_row)
    n = len(table.rows)
    codes, place_names = _places(
        table,
        region_code_col,
        region_name_col,
        region_label_col,
        [fixed_code] * n,
        [fixed_name] * n,
    )
    periods = _periods(table, rel, period_col, year_col, month_col, quarter_col, yyyy0q_periods)
    genders = _mapped(table.column(gender_col), gender_code) if gender_col else ["T"] * n
    suffixes = [""] * n
    for d in dims or []:
        part = _mapped(table.column(d), lambda v: f"__{ort_key(str(v))}")
        suffixes = [a + b for a, b in zip(suffixes, part, strict=True)]
    k = len(spec)
    value_cols = [table.column(c) for c in spec]
    cols = {
        "municipality": np.repeat(np.asarray(codes, dtype=object), k),
        "municipality_name": np.repeat(np.asarray(place_names, dtype=object), k),
        "indicator": [f"{s['indicator']}{suffix}" for suffix in suffixes for s in spec.values()],
        "gender": np.repeat(np.asarray(genders, dtype=object), k),
        "frequency": np.repeat(np.asarray([f for _, f in periods], dtype=object), k),
        "period": np.repeat(np.asarray([p for p, _ in periods], dtype=object), k),
        "value": [vc[r] for r in range(n) for vc in value_cols],
        "unit": [s.get("unit", unit) for _ in range(n) for s in spec.values()],
        "source_row": np.repeat(np.asarray(table.rows, dtype=np.int64) + 1, k),
    }
    if not _is_spreadsheet(path):  # in a text file, cells past the header mean a split field
        width = len(header)
        too_long = [
            too_many_fields_reason(len(grid[i]), width, ",") if len(grid[i]) > width else None
            for i in table.rows
        ]
        if any(too_long):
            cols["reject"] = np.repeat(np.asarray(too_long, dtype=object), k)
    return raw_frame(cols, source=source, source_file=rel)


def _is_spreadsheet(path: Path) -> bool:
    return path.suffix.lower() in (".xlsx", ".xls", ".xlsm", ".xlsb", ".ods")


def _value_spec(
    header: list[str], values: dict[str, Any] | str, used: list[str], prefix: str, unit: str
) -> dict[str, dict[str, Any]]:
    """``{value column: {indicator, unit}}`` from the ``values`` option (``"*"``: every column not used)."""
    if values == "*":
        return {
            h: {"indicator": local_id(prefix, h), "unit": unit}
            for h in header
            if h and h not in used
        }
    mapping: dict[str, Any] = dict(values) if isinstance(values, dict) else {}
    return {
        c: (v if isinstance(v, dict) else {"indicator": v, "unit": unit})
        for c, v in mapping.items()
    }


class _Cells:
    """The data rows of a grid below its header (blank rows left out), read column by column."""

    def __init__(self, grid: list[list[object]], header: list[str], header_row: int) -> None:
        """Index the header and find the non-blank rows below ``header_row``."""
        self.grid = grid
        self.pos = {h: j for j, h in enumerate(header) if h}
        self.rows = [
            i
            for i in range(header_row, len(grid))
            if any(c is not None and str(c).strip() != "" for c in grid[i])
        ]

    def column(self, col: str) -> list[object]:
        """The cells of column ``col`` in the data rows (None past a short row's end)."""
        j = self.pos[col]
        return [self.grid[i][j] if j < len(self.grid[i]) else None for i in self.rows]


def _mapped(values: list[Any], fn: Any) -> list[Any]:
    """``fn`` of each value, worked out once per distinct value (and type) and then repeated."""
    cache: dict[object, Any] = {}
    out = []
    for v in values:
        key = (type(v), v)
        if key not in cache:
            cache[key] = fn(v)
        out.append(cache[key])
    return out


def _places(
    table: _Cells,
    region_code_col: str | None,
    region_name_col: str | None,
    region_label_col: str | None,
    codes: list[Any],
    place_names: list[Any],
) -> tuple[list[Any], list[Any]]:
    """(code, name) per data row from the place columns; ``codes``/``place_names`` are the fixed defaults."""
    if region_code_col:
        codes = _mapped(table.column(region_code_col), region_code)
    if region_name_col:
        place_names = _mapped(
            table.column(region_name_col), lambda v: None if v is None else str(v).strip()
        )
    if region_label_col:
        pairs = _mapped(table.column(region_label_col), split_region_label)
        codes, place_names = [p[0] for p in pairs], [p[1] for p in pairs]
    return codes, place_names


def _year_month(pair: tuple[object, object]) -> tuple[str, str | None]:
    """(period, frequency) of a year cell and a month cell; the text as given when it is no month."""
    y_cell, m_cell = pair
    m = _month(m_cell)
    y = str(y_cell).strip().removesuffix(".0")
    return (f"{y}-{m:02d}", "M") if m and 1 <= m <= 12 and y.isdigit() else (f"{y} {m_cell}", None)


def _periods(
    table: _Cells,
    rel: str,
    period_col: str | None,
    year_col: str | None,
    month_col: str | None,
    quarter_col: str | None,
    yyyy0q: bool,
) -> list[Any]:
    """(period, frequency) per data row from a period column, or a year column with month or quarter."""
    if period_col:
        return _mapped(table.column(period_col), lambda v: normalise_period(v, yyyy0q=yyyy0q))
    if year_col and month_col:
        return _mapped(
            list(zip(table.column(year_col), table.column(month_col), strict=True)), _year_month
        )
    if year_col and quarter_col:
        return _mapped(
            [
                f"{str(y).strip().removesuffix('.0')}{str(q).strip()}"
                for y, q in zip(table.column(year_col), table.column(quarter_col), strict=True)
            ],
            normalise_period,
        )
    if year_col:
        return _mapped(table.column(year_col), normalise_period)
    raise DataFileError(
        rel,
        "the manifest names no period column",
        fix="set period_col, or year_col with month_col/quarter_col",
    )


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


# The preset readers take the options of the reader they preset (checked against a manifest's
# options before any file is read: ingest.registry.reader_options).
for _preset_reader in (
    read_scb_bas_monthly,
    read_scb_unemployment_lan_monthly,
    read_scb_unemployment_share_monthly,
    read_scb_housing_quarterly,
    read_bankruptcies_monthly,
    read_socialstyrelsen_monthly,
    read_bolagsverket_monthly,
    read_tillvaxtanalys_lan_quarterly,
):
    setattr(_preset_reader, "options_of", read_table)  # noqa: B010
