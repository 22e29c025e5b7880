"""Clean rules, one test per rule on small literal frames, plus a property test: no row lost or invented."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ks_analysis.clean import clean_indicators
from ks_analysis.ingest.frame import raw_frame
from ks_analysis.ingest.manifest import SourceSpec
from ks_analysis.schema import TIDY_COLUMNS


def _spec(name: str = "s", **kw: object) -> SourceSpec:
    return SourceSpec(
        name=name,
        files=("x",),
        reader="long_csv",
        publication_lag=kw.pop("publication_lag", {"days": 60}),
        **kw,
    )  # type: ignore[arg-type]


def _raw(
    rows: list[dict[str, object]], spec: str = "s", source_file: str = "f.csv"
) -> pd.DataFrame:
    base = {
        "municipality": "0665",
        "indicator": "N03926",
        "gender": "T",
        "frequency": "Y",
        "period": "2022",
        "unit": "%",
        "source": "kolada",
    }
    frame = raw_frame(
        pd.DataFrame([{**base, "source_row": i + 2, **r} for i, r in enumerate(rows)]),
        source_file=source_file,
    )
    return frame.assign(spec=spec)


def test_tidy_has_exact_columns_and_published_from_lag() -> None:
    """The tidy table has the contract's columns; published = end of period + the lag rule's days."""
    res = clean_indicators(_raw([{"value": "2.140871"}]), {"s": _spec()})
    assert list(res.tidy.columns) == TIDY_COLUMNS
    row = res.tidy.iloc[0]
    assert (row["value"], row["period_end"], row["published"]) == (
        2.140871,
        pd.Timestamp("2022-12-31"),
        pd.Timestamp("2023-03-01"),
    )


def test_does_not_change_input() -> None:
    """clean_indicators builds new frames; the raw rows are left as they were."""
    raw = _raw([{"value": "1"}, {"value": ".."}])
    before = raw.copy()
    clean_indicators(raw, {"s": _spec()})
    pd.testing.assert_frame_equal(raw, before)


def test_aggregate_rows_are_dropped_and_counted() -> None:
    """'Alla kommuner' and 'Samtliga' are aggregates: rejected on purpose with a reason, counted."""
    raw = _raw(
        [
            {"municipality": None, "municipality_name": "Alla kommuner", "value": 1},
            {"municipality": None, "municipality_name": "Samtliga", "value": 2},
            {"value": 3},
        ]
    )
    res = clean_indicators(raw, {"s": _spec()})
    assert res.rejected["reason"].tolist() == [
        "aggregate row 'Alla kommuner' dropped on purpose (not a kommun)",
        "aggregate row 'Samtliga' dropped on purpose (not a kommun)",
    ]
    assert res.inputs[0]["rows_rejected"] == 2


def test_election_kpi_copies_are_rejected_election_years_kept() -> None:
    """Election KPIs repeat the last value until the next election: 2014 and 2018 kept, 2015-2017 rejected."""
    rows = [
        {"indicator": "N05401", "period": str(y), "value": 84.729451 if y < 2018 else 85.0}
        for y in range(2014, 2019)
    ]
    res = clean_indicators(_raw(rows), {"s": _spec(election_kpis=("N05401",))})
    assert res.tidy["period"].tolist() == ["2014", "2018"]
    assert set(res.rejected["reason"]) == {
        "carried-forward copy of the last election's value (only election years are kept)"
    }
    assert len(res.rejected) == 3


def test_precedence_decides_and_agreeing_copies_are_duplicates() -> None:
    """A higher-precedence source wins; an agreeing lower copy is a duplicate, a differing one rejected."""
    hi = _raw([{"value": 2.0}, {"period": "2021", "value": 1.0}], spec="hi", source_file="hi.csv")
    lo = _raw([{"value": 2.0}, {"period": "2021", "value": 1.5}], spec="lo", source_file="lo.csv")
    res = clean_indicators(
        pd.concat([hi, lo], ignore_index=True),
        {"hi": _spec("hi", precedence=2), "lo": _spec("lo", precedence=1)},
    )
    assert res.tidy["source_file"].tolist() == ["hi.csv", "hi.csv"]
    assert res.rejected["reason"].tolist() == [
        "conflicts with hi.csv row 3, whose source takes precedence"
    ]
    counts = {
        i["file"]: (i["rows_kept"], i["rows_rejected"], i["rows_duplicate"]) for i in res.inputs
    }
    assert counts == {"hi.csv": (2, 0, 0), "lo.csv": (0, 1, 1)}


def test_revisions_keep_newest_vintage_and_as_of_picks_the_older() -> None:
    """Two vintages of one series: the newest value wins; --as-of before it gives the old vintage."""
    old = _raw(
        [{"period": "2026-01", "frequency": "M", "value": 3.2}], spec="old", source_file="old.xlsx"
    )
    new = _raw(
        [{"period": "2026-01", "frequency": "M", "value": 2.9}], spec="new", source_file="new.xlsx"
    )
    specs = {
        "old": _spec("old", publication_lag={"days": 61}, revisions=True),
        "new": _spec("new", publication_lag={"date": "2026-06-29"}, revisions=True),
    }
    raw = pd.concat([old, new], ignore_index=True)
    latest = clean_indicators(raw, specs)
    assert latest.tidy[["value", "published"]].to_dict("records") == [
        {"value": 2.9, "published": pd.Timestamp("2026-06-29")}
    ]
    then = clean_indicators(raw, specs, as_of=dt.date(2026, 4, 30))
    assert then.tidy["value"].tolist() == [3.2]
    assert then.rejected["reason"].tolist() == ["published after --as-of 2026-04-30"]


def test_thousands_separators_and_missing_markers() -> None:
    """No-break-space thousands separators parse; '..', '-' and blanks are missing, not errors."""
    raw = _raw(
        [
            {"period": "2020", "value": "1\u00a0900", "unit": "index"},
            {"period": "2021", "value": ".."},
            {"period": "2019", "value": "-"},
            {"period": "2018", "value": None},
        ]
    )
    res = clean_indicators(raw, {"s": _spec()})
    assert res.tidy["value"].tolist() == [1900.0]
    assert res.inputs[0]["rows_missing"] == 3


def test_change_units_may_be_negative() -> None:
    """'% förändring' (population change) may be negative; a plain share may not."""
    raw = _raw(
        [
            {"period": "2021", "value": -0.5, "unit": "% förändring"},
            {"period": "2022", "value": -0.5},
        ]
    )
    res = clean_indicators(raw, {"s": _spec()})
    assert res.tidy["period"].tolist() == ["2021"]
    assert res.rejected["reason"].tolist() == ["a negative share"]


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
def test_clean_never_loses_or_invents_a_row(raw: pd.DataFrame, prec: bool, rev: bool) -> None:
    """Every input row is kept, rejected, missing or duplicate exactly once; kept rows come from the input."""
    specs = {"a": _spec("a", precedence=int(prec), revisions=rev), "b": _spec("b", revisions=rev)}
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


@pytest.mark.parametrize("period", ["2022", "2022-Q4", "2022-12"])
def test_period_end_is_last_day(period: str) -> None:
    """Each period ends on its last day."""
    res = clean_indicators(_raw([{"period": period, "value": 1}]), {"s": _spec()})
    assert res.tidy["period_end"].iloc[0] == pd.Timestamp("2022-12-31")
