"""Kolada readers: the bulk CSV files of the Kolada dump (``ddf--datapoints--<kpi>--by--geo[--gender]--year.csv``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ks_analysis.errors import DataFileError
from ks_analysis.ingest._common import csv_parse_error_line, csv_record_lines
from ks_analysis.ingest.frame import as_category, check_columns, raw_frame
from ks_analysis.ingest.registry import batch_reader, reader

__all__ = ["read_kolada_bulk_csv"]

_NAME = re.compile(
    r"ddf--datapoints--(?P<kpi>[a-z]\d{5})--by--geo(?P<gender>--gender)?--year\.csv$", re.I
)


#: Text columns are dictionary-encoded while parsing: a few hundred distinct geos and years in
#: millions of rows never exist as one string per row.
_TEXT = pa.dictionary(pa.int32(), pa.string())


@dataclass
class _BulkPart:
    """What one bulk CSV contributes: per text column its chunks as (indices, distinct values),
    the values, and the file's constants."""

    rel: str
    kpi: str
    unit: str
    source: str
    rows: int
    geo: list[pa.DictionaryArray]
    year: list[pa.DictionaryArray]
    gender: list[pa.DictionaryArray] | None  # None: a total file (gender T)
    value: pa.ChunkedArray | np.ndarray  # float64, or an object array when a cell is text
    lines: np.ndarray  # the line of each row in the file (blank lines are skipped by the parser)


def _dictionary_chunks(col: pa.ChunkedArray) -> list[pa.DictionaryArray]:
    """The chunks of a text column as dictionary arrays (as parsed, or encoded here)."""
    return [
        chunk if pa.types.is_dictionary(chunk.type) else chunk.dictionary_encode()
        for chunk in col.chunks
    ]


def _read_part(
    path: Path,
    *,
    rel: str,
    unit: str = "",
    source: str = "kolada",
    metadata_file: str | None = None,
    units: dict[str, str] | None = None,
    **_: object,
) -> _BulkPart:
    """Read and check one bulk CSV (raises DataFileError for this file)."""
    data = path.read_bytes()
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(encoding="utf8"),
            convert_options=pacsv.ConvertOptions(
                column_types={"geo": _TEXT, "year": _TEXT, "gender": _TEXT},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        line = csv_parse_error_line(data, str(exc))
        fix = (
            "make the line have as many fields as the header (geo,year[,gender],<kpi>), or export the file again"
            if line
            else "export the file again as UTF-8 CSV with header geo,year[,gender],<kpi>"
        )
        raise DataFileError(
            rel, f"not a readable Kolada bulk CSV ({message})", row=line, fix=fix
        ) from None
    cols = table.column_names
    kpi_cols = [c for c in cols if re.fullmatch(r"[A-Za-z]\d{5}", c)]
    check_columns(
        rel, cols, ["geo", "year"], "a Kolada bulk CSV starts with geo,year[,gender],<kpi>"
    )
    if len(kpi_cols) != 1:
        raise DataFileError(
            rel,
            f"expected exactly one KPI column like 'n03926', found {cols}",
            row=1,
            fix="one KPI per file, as in the Kolada dump",
        )
    kpi = kpi_cols[0]
    from ks_analysis.ingest.kolada_web import kpi_units

    kpi_unit = (
        {k.upper(): v for k, v in (units or {}).items()}.get(kpi.upper())
        or kpi_units(path, metadata_file).get(kpi.upper())
        or unit
    )
    value_col = table.column(kpi)
    if (
        pa.types.is_integer(value_col.type)
        or pa.types.is_floating(value_col.type)
        or pa.types.is_null(value_col.type)
    ):
        value: pa.ChunkedArray | np.ndarray = value_col.cast(pa.float64())
    else:  # text in the value column: kept as written, clean rejects what is no number
        value = value_col.to_pandas().astype("object").to_numpy()
    return _BulkPart(
        rel=rel,
        kpi=kpi.upper(),
        unit=kpi_unit,
        source=source,
        rows=table.num_rows,
        geo=_dictionary_chunks(table.column("geo")),
        year=_dictionary_chunks(table.column("year")),
        gender=_dictionary_chunks(table.column("gender")) if "gender" in cols else None,
        value=value,
        lines=csv_record_lines(data, table.num_rows),
    )


def _unify(
    chunks: list[pa.DictionaryArray | int],
    transform: Callable[[pa.Array], pa.Array],
    constant: str = "",
) -> pd.Categorical:
    """One categorical from dictionary chunks: each chunk's distinct values are transformed
    (trimmed, padded ...) and looked up once, then its indices are mapped into one codes array;
    categories in order of first appearance. An int in ``chunks`` stands for that many rows of
    ``constant``."""
    index: dict[str, int] = {}
    codes = np.empty(sum(c if isinstance(c, int) else len(c) for c in chunks), dtype=np.int32)
    at = 0
    for chunk in chunks:
        if isinstance(chunk, int):
            codes[at : at + chunk] = index.setdefault(
                transform(pa.array([constant])).to_pylist()[0], len(index)
            )
            at += chunk
            continue
        lookup = np.asarray(
            [
                index.setdefault(v, len(index))
                for v in transform(chunk.dictionary.cast(pa.string())).to_pylist()
            ]
            + [-1],
            dtype=np.int32,
        )
        idx = chunk.indices
        np.take(
            lookup,
            idx.fill_null(-1).to_numpy() if idx.null_count else idx.to_numpy(),
            out=codes[at : at + len(chunk)],
        )  # -1 (null) picks the trailing -1
        at += len(chunk)
    return pd.Categorical.from_codes(
        codes.astype(_small_codes(len(index)), copy=False),
        categories=pd.Index(list(index), dtype=object),
    )


def _small_codes(n_categories: int) -> type[np.signedinteger[Any]]:
    return np.int8 if n_categories < 127 else np.int16 if n_categories < 32767 else np.int32


def _geo(arr: pa.Array) -> pa.Array:
    return pc.utf8_lpad(pc.utf8_trim_whitespace(arr), width=4, padding="0")


def _year(arr: pa.Array) -> pa.Array:
    return pc.utf8_trim_whitespace(arr)


def _gender(arr: pa.Array) -> pa.Array:
    return pc.utf8_upper(pc.utf8_trim_whitespace(arr))


def _constant_per_part(values: list[str], rows: list[int]) -> pd.Categorical:
    """A categorical holding ``values[i]`` for the ``rows[i]`` rows of part i."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object))
    return pd.Categorical.from_codes(
        np.repeat(codes.astype(_small_codes(len(uniques))), rows),
        categories=pd.Index(uniques, dtype=object),
    )


def _combine(parts: list[_BulkPart]) -> pd.DataFrame:
    """One raw frame from the parts of many bulk CSVs, as if each were read and the frames concatenated."""
    rows = [p.rows for p in parts]
    n = sum(rows)
    genders: list[pa.DictionaryArray | int] = [
        c for p in parts for c in (p.gender if p.gender is not None else [p.rows])
    ]  # a total file: T
    value = np.empty(
        n, dtype=np.float64 if all(isinstance(p.value, pa.ChunkedArray) for p in parts) else object
    )
    at = 0
    for p in parts:
        value[at : at + p.rows] = (
            p.value.to_numpy() if isinstance(p.value, pa.ChunkedArray) else p.value
        )
        at += p.rows
    source_row = np.empty(n, dtype=np.int64)
    at = 0
    for p in parts:
        source_row[at : at + p.rows] = p.lines
        at += p.rows
    return raw_frame(
        {
            "municipality": _unify([c for p in parts for c in p.geo], _geo),
            "period": _unify([c for p in parts for c in p.year], _year),
            "gender": _unify(genders, _gender, constant="T"),
            "indicator": _constant_per_part([p.kpi for p in parts], rows),
            "unit": _constant_per_part([p.unit for p in parts], rows),
            "source": _constant_per_part([p.source for p in parts], rows),
            "source_file": _constant_per_part([p.rel for p in parts], rows),
            "value": value,
            "source_row": source_row,
        },
        frequency=as_category("Y", n),
    )


@reader("kolada_bulk_csv")
def read_kolada_bulk_csv(
    path: Path,
    *,
    rel: str,
    unit: str = "",
    source: str = "kolada",
    metadata_file: str | None = None,
    units: dict[str, str] | None = None,
    **_: object,
) -> pd.DataFrame:
    """Read one Kolada bulk CSV: ``geo,year,<kpi>`` (total) or ``geo,year,gender,<kpi>`` (K/M).

    Quirks handled: CRLF line endings, empty fields for missing values (kept as None so clean
    counts them), the KPI column header in lower case (``n03926`` -> ``N03926``), geo codes kept as
    4-character strings. Gender files hold only K and M; the total is in the file without
    ``--gender``.

    The unit is, in this order: ``units: {KPI: unit}``, the unit derived from the KPI's title in
    ``metadata_file`` (``kpi_results.csv``, relative to the data file's folder), ``unit``.

    A source entry with many such files is read file by file and combined once
    (:data:`~ks_analysis.ingest.registry.BATCH_READERS`): the same rows, without a frame per file.

    Returns:
        One raw row per data line, ``source_row`` = line number in the file (header is line 1;
        blank lines count, as in an editor).
    """
    return _combine(
        [
            _read_part(
                path, rel=rel, unit=unit, source=source, metadata_file=metadata_file, units=units
            )
        ]
    )


batch_reader("kolada_bulk_csv", _read_part, _combine)
