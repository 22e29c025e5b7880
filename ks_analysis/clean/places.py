"""Places of clean: raw codes and names -> kommun/län codes, or a reason the row cannot be placed.

Three-digit codes get their leading zero back (665 -> 0665), others are never padded; codes are checked against the official list; names are looked up
tolerantly; aggregates ('Alla kommuner', 'Samtliga') and 'Uppgift saknas' get reasons. The work
is done once per distinct (code, name) pair.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ks_analysis import geo as geo_mod
from ks_analysis.clean._columnar import _code_dtype, _dense_factorize
from ks_analysis.ingest.frame import as_category

__all__ = ["AGGREGATE_NAMES"]

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


def _resolve_names(frame: pd.DataFrame) -> tuple[pd.Series, np.ndarray, Any]:
    """(code, has_reason, reasons) per row, worked out once per distinct (code, name) pair.

    Three-digit codes get their leading zero back (665 -> 0665), others are never padded; codes are checked against the official list; names are looked
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
        c = str(raw_code).strip()
        if len(c) == 3 and c.isascii() and c.isdigit():
            c = c.zfill(4)  # a kommun code whose leading zero a spreadsheet dropped (665)
        # Shorter codes ('0', '00') are never padded: that would make them riket '0000'.
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
