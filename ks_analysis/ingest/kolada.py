"""Kolada readers: the bulk CSV files of the Kolada dump (``ddf--datapoints--<kpi>--by--geo[--gender]--year.csv``)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..errors import DataFileError
from . import check_columns, raw_frame, reader

__all__ = ["read_kolada_bulk_csv"]

_NAME = re.compile(r"ddf--datapoints--(?P<kpi>[a-z]\d{5})--by--geo(?P<gender>--gender)?--year\.csv$", re.I)


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

    Returns:
        One raw row per data line, ``source_row`` = line number in the file (header is line 1).
    """
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
    n = table.num_rows

    def categorical(col: str, upper: bool = False) -> pd.Categorical:
        # Dictionary-encode in pyarrow: a few hundred distinct geos/years in millions of rows.
        arr = pc.utf8_trim_whitespace(table.column(col).cast(pa.string()))
        if col == "geo":
            arr = pc.utf8_lpad(arr, width=4, padding="0")
        if upper:
            arr = pc.utf8_upper(arr)
        result: pd.Categorical = pd.Series(arr.dictionary_encode().to_pandas()).array  # type: ignore[assignment]  # a dictionary array becomes a Categorical
        return result

    value_col = table.column(kpi)
    if pa.types.is_integer(value_col.type) or pa.types.is_floating(value_col.type) or pa.types.is_null(value_col.type):
        value: object = value_col.cast(pa.float64()).to_numpy(zero_copy_only=False)
    else:  # text in the value column: kept as written, clean rejects what is no number
        value = value_col.to_pandas().astype("object").to_numpy()
    gender = categorical("gender", upper=True) if "gender" in cols else "T"
    return raw_frame(
        {
            "municipality": categorical("geo"),
            "period": categorical("year"),
            "value": value,
            "source_row": np.arange(2, n + 2, dtype=np.int64),
        },
        indicator=kpi.upper(),
        gender=gender,
        frequency="Y",
        unit=kpi_unit,
        source=source,
        source_file=rel,
    )
