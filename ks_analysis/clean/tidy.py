"""Clean: raw reader rows -> the tidy indicator table, rejected rows with reasons, and a manifest.

Nothing is lost: every raw row ends up kept, rejected (with a reason), counted as a missing-value
marker, or counted as a duplicate, and the counts per input file add up.
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import itertools
import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ks_analysis import geo as geo_mod
from ks_analysis.errors import DataFileError
from ks_analysis.ingest import as_category, concat_raw, get_batch_reader, get_reader
from ks_analysis.ingest.manifest import (
    SourceSpec,
    expand_files,
    find_sources_file,
    load_metadata_files,
    load_sources,
)
from ks_analysis.paths import relative_to_root
from ks_analysis.schema import KEY, TIDY_COLUMNS, validate_tidy

__all__ = [
    "CleanResult",
    "clean_indicators",
    "read_sources",
    "run_clean",
    "clean_sources",
    "write_clean",
    "MISSING_MARKERS",
    "AGGREGATE_NAMES",
    "period_end",
]

log = logging.getLogger(__name__)

#: Cell contents that mean "no value" in the sources we read.
MISSING_MARKERS = {
    "",
    "..",
    "...",
    "-",
    "--",
    ".",
    "–",
    "—",
    "…",
    "x",
    "X",
    "NaN",
    "nan",
    "None",
    "null",
    "NA",
    "N/A",
}
#: Names of aggregate rows that are dropped on purpose (they are not a kommun).
AGGREGATE_NAMES = {
    "alla kommuner",
    "samtliga",
    "samtliga kommuner",
    "totalt",
    "summa",
    "total",
    "alla",
}
UNKNOWN_PLACE = {"uppgift saknas", "okänd", "okänd kommun", "unknown"}
ELECTION_YEARS = {1994, 1998, 2002, 2006, 2010, 2014, 2018, 2022, 2026}
PERIOD_PATTERN = r"\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?"
REJECTED_COLUMNS = ["source_file", "source_row", "column", "value", "reason"]
COUNT_KEYS = ["rows_read", "rows_kept", "rows_rejected", "rows_missing", "rows_duplicate"]


@dataclass
class CleanResult:
    """What clean produced: the tidy table, the rejected rows and one manifest entry per input file."""

    tidy: pd.DataFrame
    rejected: pd.DataFrame
    inputs: list[dict[str, Any]] = field(default_factory=list)
    as_of: dt.date | None = None

    def manifest(self) -> dict[str, Any]:
        totals = {k: int(sum(i[k] for i in self.inputs)) for k in COUNT_KEYS}
        return {
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "totals": totals,
            "inputs": self.inputs,
        }


def period_end(period: pd.Series) -> pd.Series:
    """Last day of each canonical period ('2022' -> 2022-12-31, '2022-Q1' -> 2022-03-31, '2022-03' -> 2022-03-31)."""
    p = period.astype("str")
    year = pd.to_numeric(p.str.slice(0, 4), errors="coerce")
    month = pd.Series(12, index=p.index, dtype="float64")
    is_q = p.str.contains("-Q", regex=False)
    is_m = p.str.len().eq(7) & ~is_q
    month[is_q] = pd.to_numeric(p[is_q].str.slice(6, 7), errors="coerce") * 3
    month[is_m] = pd.to_numeric(p[is_m].str.slice(5, 7), errors="coerce")
    first = pd.to_datetime({"year": year, "month": month, "day": 1}, errors="coerce")
    return (first + pd.offsets.MonthEnd(0)).astype("datetime64[s]")


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


def _parse_values(values: pd.Series, decimal: str) -> tuple[pd.Series, pd.Series]:
    """(numbers, is_missing) for raw cells; text that is no number gives NaN with is_missing False.

    Numbers and plain numeric text are converted in one vectorised pass; only the cells left
    over (missing markers, thousands separators, decimal commas, text) go through string handling.

    >>> num, miss = _parse_values(pd.Series(["1\u00a0900", "..", "x1", 2.5, None]), ".")
    >>> num.tolist()[0], miss.tolist()
    (1900.0, [False, True, False, False, True])
    """
    if values.dtype.kind in "fiu":
        num = values.astype("float64")
        return num, num.isna()
    num = pd.Series(np.nan, index=values.index, dtype="float64")
    todo = pd.Series(True, index=values.index)
    if decimal == ".":
        fast = pd.to_numeric(values.astype("object"), errors="coerce").astype("float64")
        num = fast
        todo = fast.isna()
    missing = pd.Series(False, index=values.index)
    if todo.any():
        rest = values[todo]
        is_none = rest.isna()
        text = rest.astype("object").where(~is_none, "")
        as_str = text.map(
            lambda v: (
                v
                if isinstance(v, str)
                else repr(float(v))
                if isinstance(v, int | float | np.floating | np.integer)
                else str(v)
            )
        )
        stripped = as_str.str.strip()
        miss = stripped.isin(MISSING_MARKERS) | is_none
        # Thousands separators: no-break space and thin space (Swedish exports), plain spaces.
        cleaned = (
            stripped.str.replace("\u00a0", "", regex=False)
            .str.replace("\u202f", "", regex=False)
            .str.replace(" ", "", regex=False)
        )
        if decimal == ",":
            cleaned = cleaned.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        cleaned = cleaned.str.replace("\u2212", "-", regex=False)  # Unicode minus
        parsed = pd.to_numeric(cleaned.where(~miss, None), errors="coerce").astype("float64")
        num[todo] = parsed
        missing[todo] = miss
    return num, missing


def _resolve_names(frame: pd.DataFrame) -> tuple[pd.Series, np.ndarray, Any]:
    """(code, has_reason, reasons) per row, worked out once per distinct (code, name) pair.

    Codes are padded to 4 characters and checked against the official list; names are looked
    up tolerantly; aggregates ('Alla kommuner', 'Samtliga') and 'Uppgift saknas' get reasons.
    ``has_reason`` is a boolean array; ``reasons(mask)`` gives the reasons of the rows in ``mask``.
    """
    known = set(geo_mod.geos())
    code_cat = as_category(frame["municipality"])
    name_cat = as_category(frame["municipality_name"])
    width = len(name_cat.categories) + 1
    bound = (len(code_cat.categories) + 1) * width
    pair: np.ndarray[Any, np.dtype[np.signedinteger[Any]]] = code_cat.codes.astype(
        np.int32 if bound < 2**31 else np.int64
    )
    np.add(pair, 1, out=pair)  # in place: no temporary per step
    np.multiply(pair, width, out=pair)
    np.add(pair, name_cat.codes, out=pair)
    np.add(pair, 1, out=pair)
    pair_codes, pair_uniques = _dense_factorize(pair, bound)
    del pair
    out_code: list[str | None] = []
    out_reason: list[str | None] = []
    for p in pair_uniques:
        ci, ni = (int(x) - 1 for x in divmod(int(p), width))
        raw_code = code_cat.categories[ci] if 0 <= ci < len(code_cat.categories) else None
        name = name_cat.categories[ni] if 0 <= ni < len(name_cat.categories) else None
        c, r = _place(raw_code, name, known)
        out_code.append(c)
        out_reason.append(r)
    # Categorical codes straight from the few distinct pairs; sorted categories keep sorting lexical.
    categories = sorted({c for c in out_code if c is not None})
    position = {c: i for i, c in enumerate(categories)}
    small = np.asarray(
        [position[c] if c is not None else -1 for c in out_code], dtype=_code_dtype(len(categories))
    )
    cat = pd.Categorical.from_codes(
        small[pair_codes] if len(small) else np.zeros(0, dtype=np.int8),
        categories=pd.Index(categories, dtype=object),
    )
    reason_of_pair = np.asarray(out_reason, dtype=object)
    has_reason = (
        np.asarray([r is not None for r in out_reason], dtype=bool)[pair_codes]
        if len(out_reason)
        else np.zeros(0, dtype=bool)
    )

    def reasons(mask: Any) -> np.ndarray:
        return reason_of_pair[pair_codes[np.asarray(mask, dtype=bool)]]

    return pd.Series(cat, index=frame.index, copy=False), has_reason, reasons


def _place(raw_code: object, name: object, known: set[str]) -> tuple[str | None, str | None]:
    """(code, reason) for one place as a reader gave it: a code, or else a name."""
    if raw_code is not None and str(raw_code).strip() != "":
        c = str(raw_code).strip().zfill(4)
        return (c, None) if c in known else (c, f"unknown kommun/län code {c!r}")
    if name is None or str(name).strip() == "":
        return None, "no municipality code or name"
    key = geo_mod.normalise_name(str(name))
    if key in AGGREGATE_NAMES or key.startswith("alla "):
        return None, f"aggregate row {name!r} dropped on purpose (not a kommun)"
    if key in UNKNOWN_PLACE:
        return None, f"no kommun given ({name!r}); the row cannot be placed"
    try:
        return geo_mod.lookup_code(str(name)), None
    except geo_mod.UnknownNameError as exc:
        return None, str(exc)


#: Row status codes while cleaning (index into STATUS_NAMES).
KEPT, REJECTED, MISSING, DUPLICATE = 0, 1, 2, 3
STATUS_NAMES = ["kept", "rejected", "missing", "duplicate"]


class _Rejections:
    """Reason, column and offending value of the rejected rows, gathered batch by batch.

    Only rejected rows carry these, so nothing is allocated per input row; each row is
    rejected at most once (the first reason wins).
    """

    def __init__(self) -> None:
        self._parts: list[tuple[np.ndarray, Any, str, np.ndarray]] = []
        #: Reasons given as one fixed text: they are their own key in the manifest's counts.
        self.fixed: set[str] = set()

    def add(self, pos: np.ndarray, reason: Any, column: str, values: np.ndarray) -> None:
        if isinstance(reason, str):
            self.fixed.add(reason)
        self._parts.append((np.asarray(pos, dtype=np.int64), reason, column, values))

    def collect(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(positions ascending, reasons, columns, values)."""
        if not self._parts:
            empty = np.zeros(0, dtype=object)
            return np.zeros(0, dtype=np.int64), empty, empty, empty
        pos = np.concatenate([p for p, _r, _c, _v in self._parts])
        reason = np.concatenate(
            [
                np.full(len(p), r, dtype=object)
                if isinstance(r, str)
                else np.asarray(r, dtype=object)
                for p, r, _c, _v in self._parts
            ]
        )
        column = np.concatenate([np.full(len(p), c, dtype=object) for p, _r, c, _v in self._parts])
        value = np.concatenate([np.asarray(v, dtype=object) for _p, _r, _c, v in self._parts])
        order = np.argsort(pos, kind="stable")
        return pos[order], reason[order], column[order], value[order]


def clean_indicators(
    raw: pd.DataFrame,
    specs: dict[str, SourceSpec] | None = None,
    *,
    as_of: dt.date | None = None,
) -> CleanResult:
    """Turn raw reader rows into the tidy table; does not change ``raw``.

    Rules, in order (a row gets the first reason that applies): a reason the reader already
    gave; an unknown or aggregate place; a bad indicator id, gender or period; a value that is
    a missing-value marker (counted as missing) or no number (rejected); a share above 100 or a
    negative share or count; a carried-forward copy of an election KPI; published after
    ``as_of``. Then duplicates on the key: identical values collapse (counted as duplicates),
    vintages of a ``revisions`` source keep the newest value, ``precedence`` decides between
    sources, and any other conflict rejects every row of the key, naming them all.

    Args:
        raw: rows with :data:`~ks_analysis.schema.RAW_COLUMNS` plus ``spec`` (the source entry's
            name), e.g. from :func:`read_sources`.
        specs: source entries by name (publication-lag rule, precedence, revisions, options).
        as_of: keep only values published on or before this date (the vintage known then).

    Returns:
        A :class:`CleanResult`; ``inputs`` holds the counts per source entry and ``source_file``.
    """
    specs = specs or {}
    # A lazy copy (pandas copy-on-write): new columns are assigned, ``raw`` is never written.
    df = raw.reset_index(drop=True)
    n = len(df)
    spec_col = as_category(df["spec"]) if "spec" in df.columns else as_category("", n)
    if (spec_col.codes < 0).any():
        spec_col = (
            spec_col.add_categories([""]).fillna("")
            if "" not in spec_col.categories
            else spec_col.fillna("")
        )
    df["spec"] = spec_col
    spec_codes = spec_col.codes
    spec_names = list(spec_col.categories)
    # Per row a status; for rejected rows the reason, the column and the offending value.
    status = np.zeros(n, dtype=np.int8)
    rejections = _Rejections()

    free = np.ones(n, dtype=bool)  # rows without a reason yet

    def reject(mask: Any, why: Any, col: str, val: Any = None) -> None:
        """Give rows in ``mask`` that have no reason yet this one; ``why``/``val`` may be callables of the mask."""
        mk = np.asarray(mask, dtype=bool) & free
        if not mk.any():
            return
        m = pd.Series(mk, index=df.index, copy=False)
        pos = np.flatnonzero(mk)
        free[pos] = False
        status[pos] = REJECTED
        w = why(m) if callable(why) else (why[m] if isinstance(why, pd.Series) else why)
        bad = val(m) if callable(val) else (val if val is not None else df[col])[m]
        rejections.add(pos, w, col, np.asarray(pd.Series(bad).astype("object"), dtype=object))

    raw_code, raw_name = df["municipality"], df["municipality_name"]

    def place_value(m: pd.Series) -> pd.Series:
        c, nm = raw_code[m].astype("object"), raw_name[m].astype("object")
        return c.where(c.notna(), nm)

    # 1. What the reader already knows is not data (aggregates, superseded definitions).
    pre = df["reject"].notna()
    if pre.any():
        # A superseded definition concerns the period column; anything else the place (aggregates).
        about_period = pd.Series(False, index=df.index)
        about_period[pre] = (
            df.loc[pre, "reject"].astype("object").str.startswith("older definition").to_numpy()
        )
        reject(
            about_period,
            lambda m: df.loc[m, "reject"].astype("object"),
            "period",
            lambda m: df.loc[m, "period"].astype("object"),
        )
        reject(pre, lambda m: df.loc[m, "reject"].astype("object"), "municipality", place_value)

    # 2. Places.
    code, has_reason, reasons = _resolve_names(df)
    reject(has_reason, reasons, "municipality", place_value)
    del has_reason, reasons
    df["municipality"] = code

    # 3. Indicator, gender, period (checked once per distinct value).
    ind = _on_unique(df["indicator"], lambda u: u.astype("str").str.strip().str.upper())
    df["indicator"] = ind
    ind_ok = _on_unique(
        ind, lambda u: u.fillna("").astype(str).str.fullmatch(r"[A-Z][A-Z0-9_]+")
    ).astype(bool)
    reject(~ind_ok, "indicator id is empty or not like N03926 / LOKAL_...", "indicator")
    gender = _on_unique(df["gender"], lambda u: u.astype("str").str.strip().str.upper())
    df["gender"] = gender
    reject(~gender.isin(["T", "K", "M"]), "gender must be T, K or M", "gender")
    per = _on_unique(df["period"], lambda u: u.astype("str").str.strip())
    df["period"] = per
    valid_period = _on_unique(
        per, lambda u: u.fillna("").astype(str).str.fullmatch(PERIOD_PATTERN)
    ).astype(bool)
    reject(~valid_period, "not a valid period (use 2022, 2022-Q1..Q4 or 2022-01..12)", "period")
    df["frequency"] = _on_unique(
        per,
        lambda u: pd.Series(
            np.where(
                u.fillna("").astype(str).str.contains("-Q", regex=False),
                "Q",
                np.where(u.fillna("").astype(str).str.len() == 7, "M", "Y"),
            ),
            dtype=object,
        ),
    )

    # 4. Values: missing markers are counted, text that is no number is rejected.
    dec_of_spec = np.asarray(
        [specs[s].options.get("decimal", ".") if s in specs else "." for s in spec_names] or ["."],
        dtype=object,
    )
    used_decimals = (
        pd.unique(dec_of_spec[np.unique(spec_codes)]) if n else np.asarray(["."], dtype=object)
    )
    if len(used_decimals) == 1:
        v, miss = _parse_values(df["value"], used_decimals[0])
        values = v.to_numpy(dtype="float64")  # read only from here on
        missing = miss.to_numpy(dtype=bool)
    else:
        values = np.full(n, np.nan, dtype="float64")
        missing = np.zeros(n, dtype=bool)
        decimals = dec_of_spec[spec_codes]
        for dec in used_decimals:
            m = decimals == dec
            v, miss = _parse_values(df.loc[m, "value"], dec)
            values[m] = v.to_numpy(dtype="float64")
            missing[m] = miss.to_numpy(dtype=bool)
    not_number = np.isnan(values) & ~missing
    reject(not_number, "not a number; write numbers with '.' as decimal point and no text", "value")
    # inf, Infinity, 1e400 parse as floats but are no measurement.
    reject(
        np.isinf(values),
        "not a finite number (infinite or too large); write the value as a plain number",
        "value",
    )
    unit = _on_unique(
        df["unit"],
        lambda u: u.map(
            lambda x: "" if x is None or (isinstance(x, float) and np.isnan(x)) else str(x)
        ),
    )
    df["unit"] = unit
    # Only plain shares are bounded; changes ('% förändring') may be negative.
    is_share = _on_unique(unit, lambda u: u.astype(str).str.strip() == "%").to_numpy(dtype=bool)
    is_count = _on_unique(
        unit, lambda u: u.astype(str).str.strip().str.startswith("antal")
    ).to_numpy(dtype=bool)
    if is_share.any():
        reject(is_share & (values > 100), "a share above 100 %", "value")
        reject(is_share & (values < 0), "a negative share", "value")
    if is_count.any():
        reject(is_count & (values < 0), "a negative count", "value")

    # 5. Election KPIs repeat the last election's value every year until the next election.
    if any(s in specs and specs[s].election_kpis for s in spec_names):
        year = _on_unique(
            per, lambda u: pd.to_numeric(u.fillna("").astype(str).str.slice(0, 4), errors="coerce")
        )
        for sc, s in enumerate(spec_names):
            spec = specs.get(s)
            if spec and spec.election_kpis:
                m = (
                    (spec_codes == sc)
                    & df["indicator"].isin(spec.election_kpis).to_numpy()
                    & ~year.isin(ELECTION_YEARS).to_numpy()
                    & ~missing
                )
                reject(
                    m,
                    "carried-forward copy of the last election's value (only election years are kept)",
                    "period",
                )

    # 6. Dates: period end and publication (arrays, not frame columns: setting a column copies).
    pend = _on_unique(
        per,
        lambda u: period_end(
            u.where(u.fillna("").astype(str).str.fullmatch(PERIOD_PATTERN), "1900")
        ),
    ).to_numpy(dtype="datetime64[s]")
    published = pd.to_datetime(df["published"], errors="coerce").to_numpy(dtype="datetime64[s]")
    undated = np.isnat(published)
    if undated.any():
        published = published.copy()
        ind_codes = ind.cat.codes.to_numpy()
        ind_names = [*ind.cat.categories, None]  # code -1 (no indicator) picks None
        for sc, s in enumerate(spec_names):
            spec = specs.get(s)
            if spec is None:
                continue
            m = undated if len(spec_names) == 1 else (spec_codes == sc) & undated
            if not m.any():
                continue
            at: Any = slice(None) if m.all() else np.flatnonzero(m)
            if spec.fixed_date is not None:
                published[at] = np.datetime64(spec.fixed_date, "s")
                continue
            # The lag rule per indicator, looked up once per distinct indicator (NaT: no rule).
            codes_at = ind_codes[at]
            lag_of_code = np.full(len(ind_names), np.timedelta64("NaT"), dtype="timedelta64[s]")
            for c in (
                np.flatnonzero(
                    np.bincount(codes_at.astype(np.int64) + 1, minlength=len(ind_names) + 1)
                )
                - 1
            ):
                lag = spec.lag_days(ind_names[c])
                if lag is not None:
                    lag_of_code[c] = np.timedelta64(int(lag) * 86400, "s")
            published[at] = pend[at] + lag_of_code[codes_at]
    if as_of is not None:
        late = published > np.datetime64(as_of, "s")
        if (late & ~missing & free).any():
            reject(
                late & ~missing,
                f"published after --as-of {as_of.isoformat()}",
                "published",
                pd.Series(published, index=df.index).astype("str"),
            )

    status[free & missing] = MISSING

    # 7. Duplicates on the key, vectorised over all duplicate groups at once. One int64 per row
    # stands for the key (built from the categoricals' codes, whose categories are sorted, so
    # its order is the lexical key order).
    key, bound = _key_codes(df)
    ok_pos = np.flatnonzero(status == KEPT)
    # Placing each row at its key orders the rows and, when every slot is hit once, shows
    # that no key repeats; only then are duplicates searched for and settled.
    take = _order_if_distinct(key[ok_pos], bound, ok_pos)
    if take is None:
        _resolve_duplicates(df, values, published, key, bound, ok_pos, specs, status, rejections)
        kept_pos = np.flatnonzero(status == KEPT)
        take = kept_pos[_argsort_keys(key[kept_pos], bound)]
    del key, ok_pos

    # Columns are set one by one: a dict constructor would copy same-typed columns into one block.
    tidy = pd.DataFrame(index=pd.RangeIndex(len(take)))
    for col in TIDY_COLUMNS:
        if col == "period_end":
            tidy[col] = pd.Series(_take_ns(pend, take), copy=False)
        elif col == "published":
            tidy[col] = pd.Series(_take_ns(published, take), copy=False)
        elif col == "value":
            tidy[col] = pd.Series(values[take], copy=False)
        elif col == "source_row":
            tidy[col] = pd.Series(df[col].to_numpy().astype("int64", copy=False)[take], copy=False)
        else:
            tidy[col] = _str_column(df[col], take)
    del take
    tidy = validate_tidy(tidy, inplace=True)

    rej_pos, rej_reason, rej_column, rej_value = rejections.collect()
    if len(rej_pos) != int(np.count_nonzero(status == REJECTED)):  # pragma: no cover - a bug
        raise AssertionError("a rejected row without a reason, or a row rejected twice")
    rejected = (
        pd.DataFrame(
            {
                "source_file": df["source_file"].iloc[rej_pos].astype("str"),
                "source_row": df["source_row"].iloc[rej_pos].astype("int64"),
                "column": pd.Series(rej_column, index=df.index[rej_pos], dtype=object).astype(
                    "str"
                ),
                "value": pd.Series(rej_value, index=df.index[rej_pos], dtype=object).map(
                    lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
                ),
                "reason": pd.Series(rej_reason, index=df.index[rej_pos], dtype=object).astype(
                    "str"
                ),
            }
        )
        .sort_values(["source_file", "source_row"], kind="stable")
        .reset_index(drop=True)
    )

    inputs = _count_inputs(
        df, spec_codes, spec_names, status, rej_pos, rej_reason, rejections.fixed
    )
    if sum(i["rows_read"] for i in inputs) != n:  # pragma: no cover - a bug, never a data problem
        raise AssertionError("clean lost or invented rows")
    return CleanResult(tidy=tidy, rejected=rejected, inputs=inputs, as_of=as_of)


def _codes_and_labels(col: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Integer codes (-1 = missing) and labels of a column, labels in the order groupby sorts them."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.cat.codes.to_numpy().astype(np.int64), list(col.cat.categories)
    codes, uniques = pd.factorize(col, sort=True)
    return codes.astype(np.int64), list(uniques)


def _reason_key(reason: str, fixed: set[str] | frozenset[str] = frozenset()) -> str:
    """The manifest's key for a rejection reason: a fixed reason as written; a reason that names
    values (a place, a period, rows) with those values left out, so that one kind of problem counts once.

    >>> _reason_key("not a number; write numbers with '.' as decimal point", {"not a number; write numbers with '.' as decimal point"})
    "not a number; write numbers with '.' as decimal point"
    >>> _reason_key("older definition of 2010-Q1 (column '201001*'); the newer column with ** is kept")
    "older definition of <period> (column '…'); the newer column with ** is kept"
    >>> _reason_key("aggregate row 'Samtliga' dropped on purpose (not a kommun)")
    "aggregate row '…' dropped on purpose (not a kommun)"
    """
    if reason in fixed:
        return reason
    if reason.startswith("conflicting duplicate:"):
        return "conflicting duplicate; correct one of them or set source precedence in the manifest"
    if reason.startswith("conflicts with "):
        return "conflicts with a row whose source takes precedence"
    if reason.startswith("published after --as-of "):
        return "published after --as-of"
    key = reason.split("; nearest matches", 1)[0]
    key = re.sub(r"'[^']*'", "'…'", key)
    key = re.sub(r"\b\d{4}(?:-Q\d|-\d{2})?\b", "<period>", key)
    return re.sub(r"\d+(?:\.\d+)?", "<n>", key)


def _count_inputs(
    df: pd.DataFrame,
    spec_codes: np.ndarray,
    spec_names: list[Any],
    status: np.ndarray,
    rej_pos: np.ndarray,
    rej_reasons: np.ndarray,
    fixed: set[str] | frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """Rows kept, rejected, missing and duplicate per (source entry, file), and the rejections by reason."""
    file_codes, file_names = _codes_and_labels(df["source_file"])
    nf = len(file_names)
    # One small integer per row: (source entry, file, status); rows without either are not counted.
    combo = (
        file_codes.astype(np.int64)
        if len(spec_names) == 1
        else spec_codes.astype(np.int64) * nf + file_codes
    )
    combo *= 4
    combo += status
    if (file_codes < 0).any() or (spec_codes < 0).any():
        combo = combo[(file_codes >= 0) & (spec_codes >= 0)]
    if len(spec_names) * nf <= 4 * len(combo) + (1 << 22):
        counts = np.bincount(combo, minlength=4 * len(spec_names) * nf).reshape(-1, 4)
        pairs = np.flatnonzero(counts.sum(axis=1))
        counts = counts[pairs]
    else:
        codes, uniques = _dense_factorize(combo // 4, len(spec_names) * nf)
        counts = np.bincount(codes * 4 + combo % 4, minlength=4 * len(uniques)).reshape(-1, 4)
        pairs = uniques
    rej_group = pd.DataFrame(
        {
            "spec": df["spec"].iloc[rej_pos].astype("str").to_numpy(),
            "source_file": df["source_file"].iloc[rej_pos].astype("str").to_numpy(),
            "reason": pd.Series(rej_reasons, dtype=object).astype("str").to_numpy(),
        }
    )
    rej_group["reason"] = _on_unique(
        rej_group["reason"], lambda u: u.map(lambda r: _reason_key(str(r), fixed))
    ).astype("str")
    by_reason = rej_group.groupby(["spec", "source_file", "reason"]).size()
    reason_keys = {(str(a), str(b)) for a, b, _r in by_reason.index}
    inputs = []
    for p, row in zip(pairs, counts, strict=True):
        s, f = str(spec_names[int(p) // nf]), str(file_names[int(p) % nf])
        entry: dict[str, Any] = {
            "file": f,
            "source": s,
            "rows_read": int(row.sum()),
            "rows_kept": int(row[KEPT]),
            "rows_rejected": int(row[REJECTED]),
            "rows_missing": int(row[MISSING]),
            "rows_duplicate": int(row[DUPLICATE]),
        }
        if (s, f) in reason_keys:
            sub: pd.Series = by_reason.loc[(s, f)]  # type: ignore[assignment]
            entry["rejected_by_reason"] = {str(k): int(v) for k, v in sub.items()}
        else:
            entry["rejected_by_reason"] = {}
        inputs.append(entry)
    return inputs


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


def _resolve_duplicates(
    df: pd.DataFrame,
    values: np.ndarray,
    published: np.ndarray,
    key: np.ndarray,
    bound: int,
    ok_pos: np.ndarray,
    specs: dict[str, SourceSpec],
    status: np.ndarray,
    rejections: _Rejections,
) -> None:
    """Settle rows that share a key (updates ``status`` and ``rejections`` in place).

    Within a key the rows of the highest ``precedence`` decide: identical values collapse to the
    earliest published row; differing values of ``revisions`` sources keep the newest value,
    dated from when it was first seen; any other difference rejects every row of the key,
    naming them all. Lower-precedence rows are duplicates when they agree with the kept row and
    rejected when they do not.
    """
    ok_keys = key[ok_pos]
    if len(ok_keys) and bound <= 4 * len(ok_keys) + (1 << 22):
        dup = np.bincount(ok_keys, minlength=bound)[ok_keys] > 1
    else:
        dup = pd.Series(ok_keys).duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    # Only the rows that share a key with another row go through the group logic below.
    at = ok_pos[dup]
    d = df.iloc[at][KEY + ["source_file", "source_row", "spec"]].copy()
    d["value"] = values[at]
    d["published"] = published[at]
    prec_by_spec = {s: (specs[s].precedence if s in specs else 0) for s in pd.unique(d["spec"])}
    rev_by_spec = {s: (specs[s].revisions if s in specs else False) for s in pd.unique(d["spec"])}
    d["_prec"] = d["spec"].map(prec_by_spec).astype("int64")
    d["_rev"] = d["spec"].map(rev_by_spec).astype(bool)
    d["_neg_prec"] = -d["_prec"]
    d = d.sort_values(KEY + ["_neg_prec", "published", "source_file", "source_row"], kind="stable")
    d["_g"] = d.groupby(KEY, sort=False, observed=True).ngroup()
    g = d.groupby("_g", sort=False)
    top = d["_prec"].eq(g["_prec"].transform("max"))
    t = d[top]
    tg = t.groupby("_g", sort=False)
    n_values = tg["value"].transform("nunique")
    all_rev = tg["_rev"].transform("all")
    pos = tg.cumcount()
    last_value = tg["value"].transform("last")
    differs = t["value"].ne(last_value)
    last_diff = pos.where(differs, -1).groupby(t["_g"]).transform("max")
    identical = n_values.eq(1)
    revision = ~identical & all_rev
    keep_top = (identical & pos.eq(0)) | (revision & pos.eq(last_diff + 1))
    conflict_groups = set(t.loc[~identical & ~all_rev, "_g"].unique())
    # The kept row of each settled group, to judge the lower-precedence rows against.
    kept_rows = t[keep_top]
    kept_by_group = kept_rows.set_index("_g")
    # The frame's index labels are row positions (clean works on a RangeIndex).
    status[t.index[~keep_top & (identical | revision)].to_numpy()] = DUPLICATE
    lower = d[~top & ~d["_g"].isin(conflict_groups)]
    if len(lower):
        kv = lower["_g"].map(kept_by_group["value"])
        same = lower["value"].eq(kv)
        status[lower.index[same].to_numpy()] = DUPLICATE
        bad = lower[~same]
        if len(bad):
            kf = bad["_g"].map(kept_by_group["source_file"]).astype("str")
            kr = bad["_g"].map(kept_by_group["source_row"]).astype("int64").astype("str")
            at = bad.index.to_numpy()
            status[at] = REJECTED
            rejections.add(
                at,
                (
                    "conflicts with " + kf + " row " + kr + ", whose source takes precedence"
                ).to_numpy(dtype=object),
                "value",
                bad["value"].astype("object").to_numpy(dtype=object),
            )
    if conflict_groups:
        c = d[d["_g"].isin(conflict_groups)]
        ct = c[c["_prec"].eq(c.groupby("_g")["_prec"].transform("max"))]
        label = (
            ct["source_file"].astype("str")
            + " row "
            + ct["source_row"].astype("str")
            + " = "
            + ct["value"].map(lambda v: f"{v:g}")
        )
        names = label.groupby(ct["_g"]).agg("; ".join)
        at = c.index.to_numpy()
        status[at] = REJECTED
        rejections.add(
            at,
            (
                "conflicting duplicate: "
                + c["_g"].map(names)
                + "; correct one of them or set source precedence in the manifest"
            ).to_numpy(dtype=object),
            "value",
            c["value"].astype("object").to_numpy(dtype=object),
        )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_sources(
    raw_root: Path, sources_file: Path | None = None, *, progress: bool = False
) -> tuple[pd.DataFrame, dict[str, SourceSpec], list[dict[str, Any]]]:
    """Read every file a sources manifest lists.

    Returns:
        (raw rows of all files with a ``spec`` column, specs by name, one dict per file with
        ``file, sha256, reader, source``).

    Raises:
        DataFileError: for a listed file that is absent or unreadable (nothing is written).
    """
    raw_root = Path(raw_root)
    if not raw_root.is_dir():
        raise DataFileError(raw_root, "raw data folder not found", fix="check the --raw path")
    sources_file = Path(sources_file) if sources_file else find_sources_file(raw_root)
    specs = load_sources(sources_file)
    jobs: list[tuple[SourceSpec, Path]] = []
    for spec in specs:
        files = expand_files(spec, raw_root)  # a pattern that matches no file is a DataFileError
        jobs.extend((spec, f) for f in files)
    listed = {f.resolve() for _, f in jobs}
    for pattern in load_metadata_files(sources_file):
        listed |= {Path(p).resolve() for p in glob.glob(str(raw_root / pattern), recursive=True)}
    _warn_unlisted(raw_root, listed, sources_file)
    frames = []
    files_info = []
    bar = _progress(len(jobs), "reading", progress)

    def guarded(fn: Any, spec: SourceSpec, f: Path, rel: str) -> Any:
        try:
            return fn(f, rel=rel, **spec.options)
        except DataFileError:
            raise
        except Exception as exc:  # a reader's unexpected failure still names the file
            raise DataFileError(
                rel,
                f"could not be read by reader {spec.reader!r} ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})",
                fix="check that the file is complete and in the format the manifest says",
            ) from exc

    for spec, group in itertools.groupby(jobs, key=lambda job: job[0]):
        files = [f for _, f in group]
        batch = get_batch_reader(spec.reader) if len(files) > 1 else None
        parts = []
        for f in files:
            rel = relative_to_root(f, raw_root)
            if batch is not None:  # many files of one entry: read each, build one frame
                parts.append(guarded(batch[0], spec, f, rel))
            else:
                frame = guarded(get_reader(spec.reader, spec.manifest), spec, f, rel)
                frame["spec"] = as_category(spec.name, len(frame))
                frames.append(frame)
            files_info.append(
                {"file": rel, "sha256": _sha256(f), "reader": spec.reader, "source": spec.name}
            )
            bar.update(1)
        if batch is not None:
            frame = batch[1](parts)
            frame["spec"] = as_category(spec.name, len(frame))
            frames.append(frame)
    bar.close()
    raw = concat_raw(frames) if frames else pd.DataFrame()
    return raw, {s.name: s for s in specs}, files_info


def _warn_unlisted(raw_root: Path, listed: set[Path], sources_file: Path) -> None:
    skip_names = {sources_file.name, "README.md", "SOURCES.md", ".gitkeep", "fetch-log.jsonl"}
    # A subfolder with its own sources.yaml is another raw root (e.g. data/raw/demo), not ours to list.
    nested = [d.parent for d in raw_root.rglob("sources.yaml") if d.parent != raw_root]
    for p in sorted(raw_root.rglob("*")):
        if not p.is_file() or p.name in skip_names or p.name.startswith("."):
            continue
        if any(root in p.parents for root in nested):
            continue
        if p.resolve() not in listed and p.resolve() != sources_file.resolve():
            if any(
                part in ("assessments", "sjalvvarderingar", "kommunkompassen")
                for part in p.relative_to(raw_root).parts
            ):
                continue
            log.warning(
                "%s is in the raw folder but not listed in %s; it was not read",
                relative_to_root(p, raw_root),
                sources_file.name,
            )


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, desc: str, enabled: bool) -> Any:
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="file", leave=False)


def run_clean(
    raw_root: Path,
    sources_file: Path | None = None,
    *,
    as_of: dt.date | None = None,
    progress: bool = False,
) -> CleanResult:
    """Read and clean everything a manifest lists; pure apart from reading the raw files."""
    raw, specs, files_info = read_sources(raw_root, sources_file, progress=progress)
    if raw.empty:
        raise DataFileError(
            sources_file or raw_root,
            "the manifest lists no readable data rows",
            fix="check the file globs in the manifest",
        )
    return clean_sources(raw, specs, files_info, as_of=as_of)


def clean_sources(
    raw: pd.DataFrame,
    specs: dict[str, SourceSpec],
    files_info: list[dict[str, Any]],
    *,
    as_of: dt.date | None = None,
) -> CleanResult:
    """Clean what :func:`read_sources` read, with the manifest's per-file entries (sha256, reader) merged in.

    Reading is the slow part; a caller that needs several vintages reads once and cleans each ``as_of``.
    """
    result = clean_indicators(raw, specs, as_of=as_of)
    by_file = {(i["source"], i["file"]): i for i in result.inputs}
    merged = []
    for info in files_info:
        counts = by_file.get(
            (info["source"], info["file"]), {k: 0 for k in COUNT_KEYS} | {"rejected_by_reason": {}}
        )
        merged.append({**info, **{k: v for k, v in counts.items() if k not in ("file", "source")}})
    result.inputs = merged
    return result


def _atomic_write(path: Path, write: Any) -> Path:
    """Write to a temporary file in the same folder, return it (to be renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    write(Path(tmp))
    # mkstemp makes files 0600; outputs get the mode a plain open() would give (0666 minus umask).
    umask = os.umask(0)
    os.umask(umask)
    Path(tmp).chmod(0o666 & ~umask)
    return Path(tmp)


def write_clean(result: CleanResult, out_dir: Path) -> dict[str, Path]:
    """Write ``indicators.parquet``, ``rejected.csv`` and ``manifest.json`` atomically into ``out_dir``.

    All three are written to temporary files first and renamed into place only when all succeeded.
    """
    out_dir = Path(out_dir)
    targets = {
        "indicators": out_dir / "indicators.parquet",
        "rejected": out_dir / "rejected.csv",
        "manifest": out_dir / "manifest.json",
    }
    temps: dict[str, Path] = {}
    try:
        temps["indicators"] = _atomic_write(
            targets["indicators"], lambda p: result.tidy.to_parquet(p, index=False)
        )
        temps["rejected"] = _atomic_write(
            targets["rejected"],
            lambda p: result.rejected.to_csv(p, index=False, columns=REJECTED_COLUMNS),
        )
        temps["manifest"] = _atomic_write(
            targets["manifest"],
            lambda p: p.write_text(
                json.dumps(result.manifest(), indent=2, ensure_ascii=False), encoding="utf-8"
            ),
        )
    except BaseException:
        for t in temps.values():
            t.unlink(missing_ok=True)
        raise
    for key, tmp in temps.items():
        os.replace(tmp, targets[key])
    return targets


def read_tidy(path: Path) -> pd.DataFrame:
    """Read a tidy table written by :func:`write_clean`."""
    return pd.read_parquet(path)
