"""Clean on the shared real data (skips without it, fails without it under CI=true)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from pathlib import Path

import pandas as pd
import pytest

from ks_analysis.clean import CleanResult, run_clean
from ks_analysis.cli import main
from ks_analysis.ingest.kolada_web import read_kolada_kpi_metadata
from ks_analysis.paths import PROJECT_ROOT

pytestmark = pytest.mark.real

SOURCES = PROJECT_ROOT / "data" / "real-sources.yaml"


@pytest.fixture(scope="module")
def cleaned(real_data: Path) -> CleanResult:
    """All real data cleaned once with the project's manifest."""
    return run_clean(real_data, SOURCES)


def _value(
    tidy: pd.DataFrame, municipality: str, indicator: str, period: str, gender: str = "T"
) -> float:
    hit = tidy[
        (tidy["municipality"] == municipality)
        & (tidy["indicator"] == indicator)
        & (tidy["period"] == period)
        & (tidy["gender"] == gender)
    ]
    assert len(hit) == 1, f"{municipality} {indicator} {period} {gender}: {len(hit)} rows"
    return float(hit["value"].iloc[0])


def test_issue_facts(cleaned: CleanResult) -> None:
    """Vaggeryd: N03926 2022 = 2.140871, registered unemployed June 2022 = 298, new firms 2007 Q1 = 18, NII 2006 = 45."""
    tidy = cleaned.tidy
    assert _value(tidy, "0665", "N03926", "2022") == pytest.approx(2.140871)
    assert _value(tidy, "0665", "AF_ARBETSLOSA", "2022-06") == 298
    assert _value(tidy, "0665", "TVA_NYSTARTADE", "2007-Q1") == 18
    assert _value(tidy, "0665", "U00408", "2006") == 45


def test_every_input_counts_add_up(cleaned: CleanResult) -> None:
    """rows_read = kept + rejected + missing + duplicate for every input; totals match the outputs."""
    for i in cleaned.inputs:
        assert (
            i["rows_read"]
            == i["rows_kept"] + i["rows_rejected"] + i["rows_missing"] + i["rows_duplicate"]
        ), i["file"]
        assert len(i["sha256"]) == 64
    totals = cleaned.manifest()["totals"]
    assert totals["rows_kept"] == len(cleaned.tidy)
    assert totals["rows_rejected"] == len(cleaned.rejected)
    read = {(i["source"], i["file"]) for i in cleaned.inputs}
    assert len(read) == len(cleaned.inputs) >= 60


def test_election_copies_dropped_vaggeryd(cleaned: CleanResult) -> None:
    """Vaggeryd N05401 2014-2017 all 84.729451 in Kolada: 2014 and 2018 kept, 2015-2017 rejected as copies."""
    tidy = cleaned.tidy
    years = tidy[
        (tidy["municipality"] == "0665") & (tidy["indicator"] == "N05401") & (tidy["gender"] == "T")
    ]["period"].tolist()
    assert "2014" in years and "2018" in years and not {"2015", "2016", "2017"} & set(years)
    assert _value(tidy, "0665", "N05401", "2014") == pytest.approx(84.729451)
    rej = cleaned.rejected
    copies = rej[
        rej["source_file"].str.endswith("n05401--by--geo--year.csv")
        & rej["reason"].str.startswith("carried-forward copy")
    ]
    assert len(copies) > 0


def test_tillvaxtanalys_2010_twice_newer_kept(cleaned: CleanResult) -> None:
    """2010 appears under '*' and '**': the '**' columns are kept, the older ones rejected with the reason."""
    rej = cleaned.rejected
    older = rej[rej["reason"].str.startswith("older definition of 2010-Q1 (column '201001*')")]
    assert len(older) == 290 + 1 + 21 + 1  # kommuner, Samtliga; län, Samtliga
    aggregates = rej[rej["reason"] == "aggregate row 'Samtliga' dropped on purpose (not a kommun)"]
    assert len(aggregates) == 2 * 58


def test_uppgift_saknas_rows_counted(cleaned: CleanResult) -> None:
    """The 28 'Uppgift saknas' rows of the AF database (with their duplicates) are rejected and counted."""
    af = next(i for i in cleaned.inputs if i["file"].endswith("unemployed.sqlite3"))
    assert (af["rows_read"], af["rows_kept"], af["rows_rejected"]) == (6988, 6960, 28)


def test_bas_vintages(cleaned: CleanResult, real_data: Path) -> None:
    """The newest BAS vintage wins; as of 2026-04-30 the 30 April vintage is what was known."""
    assert _value(cleaned.tidy, "0000", "SCB_BAS_ARBETSLOSA", "2020-01") == 290665
    then = run_clean(real_data, SOURCES, as_of=dt.date(2026, 4, 30))
    assert _value(then.tidy, "0000", "SCB_BAS_ARBETSLOSA", "2020-01") == 293292
    assert (
        not (then.tidy["period"] > "2026-02").any()
        or then.tidy.loc[then.tidy["indicator"].str.startswith("SCB_BAS"), "period"].max()
        == "2026-02"
    )


def test_other_formats(cleaned: CleanResult) -> None:
    """Spot checks across formats: Socialstyrelsen (Dalarnas län 0020), Bolagsverket, SCB län, KPI.csv, PX-Web."""
    tidy = cleaned.tidy
    assert _value(tidy, "0020", "SOS_EKB_HUSHALL", "2014-01") == 3914
    assert _value(tidy, "0020", "BV_NYREG_AKTIEBOLAG", "2020-01") == 37
    assert _value(tidy, "0006", "SCB_BAS_ARBETSLOSHET", "2022-04") == 4.5
    assert _value(tidy, "0000", "SCB_KPI", "2020-01") == 1900
    assert _value(tidy, "0006", "SCB_000002O5", "2007") > 0
    assert _value(tidy, "0020", "TVA_NYSTARTADE", "2024-Q1") == 433
    assert _value(tidy, "0020", "SCB_BYGG_PABORJADE__FLERBOSTADSHUS", "1975-Q1") == 84
    konkurser_2009 = tidy[
        (tidy["municipality"] == "0020")
        & tidy["indicator"].str.startswith("KONKURSER__")
        & tidy["period"].str.startswith("2009-")
    ]["value"].sum()
    assert konkurser_2009 == 175


def test_kpi_metadata() -> None:
    """kpi_results.csv: 2 039 KPIs with title, unit derived from the title and the gender split."""
    from ks_analysis.paths import real_data_dir

    path = real_data_dir() / "kolada_dump" / "kpi_results.csv"
    if not path.exists():
        pytest.skip("real data not found")
    meta = read_kolada_kpi_metadata(path).set_index("id")
    assert len(meta) == 2039
    assert meta.loc["N03926", "unit"] == "%"
    assert meta.loc["N07917", "unit"] == "antal/1000 inv"
    assert bool(meta.loc["N03926", "divided_by_gender"])
    assert meta.loc["N03926", "publication_date"] == pd.Timestamp("2025-02-22")


def test_cli_exit_codes_and_untouched_outputs(
    real_data: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """CLI: exit 0 on the real data; a truncated file listed in the manifest gives exit 2 and leaves outputs as they were."""
    out = tmp_path / "out"
    assert (
        main(["-q", "clean", "--raw", str(real_data), "--sources", str(SOURCES), "--out", str(out)])
        == 0
    )
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["totals"]["rows_read"] > 400_000
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    # A copy of a raw folder with one broken workbook and one unlisted file.
    raw = tmp_path / "raw"
    (raw / "sub").mkdir(parents=True)
    src = real_data / "laget_i_dalarna" / "byggande.xlsx"
    (raw / "sub" / "byggande.xlsx").write_bytes(src.read_bytes()[:5000])
    shutil.copy(
        real_data / "laget_i_dalarna" / "Bolagsverket_2024_12_11.csv", raw / "sub" / "extra.csv"
    )
    (raw / "sources.yaml").write_text(
        "sources:\n  - name: b\n    files: sub/byggande.xlsx\n    reader: scb_housing_quarterly\n    publication_lag: {days: 75}\n",
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING):  # no -q: it leaves only errors, and this is a warning
        assert main(["clean", "--raw", str(raw), "--out", str(out)]) == 2
    assert "sub/extra.csv is in the raw folder but not listed in sources.yaml" in caplog.text
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_web_export_aggregates_and_repeated_sollentuna(cleaned: CleanResult) -> None:
    """alla invanare.xlsx: 'Alla kommuner' rows dropped and counted (15 KPIs x 22 years); Sollentuna's repeat collapses."""
    web = next(i for i in cleaned.inputs if i["file"].endswith("alla invanare.xlsx"))
    assert web["rows_rejected"] == 15 * 22
    assert web["rejected_by_reason"] == {"aggregate row '…' dropped on purpose (not a kommun)": 330}
    tidy = cleaned.tidy
    sollentuna = tidy[
        (tidy["municipality"] == "0163") & (tidy["indicator"] == "KOLADA_INVANARE_65_ANDEL")
    ]
    assert len(sollentuna) == 22 and not sollentuna["period"].duplicated().any()


def test_tillvaxtanalys_lan_revisions(cleaned: CleanResult) -> None:
    """The 2024 Tillväxtanalys file agrees on 37 of 42 overlapping quarters and revises 5; the newer values win."""
    tva = next(i for i in cleaned.inputs if i["file"].endswith("Tillvaxtananalys_2024_08_21.xlsx"))
    assert (tva["rows_read"], tva["rows_kept"], tva["rows_duplicate"]) == (53, 16, 37)
    assert _value(cleaned.tidy, "0020", "TVA_NYSTARTADE", "2011-Q1") == 467
