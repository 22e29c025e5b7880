"""The PC-Axis reader on Linköping's real quarterly and monthly files, and on broken PX files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ks_analysis.clean import clean_indicators
from ks_analysis.errors import DataFileError
from ks_analysis.ingest.manifest import load_sources
from ks_analysis.ingest.pcaxis import parse_px, read_pcaxis
from ks_analysis.paths import PROJECT_ROOT

KSI = "linkoping_ks_indikatorer"


def _value(frame: pd.DataFrame, muni: str, ind: str, period: str) -> object:
    row = frame[
        (frame["municipality"] == muni) & (frame["indicator"] == ind) & (frame["period"] == period)
    ]
    assert len(row) == 1, (muni, ind, period, len(row))
    v = row["value"].iloc[0]
    try:
        return float(v)  # the reader passes cells on as written; clean parses them
    except ValueError:
        return v


@pytest.mark.real
def test_quarterly_ksi_file_gives_the_agency_values_and_one_row_per_cell(real_data: Path) -> None:
    """ksi2242.px: one raw row per data cell; Jönköping's values are SOURCES.md's spot values; '-' is 0 here."""
    path = real_data / KSI / "ksi2242.px"
    raw = read_pcaxis(path, rel=f"{KSI}/ksi2242.px", dash="zero", indicator_prefix="KSI")
    assert len(raw) == 101_120  # 16 years x 4 quarters x 20 places x 79 indicators
    assert _value(raw, "0680", "KSI_BEFOLKNING", "2010-Q1") == 126612.0
    assert _value(raw, "0680", "KSI_BEFOLKNING", "2025-Q4") == 148152.0
    assert [_value(raw, "0680", "KSI_NYFORETAGANDE", f"2015-Q{q}") for q in (1, 2, 3, 4)] == [
        195.0, 208.0, 172.0, 219.0,
    ]  # fmt: skip
    assert _value(raw, "0680", "KSI_NYFORETAGANDE", "2010-Q1") == ".."  # not available: a marker
    assert _value(raw, "0000", "KSI_BEFOLKNING", "2022-Q4") == 10_521_556.0
    assert (raw["value"] == "-").sum() == 0 and (raw["value"] == 0.0).sum() >= 147
    plus12 = raw[raw["municipality_name"] == "Plus12 (ovägt)"]
    assert len(plus12) == 16 * 4 * 79 and plus12["reject"].str.contains("not a kommun").all()
    shares = raw[raw["indicator"] == "KSI_ARBETLOS16_65"]
    assert set(shares["unit"]) == {"%"}
    assert set(raw.loc[raw["indicator"] == "KSI_FLYTTNETTO", "unit"]) == {"netto (antal)"}


@pytest.mark.real
def test_monthly_ksi_file_keeps_the_level_and_marks_unpublished_months(real_data: Path) -> None:
    """ksi5555.px: '-' is a month not yet published (a missing marker), only 'Grunduppgift' is kept."""
    raw = read_pcaxis(
        real_data / KSI / "ksi5555.px",
        rel=f"{KSI}/ksi5555.px",
        dash="unpublished",
        indicator_prefix="KSIM",
        keep={"tabelluppgift": "Grund"},
    )
    level = raw[raw["reject"].isna()]
    assert _value(level, "0580", "KSIM_INSKARBLOS16_65", "2022-06") == 4707.0
    assert _value(level, "0580", "KSIM_INSKARBLOS16_65", "2026-01") == 5170.0
    assert _value(level, "0580", "KSIM_INSKARBLOS16_65", "2026-02") == "-"
    derived = raw[raw["reject"].notna()]
    assert len(derived) == 3 * len(level)
    assert derived["reject"].str.contains("derived from the level").all()


@pytest.mark.real
def test_clean_accounts_for_every_ksi_row_and_q4_population_is_kolada(real_data: Path) -> None:
    """Cleaned with the project's manifest: kept + rejected + missing = read, and Q4 folkmängd = N01951 (Jönköping 2022)."""
    specs = {s.name: s for s in load_sources(PROJECT_ROOT / "data" / "real-sources.yaml")}
    spec = specs["linkoping_ksi_quarterly"]
    raw = read_pcaxis(real_data / KSI / "ksi2242.px", rel=f"{KSI}/ksi2242.px", **spec.options)
    raw["spec"] = spec.name
    res = clean_indicators(raw, {spec.name: spec})
    tidy = res.tidy
    totals = res.manifest()["totals"]
    assert totals["rows_read"] == len(raw) == 101_120
    assert totals["rows_read"] == sum(
        totals[k] for k in ("rows_kept", "rows_rejected", "rows_missing", "rows_duplicate")
    )
    assert len(res.rejected) == totals["rows_rejected"]
    q4 = tidy[(tidy["municipality"] == "0680") & (tidy["indicator"] == "KSI_BEFOLKNING")]
    assert q4.set_index("period").loc["2022-Q4", "value"] == 145114.0
    nyf = tidy[(tidy["indicator"] == "KSI_NYFORETAGANDE") & (tidy["period"] == "2020-Q1")]
    # dated 120 days after the quarter (Tillväxtanalys released Q1 2020 on 15 July 2020)
    assert (pd.to_datetime(nyf["published"]) == pd.Timestamp("2020-07-29")).all()


def _px(tmp_path: Path, data: str) -> Path:
    p = tmp_path / "t.px"
    p.write_bytes(
        (
            'CHARSET="ANSI";\nSTUB="tid","kommun";\nHEADING="indikator";\n'
            'VALUES("tid")="2020","2021";\nVALUES("kommun")="Jönköping";\n'
            'CODES("kommun")="0680";\nVALUES("indikator")="Folkmängd";\n'
            f'CODES("indikator")="Befolkning";\nDATA=\n{data};\n'
        ).encode("cp1252")
    )
    return p


def test_px_without_dash_meaning_is_refused(tmp_path: Path) -> None:
    """The manifest must say what '-' means; the reader does not guess."""
    with pytest.raises(DataFileError, match="option 'dash'"):
        read_pcaxis(_px(tmp_path, "1.0 2.0"), rel="t.px")


def test_truncated_px_names_the_file_and_the_cell_counts(tmp_path: Path) -> None:
    """A DATA block shorter than the dimensions is a DataFileError with the line and both counts."""
    with pytest.raises(DataFileError, match=r"has 1 data cells, .* make 2") as exc:
        parse_px(_px(tmp_path, "1.0"), "t.px")
    assert exc.value.row is not None


def test_small_px_reads_latin1_names_years_and_zero_dashes(tmp_path: Path) -> None:
    """A cp1252 file with a year dimension only: names decoded, '-' read as 0 when the manifest says so."""
    raw = read_pcaxis(_px(tmp_path, '"-" 2.0'), rel="t.px", dash="zero", indicator_prefix="X")
    assert raw["municipality_name"].astype(str).tolist() == ["Jönköping", "Jönköping"]
    assert raw["period"].astype(str).tolist() == ["2020", "2021"]
    assert [float(v) for v in raw["value"]] == [0.0, 2.0]
    assert raw["source_row"].tolist() == [10, 10]  # the line after DATA=


def test_a_px_file_saved_as_utf16_says_so(tmp_path: Path) -> None:
    """It said 'has no DATA= block' (found by attacking the CLI); the CSV readers name UTF-16."""
    p = _px(tmp_path, "1.0 2.0")
    p.write_bytes(p.read_bytes().decode("cp1252").encode("utf-16"))
    with pytest.raises(DataFileError, match="is UTF-16 text, which is not read as a PX file"):
        parse_px(p, "t.px")
