"""AF workbooks: Linköping's monthly series workbook and the one-month kommun table, on the real files."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from ks_analysis.errors import DataFileError
from ks_analysis.ingest.af_excel import read_af_kommun_columns, read_af_monthly_workbook


def _cell(raw: pd.DataFrame, **key: str) -> object:
    m = pd.Series(True, index=raw.index)
    for c, v in key.items():
        m &= raw[c].astype(str) == v
    assert m.sum() == 1, key
    return raw.loc[m, "value"].iloc[0]


@pytest.mark.real
def test_linkoping_workbook_gives_af_counts_by_gender_and_empty_months_as_markers(
    real_data: Path,
) -> None:
    """Inmatning_Manad.xlsx: SOURCES.md's spot values, women/men as genders, formula cells as their values."""
    rel = "linkoping_ks_indikatorer/Inmatning_Manad.xlsx"
    raw = read_af_monthly_workbook(real_data / rel, rel=rel)
    empty = _cell(
        raw, municipality_name="Linköping", indicator="AF_ARBETSLOSA", gender="T", period="2026-04"
    )
    assert pd.isna(empty)  # a month not yet filled in: a missing-value marker for clean
    assert len(raw) == 228 * 36  # every month row x value column, also the empty 2026M04-M12
    lkpg = dict(municipality_name="Linköping", indicator="AF_ARBETSLOSA", period="2008-01")
    assert _cell(raw, **lkpg, gender="T") == 3998
    assert _cell(raw, **lkpg, gender="M") == 2273 and _cell(raw, **lkpg, gender="K") == 1725
    assert (
        _cell(
            raw, municipality_name="Riket", indicator="AF_ARBETSLOSA", gender="T", period="2026-03"
        )
        == 354177
    )
    assert (
        _cell(
            raw,
            municipality_name="Linköping",
            indicator="AF_ARBETSLOSA__FORGYMN",
            gender="T",
            period="2024-01",
        )
        == 1882
    )


def test_workbook_with_an_unknown_column_names_it(tmp_path: Path) -> None:
    """A column that is not GROUP_MEASURE_PLACE is a DataFileError naming the column."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Arbetskraften"
    ws.append(["År", "Månad", "TOTALT_Arbetslösa_Linköping", "Kommentar"])
    ws.append([2020, 1, 5000, "x"])
    p = tmp_path / "af.xlsx"
    wb.save(p)
    with pytest.raises(DataFileError, match="'Kommentar'"):
        read_af_monthly_workbook(p, rel="af.xlsx")


@pytest.mark.real
def test_january_2019_table_maps_columns_and_needs_its_month(real_data: Path) -> None:
    """jan19.xlsx: Vaggeryd 265 registered unemployed, 141/88/47 without work >= 6/12/24 months."""
    rel = "dagenssamhalle_af_jan2019/jan19.xlsx"
    cols = {
        "sum_insal": "AF_ARBETSLOSA",
        "sum_ua06": "AF_UA06",
        "sum_ua12": "AF_UA12",
        "sum_ua24": "AF_UA24",
    }
    raw = read_af_kommun_columns(real_data / rel, rel=rel, period="2019-01", columns=cols)
    assert len(raw) == 290 * 4
    vgd = raw[raw["municipality_name"] == "Vaggeryd"].set_index("indicator")["value"]
    assert vgd.to_dict() == {"AF_ARBETSLOSA": 265, "AF_UA06": 141, "AF_UA12": 88, "AF_UA24": 47}
    with pytest.raises(DataFileError, match="option 'period'"):
        read_af_kommun_columns(real_data / rel, rel=rel, columns=cols)
