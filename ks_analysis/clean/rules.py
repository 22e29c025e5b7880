"""Cleaning rules: raw reader rows -> the tidy indicator table, one function per rule.

:func:`clean_indicators` runs the rules in order on a working copy of the raw rows; a row gets
the first reason that applies (see :class:`~ks_analysis.clean.accounting.RowLedger`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ks_analysis.clean._columnar import (
    _on_unique,
    _str_column,
    _take_ns,
    contiguous,
)
from ks_analysis.clean.accounting import (
    MISSING,
    CleanResult,
    RowLedger,
    _count_inputs,
)
from ks_analysis.clean.duplicates import settle_duplicates
from ks_analysis.clean.places import AGGREGATE_NAMES, _resolve_names
from ks_analysis.ingest.frame import as_category
from ks_analysis.ingest.manifest import SourceSpec
from ks_analysis.schema import PUBLISHED_BASES, TIDY_COLUMNS, validate_tidy

__all__ = ["clean_indicators", "MISSING_MARKERS", "AGGREGATE_NAMES", "period_end"]

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
#: No official statistic of a Swedish kommun, län or riket is this large (the state budget is
#: about 1.3e12 kr); a value beyond it is a broken cell (1e308), and would break the report's sums.
MAX_ABS_VALUE = 1e15
#: How a reader's reason for a malformed record (more or fewer fields than the header) starts.
READER_LINE_REASON = "the row has "
ELECTION_YEARS = {1994, 1998, 2002, 2006, 2010, 2014, 2018, 2022, 2026}
#: ASCII digits only: a Unicode \d would take Arabic-Indic digits for a year that has no end date.
PERIOD_PATTERN = r"[0-9]{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?"


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
    if values.dtype.kind == "b":  # a column of booleans: no numbers at all
        return pd.Series(np.nan, index=values.index), pd.Series(False, index=values.index)
    num = pd.Series(np.nan, index=values.index, dtype="float64")
    todo = pd.Series(True, index=values.index)
    # JSON true/false and Excel TRUE/FALSE are no measurement; to_numeric would make them 1.0/0.0.
    is_bool = _on_unique_bool(values)
    if decimal == ".":
        fast = pd.to_numeric(values.astype("object").where(~is_bool, None), errors="coerce")
        num = fast.astype("float64")
        todo = num.isna() & ~is_bool
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
    if is_bool.any():
        num[is_bool] = np.nan
        missing[is_bool] = False
    return num, missing


def _on_unique_bool(values: pd.Series) -> pd.Series:
    """True where a cell is a boolean (Python, numpy), not a number."""
    if values.dtype.kind not in "O" and not isinstance(values.dtype, pd.CategoricalDtype):
        return pd.Series(False, index=values.index)
    if isinstance(values.dtype, pd.CategoricalDtype):  # mapped per category
        return values.map(lambda v: isinstance(v, bool | np.bool_)).astype(bool)
    # Each cell's type by identity, without a Python call per cell (a third of the time of
    # mapping isinstance over the million cells of a national export); no class derives from
    # bool or numpy.bool_, so this is isinstance exactly.
    kinds = np.fromiter(map(id, map(type, values.to_numpy())), np.int64, len(values))
    return pd.Series((kinds == id(bool)) | (kinds == id(np.bool_)), index=values.index)


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
            name), e.g. from :func:`~ks_analysis.ingest.read.read_sources`.
        specs: source entries by name (publication-lag rule, precedence, revisions, options).
        as_of: keep only values published on or before this date (the vintage known then).

    Returns:
        A :class:`CleanResult`; ``inputs`` holds the counts per source entry and ``source_file``.
    """
    return prepare_indicators(raw, specs).clean(as_of)


@dataclass(frozen=True)
class PreparedRows:
    """Raw rows with every rule applied that does not depend on the vintage (rules 1–7 and the
    publication dates): what several vintages of one raw folder share. :meth:`clean` applies
    the rest for one ``as_of`` without changing this object, so each vintage costs only the
    vintage's own rules (a report cleans its own, the previous period's and, for its
    data-quality notebook, the same vintage again)."""

    df: pd.DataFrame
    rows: RowLedger
    specs: dict[str, SourceSpec]
    values: np.ndarray
    missing: np.ndarray
    pend: Any
    published: np.ndarray
    by_rule: Any

    def clean(self, as_of: dt.date | None = None) -> CleanResult:
        """The :class:`CleanResult` of the vintage known at ``as_of`` (None: everything)."""
        df, missing, published = self.df, self.missing, self.published
        rows = self.rows.copy()
        drop_published_after(rows, published, missing, as_of)
        rows.status[rows.free & missing] = MISSING
        take = settle_duplicates(rows, self.values, published, self.specs)
        tidy = _tidy_frame(df, take, self.pend, published, self.values, self.by_rule)
        rejected, rej_pos, rej_reason = rows.rejected_frame()
        spec_col = df["spec"].cat
        inputs = _count_inputs(
            df,
            spec_col.codes.to_numpy(),
            list(spec_col.categories),
            rows.status,
            rej_pos,
            rej_reason,
            rows.rejections.fixed,
        )
        if sum(i["rows_read"] for i in inputs) != len(df):  # pragma: no cover - a bug, never data
            raise AssertionError("clean lost or invented rows")
        return CleanResult(
            tidy=contiguous(tidy), rejected=contiguous(rejected), inputs=inputs, as_of=as_of
        )


def prepare_indicators(
    raw: pd.DataFrame, specs: dict[str, SourceSpec] | None = None
) -> PreparedRows:
    """The rules of :func:`clean_indicators` that hold for every vintage, applied once."""
    specs = specs or {}
    df = _working_frame(raw)
    rows = RowLedger(df)
    reject_reader_reasons(rows)
    resolve_places(rows)
    check_indicator(rows)
    check_gender(rows)
    check_period(rows)
    values, missing = parse_values(rows, specs)
    check_bounds(rows, values)
    drop_election_copies(rows, specs, missing)
    pend, published, by_rule = date_rows(rows, specs)
    for frozen in (values, missing, published):
        frozen.flags.writeable = False  # shared by every vintage
    return PreparedRows(df, rows, specs, values, missing, pend, published, by_rule)


def _working_frame(raw: pd.DataFrame) -> pd.DataFrame:
    """A lazy copy of ``raw`` (pandas copy-on-write) on a RangeIndex with a categorical ``spec`` without gaps."""
    df = raw.reset_index(drop=True)  # new columns are assigned, ``raw`` is never written
    n = len(df)
    spec_col = as_category(df["spec"]) if "spec" in df.columns else as_category("", n)
    if (spec_col.codes < 0).any():
        spec_col = (
            spec_col.add_categories([""]).fillna("")
            if "" not in spec_col.categories
            else spec_col.fillna("")
        )
    df["spec"] = spec_col
    return df


def _spec_codes(df: pd.DataFrame) -> tuple[np.ndarray, list[Any]]:
    """(the source entry code of each row, the entry names by code) of the working frame."""
    cat = df["spec"].cat
    return cat.codes.to_numpy(), list(cat.categories)


def _place_value(df: pd.DataFrame) -> Any:
    """The offending value of a place rejection: the raw code, or the name where no code was given."""
    raw_code, raw_name = df["municipality"], df["municipality_name"]

    def value(m: pd.Series) -> pd.Series:
        c, nm = raw_code[m].astype("object"), raw_name[m].astype("object")
        return c.where(c.notna(), nm)

    return value


def reject_reader_reasons(rows: RowLedger) -> None:
    """Rule 1: what the reader already knows is not data (aggregates, superseded definitions)."""
    df = rows.df
    pre = df["reject"].notna()
    if not pre.any():
        return
    # A superseded definition concerns the period column; a malformed record its whole line
    # (shown in the value column); anything else the place (aggregates).
    reasons = df.loc[pre, "reject"].astype("object")
    about_line = pd.Series(False, index=df.index)
    about_line[pre] = reasons.str.startswith(READER_LINE_REASON).to_numpy()
    rows.reject(
        about_line,
        lambda m: df.loc[m, "reject"].astype("object"),
        "value",
        lambda m: df.loc[m, "value"].astype("object"),
    )
    about_period = pd.Series(False, index=df.index)
    about_period[pre] = reasons.str.startswith("older definition").to_numpy()
    rows.reject(
        about_period,
        lambda m: df.loc[m, "reject"].astype("object"),
        "period",
        lambda m: df.loc[m, "period"].astype("object"),
    )
    rows.reject(
        pre, lambda m: df.loc[m, "reject"].astype("object"), "municipality", _place_value(df)
    )


def resolve_places(rows: RowLedger) -> None:
    """Rule 2: pad and check codes, look names up; unknown places and aggregates are rejected."""
    df = rows.df
    code, has_reason, reasons = _resolve_names(df)
    rows.reject(has_reason, reasons, "municipality", _place_value(df))
    df["municipality"] = code


def check_indicator(rows: RowLedger) -> None:
    """Rule 3a: indicator ids are upper-cased; an id not like N03926 or LOKAL_... is rejected."""
    df = rows.df
    ind = _on_unique(df["indicator"], lambda u: u.astype("str").str.strip().str.upper())
    df["indicator"] = ind
    ind_ok = _on_unique(
        ind, lambda u: u.fillna("").astype(str).str.fullmatch(r"[A-Z][A-Z0-9_]+")
    ).astype(bool)
    rows.reject(~ind_ok, "indicator id is empty or not like N03926 / LOKAL_...", "indicator")


def check_gender(rows: RowLedger) -> None:
    """Rule 3b: genders are upper-cased; anything but T, K or M is rejected."""
    df = rows.df
    gender = _on_unique(df["gender"], lambda u: u.astype("str").str.strip().str.upper())
    df["gender"] = gender
    rows.reject(~gender.isin(["T", "K", "M"]), "gender must be T, K or M", "gender")


def check_period(rows: RowLedger) -> None:
    """Rule 3c: periods must be 2022, 2022-Q1 or 2022-01; sets each row's frequency (Y, Q, M)."""
    df = rows.df
    per = _on_unique(df["period"], lambda u: u.astype("str").str.strip())
    df["period"] = per
    valid_period = _on_unique(
        per, lambda u: u.fillna("").astype(str).str.fullmatch(PERIOD_PATTERN)
    ).astype(bool)
    rows.reject(
        ~valid_period, "not a valid period (use 2022, 2022-Q1..Q4 or 2022-01..12)", "period"
    )
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


def parse_values(rows: RowLedger, specs: dict[str, SourceSpec]) -> tuple[np.ndarray, np.ndarray]:
    """Rule 4: (values, is_missing); missing markers are counted, text that is no number is rejected.

    Each source entry's ``decimal`` option says how its text is read.
    """
    df = rows.df
    n = len(df)
    spec_codes, spec_names = _spec_codes(df)
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
    is_bool = (
        _on_unique_bool(df["value"]).to_numpy(dtype=bool)
        if df["value"].dtype.kind != "b"
        else np.ones(n, dtype=bool)
    )
    rows.reject(
        not_number & is_bool,
        "a true/false value, not a number; write the number (booleans are never read as 1 or 0)",
        "value",
    )
    rows.reject(
        not_number, "not a number; write numbers with '.' as decimal point and no text", "value"
    )
    # inf, Infinity, 1e400 parse as floats but are no measurement.
    rows.reject(
        np.isinf(values),
        "not a finite number (infinite or too large); write the value as a plain number",
        "value",
    )
    rows.reject(
        np.abs(values) > MAX_ABS_VALUE,
        f"outside the range any indicator can take (beyond ±{MAX_ABS_VALUE:.0e}); check the value and its unit",
        "value",
    )
    return values, missing


def check_bounds(rows: RowLedger, values: np.ndarray) -> None:
    """Rule 5: a share above 100 or below 0, or a negative count, is rejected (changes may be negative)."""
    df = rows.df
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
        rows.reject(is_share & (values > 100), "a share above 100 %", "value")
        rows.reject(is_share & (values < 0), "a negative share", "value")
    if is_count.any():
        rows.reject(is_count & (values < 0), "a negative count", "value")


def drop_election_copies(
    rows: RowLedger, specs: dict[str, SourceSpec], missing: np.ndarray
) -> None:
    """Rule 6: election KPIs repeat the last election's value every year; only election years are kept."""
    df = rows.df
    spec_codes, spec_names = _spec_codes(df)
    if not any(s in specs and specs[s].election_kpis for s in spec_names):
        return
    year = _on_unique(
        df["period"],
        lambda u: pd.to_numeric(u.fillna("").astype(str).str.slice(0, 4), errors="coerce"),
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
            rows.reject(
                m,
                "carried-forward copy of the last election's value (only election years are kept)",
                "period",
            )


def date_rows(
    rows: RowLedger, specs: dict[str, SourceSpec]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rule 7: (period end, publication date, dated by a lag rule) per row, as arrays.

    A row the reader gave no date gets its entry's fixed date (a vintage the manifest states:
    basis ``source``), or period end plus the entry's publication lag for its indicator (basis
    ``rule``; NaT when there is no rule). Arrays, not frame columns: setting a column copies.
    """
    df = rows.df
    per = df["period"]
    pend = _on_unique(
        per,
        lambda u: period_end(
            u.where(u.fillna("").astype(str).str.fullmatch(PERIOD_PATTERN), "1900")
        ),
    ).to_numpy(dtype="datetime64[s]")
    published = pd.to_datetime(df["published"], errors="coerce").to_numpy(dtype="datetime64[s]")
    undated = np.isnat(published)
    by_rule = np.zeros(len(df), dtype=bool)
    if undated.any():
        published = published.copy()
        by_rule = _date_by_rule(df, specs, pend, published, undated)
    return pend, published, by_rule


def _date_by_rule(
    df: pd.DataFrame,
    specs: dict[str, SourceSpec],
    pend: np.ndarray,
    published: np.ndarray,
    undated: np.ndarray,
) -> np.ndarray:
    """Fill ``published`` (in place) of the ``undated`` rows from their entry's fixed date or lag
    rule; returns which rows a lag rule dated."""
    by_rule = np.zeros(len(df), dtype=bool)
    spec_codes, spec_names = _spec_codes(df)
    ind = df["indicator"]
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
        by_rule[at] = True
        # The lag rule per indicator, looked up once per distinct indicator (NaT: no rule).
        codes_at = ind_codes[at]
        lag_of_code = np.full(len(ind_names), np.timedelta64("NaT"), dtype="timedelta64[s]")
        for c in (
            np.flatnonzero(np.bincount(codes_at.astype(np.int64) + 1, minlength=len(ind_names) + 1))
            - 1
        ):
            lag = spec.lag_days(ind_names[c])
            if lag is not None:
                lag_of_code[c] = np.timedelta64(int(lag) * 86400, "s")
        published[at] = pend[at] + lag_of_code[codes_at]
    return by_rule


def drop_published_after(
    rows: RowLedger, published: np.ndarray, missing: np.ndarray, as_of: dt.date | None
) -> None:
    """Rule 8: with ``as_of``, values published after it are rejected (the vintage known then)."""
    if as_of is None:
        return
    late = published > np.datetime64(as_of, "s")
    if (late & ~missing & rows.free).any():
        rows.reject(
            late & ~missing,
            f"published after --as-of {as_of.isoformat()}",
            "published",
            # Only the rejected rows' dates as text (all rows' took longer than the rest of it).
            lambda m: pd.Series(published[m.to_numpy()]).astype("str").to_numpy(),
        )


def _tidy_frame(
    df: pd.DataFrame,
    take: np.ndarray,
    pend: np.ndarray,
    published: np.ndarray,
    values: np.ndarray,
    by_rule: np.ndarray,
) -> pd.DataFrame:
    """The tidy table of rows ``take`` of the working frame, checked against the schema."""
    # Columns are set one by one: a dict constructor would copy same-typed columns into one block.
    tidy = pd.DataFrame(index=pd.RangeIndex(len(take)))
    for col in TIDY_COLUMNS:
        if col == "period_end":
            tidy[col] = pd.Series(_take_ns(pend, take), copy=False)
        elif col == "published":
            tidy[col] = pd.Series(_take_ns(published, take), copy=False)
        elif col == "value":
            tidy[col] = pd.Series(values[take], copy=False)
        elif col == "published_basis":
            tidy[col] = pd.Series(
                np.asarray(PUBLISHED_BASES, dtype=object)[by_rule[take].astype(int)], dtype="str"
            )
        elif col == "source_row":
            tidy[col] = pd.Series(df[col].to_numpy().astype("int64", copy=False)[take], copy=False)
        else:
            tidy[col] = _str_column(df[col], take)
    return validate_tidy(tidy, inplace=True)
