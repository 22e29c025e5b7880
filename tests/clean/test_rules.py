"""Clean rules, one test per rule on small literal frames (clean_indicators end to end)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from ks_analysis.clean import clean_indicators
from ks_analysis.ingest.manifest import SourceSpec
from ks_analysis.schema import TIDY_COLUMNS


def test_tidy_has_exact_columns_and_published_from_lag(
    make_spec: Callable[..., SourceSpec], make_raw: Callable[..., pd.DataFrame]
) -> None:
    """The tidy table has the contract's columns; published = end of period + the lag rule's days."""
    res = clean_indicators(make_raw([{"value": "2.140871"}]), {"s": make_spec()})
    assert list(res.tidy.columns) == TIDY_COLUMNS
    row = res.tidy.iloc[0]
    assert (row["value"], row["period_end"], row["published"]) == (
        2.140871,
        pd.Timestamp("2022-12-31"),
        pd.Timestamp("2023-03-01"),
    )


def test_does_not_change_input(
    make_spec: Callable[..., SourceSpec], make_raw: Callable[..., pd.DataFrame]
) -> None:
    """clean_indicators builds new frames; the raw rows are left as they were."""
    raw = make_raw([{"value": "1"}, {"value": ".."}])
    before = raw.copy()
    clean_indicators(raw, {"s": make_spec()})
    pd.testing.assert_frame_equal(raw, before)


def test_aggregate_rows_are_dropped_and_counted(
    make_spec: Callable[..., SourceSpec], make_raw: Callable[..., pd.DataFrame]
) -> None:
    """'Alla kommuner' and 'Samtliga' are aggregates: rejected on purpose with a reason, counted."""
    raw = make_raw(
        [
            {"municipality": None, "municipality_name": "Alla kommuner", "value": 1},
            {"municipality": None, "municipality_name": "Samtliga", "value": 2},
            {"value": 3},
        ]
    )
    res = clean_indicators(raw, {"s": make_spec()})
    assert res.rejected["reason"].tolist() == [
        "aggregate row 'Alla kommuner' dropped on purpose (not a kommun)",
        "aggregate row 'Samtliga' dropped on purpose (not a kommun)",
    ]
    assert res.inputs[0]["rows_rejected"] == 2


def test_election_kpi_copies_are_rejected_election_years_kept(
    make_spec: Callable[..., SourceSpec], make_raw: Callable[..., pd.DataFrame]
) -> None:
    """Election KPIs repeat the last value until the next election: 2014 and 2018 kept, 2015-2017 rejected."""
    rows = [
        {"indicator": "N05401", "period": str(y), "value": 84.729451 if y < 2018 else 85.0}
        for y in range(2014, 2019)
    ]
    res = clean_indicators(make_raw(rows), {"s": make_spec(election_kpis=("N05401",))})
    assert res.tidy["period"].tolist() == ["2014", "2018"]
    assert set(res.rejected["reason"]) == {
        "carried-forward copy of the last election's value (only election years are kept)"
    }
    assert len(res.rejected) == 3


def test_thousands_separators_and_missing_markers(
    make_spec: Callable[..., SourceSpec], make_raw: Callable[..., pd.DataFrame]
) -> None:
    """No-break-space thousands separators parse; '..', '-' and blanks are missing, not errors."""
    raw = make_raw(
        [
            {"period": "2020", "value": "1\u00a0900", "unit": "index"},
            {"period": "2021", "value": ".."},
            {"period": "2019", "value": "-"},
            {"period": "2018", "value": None},
        ]
    )
    res = clean_indicators(raw, {"s": make_spec()})
    assert res.tidy["value"].tolist() == [1900.0]
    assert res.inputs[0]["rows_missing"] == 3


def test_change_units_may_be_negative(
    make_spec: Callable[..., SourceSpec], make_raw: Callable[..., pd.DataFrame]
) -> None:
    """'% förändring' (population change) may be negative; a plain share may not."""
    raw = make_raw(
        [
            {"period": "2021", "value": -0.5, "unit": "% förändring"},
            {"period": "2022", "value": -0.5},
        ]
    )
    res = clean_indicators(raw, {"s": make_spec()})
    assert res.tidy["period"].tolist() == ["2021"]
    assert res.rejected["reason"].tolist() == ["a negative share"]


@pytest.mark.parametrize("period", ["2022", "2022-Q4", "2022-12"])
def test_period_end_is_last_day(
    period: str, make_spec: Callable[..., SourceSpec], make_raw: Callable[..., pd.DataFrame]
) -> None:
    """Each period ends on its last day."""
    res = clean_indicators(make_raw([{"period": period, "value": 1}]), {"s": make_spec()})
    assert res.tidy["period_end"].iloc[0] == pd.Timestamp("2022-12-31")
