"""Kolada files other than the bulk CSV: web exports (xlsx, legacy xls), the long table keyed by
kommun name (``nyckeltal.csv``) and KPI metadata (``kpi_results.csv``, ``Metadata_Kolada.csv``).

Web exports name a KPI by its title, not its id. The indicator id is, in this order: the
manifest's ``indicators: {title: id}`` mapping (titles compared without case and repeated
spaces); ``indicator:`` for a one-KPI file; the file stem when it is a KPI id (``U00408.xls``);
else a stable local id derived from the title, ``KOLADA_<TITLE IN CAPITALS>``
(``KOLADA_INVANARE_65_ANDEL``), so that an unmapped KPI is still read, never guessed.
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from ks_analysis.errors import DataFileError
from ks_analysis.ingest._common import (
    csv_parse_error_line,
    csv_record_lines,
    local_id,
    read_csv_text,
    swedish_decimal,
    title_key,
    unit_from_title,
)
from ks_analysis.ingest._excel import read_sheet_rows
from ks_analysis.ingest.frame import as_category, check_columns, raw_frame
from ks_analysis.ingest.registry import reader
from ks_analysis.paths import guard_read

__all__ = [
    "read_kolada_web_export",
    "read_kolada_long_names",
    "read_kolada_kpi_metadata",
    "read_kolada_metadata_csv",
    "kpi_units",
    "kolada_titles",
]

_KPI_ID = re.compile(r"^[A-Za-z]\d{5}$")


def read_kolada_kpi_metadata(path: Path | str) -> pd.DataFrame:
    """Kolada KPI metadata (``kpi_results.csv``) as one row per KPI; metadata, not observations.

    Returns:
        Columns ``id`` (upper case), ``title``, ``unit`` (derived from the title, '' when it
        does not say), ``divided_by_gender`` (bool), ``municipality_type`` (K/L/A),
        ``publication_date`` and ``prel_publication_date`` (dates, NaT when absent).

    Raises:
        DataFileError: when the file is not the Kolada metadata CSV.
    """
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataFileError(
            path.name,
            f"is not a readable Kolada metadata CSV ({type(exc).__name__})",
            fix="fetch kpi_results.csv again (UTF-8)",
        ) from None
    check_columns(
        path.name,
        list(raw.columns),
        ["concept", "name", "is_divided_by_gender", "publication_date"],
        "Kolada's kpi_results.csv has concept, name, ..., publication_date",
    )
    return pd.DataFrame(
        {
            "id": raw["concept"].str.strip().str.upper(),
            "title": raw["name"].str.strip(),
            "unit": raw["name"].map(unit_from_title),
            "divided_by_gender": raw["is_divided_by_gender"]
            .str.strip()
            .isin(["1", "true", "True"]),
            "municipality_type": raw.get("municipality_type", pd.Series("", index=raw.index)),
            "publication_date": pd.to_datetime(
                raw["publication_date"].replace("", None), errors="coerce"
            ),
            "prel_publication_date": pd.to_datetime(
                raw.get("prel_publication_date", pd.Series("", index=raw.index)).replace("", None),
                errors="coerce",
            ),
        }
    )


def read_kolada_metadata_csv(path: Path | str) -> pd.DataFrame:
    """The old KLD Explorer KPI list (``Metadata_Kolada.csv``: "", Kortnamn, Beskrivning, Kod).

    The file repeats many KPIs; identical repeats are dropped. Returns ``id, title, unit``.
    """
    path = Path(path)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    check_columns(
        path.name,
        list(raw.columns),
        ["Kortnamn", "Kod"],
        "Metadata_Kolada.csv has Kortnamn, Beskrivning, Kod",
    )
    out = pd.DataFrame(
        {"id": raw["Kod"].str.strip().str.upper(), "title": raw["Kortnamn"].str.strip()}
    )
    out = out.drop_duplicates("id").reset_index(drop=True)
    return out.assign(unit=out["title"].map(unit_from_title))


@lru_cache(maxsize=8)
def _units_cached(path: str, mtime: float) -> dict[str, str]:
    p = Path(path)
    with p.open("rb") as fh:  # the header tells the two formats apart
        head = fh.read(1024).decode("utf-8", errors="replace")[:200]
    meta = read_kolada_kpi_metadata(p) if "concept" in head else read_kolada_metadata_csv(p)
    return dict(zip(meta["id"], meta["unit"], strict=True))


def kpi_units(data_file: Path, metadata_file: str | None) -> dict[str, str]:
    """Units per KPI id from a metadata file named relative to ``data_file``'s folder ({} without one)."""
    if not metadata_file:
        return {}
    p = (data_file.parent / metadata_file).resolve()
    if not p.exists():
        raise DataFileError(
            metadata_file,
            f"metadata file named for {data_file.name} does not exist",
            fix="correct 'metadata_file' in the manifest (relative to the data file's folder)",
        )
    p = guard_read(
        data_file.parent / metadata_file, entry=f"option metadata_file of {data_file.name}"
    )
    return _units_cached(str(p), p.stat().st_mtime)


def _indicator_for(
    title: str, path: Path, indicators: dict[str, str] | None, indicator: str | None
) -> str:
    mapping = {title_key(k): str(v).upper() for k, v in (indicators or {}).items()}
    if title_key(title) in mapping:
        return mapping[title_key(title)]
    if indicator:
        return indicator.upper()
    if _KPI_ID.match(path.stem):
        return path.stem.upper()
    return local_id("KOLADA", title_key(title))


@reader("kolada_web_export")
def read_kolada_web_export(
    path: Path,
    *,
    rel: str,
    indicators: dict[str, str] | None = None,
    indicator: str | None = None,
    unit: str | None = None,
    sheet: str | int = 0,
    source: str = "kolada",
    **_: object,
) -> pd.DataFrame:
    """Read a Kolada web export, wide or long, xlsx or legacy xls.

    Wide (``alla invanare.xlsx``): row 1 the title "Kolada nyckeltal", row 2 a header with two
    blank cells then the years, then one row per KPI and kommun (KPI title in column A, kommun
    name in column B). "Alla kommuner" rows are aggregates (clean drops and counts them); a
    kommun repeated in a block (Sollentuna) gives duplicate rows that clean collapses.
    Long (the ``kld_explorer`` .xls files): header ``Nyckeltal | Kommun/Landsting | År | Visat
    Värde`` with the year stored as text.

    Returns:
        One raw row per value cell; ``unit`` from the option or derived from the title.
    """
    grid = read_sheet_rows(path, rel, sheet)
    if not grid or not any(any(c is not None for c in r) for r in grid):
        raise DataFileError(rel, "is empty", fix="export the KPIs again from Kolada")
    head = [str(c).strip() if c is not None else "" for c in grid[0]]
    cols: dict[str, Any] = {
        c: [] for c in ["municipality_name", "indicator", "period", "value", "unit", "source_row"]
    }
    titles: dict[str, tuple[str, str]] = {}

    def ind_unit(title: str) -> tuple[str, str]:
        if title not in titles:
            titles[title] = (
                _indicator_for(title, path, indicators, indicator),
                unit if unit is not None else unit_from_title(title),
            )
        return titles[title]

    if head[:2] == ["Nyckeltal", "Kommun/Landsting"]:
        check_columns(
            rel,
            head,
            ["Nyckeltal", "Kommun/Landsting", "År", "Visat Värde"],
            "a long Kolada export has Nyckeltal | Kommun/Landsting | År | Visat Värde",
        )
        j_year, j_val = head.index("År"), head.index("Visat Värde")
        for i, row in enumerate(grid[1:], start=2):
            if not any(c is not None for c in row):
                continue
            ind, u = ind_unit(str(row[0] or ""))
            cols["municipality_name"].append(row[1])
            cols["indicator"].append(ind)
            cols["period"].append(
                str(row[j_year]).strip().removesuffix(".0") if row[j_year] is not None else None
            )
            cols["value"].append(row[j_val] if j_val < len(row) else None)
            cols["unit"].append(u)
            cols["source_row"].append(i)
    else:
        # Wide export: find the header row (blank, blank, years ...) below the title row.
        h = next(
            (
                k
                for k, r in enumerate(grid[:10])
                if sum(bool(re.fullmatch(r"\d{4}(\.0)?", str(c or "").strip())) for c in r) >= 1
            ),
            None,
        )
        if h is None:
            raise DataFileError(
                rel,
                "has no header row with years",
                row=2,
                fix="export from Kolada with years as columns, or as a long table",
            )
        years = [
            (j, str(c).strip().removesuffix(".0"))
            for j, c in enumerate(grid[h])
            if re.fullmatch(r"\d{4}(\.0)?", str(c or "").strip())
        ]
        rows = [i for i in range(h + 1, len(grid)) if any(c is not None for c in grid[i])]
        k = len(years)
        per_row = [ind_unit(str(grid[i][0] or "")) for i in rows]
        cols = {
            "municipality_name": np.repeat(
                np.asarray([grid[i][1] if len(grid[i]) > 1 else None for i in rows], dtype=object),
                k,
            ),
            "indicator": np.repeat(np.asarray([iu[0] for iu in per_row], dtype=object), k),
            "period": [y for _ in rows for _j, y in years],
            "value": [grid[i][j] if j < len(grid[i]) else None for i in rows for j, _y in years],
            "unit": np.repeat(np.asarray([iu[1] for iu in per_row], dtype=object), k),
            "source_row": np.repeat(np.asarray(rows, dtype=np.int64) + 1, k),
        }
    return raw_frame(cols, gender="T", frequency="Y", source=source, source_file=rel)


@reader("kolada_long_names")
def read_kolada_long_names(
    path: Path,
    *,
    rel: str,
    metadata_file: str | None = None,
    units: dict[str, str] | None = None,
    source: str = "kolada",
    **_: object,
) -> pd.DataFrame:
    """Read a long Kolada table keyed by kommun *name*: ``Variabelkod,Kommun,År,Värde`` (``nyckeltal.csv``).

    Missing values are absent rows. Units come from ``units: {KPI: unit}`` or from a metadata
    file (``Metadata_Kolada.csv`` / ``kpi_results.csv``) beside the data file.
    """
    csvtext, data = read_csv_text(path, rel)  # sniffed, size- and line-checked
    if csvtext.encoding != "utf-8" or data.startswith(b"\xef\xbb\xbf"):
        data = csvtext.text.encode("utf-8")
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            parse_options=pacsv.ParseOptions(delimiter=csvtext.delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types={"År": pa.string(), "Värde": pa.string()}
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        line = csv_parse_error_line(data, str(exc))
        raise DataFileError(
            rel,
            f"is not a readable CSV ({str(exc).splitlines()[0][:200]})",
            row=line,
            fix="export the table again as UTF-8 CSV with header Variabelkod,Kommun,År,Värde",
        ) from None
    frame = table.to_pandas()
    check_columns(
        rel,
        list(frame.columns),
        ["Variabelkod", "Kommun", "År", "Värde"],
        "the long Kolada table has Variabelkod,Kommun,År,Värde",
    )
    lookup: dict[str, Any] = {
        **kpi_units(path, metadata_file),
        **{k.upper(): v for k, v in (units or {}).items()},
    }
    # Text columns worked out once per distinct value (a few hundred KPIs, years, kommuner).
    ind = as_category(frame["Variabelkod"])
    ind = ind.map(lambda c: str(c).strip().upper(), na_action="ignore")
    year = as_category(frame["År"])
    return raw_frame(
        {
            "municipality_name": as_category(frame["Kommun"]),
            "indicator": ind,
            "period": year.map(lambda c: str(c).strip(), na_action="ignore"),
            "value": (
                frame["Värde"].map(swedish_decimal).to_numpy()
                if csvtext.decimal_comma
                else frame["Värde"].to_numpy()
            ),
            "unit": ind.map(lambda k: lookup.get(k, ""), na_action="ignore"),
            "source_row": csv_record_lines(data, len(frame)),
        },
        gender="T",
        frequency="Y",
        source=source,
        source_file=rel,
    )


def kolada_titles(raw: Path) -> dict[str, str]:
    """KPI titles from a Kolada metadata file in the raw folder (``kpi_results.csv``: concept, name), if any.

    The first such file under ``raw`` counts; an unreadable one gives no titles (titles are a
    courtesy for readers, the ids stay).
    """
    titles: dict[str, str] = {}
    for path in sorted(Path(raw).glob("**/kpi_results.csv"))[:1]:
        try:
            with path.open(encoding="utf-8-sig", newline="") as fh:
                for row in csv.DictReader(fh):
                    if row.get("concept") and row.get("name"):
                        titles[row["concept"].strip().upper()] = row["name"].strip()
        except (OSError, UnicodeDecodeError, csv.Error):
            return {}
    return titles
