"""Row accounting: a property test that no row is lost or invented, and the counts add up."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ks_analysis.clean import clean_indicators, run_clean
from ks_analysis.ingest.frame import raw_frame
from ks_analysis.ingest.manifest import SourceSpec

KOMMUNER = ["0665", "0604", "0617", "0006", "0000", "9999"]


@st.composite
def raw_rows(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(min_value=1, max_value=40))
    rows = []
    for _ in range(n):
        rows.append(
            {
                "municipality": draw(st.sampled_from(KOMMUNER)),
                "indicator": draw(st.sampled_from(["N03926", "AF_ARBETSLOSA", "bad id!"])),
                "gender": draw(st.sampled_from(["T", "K", "M", "X"])),
                "period": draw(st.sampled_from(["2021", "2022", "2022-Q1", "2022-06", "2019-13"])),
                "value": draw(
                    st.one_of(
                        st.sampled_from(["..", "", "abc", "1\u00a0900", "-3"]),
                        st.floats(min_value=-5, max_value=150, allow_nan=False).map(
                            lambda v: round(v, 1)
                        ),
                    )
                ),
                "unit": draw(st.sampled_from(["%", "antal", ""])),
                "spec": draw(st.sampled_from(["a", "b"])),
            }
        )
    frame = pd.DataFrame(rows)
    frame["source_row"] = range(2, n + 2)
    frame["source_file"] = frame["spec"] + ".csv"
    frame["source"] = "test"
    spec = frame.pop("spec")
    return raw_frame(frame).assign(spec=spec.to_numpy())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=raw_rows(), prec=st.booleans(), rev=st.booleans())
def test_clean_never_loses_or_invents_a_row(
    raw: pd.DataFrame, prec: bool, rev: bool, make_spec: Callable[..., SourceSpec]
) -> None:
    """Every input row is kept, rejected, missing or duplicate exactly once; kept rows come from the input."""
    specs = {
        "a": make_spec("a", precedence=int(prec), revisions=rev),
        "b": make_spec("b", revisions=rev),
    }
    res = clean_indicators(raw, specs)
    totals = res.manifest()["totals"]
    assert totals["rows_read"] == len(raw)
    assert totals["rows_kept"] + totals["rows_rejected"] + totals["rows_missing"] + totals[
        "rows_duplicate"
    ] == len(raw)
    assert totals["rows_kept"] == len(res.tidy)
    assert totals["rows_rejected"] == len(res.rejected)
    for i in res.inputs:
        assert (
            i["rows_read"]
            == i["rows_kept"] + i["rows_rejected"] + i["rows_missing"] + i["rows_duplicate"]
        )
    origin = set(zip(raw["source_file"], raw["source_row"], strict=True))
    assert set(zip(res.tidy["source_file"], res.tidy["source_row"], strict=True)) <= origin
    key = ["municipality", "indicator", "gender", "period"]
    assert not res.tidy.duplicated(key).any()
    pd.testing.assert_frame_equal(
        res.tidy[key], res.tidy[key].sort_values(key).reset_index(drop=True)
    )


def test_manifest_counts_rejections_by_readable_reason(one_source_raw: Callable[..., Path]) -> None:
    """Fixed reasons keep their text ('.' stays '.'); reasons naming values count under one key."""
    text = (
        "kommun,indicator,period,value,unit\n"
        "Vaggeryd,N03926,2018,2.5,%\n"
        'Vaggeryd,N03926,2019,"2,1 procent",%\n'
        "Vagerydd,N03926,2020,2.0,%\n"
        "Vagerydx,N03926,2021,2.0,%\n"
        "Samtliga,N03926,2021,2.0,%\n"
    )
    by_reason = run_clean(one_source_raw("a.csv", text)).manifest()["inputs"][0][
        "rejected_by_reason"
    ]
    assert by_reason == {
        "not a number; write numbers with '.' as decimal point and no text": 1,
        "unknown kommun or län name '…'": 2,
        "aggregate row '…' dropped on purpose (not a kommun)": 1,
    }
