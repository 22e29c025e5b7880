"""The tidy indicator table: its columns, types and key, declared once as a pandera model."""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc
from pandera.typing.pandas import DataFrame, Series

__all__ = [
    "TIDY_COLUMNS",
    "KEY",
    "RAW_COLUMNS",
    "TidyIndicators",
    "validate_tidy",
    "empty_tidy",
    "empty_raw",
]

#: Column order of the tidy table (architecture.md, contract).
TIDY_COLUMNS = [
    "municipality",
    "indicator",
    "gender",
    "frequency",
    "period",
    "period_end",
    "value",
    "unit",
    "source",
    "source_file",
    "source_row",
    "published",
    "published_basis",
]

#: Where a row's ``published`` date comes from: the source itself (a date in the file, or a
#: vintage date the manifest states), or a publication-lag rule (computed, not known).
PUBLISHED_BASES = ["source", "rule"]

#: One observation per key.
KEY = ["municipality", "indicator", "gender", "period"]

#: What every reader returns: one row per observation (value cell) it read, before cleaning.
#: ``municipality`` is a 4-character Kolada code when the source has codes, else empty and
#: ``municipality_name`` holds the name as written; ``value`` is the raw cell (str, number or
#: None); ``period`` is canonical (``2022``, ``2022-Q1``, ``2022-03``) when the reader could
#: make it so, else the raw text (clean rejects it). ``published`` is set when the source
#: itself says when the value became known, else NaT and the manifest's lag rule decides.
#: ``note`` carries a reader's remark that clean keeps in the rejected rows (e.g. why a row is
#: an aggregate or a superseded definition); ``reject`` is a reason the reader already knows.
RAW_COLUMNS = [
    "municipality",
    "municipality_name",
    "indicator",
    "gender",
    "frequency",
    "period",
    "value",
    "unit",
    "source",
    "source_file",
    "source_row",
    "published",
    "reject",
]


MUNICIPALITY_PATTERN = r"^\d{4}$"
INDICATOR_PATTERN = r"^([A-Z]\d{5}|LOKAL_[A-Z0-9_]+|[A-Z][A-Z0-9_]+)$"
PERIOD_PATTERN = r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$"


class TidyIndicators(pa.DataFrameModel):
    """One observation per (municipality, indicator, gender, period), with where it came from.

    The text checks look at each distinct value once (millions of rows hold a few hundred
    codes, ids and periods) and the key check at one integer per row; they fail the same rows
    as pandera's ``str_matches`` and ``unique`` would.
    """

    municipality: Series[str]
    indicator: Series[str]
    gender: Series[str] = pa.Field(isin=["T", "K", "M"])
    frequency: Series[str] = pa.Field(isin=["Y", "Q", "M"])
    period: Series[str]
    period_end: Series[pd.Timestamp]
    value: Series[float] = pa.Field(nullable=False)
    unit: Series[str]
    source: Series[str]
    source_file: Series[str]
    source_row: Series[int] = pa.Field(ge=1)
    published: Series[pd.Timestamp]
    published_basis: Series[str] = pa.Field(isin=PUBLISHED_BASES)

    class Config:
        strict = True
        coerce = True
        ordered = True

    @pa.check("municipality", name=f"str_matches('{MUNICIPALITY_PATTERN}')")
    def municipality_is_code(cls, s: Series[str]) -> Series[bool]:  # noqa: N805
        """A 4-digit Kolada code."""
        return cast(Series[bool], _matches_on_distinct(s, MUNICIPALITY_PATTERN))

    @pa.check("indicator", name=f"str_matches('{INDICATOR_PATTERN}')")
    def indicator_is_id(cls, s: Series[str]) -> Series[bool]:  # noqa: N805
        """A Kolada KPI id or a local id in capitals."""
        return cast(Series[bool], _matches_on_distinct(s, INDICATOR_PATTERN))

    @pa.check("period", name=f"str_matches('{PERIOD_PATTERN}')")
    def period_is_canonical(cls, s: Series[str]) -> Series[bool]:  # noqa: N805
        """2022, 2022-Q1 or 2022-01."""
        return cast(Series[bool], _matches_on_distinct(s, PERIOD_PATTERN))

    # ignore_na=False: pandera would otherwise test every cell of the frame for NA to spare
    # all-NA rows, which the not-nullable columns reject anyway.
    @pa.dataframe_check(
        name="unique(['municipality', 'indicator', 'gender', 'period'])", ignore_na=False
    )
    def one_row_per_key(cls, df: pd.DataFrame) -> Series[bool]:  # noqa: N805
        """No key twice: every row of a repeated (municipality, indicator, gender, period) fails."""
        return cast(Series[bool], ~pd.Series(_duplicated_key(df[KEY]), index=df.index))

    @pa.dataframe_check(ignore_na=False)
    def published_not_before_period_start(cls, df: pd.DataFrame) -> Series[bool]:  # noqa: N805
        """A value cannot be known before its period began (a sign of a wrong lag rule)."""
        start = df["period_end"] - pd.to_timedelta(366, unit="D")
        return cast(Series[bool], df["published"] >= start)


def _arrow(s: pd.Series) -> pyarrow.ChunkedArray:
    """The column as a pyarrow chunked array (zero-copy for pandas' pyarrow-backed ``str``)."""
    arr = (
        pyarrow.array(s.array)
        if not isinstance(s.dtype, pd.CategoricalDtype)
        else pyarrow.array(s.astype("str").array)
    )
    return arr if isinstance(arr, pyarrow.ChunkedArray) else pyarrow.chunked_array([arr])


def _encode(s: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """(codes, distinct values) of a text column; code -1 for a missing value.

    Chunk by chunk; runs of equal neighbours (a sorted key column) are encoded once per run.
    """
    index: dict[object, int] = {}
    out = np.empty(len(s), dtype=np.int32)
    at = 0
    for chunk in _arrow(s).chunks:
        n = len(chunk)
        starts = None
        if n > 1:
            changes = (
                pc.not_equal(chunk.slice(0, n - 1), chunk.slice(1))
                .fill_null(True)
                .to_numpy(zero_copy_only=False)
            )
            if changes.sum() < n // 2:
                starts = np.concatenate([[0], np.flatnonzero(changes) + 1])
                chunk = chunk.take(pyarrow.array(starts))
        enc = pc.dictionary_encode(chunk)
        lookup = np.asarray(
            [index.setdefault(v, len(index)) for v in enc.dictionary.to_pylist()] + [-1],
            dtype=np.int32,
        )
        idx = (
            enc.indices.fill_null(-1).to_numpy()
            if enc.indices.null_count
            else enc.indices.to_numpy(zero_copy_only=False)
        )
        codes = lookup[idx]  # -1 (null) picks the trailing -1
        out[at : at + n] = (
            np.repeat(codes, np.diff(np.append(starts, n))) if starts is not None else codes
        )
        at += n
    return out, pd.Series(
        list(index), dtype=s.dtype if not isinstance(s.dtype, pd.CategoricalDtype) else "str"
    )


def _matches_on_distinct(s: pd.Series, pattern: str) -> pd.Series:
    """``s.str.match(pattern, na=False)``, worked out once per distinct value."""
    codes, distinct = _encode(s)
    ok = np.append(
        distinct.str.match(pattern, na=False).to_numpy(dtype=bool), False
    )  # code -1 picks False
    return pd.Series(ok[codes], index=s.index)


def _duplicated_key(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose key occurs more than once (all of them).

    When the rows are in key order (as clean writes them) repeated keys are neighbours and one
    comparison of each row with the next settles it; otherwise one int64 per row is counted.
    """
    n = len(frame)
    arrays = [_arrow(frame[c]) for c in frame.columns]
    if n > 1 and not any(a.null_count for a in arrays):
        ordered = np.ones(n - 1, dtype=bool)
        same = np.ones(n - 1, dtype=bool)
        for a in reversed(arrays):  # lexical order: the first column decides, ties go to the next
            prev, nxt = a.slice(0, n - 1), a.slice(1)
            eq = pc.equal(prev, nxt).to_numpy(zero_copy_only=False)
            lt = pc.less(prev, nxt).to_numpy(zero_copy_only=False)
            ordered = lt | (eq & ordered)
            same &= eq
        if ordered.all():
            dup = np.zeros(n, dtype=bool)
            dup[:-1] |= same
            dup[1:] |= same
            return dup
    key = np.zeros(n, dtype=np.int64)
    bound = 1
    for col in frame.columns:
        codes, distinct = _encode(frame[col])
        key = key * (len(distinct) + 1) + (codes + 1)
        bound *= len(distinct) + 1
    if n and bound <= 4 * n + (1 << 22):
        return np.bincount(key, minlength=bound)[key] > 1
    return pd.Series(key).duplicated(keep=False).to_numpy()


def validate_tidy(frame: pd.DataFrame, *, inplace: bool = False) -> DataFrame[TidyIndicators]:
    """Check ``frame`` against the tidy schema lazily, so one run lists every bad cell.

    ``inplace=True`` coerces ``frame`` itself instead of a copy (for a frame the caller just built).

    Raises:
        pandera.errors.SchemaErrors: with every failing check and cell.
    """
    return TidyIndicators.validate(frame, lazy=True, inplace=inplace)


def empty_tidy() -> pd.DataFrame:
    """An empty tidy table with the right columns and types."""
    frame = pd.DataFrame({c: pd.Series(dtype="str") for c in TIDY_COLUMNS})
    frame["value"] = frame["value"].astype("float64")
    frame["source_row"] = frame["source_row"].astype("int64")
    frame["period_end"] = pd.to_datetime(frame["period_end"])
    frame["published"] = pd.to_datetime(frame["published"])
    return frame


def empty_raw() -> pd.DataFrame:
    """An empty reader result with the raw columns."""
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in RAW_COLUMNS})
    frame["source_row"] = frame["source_row"].astype("int64")
    frame["published"] = pd.to_datetime(frame["published"])
    return frame
