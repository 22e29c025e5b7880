"""Duplicates of clean: rows that share the key (municipality, indicator, gender, period).

Identical values collapse (counted as duplicates), vintages of a ``revisions`` source keep the
newest value, ``precedence`` decides between sources, and any other conflict rejects every row
of the key, naming them all.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ks_analysis.clean._columnar import _argsort_keys, _key_codes, _order_if_distinct
from ks_analysis.clean.accounting import DUPLICATE, KEPT, REJECTED, RowLedger, _Rejections
from ks_analysis.ingest.manifest import SourceSpec
from ks_analysis.schema import KEY

__all__ = ["settle_duplicates"]


def settle_duplicates(
    ledger: RowLedger, values: np.ndarray, published: np.ndarray, specs: dict[str, SourceSpec]
) -> np.ndarray:
    """Settle the rows that share a key and return the kept rows' positions in key order.

    Vectorised over all duplicate groups at once. One integer per row stands for the key (built
    from the categoricals' codes, whose categories are sorted, so its order is the lexical key
    order).
    """
    key, bound = _key_codes(ledger.df)
    ok_pos = np.flatnonzero(ledger.status == KEPT)
    # Placing each row at its key orders the rows and, when every slot is hit once, shows
    # that no key repeats; only then are duplicates searched for and settled.
    take = _order_if_distinct(key[ok_pos], bound, ok_pos)
    if take is None:
        _resolve_duplicates(
            ledger.df,
            values,
            published,
            key,
            bound,
            ok_pos,
            specs,
            ledger.status,
            ledger.rejections,
        )
        kept_pos = np.flatnonzero(ledger.status == KEPT)
        take = kept_pos[_argsort_keys(key[kept_pos], bound)]
    return take


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
    # Long on purpose: the group masks (top precedence, identical, revision, conflict) build on one another.
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
