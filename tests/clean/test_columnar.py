"""The fast paths of clean give what the plain ways give.

Clean orders the kept rows by a table of int64 keys and builds text columns chunk by chunk
(``clean/_columnar.py``): each is checked here against the straightforward way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ks_analysis.clean import _columnar as clean_mod


def test_key_order_table_and_duplicates() -> None:
    """Distinct keys come back in key order; a repeated key sends clean to the duplicate rules."""
    keys = np.array([5, 1, 9, 3], dtype=np.int64)
    pos = np.array([10, 11, 12, 13])
    assert clean_mod._order_if_distinct(keys, 10, pos).tolist() == [11, 13, 10, 12]
    assert clean_mod._order_if_distinct(np.array([5, 1, 5]), 10, pos[:3]) is None
    assert clean_mod._argsort_keys(np.array([5, 1, 5, 0]), 10).tolist() == [3, 1, 0, 2]


def test_datetimes_to_ns_keep_nat() -> None:
    """Seconds to nanoseconds in one allocation, NaT stays NaT."""
    values = np.array(["2022-12-31", "NaT", "1994-01-01"], dtype="datetime64[s]")
    out = clean_mod._take_ns(values, np.array([2, 1, 0]))
    assert out.dtype == np.dtype("datetime64[ns]")
    assert out.tolist() == values[[2, 1, 0]].astype("datetime64[ns]").tolist()


def test_text_columns_in_chunks_equal_one_column(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunked text columns hold the same values, missing codes as missing, in pandas' str dtype."""
    monkeypatch.setattr(clean_mod, "STR_CHUNK_ROWS", 3)
    col = pd.Series(
        pd.Categorical.from_codes(
            np.array([0, 1, -1, 1, 0, 0, 1], dtype=np.int8),
            categories=pd.Index(["a.csv", "bb.csv"], dtype=object),
        )
    )
    out = clean_mod._str_column(col, np.array([6, 5, 4, 3, 2, 1, 0]))
    assert str(out.dtype) == "str"
    assert out.tolist()[:2] == ["bb.csv", "a.csv"] and pd.isna(out.iloc[4])
    assert out.dropna().tolist() == col.iloc[[6, 5, 4, 3, 1, 0]].astype(str).tolist()
