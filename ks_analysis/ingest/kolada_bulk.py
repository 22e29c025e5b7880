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
from ks_analysis.ingest._common import (
    csv_parse_error_line,
    csv_record_lines,
    read_csv_text,
    swedish_decimal,
    too_many_fields_reason,
)
from ks_analysis.ingest.frame import as_category, check_columns, concat_raw, raw_frame
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
    bad: list[
        tuple[int, str, str]
    ]  # (line, text, reason) of records with more fields than the header


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
    """Read and check one bulk CSV (raises DataFileError for this file).

    Sniffed like every CSV reader: UTF-8 with or without BOM, else cp1252 (Swedish Excel); ','
    or ';' (then numbers have a decimal comma); CRLF or LF. A line with more fields than the
    header is not parsed but passed on with a reason, so that clean rejects and counts it.
    """
    csvtext, data = read_csv_text(path, rel)
    if csvtext.encoding != "utf-8" or data.startswith(b"\xef\xbb\xbf"):
        data = csvtext.text.encode("utf-8")
    bad: list[tuple[int | None, str, int, int]] = []

    def skip(row: Any) -> str:
        bad.append((row.number, row.text, row.actual_columns, row.expected_columns))
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(encoding="utf8"),
            parse_options=pacsv.ParseOptions(delimiter=csvtext.delimiter, invalid_row_handler=skip),
            convert_options=pacsv.ConvertOptions(
                column_types={"geo": _TEXT, "year": _TEXT, "gender": _TEXT},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                decimal_point="," if csvtext.decimal_comma else ".",
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        line = csv_parse_error_line(data, str(exc))
        fix = (
            "make the line have as many fields as the header (geo,year[,gender],<kpi>), or export the file again"
            if line
            else "export the file again as CSV with header geo,year[,gender],<kpi>"
        )
        raise DataFileError(
            rel, f"not a readable Kolada bulk CSV ({message[:200]})", row=line, fix=fix
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
    else:  # text (or true/false) in the value column: kept as written, clean rejects what is no number
        value = value_col.to_pandas().astype("object").to_numpy()
        if csvtext.decimal_comma:
            value = np.asarray(
                [swedish_decimal(v) if isinstance(v, str) else v for v in value], dtype=object
            )
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
        lines=_good_lines(data, table.num_rows, bad),
        bad=[
            (
                _bad_line(data, number, text),
                text,
                too_many_fields_reason(got, want, csvtext.delimiter),
            )
            for number, text, got, want in bad
        ],
    )


def _bad_line(data: bytes, number: int | None, text: str) -> int:
    """The 1-based line of a malformed record pyarrow skipped (found by its text when unnumbered)."""
    if number is not None:
        return int(number)
    for n, line in enumerate(data.split(b"\n"), start=1):
        if line.rstrip(b"\r").decode("utf-8", "replace") == text.rstrip("\r"):
            return n
    return 0


def _good_lines(
    data: bytes, n_rows: int, bad: list[tuple[int | None, str, int, int]]
) -> np.ndarray:
    """Line numbers of the parsed records, the skipped malformed lines left out."""
    if not bad:
        return csv_record_lines(data, n_rows)
    lines = csv_record_lines(data, n_rows + len(bad))
    skipped = {_bad_line(data, number, text) for number, text, _g, _w in bad}
    kept = lines[~np.isin(lines, list(skipped))]
    return kept[:n_rows] if len(kept) >= n_rows else np.arange(2, n_rows + 2, dtype=np.int64)


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
    """Trimmed geo codes; only a three-digit code gets its leading zero back (665 -> 0665).

    An empty cell stays empty and '0' stays '0' (clean rejects both): padding them would make
    them riket '0000'.
    """
    trimmed = pc.utf8_trim_whitespace(arr)
    three = pc.equal(pc.utf8_length(trimmed), 3)
    return pc.if_else(three, pc.utf8_lpad(trimmed, width=4, padding="0"), trimmed)


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
    frame = raw_frame(
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
    malformed = [
        raw_frame(
            {
                "value": [text[:200] for _l, text, _r in p.bad],
                "source_row": [line for line, _t, _r in p.bad],
                "reject": [reason for _l, _t, reason in p.bad],
            },
            indicator=p.kpi,
            unit=p.unit,
            source=p.source,
            source_file=p.rel,
            frequency="Y",
            gender="T",
        )
        for p in parts
        if p.bad
    ]
    return concat_raw([frame, *malformed]) if malformed else frame


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
