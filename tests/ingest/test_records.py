"""Record-shaped readers on the real files: SCB monthly population JSON, SCB BAS SQLite, SCB long CSV."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from ks_analysis.errors import DataFileError
from ks_analysis.ingest.records import (
    read_region_month_json,
    read_scb_bas_kommun_sqlite,
    read_scb_long_csv,
)


@pytest.mark.real
def test_monthly_population_json(real_data: Path) -> None:
    """Jönköping 2024M12 147 654 (= Kolada N01951 2024 via ksi2242 Q4); one row per record."""
    rel = "josaatt_scb_manadsbefolkning/norrkoping_jonkoping_manad.json"
    raw = read_region_month_json(real_data / rel, rel=rel)
    assert len(raw) == 614
    j = raw[(raw["municipality_name"] == "Jönköping") & (raw["period"] == "2024-12")]
    assert j["value"].tolist() == [147654] and j["source_row"].tolist() == [
        (2024 - 2000) * 24 + 23
    ]  # 1-based record: months x 2 regions, Jönköping first


def test_json_record_without_keys_names_its_position(tmp_path: Path) -> None:
    p = tmp_path / "m.json"
    p.write_text(
        json.dumps([{"region": "Jönköping", "month": "2000M01", "population": 1}, {"x": 1}])
    )
    with pytest.raises(DataFileError, match="record 2 lacks"):
        read_region_month_json(p, rel="m.json")


@pytest.mark.real
def test_bas_sqlite_is_read_without_touching_the_file(real_data: Path) -> None:
    """Kommun_Statistik.db: Vaggeryd män 16-64 by month; empty rows, the blank-name row and the
    derived mean are rejected with reasons; the file and its folder are unchanged."""
    rel = "riksdagsval_bas_kommun_2023/Kommun_Statistik.db"
    path = real_data / rel
    before = (
        hashlib.sha256(path.read_bytes()).hexdigest(),
        sorted(p.name for p in path.parent.iterdir()),
    )
    raw = read_scb_bas_kommun_sqlite(path, rel=rel)
    assert len(raw) == 10_479 * 13
    v = raw[
        (raw["municipality_name"] == "Vaggeryd")
        & (raw["indicator"] == "SCB_BAS_ARBETSLOSA__16_64")
        & (raw["gender"] == "M")
    ]
    months = v[v["frequency"] == "M"].sort_values("period")["value"].astype(int).tolist()
    assert months == [120, 131, 135, 124, 120, 108, 111, 111, 116, 121, 131, 127]
    reasons = raw["reject"].dropna().astype(str)
    assert (reasons.str.contains("empty row")).sum() == 39 * 13
    assert reasons.str.contains("no kommun name").sum() == 13
    assert (
        raw["indicator"] == "SCB_BAS_ARBETSLOSA__60_64"
    ).any()  # Växjö's '060-64' read by its label
    assert not raw["indicator"].astype(str).str.contains("060").any()
    assert (
        hashlib.sha256(path.read_bytes()).hexdigest(),
        sorted(p.name for p in path.parent.iterdir()),
    ) == before


def test_not_a_database_is_a_data_file_error(tmp_path: Path) -> None:
    p = tmp_path / "x.db"
    p.write_bytes(b"not sqlite at all" * 10)
    with pytest.raises(DataFileError, match="not a readable SQLite database"):
        read_scb_bas_kommun_sqlite(p, rel="x.db")


@pytest.mark.real
def test_scb_long_csv_gives_one_row_per_region_age_year(real_data: Path) -> None:
    """BE0101A9 (1).csv: Vaggeryd's 16-64 population 2018 sums to 8 250 over 49 ages."""
    rel = "dagenssamhalle_af_jan2019/BE0101A9 (1).csv"
    raw = read_scb_long_csv(real_data / rel, rel=rel, indicator="SCB_FOLKMANGD_1NOV")
    v = raw[(raw["municipality"] == "0665") & (raw["period"] == "2018")]
    assert len(v) == 49 and pd.to_numeric(v["value"]).sum() == 8250
    assert "SCB_FOLKMANGD_1NOV__16_AR" in set(v["indicator"])
