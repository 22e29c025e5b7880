"""Kolada readers: the bulk CSV files of the Kolada dump (``ddf--datapoints--<kpi>--by--geo[--gender]--year.csv``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..errors import DataFileError
from . import as_category, batch_reader, check_columns, raw_frame, reader

__all__ = ["read_kolada_bulk_csv"]

_NAME = re.compile(r"ddf--datapoints--(?P<kpi>[a-z]\d{5})--by--geo(?P<gender>--gender)?--year\.csv$", re.I)


@dataclass
class _BulkPart:
    """What one bulk CSV contributes: its text columns as pyarrow arrays, values, and constants."""

    rel: str
    kpi: str
    unit: str
    source: str
    geo: pa.ChunkedArray
    year: pa.ChunkedArray
    gender: pa.ChunkedArray | None  # None: a total file (gender T)
    value: np.ndarray  # float64, or object when a cell is text

    @property
    def rows(self) -> int:
        return len(self.geo)


def _read_part(
    path: Path, *, rel: str, unit: str = "", source: str = "kolada", metadata_file: str | None = None, units: dict[str, str] | None = None, **_: object
) -> _BulkPart:
    """Read and check one bulk CSV (raises DataFileError for this file)."""
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding="utf8"),
            convert_options=pacsv.ConvertOptions(column_types={"geo": pa.string(), "year": pa.string(), "gender": pa.string()}, strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise DataFileError(rel, f"not a readable Kolada bulk CSV ({str(exc).splitlines()[0]})", fix="export the file again as UTF-8 CSV with header geo,year[,gender],<kpi>") from None
    cols = table.column_names
    kpi_cols = [c for c in cols if re.fullmatch(r"[A-Za-z]\d{5}", c)]
    check_columns(rel, cols, ["geo", "year"], "a Kolada bulk CSV starts with geo,year[,gender],<kpi>")
    if len(kpi_cols) != 1:
        raise DataFileError(rel, f"expected exactly one KPI column like 'n03926', found {cols}", row=1, fix="one KPI per file, as in the Kolada dump")
    kpi = kpi_cols[0]
    from .kolada_web import kpi_units

    kpi_unit = {k.upper(): v for k, v in (units or {}).items()}.get(kpi.upper()) or kpi_units(path, metadata_file).get(kpi.upper()) or unit
    value_col = table.column(kpi)
    if pa.types.is_integer(value_col.type) or pa.types.is_floating(value_col.type) or pa.types.is_null(value_col.type):
        value = value_col.cast(pa.float64()).to_numpy(zero_copy_only=False)
    else:  # text in the value column: kept as written, clean rejects what is no number
        value = value_col.to_pandas().astype("object").to_numpy()
    return _BulkPart(
        rel=rel,
        kpi=kpi.upper(),
        unit=kpi_unit,
        source=source,
        geo=table.column("geo").cast(pa.string()),
        year=table.column("year").cast(pa.string()),
        gender=table.column("gender").cast(pa.string()) if "gender" in cols else None,
        value=value,
    )


def _categorical(arr: pa.ChunkedArray, *, pad: bool = False, upper: bool = False) -> pd.Categorical:
    """Trimmed (and padded / upper-cased) text as a categorical, dictionary-encoded in pyarrow:
    a few hundred distinct geos and years in millions of rows."""
    arr = pc.utf8_trim_whitespace(arr)
    if pad:
        arr = pc.utf8_lpad(arr, width=4, padding="0")
    if upper:
        arr = pc.utf8_upper(arr)
    enc = arr.combine_chunks().dictionary_encode() if isinstance(arr, pa.ChunkedArray) else arr.dictionary_encode()
    codes = enc.indices.to_numpy(zero_copy_only=False)
    categories = pd.Index(enc.dictionary.to_pylist(), dtype=object)
    return pd.Categorical.from_codes(codes, categories=categories)


def _constant_per_part(values: list[str], rows: list[int]) -> pd.Categorical:
    """A categorical holding ``values[i]`` for the ``rows[i]`` rows of part i."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object))
    return pd.Categorical.from_codes(np.repeat(codes, rows), categories=pd.Index(uniques, dtype=object))


def _combine(parts: list[_BulkPart]) -> pd.DataFrame:
    """One raw frame from the parts of many bulk CSVs, as if each were read and the frames concatenated."""
    rows = [p.rows for p in parts]
    n = sum(rows)
    genders = [p.gender if p.gender is not None else pa.chunked_array([pa.repeat(pa.scalar("T"), p.rows)]) for p in parts]
    gender_arr = pa.chunked_array([c for g in genders for c in g.chunks], type=pa.string())
    if all(p.value.dtype == np.float64 for p in parts):
        value: np.ndarray = np.concatenate([p.value for p in parts]) if parts else np.zeros(0)
    else:
        value = np.concatenate([p.value.astype(object) for p in parts])
    return raw_frame(
        {
            "municipality": _categorical(pa.chunked_array([c for p in parts for c in p.geo.chunks], type=pa.string()), pad=True),
            "period": _categorical(pa.chunked_array([c for p in parts for c in p.year.chunks], type=pa.string())),
            "gender": _categorical(gender_arr, upper=True),
            "indicator": _constant_per_part([p.kpi for p in parts], rows),
            "unit": _constant_per_part([p.unit for p in parts], rows),
            "source": _constant_per_part([p.source for p in parts], rows),
            "source_file": _constant_per_part([p.rel for p in parts], rows),
            "value": value,
            "source_row": np.concatenate([np.arange(2, r + 2, dtype=np.int64) for r in rows]) if parts else np.zeros(0, dtype=np.int64),
        },
        frequency=as_category("Y", n),
    )


@reader("kolada_bulk_csv")
def read_kolada_bulk_csv(
    path: Path, *, rel: str, unit: str = "", source: str = "kolada", metadata_file: str | None = None, units: dict[str, str] | None = None, **_: object
) -> pd.DataFrame:
    """Read one Kolada bulk CSV: ``geo,year,<kpi>`` (total) or ``geo,year,gender,<kpi>`` (K/M).

    Quirks handled: CRLF line endings, empty fields for missing values (kept as None so clean
    counts them), the KPI column header in lower case (``n03926`` -> ``N03926``), geo codes kept as
    4-character strings. Gender files hold only K and M; the total is in the file without
    ``--gender``.

    The unit is, in this order: ``units: {KPI: unit}``, the unit derived from the KPI's title in
    ``metadata_file`` (``kpi_results.csv``, relative to the data file's folder), ``unit``.

    A source entry with many such files is read file by file and combined once
    (:data:`~ks_analysis.ingest.BATCH_READERS`): the same rows, without a frame per file.

    Returns:
        One raw row per data line, ``source_row`` = line number in the file (header is line 1).
    """
    return _combine([_read_part(path, rel=rel, unit=unit, source=source, metadata_file=metadata_file, units=units)])


batch_reader("kolada_bulk_csv", _read_part, _combine)
