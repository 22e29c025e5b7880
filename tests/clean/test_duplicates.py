"""Duplicates on the key: precedence between sources, revisions between vintages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd

from ks_analysis.clean import clean_indicators
from ks_analysis.ingest.frame import raw_frame
from ks_analysis.ingest.manifest import SourceSpec


def test_precedence_decides_and_agreeing_copies_are_duplicates(
    make_spec: Callable[..., SourceSpec], make_raw: Callable[..., pd.DataFrame]
) -> None:
    """A higher-precedence source wins; an agreeing lower copy is a duplicate, a differing one rejected."""
    hi = make_raw(
        [{"value": 2.0}, {"period": "2021", "value": 1.0}], spec="hi", source_file="hi.csv"
    )
    lo = make_raw(
        [{"value": 2.0}, {"period": "2021", "value": 1.5}], spec="lo", source_file="lo.csv"
    )
    res = clean_indicators(
        pd.concat([hi, lo], ignore_index=True),
        {"hi": make_spec("hi", precedence=2), "lo": make_spec("lo", precedence=1)},
    )
    assert res.tidy["source_file"].tolist() == ["hi.csv", "hi.csv"]
    assert res.rejected["reason"].tolist() == [
        "conflicts with hi.csv row 3, whose source takes precedence"
    ]
    counts = {
        i["file"]: (i["rows_kept"], i["rows_rejected"], i["rows_duplicate"]) for i in res.inputs
    }
    assert counts == {"hi.csv": (2, 0, 0), "lo.csv": (0, 1, 1)}


def test_revisions_keep_newest_vintage_and_as_of_picks_the_older(
    make_spec: Callable[..., SourceSpec], make_raw: Callable[..., pd.DataFrame]
) -> None:
    """Two vintages of one series: the newest value wins; --as-of before it gives the old vintage."""
    old = make_raw(
        [{"period": "2026-01", "frequency": "M", "value": 3.2}], spec="old", source_file="old.xlsx"
    )
    new = make_raw(
        [{"period": "2026-01", "frequency": "M", "value": 2.9}], spec="new", source_file="new.xlsx"
    )
    specs = {
        "old": make_spec("old", publication_lag={"days": 61}, revisions=True),
        "new": make_spec("new", publication_lag={"date": "2026-06-29"}, revisions=True),
    }
    raw = pd.concat([old, new], ignore_index=True)
    latest = clean_indicators(raw, specs)
    assert latest.tidy[["value", "published"]].to_dict("records") == [
        {"value": 2.9, "published": pd.Timestamp("2026-06-29")}
    ]
    then = clean_indicators(raw, specs, as_of=dt.date(2026, 4, 30))
    assert then.tidy["value"].tolist() == [3.2]
    assert then.rejected["reason"].tolist() == ["published after --as-of 2026-04-30"]


def test_clean_orders_and_types_like_before_with_duplicates() -> None:
    """With repeated keys (the slow path) the tidy table is still in key order and typed by the contract."""
    rows = [
        {"municipality": m, "period": p, "value": v}
        for m, p, v in [
            ("0665", "2022", 1.0),
            ("0604", "2021", 2.0),
            ("0665", "2022", 1.0),
            ("0604", "2020", 3.0),
        ]
    ]
    base = {
        "indicator": "N03926",
        "gender": "T",
        "frequency": "Y",
        "unit": "%",
        "source": "kolada",
        "source_file": "f.csv",
    }
    raw = raw_frame(
        pd.DataFrame([{**base, "source_row": i + 2, **r} for i, r in enumerate(rows)])
    ).assign(spec="s")
    spec = SourceSpec(name="s", files=("x",), reader="long_csv", publication_lag={"days": 60})
    res = clean_indicators(raw, {"s": spec})
    assert res.tidy[["municipality", "period"]].values.tolist() == [
        ["0604", "2020"],
        ["0604", "2021"],
        ["0665", "2022"],
    ]
    assert res.inputs[0]["rows_duplicate"] == 1
    assert [str(t) for t in res.tidy.dtypes] == ["str"] * 5 + [
        "datetime64[ns]",
        "float64",
        "str",
        "str",
        "str",
        "int64",
        "datetime64[ns]",
        "str",
    ]
