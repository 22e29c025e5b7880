"""The ``kolada_api_json`` reader of Kolada API snapshots: v2 and v3 pages, metadata, groups, shapes.

The fixtures under ``tests/data/kolada_api/`` are made up; fetching is tested in
``tests/fetch/test_kolada.py``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from ks_analysis.errors import DataFileError
from ks_analysis.ingest.kolada_pages import (
    read_kpi_metadata,
    read_municipality_groups,
    shape_problem,
)
from ks_analysis.ingest.kolada_snapshot import (
    _parse_time,
    read_kolada_api_json,
    read_kolada_api_values,
)
from ks_analysis.ingest.registry import get_reader

FIX = Path(__file__).resolve().parents[1] / "data" / "kolada_api"
UTC = dt.UTC


# --- reader: v2 and v3 pages ---------------------------------------------------------------


def test_reader_v3_page_rows_nulls_deleted_and_source_row() -> None:
    """A v3 page gives one raw row per gender entry; null stays missing; source_row is the data row's position."""
    rows = read_kolada_api_json(
        FIX / "v3_data_page1.json", rel="kolada/x/v3_data_page1.json", fetched="2024-05-02"
    )
    assert list(rows["gender"]) == ["T", "K", "M", "T"]
    assert list(rows["period"]) == ["2022", "2022", "2022", "2023"]
    assert list(rows["source_row"]) == [1, 1, 1, 2]
    assert rows["value"].iloc[0] == 71.4 and rows["value"].iloc[3] is None
    assert set(rows["municipality"]) == {"0665"} and set(rows["indicator"]) == {"N03926"}
    assert (rows["published"] == pd.Timestamp("2024-05-02")).all()
    assert rows["reject"].isna().all()
    page2 = read_kolada_api_json(FIX / "v3_data_page2.json", rel="p2.json")
    assert pd.isna(page2["reject"].tolist()[0])
    assert "deleted in Kolada" in page2["reject"].tolist()[1]
    assert (
        page2["published"].isna().all()
    )  # outside a snapshot and without `fetched`: clean's lag rule dates it


def test_reader_v2_page_string_period_and_is_deleted() -> None:
    """v2: period as text, is_deleted 0/1, a real 0 stays 0 (only null is missing)."""
    rows = read_kolada_api_values(FIX / "v2_data.json")
    assert rows["period"].tolist() == ["2021"] * 4
    assert rows["deleted"].tolist() == [False, False, True, False]
    assert rows["value"].tolist()[1] == 0
    assert rows["status"].tolist() == ["", "", "", ""]
    raw = get_reader("kolada_api_json")(FIX / "v2_data.json", rel="v2_data.json")
    assert raw["reject"].notna().sum() == 1 and raw["source_row"].tolist() == [1, 1, 2, 2]


def test_reader_keeps_status_opaque() -> None:
    """status is passed through unchanged (its meaning is undocumented)."""
    assert read_kolada_api_values(FIX / "v3_data_page2.json")["status"].tolist() == ["X", ""]


def test_reader_lag_rule_dates_before_fetch() -> None:
    """published = min(fetch date, period end + lag days), per indicator when given."""
    rows = read_kolada_api_json(
        FIX / "v3_data_page1.json",
        rel="x.json",
        fetched="2024-05-02",
        publication_lag={"days": 75, "per_indicator": {"N03926": 500}},
    )
    # 2022-12-31 + 500 days = 2024-05-15, later than the fetch; 2023-12-31 + 500 is later still
    assert (rows["published"] == pd.Timestamp("2024-05-02")).all()
    rows = read_kolada_api_json(
        FIX / "v3_data_page1.json", rel="x.json", fetched="2024-05-02", lag_days=75
    )
    assert rows["published"].tolist() == [pd.Timestamp("2023-03-16")] * 3 + [
        pd.Timestamp("2024-03-15")
    ]


def test_reader_units_per_kpi() -> None:
    """The API reader takes a KPI's unit from the units map and falls back to the default unit for other KPIs."""
    rows = read_kolada_api_json(
        FIX / "v3_data_page2.json", rel="x.json", unit="antal", units={"n03926": "%"}
    )
    assert set(rows["unit"]) == {"antal"}
    rows = read_kolada_api_json(
        FIX / "v3_data_page1.json", rel="x.json", unit="antal", units={"n03926": "%"}
    )
    assert set(rows["unit"]) == {"%"}


def test_reader_metadata_and_group_pages_give_no_rows() -> None:
    """KPI metadata and municipality-group pages (v2 and v3) give no data rows."""
    for name in ("v3_kpi.json", "v2_kpi.json", "v3_groups.json", "v2_groups.json"):
        assert read_kolada_api_json(FIX / name, rel=name).empty


def test_kpi_metadata_v2_and_v3() -> None:
    """auspice/auspices and is_divided_by_gender int/bool are unified; publication_date is a date."""
    meta = read_kpi_metadata([FIX / "v3_kpi.json", FIX / "v2_kpi.json"])
    assert meta["id"].tolist() == ["N00999", "N03926"]
    assert meta["is_divided_by_gender"].tolist() == [True, False]
    assert meta["auspice"].tolist() == ["X", "E"]
    assert meta["publication_date"].tolist() == [
        pd.Timestamp("2026-08-28"),
        pd.Timestamp("2019-03-01"),
    ]
    assert meta["publ_period"].tolist() == ["2025", "2018"]


def test_groups_both_member_shapes() -> None:
    """Municipality groups are read from both the v3 and the v2 member shapes, with ids and titles."""
    groups = read_municipality_groups([FIX / "v3_groups.json", FIX / "v2_groups.json"])
    assert groups["member_id"].tolist() == ["0604", "0617", "0665", "0680", "0665"]
    assert groups["member_title"].tolist()[3] == "Jönköping"
    assert groups["group_id"].tolist()[-1] == "G900002"


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("malformed.json", r"malformed\.json: is not valid JSON"),
        ("changed_shape.json", r"changed_shape\.json: response has no 'values' list"),
        ("changed_row.json", r"values\[1\] has no 'period'"),
    ],
)
def test_reader_bad_pages(name: str, match: str) -> None:
    """A broken or re-shaped page stops with a message naming the file and the missing field."""
    with pytest.raises(DataFileError, match=match):
        read_kolada_api_json(FIX / name, rel=name)


def test_shape_problem_names_the_field() -> None:
    """shape_problem names the first missing field by its path, for data pages and group pages."""
    assert (
        shape_problem(
            {
                "values": [
                    {
                        "kpi": "N1",
                        "municipality": "0665",
                        "period": 2020,
                        "values": [{"gender": "T"}],
                    }
                ]
            }
        )
        == "values[1].values[1] has no 'value'"
    )
    assert (
        shape_problem({"values": [{"id": "G1"}]}, "municipality_groups")
        == "values[1] has no 'members'"
    )


def test_parse_time_reads_snapshot_folder_names() -> None:
    """Snapshot folder names (with the Z, and with a '-2' suffix) give their UTC fetch time."""
    assert _parse_time("2026-03-01T100000Z") == dt.datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert _parse_time("2026-03-01T100000Z-2") == dt.datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert _parse_time("2026-03-01T10:00:00Z") == dt.datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
