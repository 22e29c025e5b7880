"""Row accounting of clean: each row's status, the rejections with reasons, the counts per input.

Nothing is lost: every raw row ends up kept, rejected (with a reason), counted as a missing-value
marker, or counted as a duplicate, and the counts per input file add up (:class:`CleanResult`
and its manifest).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ks_analysis.clean._columnar import (
    _codes_and_labels,
    _dense_factorize,
    _str_column,
    _text_column,
)

__all__ = ["CleanResult", "COUNT_KEYS", "REJECTED_COLUMNS", "STATUS_NAMES"]

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

    def copy(self) -> _Rejections:
        """The same reasons so far; later ones are added to the copy only (the parts themselves
        are never changed)."""
        other = _Rejections()
        other._parts = list(self._parts)
        other.fixed = set(self.fixed)
        return other

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


#: An offending value as the rejected table shows it: empty for a missing one, else its text.
_VALUE_TEXT = np.frompyfunc(
    lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v), 1, 1
)


class RowLedger:
    """Status of every row of clean's working frame, and the reason of each rejected row.

    Rules call :meth:`reject`; a row keeps the first reason it is given.
    """

    def __init__(self, df: pd.DataFrame) -> None:
        """Start with every row of ``df`` kept and without a reason."""
        n = len(df)
        self.df = df
        self.status = np.zeros(n, dtype=np.int8)
        self.rejections = _Rejections()
        self.free = np.ones(n, dtype=bool)  # rows without a reason yet

    def copy(self) -> RowLedger:
        """A ledger of the same frame whose statuses and reasons change apart from this one's
        (the frame itself is shared: the rules after the copy only read it)."""
        other = RowLedger.__new__(RowLedger)
        other.df = self.df
        other.status = self.status.copy()
        other.free = self.free.copy()
        other.rejections = self.rejections.copy()
        return other

    def reject(self, mask: Any, why: Any, col: str, val: Any = None) -> None:
        """Give rows in ``mask`` that have no reason yet this one; ``why``/``val`` may be callables of the mask."""
        df = self.df
        mk = np.asarray(mask, dtype=bool) & self.free
        if not mk.any():
            return
        m = pd.Series(mk, index=df.index, copy=False)
        pos = np.flatnonzero(mk)
        self.free[pos] = False
        self.status[pos] = REJECTED
        w = why(m) if callable(why) else (why[m] if isinstance(why, pd.Series) else why)
        bad = val(m) if callable(val) else (val if val is not None else df[col])[m]
        self.rejections.add(pos, w, col, np.asarray(pd.Series(bad).astype("object"), dtype=object))

    def rejected_frame(self) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        """(the rejected rows with file, row, column, value and reason; their positions; their reasons)."""
        df = self.df
        rej_pos, rej_reason, rej_column, rej_value = self.rejections.collect()
        if len(rej_pos) != int(
            np.count_nonzero(self.status == REJECTED)
        ):  # pragma: no cover - a bug
            raise AssertionError("a rejected row without a reason, or a row rejected twice")
        # Sorted by file and row on integer keys, and the text columns built from their
        # distinct values: the same table as sorting the text columns, in a fraction of the time.
        file_codes, file_labels = _codes_and_labels(df["source_file"])
        rank = np.empty(len(file_labels) + 1, dtype=np.int64)
        rank[np.argsort(np.asarray([str(x) for x in file_labels], dtype=object), kind="stable")] = (
            np.arange(len(file_labels))
        )
        rank[-1] = len(file_labels)  # code -1 (no file) picks this: missing files sort last
        source_row = df["source_row"].to_numpy()[rej_pos].astype("int64")
        order = np.lexsort((source_row, rank[file_codes[rej_pos]]))
        taken = rej_pos[order]
        rejected = pd.DataFrame(index=pd.RangeIndex(len(taken)))
        rejected["source_file"] = _str_column(df["source_file"], taken)
        rejected["source_row"] = source_row[order]
        rejected["column"] = _text_column(rej_column[order])
        rejected["value"] = pd.Series(_VALUE_TEXT(rej_value[order]).astype(object))
        rejected["reason"] = _text_column(rej_reason[order])
        return rejected, rej_pos, rej_reason


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
    by_reason = _rejections_by_reason(
        spec_codes, spec_names, file_codes, file_names, rej_pos, rej_reasons, fixed
    )
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
        entry["rejected_by_reason"] = by_reason.get((s, f), {})
        inputs.append(entry)
    return inputs


def _rejections_by_reason(
    spec_codes: np.ndarray,
    spec_names: list[Any],
    file_codes: np.ndarray,
    file_names: list[Any],
    rej_pos: np.ndarray,
    rej_reasons: np.ndarray,
    fixed: set[str] | frozenset[str],
) -> dict[tuple[str, str], dict[str, int]]:
    """(source entry, file) -> {reason key: rejected rows}, the keys of each in text order.

    Counted on one integer per rejected row (entry, file and reason key codes); rows without an
    entry, a file or a reason are not counted.
    """
    out: dict[tuple[str, str], dict[str, int]] = {}
    if not len(rej_pos):
        return out
    reason_codes, reasons = pd.factorize(np.asarray(rej_reasons, dtype=object))
    keys = np.asarray([_reason_key(str(r), fixed) for r in reasons], dtype=object)
    key_of_reason, key_labels = pd.factorize(keys, sort=True)  # codes in the keys' text order
    s_c, f_c = spec_codes[rej_pos].astype(np.int64), file_codes[rej_pos]
    ok = (s_c >= 0) & (f_c >= 0) & (reason_codes >= 0)
    nk, nf = len(key_labels), len(file_names)
    combo = (s_c[ok] * nf + f_c[ok]) * nk + key_of_reason[reason_codes[ok]]
    uniq, counts = np.unique(combo, return_counts=True)
    for code, count in zip(uniq.tolist(), counts.tolist(), strict=True):
        pair, k = divmod(code, nk)
        s, f = divmod(pair, nf)
        out.setdefault((str(spec_names[s]), str(file_names[f])), {})[str(key_labels[k])] = count
    return out


def merge_file_info(
    inputs: list[dict[str, Any]], files_info: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One manifest entry per file read (``files_info``: file, sha256, reader, source) with its counts."""
    by_file = {(i["source"], i["file"]): i for i in inputs}
    merged = []
    for info in files_info:
        counts = by_file.get(
            (info["source"], info["file"]), {k: 0 for k in COUNT_KEYS} | {"rejected_by_reason": {}}
        )
        merged.append({**info, **{k: v for k, v in counts.items() if k not in ("file", "source")}})
    return merged
