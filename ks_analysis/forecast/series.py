"""Series: one indicator's rows in the tidy table as a year x sub-period matrix, and its full years.

The row helpers the forecast engine reads a series with: which rows belong to a series at
``as_of`` (per-ort totals summed over orter), their sub-period positions, the previous years as
a matrix and the forecast year cut to what a cutoff can know.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd

from ks_analysis._memo import Memo
from ks_analysis.forecast import methods as m
from ks_analysis.goals.catalogue import Indicator

log = logging.getLogger(__name__)

__all__ = [
    "series_matrix",
    "yearly_values",
    "sub_index",
    "hist_matrix",
    "mask_after_cutoff",
    "is_count",
    "population",
    "history",
    "known_value",
    "peer_block",
    "tidy_index",
    "adopt_index",
    "unchanged",
    "published_by",
    "rows_of",
    "values_by_municipality",
    "TidyIndex",
]


def sub_index(period: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(year, 0-based sub-period index) for canonical period strings."""
    p = period.astype("str")
    year = p.str.slice(0, 4).astype(int).to_numpy()
    idx = np.zeros(len(p), dtype=int)
    is_q = p.str.contains("-Q", regex=False).to_numpy()
    is_m = (p.str.len().eq(7) & ~p.str.contains("-Q", regex=False)).to_numpy()
    if is_q.any():
        idx[is_q] = p[is_q].str.slice(6, 7).astype(int).to_numpy() - 1
    if is_m.any():
        idx[is_m] = p[is_m].str.slice(5, 7).astype(int).to_numpy() - 1
    return year, idx


def _factorized(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes, distinct values as an object array with a trailing None for missing ones): so
    that ``uniques[codes]`` is the column as objects."""
    codes, uniques = pd.factorize(col)
    return codes, np.asarray([*(str(u) for u in uniques), None], dtype=object)


def _groups(
    tidy: pd.DataFrame, columns: tuple[str, ...]
) -> list[tuple[tuple[str, ...], np.ndarray]]:
    """The rows of each distinct key of ``columns`` (text), in table order, the keys in the order
    of their first row: what ``groupby(sort=False).indices`` gives, on one integer per row.
    Rows with a missing key part belong to no group."""
    combined = np.zeros(len(tidy), dtype=np.int64)
    valid = np.ones(len(tidy), dtype=bool)
    parts = []
    for c in columns:
        codes, uniques = pd.factorize(tidy[c])
        valid &= codes >= 0
        combined = combined * (len(uniques) + 1) + codes
        parts.append((codes, [str(u) for u in uniques]))
    pos = np.flatnonzero(valid)
    order = pos[np.argsort(combined[pos], kind="stable")]
    ordered = combined[order]
    cuts = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    out = []
    for rows in np.split(order, cuts) if len(order) else []:
        first = int(rows[0])
        out.append((tuple(labels[int(codes[first])] for codes, labels in parts), rows))
    out.sort(key=lambda kv: int(kv[1][0]))
    return out


def _as_ts(d: dt.date) -> pd.Timestamp:
    """``d`` as a pandas Timestamp (for comparing with ``published``)."""
    return pd.Timestamp(d)


class TidyIndex:
    """The tidy table's rows grouped by series, worked out once per table.

    A report reads a few hundred series out of one tidy table (its forecasts, last year's
    verdicts, peer profiles); a boolean mask over the whole table for each of them cost more
    than the forecasting itself. The index keeps, per ``(indicator, municipality, gender)``,
    the row positions in table order, and the columns the series helpers need as arrays.
    An index is made again when its table has changed since (see :func:`fingerprint`).
    """

    def __init__(self, tidy: pd.DataFrame, key: tuple[object, ...] | None = None) -> None:
        n = len(tidy)
        self.fingerprint = key if key is not None else fingerprint(tidy)
        # Text columns through their distinct values: a few thousand periods, units and ids in
        # hundreds of thousands of rows (converting or grouping every row's text cost more).
        period_codes, periods = _factorized(tidy["period"])
        self.period = periods[period_codes]
        freq_codes, freqs = _factorized(tidy["frequency"])
        self.frequency = freqs[freq_codes]
        if "unit" in tidy:
            unit_codes, units = _factorized(tidy["unit"])
            self.unit = units[unit_codes]
        else:  # a table of values without units (the nowcast's and the tests' own)
            self.unit = np.full(n, None, dtype=object)
        self.value = tidy["value"].to_numpy(dtype="float64") if n else np.zeros(0)
        self.published = (
            pd.to_datetime(tidy["published"]).to_numpy(dtype="datetime64[ns]")
            if n
            else np.zeros(0, "datetime64[ns]")
        )
        if n:
            year, sub = sub_index(pd.Series(periods[:-1], dtype="str"))
            self.year = np.append(year, 0)[period_codes]
            self.sub = np.append(sub, 0)[period_codes]
        else:
            self.year, self.sub = np.zeros(0, int), np.zeros(0, int)
        self.groups: dict[tuple[str, str, str], np.ndarray] = {}
        #: indicator id -> its series keys (for peer blocks and per-ort totals)
        self.by_indicator: dict[str, list[tuple[str, str, str]]] = {}
        if n:
            for key, pos in _groups(tidy, ("indicator", "municipality", "gender")):
                k = (key[0], key[1], key[2])
                self.groups[k] = pos
                self.by_indicator.setdefault(k[0], []).append(k)

    def subset(self, keep: np.ndarray, key: tuple[object, ...]) -> TidyIndex:
        """The index of the table's rows where ``keep`` holds (in table order), derived from
        this one: what a fresh index of ``table[keep]`` would be, without grouping again."""
        out = TidyIndex.__new__(TidyIndex)
        out.fingerprint = key
        for name in ("period", "frequency", "value", "unit", "published", "year", "sub"):
            setattr(out, name, getattr(self, name)[keep])
        new_pos = np.cumsum(keep) - 1
        kept = []
        for k, pos in self.groups.items():
            p = pos[keep[pos]]
            if len(p):
                kept.append((k, new_pos[p]))
        kept.sort(key=lambda kv: int(kv[1][0]))  # a fresh index's order: by first row
        out.groups = dict(kept)
        out.by_indicator = {}
        for k, _pos in kept:
            out.by_indicator.setdefault(k[0], []).append(k)
        return out

    def to_parts(self) -> tuple[dict[str, np.ndarray], dict[str, list[str]]]:
        """The index as numeric arrays and text labels (no objects), to keep on disk beside
        its table (:mod:`ks_analysis.clean.cache`); :meth:`from_parts` makes it again."""
        arrays: dict[str, np.ndarray] = {}
        labels: dict[str, list[str]] = {}
        for name in ("period", "frequency", "unit"):
            codes, uniques = pd.factorize(getattr(self, name), use_na_sentinel=True)
            arrays[name] = codes.astype(np.int32)
            labels[name] = [str(u) for u in uniques]
        arrays["year"] = np.asarray(self.year, dtype=np.int64)
        arrays["sub"] = np.asarray(self.sub, dtype=np.int64)
        keys = list(self.groups)
        sizes = np.fromiter((len(self.groups[k]) for k in keys), dtype=np.int64, count=len(keys))
        arrays["group_rows"] = (
            np.concatenate([self.groups[k] for k in keys]).astype(np.int64)
            if keys
            else np.zeros(0, np.int64)
        )
        arrays["group_ends"] = np.cumsum(sizes)
        for i, part in enumerate(("indicator", "municipality", "gender")):
            codes, uniques = pd.factorize(np.asarray([k[i] for k in keys], dtype=object))
            arrays[f"key_{part}"] = codes.astype(np.int32)
            labels[f"key_{part}"] = [str(u) for u in uniques]
        return arrays, labels

    @classmethod
    def from_parts(
        cls, tidy: pd.DataFrame, arrays: dict[str, np.ndarray], labels: dict[str, list[str]]
    ) -> TidyIndex:
        """The index of ``tidy`` from :meth:`to_parts` of an index of the same table (values and
        dates are read from ``tidy`` itself). Raises ValueError where the parts do not fit it."""
        n = len(tidy)
        out = cls.__new__(cls)
        out.fingerprint = fingerprint(tidy)
        for name in ("period", "frequency", "unit"):
            codes = arrays[name]
            if len(codes) != n or (n and (codes.max() >= len(labels[name]) or codes.min() < -1)):
                raise ValueError(f"{name}: the kept index does not fit the table")
            setattr(out, name, np.asarray([*labels[name], None], dtype=object)[codes])
        out.value = tidy["value"].to_numpy(dtype="float64") if n else np.zeros(0)
        out.published = (
            pd.to_datetime(tidy["published"]).to_numpy(dtype="datetime64[ns]")
            if n
            else np.zeros(0, "datetime64[ns]")
        )
        out.year, out.sub = arrays["year"], arrays["sub"]
        rows, ends = arrays["group_rows"], arrays["group_ends"]
        if len(out.year) != n or len(out.sub) != n or len(rows) > n:
            raise ValueError("the kept index does not fit the table")
        if len(rows) and (rows.max() >= n or rows.min() < 0 or ends[-1] != len(rows)):
            raise ValueError("the kept index's rows do not fit the table")
        parts = [
            np.asarray(labels[f"key_{p}"], dtype=object)[arrays[f"key_{p}"]]
            for p in ("indicator", "municipality", "gender")
        ]
        out.groups = {}
        out.by_indicator = {}
        start = 0
        for ind, muni, gender, end in zip(*parts, ends.tolist(), strict=True):
            k = (ind, muni, gender)
            out.groups[k] = rows[start:end]
            out.by_indicator.setdefault(ind, []).append(k)
            start = end
        return out

    def rows(
        self, indicator: str, municipality: str, gender: str, as_of: dt.date | None
    ) -> np.ndarray:
        """Row positions of one series (table order), published by ``as_of`` if given."""
        pos = self.groups.get((indicator, municipality, gender))
        if pos is None:
            return np.zeros(0, dtype=int)
        if as_of is None:
            return pos
        return pos[self.published[pos] <= np.datetime64(as_of, "ns")]

    def keys_of(self, indicator_id: str, *, with_orter: bool) -> list[tuple[str, str, str]]:
        """The series keys of an indicator (and, ``with_orter``, of its per-ort series ``id__ort``)."""
        out = list(self.by_indicator.get(indicator_id, []))
        if with_orter:
            prefix = f"{indicator_id}__"
            for ind, keys in self.by_indicator.items():
                if ind.startswith(prefix):
                    out.extend(keys)
        return out


#: Indexes by their table's content (:func:`fingerprint`): the copies a memo hands out of one
#: cleaned vintage share one index. A report reads its own vintage, the previous period's and
#: three earlier cuts of its own (last year's verdicts); ``report --year`` shares the cuts.
_INDEXES: Memo[TidyIndex] = Memo(8)


def fingerprint(tidy: pd.DataFrame) -> tuple[object, ...]:
    """What tells one table from another cheaply enough to check on every read: its columns,
    its length, the sums of its values and publication dates, and the same weighted by row
    position (so a sorted or shuffled copy is a different table). An analyst's edit of values
    or dates, of the rows or of their order changes it; renaming ids in place would not, and
    no package function does that."""
    if not len(tidy):
        return (tuple(tidy.columns), 0)
    published = tidy["published"].to_numpy()
    if published.dtype.kind != "M":  # not datetimes yet: what the index would read them as
        published = pd.to_datetime(tidy["published"]).to_numpy()
    value = tidy["value"].to_numpy(dtype="float64")
    stamps = published.view("int64")
    weight_f, weight_i = _position_weights(len(tidy))
    return (
        tuple(tidy.columns),
        len(tidy),
        float(np.sum(value)),
        # einsum, not np.dot: the BLAS dot of this length took 8 ms here (its threads), einsum 0.2
        float(np.einsum("i,i->", value, weight_f)),  # NaN where a value is NaN: a fixed key
        int(stamps.sum()),
        int(np.einsum("i,i->", stamps, weight_i)),  # wraps around on overflow: a fixed key
        str(published.dtype),
    )


@functools.lru_cache(maxsize=8)
def _position_weights(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Small weights by row position (float and integer), for the order-sensitive sums."""
    w = np.arange(n, dtype=np.int64) % 1009 + 1
    w.flags.writeable = False
    wf = w.astype("float64")
    wf.flags.writeable = False
    return wf, w


#: Tables (the very objects) that a block of package code reads without changing, with their
#: index: see :func:`unchanged`.
_UNCHANGED: contextvars.ContextVar[tuple[tuple[pd.DataFrame, TidyIndex], ...]] = (
    contextvars.ContextVar("ks_unchanged_tables", default=())
)


@contextmanager
def unchanged(tidy: pd.DataFrame) -> Iterator[None]:
    """Within the block, ``tidy`` (this object, in this thread) is only read: its index is
    looked up once, not checked against its content on each of the block's hundreds of reads.

    For package code that judges a table it does not change (a report's verdicts); a copy or
    a cut of ``tidy`` made inside the block is checked as usual.
    """
    ix = tidy_index(tidy)
    token = _UNCHANGED.set(((tidy, ix), *_UNCHANGED.get()))
    try:
        yield
    finally:
        _UNCHANGED.reset(token)


#: Indexes kept elsewhere (on disk beside a cached vintage), made from their parts when their
#: table's index is first asked for: a notebook that never forecasts never pays for them.
_LATER: Memo[Callable[[], TidyIndex]] = Memo(8)


def adopt_index(tidy: pd.DataFrame, make: Callable[[], TidyIndex]) -> None:
    """Let ``make`` give the index of ``tidy``'s content when it is first needed (an index read
    back from the cache on disk); if ``make`` fails then, the index is built from the table."""
    _LATER.put(fingerprint(tidy), make)


def tidy_index(tidy: pd.DataFrame) -> TidyIndex:
    """The :class:`TidyIndex` of ``tidy``: built on first use, shared by tables of the same
    content (copies of one vintage), made again for a table that has changed since."""
    for table, ix in _UNCHANGED.get():
        if table is tidy:
            return ix
    key = fingerprint(tidy)
    hit = _INDEXES.get(key)
    if hit is not None:
        return hit
    make = _LATER.get(key)
    if make is not None:
        try:
            made = make()
            if made.fingerprint == key:
                return _INDEXES.put(key, made)
        except Exception as exc:  # a kept index that does not fit: built from the table
            log.debug("the kept index is not used (%s)", exc)
    return _INDEXES.put(key, TidyIndex(tidy, key))


def rows_of(tidy: pd.DataFrame, indicator_id: str, municipality: str) -> pd.DataFrame:
    """The rows of one indicator and municipality, every gender, in table order: what the
    boolean mask on the two columns gives, through the table's index."""
    ix = tidy_index(tidy)
    parts = [
        ix.groups[key]
        for key in ix.keys_of(indicator_id, with_orter=False)
        if key[1] == municipality
    ]
    pos = np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.intp)
    return tidy.iloc[pos]


def published_by(tidy: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """The rows of ``tidy`` published by ``day`` (an earlier vintage cut from a later one),
    with their :class:`TidyIndex` derived from ``tidy``'s rather than built again."""
    keep = (tidy["published"] <= pd.Timestamp(day)).to_numpy(dtype=bool)
    if keep.all():  # nothing to cut (the outcome at the report's own date): no copy of the rows
        return tidy.copy(deep=False)
    cut = tidy[keep]
    key = fingerprint(cut)
    if key not in _INDEXES and len(cut):
        _INDEXES.put(key, tidy_index(tidy).subset(keep, key))
    return cut


def values_by_municipality(
    tidy: pd.DataFrame, indicator_id: str, gender: str
) -> dict[str, dict[str, float]]:
    """Every municipality's values of one indicator (no per-ort series): municipality ->
    {period: value}, the first row of a period in table order (as the whole table is the vintage)."""
    ix = tidy_index(tidy)
    out: dict[str, dict[str, float]] = {}
    for key in ix.keys_of(indicator_id, with_orter=False):
        if key[2] != gender:
            continue
        d = out.setdefault(key[1], {})
        for i in ix.groups[key]:
            d.setdefault(str(ix.period[i]), float(ix.value[i]))
    return out


def _series_arrays(
    tidy: pd.DataFrame,
    municipality: str,
    indicator: Indicator,
    gender: str,
    as_of: dt.date,
    ort: str | None,
) -> tuple[list[str], list[str], np.ndarray, list[str]]:
    """(periods, frequencies, values, units) of one series published by ``as_of``, in table
    order; for a per-ort indicator without a total, the total over orter per period."""
    ix = tidy_index(tidy)
    if ort is not None:
        pos = ix.rows(f"{indicator.id}__{ort}", municipality, gender, as_of)
    else:
        pos = ix.rows(indicator.id, municipality, gender, as_of)
        if not len(pos) and indicator.per_ort:
            return _orter_total(ix, municipality, indicator, gender, as_of)
    return (
        list(ix.period[pos]),
        list(ix.frequency[pos]),
        ix.value[pos],
        list(ix.unit[pos]),
    )


def _orter_total(
    ix: TidyIndex, municipality: str, indicator: Indicator, gender: str, as_of: dt.date
) -> tuple[list[str], list[str], np.ndarray, list[str]]:
    """The total over orter: a period counts only when every ort seen by ``as_of`` has
    published it, so a late ort does not make the total look small."""
    sums: dict[tuple[str, str], float] = {}
    seen: dict[tuple[str, str], set[str]] = {}
    units: dict[tuple[str, str], str] = {}
    orter: set[str] = set()
    prefix = f"{indicator.id}__"
    for key in ix.keys_of(indicator.id, with_orter=True):
        if not key[0].startswith(prefix) or key[1] != municipality or key[2] != gender:
            continue
        pos = ix.rows(*key, as_of)
        if not len(pos):
            continue
        orter.add(key[0])
        for i in pos:
            pf = (str(ix.period[i]), str(ix.frequency[i]))
            sums[pf] = sums.get(pf, 0.0) + float(ix.value[i])
            seen.setdefault(pf, set()).add(key[0])
            units.setdefault(pf, str(ix.unit[i]))
    full = sorted(pf for pf in sums if len(seen[pf]) == len(orter))
    return (
        [pf[0] for pf in full],
        [pf[1] for pf in full],
        np.array([sums[pf] for pf in full], dtype="float64"),
        [units[pf] for pf in full],
    )


def series_matrix(
    tidy: pd.DataFrame,
    *,
    municipality: str,
    indicator: Indicator,
    gender: str,
    as_of: dt.date,
    ort: str | None = None,
) -> tuple[str, dict[int, np.ndarray], str]:
    """One series as ``(frequency, {year: sub-period values with NaN for unpublished}, unit)``.

    Uses only rows with ``published <= as_of``. The catalogue's frequency is preferred; if the data
    only has another frequency, that one is used.
    """
    periods, freqs_of, vals, units = _series_arrays(
        tidy, municipality, indicator, gender, as_of, ort
    )
    unit = units[0] if units else indicator.unit
    if not periods:
        return indicator.frequency, {}, unit
    freqs = set(freqs_of)
    freq = (
        indicator.frequency
        if indicator.frequency in freqs
        else ("M" if "M" in freqs else "Q" if "Q" in freqs else "Y")
    )
    P = m.PERIODS_PER_YEAR[freq]
    out: dict[int, np.ndarray] = {}
    for p, f, v in zip(periods, freqs_of, vals, strict=True):
        if f != freq:
            continue
        y, i = _period_position(p)
        row = out.setdefault(y, np.full(P, np.nan))
        row[i] = v
    return freq, out, unit


def _period_position(period: str) -> tuple[int, int]:
    """(year, 0-based sub-period) of one canonical period string (as :func:`sub_index`)."""
    year = int(period[:4])
    if "-Q" in period:
        return year, int(period[6:7]) - 1
    if len(period) == 7:
        return year, int(period[5:7]) - 1
    return year, 0


def yearly_values(
    tidy: pd.DataFrame,
    *,
    municipality: str,
    indicator: Indicator,
    gender: str,
    as_of: dt.date,
    ort: str | None = None,
) -> pd.Series:
    """Full-year values known at ``as_of``: int year -> value (only complete years of sub-annual series).

    Does not change ``tidy``.
    """
    freq, by_year, _ = series_matrix(
        tidy, municipality=municipality, indicator=indicator, gender=gender, as_of=as_of, ort=ort
    )
    agg = indicator.aggregation if freq != "Y" else "point"
    out = {y: m.aggregate_year(v, agg) for y, v in sorted(by_year.items())}
    s = pd.Series({y: v for y, v in out.items() if np.isfinite(v)}, dtype="float64")
    s.index = s.index.astype(int)
    s.index.name = "year"
    return s


def hist_matrix(by_year: dict[int, np.ndarray], year: int, P: int) -> np.ndarray:
    """Previous years as an (n_years, P) array, oldest first, contiguous with NaN rows for gaps."""
    prev = [y for y in by_year if y < year]
    if not prev:
        return np.zeros((0, P))
    first = min(prev)
    return np.vstack([by_year.get(y, np.full(P, np.nan)) for y in range(first, year)])


def mask_after_cutoff(cur: np.ndarray, year: int, cutoff: dt.date) -> np.ndarray:
    """The forecast year's sub-periods that end by ``cutoff`` (NaN for later ones).

    A later ``as_of`` may bring values published late, or revisions, of periods up to the
    cutoff, never periods after it: a 'per 30 april' report knows at most January-April. A
    once-a-year value of the year ends on 31 December, so it is an outcome only at the year end.
    """
    P = cur.shape[0]
    out = np.array(cur, dtype="float64", copy=True)
    for i in range(P):
        end_month = (i + 1) * 12 // P
        end = (pd.Timestamp(year, end_month, 1) + pd.offsets.MonthEnd(0)).date()
        if end > cutoff:
            out[i] = np.nan
    return out


def is_count(unit: str, values: np.ndarray) -> bool:
    """Whether a series is a count: unit antal/st/count and every known value a non-negative integer."""
    v = values[np.isfinite(values)]
    return (
        unit.strip().lower() in ("antal", "st", "count")
        and v.size > 0
        and bool(np.all(v >= 0) and np.allclose(v, np.round(v)))
    )


def population(tidy: pd.DataFrame, municipality: str, as_of: dt.date) -> float | None:
    """Latest published inhabitants (Kolada N01951) of the municipality, for its size band."""
    ix = tidy_index(tidy)
    pos = ix.rows("N01951", municipality, "T", as_of)
    if not len(pos):
        return None
    periods = ix.period[pos]
    return float(ix.value[pos][max(range(len(pos)), key=lambda j: str(periods[j]))])


def history(hist: np.ndarray, agg: str, first: int) -> pd.Series:
    """The previous years' full-year values known at the cutoff: int year -> value."""
    years = m.yearly_from_matrix(hist, agg) if hist.shape[0] else np.zeros(0)
    history = pd.Series(
        {first + i: float(v) for i, v in enumerate(years) if np.isfinite(v)}, dtype="float64"
    )
    history.index = history.index.astype(int)
    history.index.name = "year"
    return history


def known_value(cur: np.ndarray, agg: str) -> float | None:
    """The year to date: the sum, mean or last of the sub-periods published (None before any)."""
    known = ~np.isnan(cur)
    if not known.any():
        return None
    kv = cur[known]
    return float(kv.sum()) if agg == "sum" else float(kv.mean()) if agg == "mean" else float(kv[-1])


def _peer_rows(
    ix: TidyIndex,
    indicator: Indicator,
    gender: str,
    year: int,
    as_of: dt.date,
    freq: str,
    years: int,
    *,
    with_orter: bool,
) -> Iterator[tuple[str, np.ndarray]]:
    """Per series of the indicator and gender (key municipality + indicator id, table order):
    its rows of frequency ``freq`` in the ``years`` years before ``year``, published by ``as_of``."""
    for key in ix.keys_of(indicator.id, with_orter=with_orter):
        if key[2] != gender:
            continue
        pos = ix.rows(*key, as_of)
        pos = pos[
            (ix.frequency[pos] == freq) & (ix.year[pos] < year) & (ix.year[pos] >= year - years)
        ]
        yield key[1] + key[0], pos


def peer_block(
    tidy: pd.DataFrame,
    indicator: Indicator,
    gender: str,
    year: int,
    as_of: dt.date,
    freq: str,
    years: int = 5,
) -> np.ndarray:
    """Every municipality's (and ort's) series-years of the indicator over the last ``years`` years
    before ``year``, published by ``as_of``, as rows of sub-period values (for a pooled seasonal profile).

    Rows are ordered by series (municipality, then indicator) and year; a sub-period a series
    has twice keeps its first value.
    """
    ix = tidy_index(tidy)
    P = m.PERIODS_PER_YEAR[freq]
    rows: dict[tuple[str, int], np.ndarray] = {}
    for k, pos in _peer_rows(ix, indicator, gender, year, as_of, freq, years, with_orter=True):
        for i in pos:
            row = rows.setdefault((k, int(ix.year[i])), np.full(P, np.nan))
            if np.isnan(row[ix.sub[i]]):
                row[ix.sub[i]] = ix.value[i]
    if not rows:
        return np.zeros((0, P))
    return np.vstack([rows[k] for k in sorted(rows)])


def peer_panel(
    tidy: pd.DataFrame,
    indicator: Indicator,
    gender: str,
    year: int,
    as_of: dt.date,
    freq: str,
    years: int,
) -> np.ndarray:
    """Every municipality's series of the indicator over the ``years`` years before ``year``,
    published by ``as_of``, as a ``(series, years, P)`` array (NaN = not published): the peers
    a pooled level is estimated from (:func:`ks_analysis.forecast.methods.group_pool`), as the
    backtest pools them (the same indicator and gender in every kommun and län; no per-ort series).

    Series are ordered by municipality; a sub-period a series has twice keeps its first value.
    """
    ix = tidy_index(tidy)
    P = m.PERIODS_PER_YEAR[freq]
    out: dict[str, np.ndarray] = {}
    for k, pos in _peer_rows(ix, indicator, gender, year, as_of, freq, years, with_orter=False):
        if pos.size == 0:
            continue
        arr = out.setdefault(k, np.full((years, P), np.nan))
        for i in pos:
            j = int(ix.year[i]) - (year - years)
            if np.isnan(arr[j, ix.sub[i]]):
                arr[j, ix.sub[i]] = ix.value[i]
    if not out:
        return np.zeros((0, years, P))
    return np.stack([out[k] for k in sorted(out)])
