"""Raw frames: building, checking and concatenating reader results with categorical text columns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ks_analysis.errors import DataFileError
from ks_analysis.schema import RAW_COLUMNS

__all__ = ["TEXT_COLUMNS", "as_category", "raw_frame", "concat_raw", "check_columns"]

#: Raw columns held as categoricals: few distinct values in millions of rows (memory and speed).
TEXT_COLUMNS = [c for c in RAW_COLUMNS if c not in ("value", "source_row", "published")]


def as_category(values: Any, n: int | None = None) -> pd.Categorical:
    """A categorical with object-dtype categories from a column, array or scalar (``n`` copies).

    Object categories make frames of different readers concatenate without losing the
    categorical dtype (see :func:`concat_raw`).
    """
    if n is not None and (values is None or isinstance(values, str | int | float)):
        if values is None or (isinstance(values, float) and np.isnan(values)):
            return pd.Categorical.from_codes(
                np.full(n, -1, dtype=np.int8), categories=pd.Index([], dtype=object)
            )
        return pd.Categorical.from_codes(
            np.zeros(n, dtype=np.int8), categories=pd.Index([values], dtype=object)
        )
    cat: Any = (
        values
        if isinstance(values, pd.Categorical)
        else (
            values.array
            if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype)
            else None
        )
    )
    if cat is not None and cat.categories.dtype == object:
        return cat
    if cat is None:
        codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
        return pd.Categorical.from_codes(codes, categories=pd.Index(uniques, dtype=object))
    return pd.Categorical.from_codes(
        cat.codes, categories=pd.Index(cat.categories.astype(object), dtype=object)
    )


def raw_frame(rows: dict[str, Any] | pd.DataFrame, **constants: Any) -> pd.DataFrame:
    """Build a reader result with exactly :data:`RAW_COLUMNS` from columns and constants.

    Missing columns are filled with None (``published`` with NaT, ``reject`` with None). Text
    columns become categoricals; ``value`` is kept as given (numbers stay float64). Columns are
    typed as a DataFrame would type them, without copying the reader's arrays.
    """
    if isinstance(rows, pd.DataFrame):
        n = len(rows)
        given: dict[str, Any] = {c: rows[c] for c in rows.columns}
    else:
        given = {
            c: (v if isinstance(v, np.ndarray | pd.Series | pd.Categorical) else pd.Series(v))
            for c, v in rows.items()
        }
        lengths = {len(v) for v in given.values()}
        if len(lengths) > 1:
            raise ValueError("All arrays must be of the same length")
        n = lengths.pop() if lengths else 0
    out: dict[str, Any] = {}
    for col in RAW_COLUMNS:
        if col in constants:
            v = constants[col]
            out[col] = as_category(v, n) if col in TEXT_COLUMNS else [v] * n
        elif col in given:
            v = given[col]
            out[col] = (
                as_category(v)
                if col in TEXT_COLUMNS
                else (v.to_numpy() if isinstance(v, pd.Series) else v)
            )
        elif col == "published":
            out[col] = np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
        else:
            out[col] = (
                as_category(None, n) if col in TEXT_COLUMNS else np.full(n, None, dtype=object)
            )
    result = pd.DataFrame(out, index=pd.RangeIndex(n), copy=False)
    if result["published"].dtype != "datetime64[s]":
        result["published"] = pd.to_datetime(result["published"], errors="coerce").astype(
            "datetime64[s]"
        )
    if result["source_row"].dtype != "int64":
        result["source_row"] = result["source_row"].astype("int64")
    if result["value"].dtype.kind not in "fiu":
        result["value"] = result["value"].astype("object")
    return result


def concat_raw(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate reader results, keeping text columns categorical (categories are united).

    ``pd.concat`` would turn categoricals with different categories into object columns,
    which for a national Kolada input costs gigabytes.
    """
    if not frames:
        return pd.DataFrame(columns=[*RAW_COLUMNS, "spec"])
    if len(frames) == 1 and all(
        isinstance(frames[0][c].dtype, pd.CategoricalDtype)
        and frames[0][c].cat.categories.dtype == object
        for c in frames[0].columns
        if c in TEXT_COLUMNS or c == "spec"
    ):
        return frames[0].reset_index(drop=True)  # nothing to unite
    from pandas.api.types import union_categoricals

    cols: dict[str, Any] = {}
    for col in frames[0].columns:
        parts = [f[col] for f in frames]
        if col in TEXT_COLUMNS or col == "spec":
            cats = [
                as_category(p)
                if isinstance(p.dtype, pd.CategoricalDtype)
                else as_category(p.to_numpy())
                for p in parts
            ]
            cols[col] = union_categoricals(cats, ignore_order=True)
        else:
            cols[col] = pd.concat(parts, ignore_index=True)
    return pd.DataFrame(cols)


def check_columns(path: Path | str, found: list[str], needed: list[str], fix: str) -> None:
    """Raise a DataFileError naming the missing columns of a file."""
    missing = [c for c in needed if c not in found]
    if missing:
        raise DataFileError(
            path,
            f"missing column(s) {', '.join(repr(m) for m in missing)}; found {', '.join(repr(f) for f in found) or 'none'}",
            row=1,
            fix=fix,
        )
