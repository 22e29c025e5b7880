"""Fast array helpers of clean: categorical codes instead of text, integer keys, linear orderings.

National Kolada inputs have millions of rows with few distinct values per column; these helpers
work on the categoricals' codes and on one integer per key, so clean never compares text row by
row. They know nothing of cleaning rules.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ks_analysis.schema import KEY

__all__: list[str] = []  # helpers of the clean stage only


def _on_unique(values: pd.Series, fn: Any) -> pd.Series:
    """Apply ``fn`` (a function of a Series) to the distinct values only and spread the result.

    Indicator ids, genders, periods and units have few distinct values in millions of rows.
    Text results come back as a categorical with sorted categories (so sorting by it is
    lexical), other results as a plain array.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        # Code -1 (missing) picks the trailing None by numpy's negative indexing.
        codes = values.cat.codes.to_numpy()
        uniques = pd.Series([*values.cat.categories.astype(object), None], dtype=object)
    else:
        codes, u = pd.factorize(values.astype("object"), use_na_sentinel=False)
        uniques = pd.Series(u, dtype=object)
    result = fn(uniques)
    arr = result.to_numpy() if isinstance(result, pd.Series | pd.Index) else np.asarray(result)
    if arr.dtype == object or arr.dtype.kind in "OUT" or str(arr.dtype) == "str":
        arr = np.asarray(arr, dtype=object)
        present = pd.Series(arr).dropna()
        cats = pd.Index(sorted(set(present.astype(str))), dtype=object)
        rcodes = np.where(
            pd.isna(arr),
            -1,
            cats.get_indexer(pd.Index(pd.Series(arr).astype(str).to_numpy(), dtype=object)),
        )
        return pd.Series(
            pd.Categorical.from_codes(
                rcodes.astype(_code_dtype(len(cats)))[codes], categories=cats
            ),
            index=values.index,
            copy=False,
        )
    return pd.Series(arr[codes], index=values.index, copy=False)


def _code_dtype(n_categories: int) -> type[np.signedinteger[Any]]:
    """The smallest signed integer type for categorical codes of ``n_categories`` (and -1)."""
    return np.int8 if n_categories < 127 else np.int16 if n_categories < 32767 else np.int32


#: Rows per chunk of a tidy text column: one pyarrow ``take`` of millions of long strings grows
#: its buffers by reallocation (2x the memory touched, 5-10x the time); chunks of this size are
#: built in place.
STR_CHUNK_ROWS = 1 << 18


def _str_column(col: pd.Series, take: np.ndarray) -> pd.Series:
    """Rows ``take`` of a column as a pandas ``str`` column (pyarrow ``large_string``).

    For a categorical this is a pyarrow ``take`` of its categories by the codes, chunk by
    chunk, straight into the large_string storage pandas uses (no object or string array).
    """
    if not isinstance(col.dtype, pd.CategoricalDtype):
        return pd.Series(col.to_numpy(dtype=object)[take]).astype("str")
    codes = col.cat.codes.to_numpy()[take]
    dictionary = pa.array([str(c) for c in col.cat.categories], type=pa.large_string())
    chunks = []
    for start in range(0, max(len(codes), 1), STR_CHUNK_ROWS):
        part = codes[start : start + STR_CHUNK_ROWS]
        neg = part < 0
        chunks.append(dictionary.take(pa.array(part, mask=neg) if neg.any() else pa.array(part)))
    arr = pa.chunked_array(chunks, type=pa.large_string())
    out = pd.Series(
        arr.to_pandas(
            types_mapper={pa.large_string(): pd.StringDtype("pyarrow", na_value=np.nan)}.get
        )
    )
    return out if str(out.dtype) == "str" else out.astype("str")


def _to_str(col: pd.Series) -> pd.Series:
    """A categorical column as a pandas ``str`` column (see :func:`_str_column`)."""
    return _str_column(col, np.arange(len(col))).set_axis(col.index)


def _text_column(values: np.ndarray) -> pd.Series:
    """An object array of texts with few distinct values (None = missing) as a pandas ``str``
    column, built from its distinct values (see :func:`_str_column`)."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    cat = pd.Series(pd.Categorical.from_codes(codes, categories=pd.Index(uniques, dtype=object)))
    return _to_str(cat)


def _dense_factorize(keys: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """(codes, sorted distinct keys) of non-negative int64 ``keys`` below ``bound``.

    A presence table instead of a hash table when ``bound`` is not much larger than the
    number of keys (the usual case: keys built from categorical codes).
    """
    if len(keys) and bound <= 4 * len(keys) + (1 << 22):
        present = np.zeros(bound, dtype=bool)
        present[keys] = True
        lookup: np.ndarray[Any, np.dtype[np.signedinteger[Any]]] = np.cumsum(
            present, dtype=np.int32 if bound < 2**31 else np.int64
        )
        np.subtract(lookup, 1, out=lookup)
        return lookup[keys], np.flatnonzero(present)
    codes, uniques = pd.factorize(keys, sort=True)
    return codes.astype(np.int64), np.asarray(uniques, dtype=np.int64)


def _codes_and_labels(col: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Integer codes (-1 = missing) and labels of a column, labels in the order groupby sorts them."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.cat.codes.to_numpy().astype(np.int64), list(col.cat.categories)
    codes, uniques = pd.factorize(col, sort=True)
    return codes.astype(np.int64), list(uniques)


def _key_codes(frame: pd.DataFrame) -> tuple[np.ndarray, int]:
    """One int64 per row that is equal exactly when the key (municipality, indicator, gender, period) is,
    and the bound all of them stay below.

    Built from the categoricals' codes, so finding duplicates and sorting work on one integer
    column instead of four text columns; falls back to factorizing when a column is not categorical.
    """
    sizes = [
        len(frame[c].cat.categories) + 1
        if isinstance(frame[c].dtype, pd.CategoricalDtype)
        else None
        for c in KEY
    ]
    small = all(sizes) and int(np.prod([float(x) for x in sizes])) < 2**31  # type: ignore[arg-type]
    key = np.zeros(len(frame), dtype=np.int32 if small else np.int64)
    bound = 1
    for col in KEY:
        c = frame[col]
        if isinstance(c.dtype, pd.CategoricalDtype):
            codes, size, shift = c.cat.codes.to_numpy(), len(c.cat.categories) + 1, 1
        else:
            codes, u = pd.factorize(c, use_na_sentinel=False, sort=True)
            size, shift = len(u), 0
        np.multiply(key, size, out=key)  # in place: no temporary per step
        np.add(key, codes, out=key)
        np.add(key, shift, out=key)
        bound *= size
    if bound >= 2**62:  # pragma: no cover - would need billions of distinct key parts
        raise OverflowError("too many distinct key values for an int64 key")
    return key, bound


def _order_if_distinct(keys: np.ndarray, bound: int, positions: np.ndarray) -> np.ndarray | None:
    """``positions`` in ascending order of their ``keys`` when no key repeats, else None.

    Linear: each position is placed in a table at its key (when the key range allows it).
    """
    n = len(keys)
    if not (n and bound <= 4 * n + (1 << 22) and n < 2**31):
        if n and pd.Series(keys).duplicated().any():
            return None
        return positions[np.argsort(keys, kind="stable")]
    slot = np.full(bound, -1, dtype=np.int32)
    slot[keys] = np.arange(n, dtype=np.int32)
    order = slot[slot >= 0]
    return positions[order] if len(order) == n else None


def _take_ns(values: np.ndarray, take: np.ndarray) -> np.ndarray:
    """``values[take]`` (datetime64[s]) as datetime64[ns], with one allocation; NaT stays NaT."""
    out = np.take(values.view(np.int64), take)
    nat = out == np.iinfo(np.int64).min
    out *= 1_000_000_000
    if nat.any():
        out[nat] = np.iinfo(np.int64).min
    return out.view("datetime64[ns]")


def _argsort_keys(keys: np.ndarray, bound: int) -> np.ndarray:
    """Stable ascending order of int64 ``keys`` in [0, bound).

    Distinct keys in a range not much larger than their number (the kept rows of a clean)
    are ordered by placing each at its key in a table, which is linear; otherwise argsort.
    """
    n = len(keys)
    if n and bound <= 4 * n + (1 << 22) and n < 2**31:
        slot = np.full(bound, -1, dtype=np.int32)
        slot[keys] = np.arange(n, dtype=np.int32)
        order = slot[slot >= 0]
        if len(order) == n:  # every key distinct
            return order
    return np.argsort(keys, kind="stable")


def contiguous(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every Arrow-backed column in one piece.

    A column concatenated from several sources' rows holds its text in several Arrow chunks,
    and pyarrow joins a column's chunks on every ``take``: a cut of the real tidy table, or a
    few rows of it by position, cost 4 ms per text column (30 rows) against 0.02 ms in one
    piece. The column is joined once here, at the end of cleaning.
    """
    out = {}
    for c in df.columns:
        arr = df[c].array
        chunks = getattr(getattr(arr, "_pa_array", None), "num_chunks", 1)
        if chunks > 1:
            out[c] = pd.Series(arr.take(np.arange(len(arr))), index=df.index, name=c)
    return df.assign(**out) if out else df
