"""Tests of ingest/local.py: the long_csv reader's rows as clean sees them (non-finite values, periods, line numbers)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ks_analysis import run_clean


def test_non_finite_values_are_rejected_in_long_csv(one_source_raw: Callable[..., Path]) -> None:
    """inf, Infinity, 1e400 and -inf in a long CSV are rejected with their rows and one reason; the finite value is kept."""
    text = "municipality,indicator,period,value,unit\n0665,N03926,2018,2.5,%\n0665,N03926,2019,inf,%\n0665,N03926,2020,Infinity,%\n0665,N03926,2021,1e400,%\n0665,N03926,2022,-inf,%\n"
    result = run_clean(one_source_raw("a.csv", text))
    assert result.tidy["period"].tolist() == ["2018"]
    rej = result.rejected
    assert rej["source_row"].tolist() == [3, 4, 5, 6]
    assert rej["value"].tolist() == ["inf", "Infinity", "1e400", "-inf"]
    assert set(rej["reason"]) == {
        "not a finite number (infinite or too large); write the value as a plain number"
    }


def test_yyyymm_like_period_is_rejected_outside_tillvaxtanalys(
    one_source_raw: Callable[..., Path],
) -> None:
    """'201203' in a long CSV is not silently read as 2012-Q3: clean rejects it naming the accepted forms."""
    text = "municipality,indicator,period,value,unit\n0665,N03926,2012,2.5,%\n0665,N03926,201203,2.1,%\n"
    result = run_clean(one_source_raw("a.csv", text))
    assert result.tidy["period"].tolist() == ["2012"]
    assert result.rejected.to_dict("records") == [
        {
            "source_file": "a.csv",
            "source_row": 3,
            "column": "period",
            "value": "201203",
            "reason": "not a valid period (use 2022, 2022-Q1..Q4 or 2022-01..12)",
        }
    ]


def test_long_csv_source_row_counts_blank_lines(one_source_raw: Callable[..., Path]) -> None:
    """After blank lines the rejected row names the line an editor shows (5), not the record count (3)."""
    text = "municipality,indicator,period,value,unit\n0665,N03926,2018,2.5,%\n\n\n0665,N03926,2019,abc,%\n"
    result = run_clean(one_source_raw("a.csv", text))
    assert result.tidy["source_row"].tolist() == [2]
    assert result.rejected[["source_row", "value"]].to_dict("records") == [
        {"source_row": 5, "value": "abc"}
    ]
