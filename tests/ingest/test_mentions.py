"""The pre-kernel check of an indicator id: surely absent, present, or left to the cleaning."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ks_analysis.ingest.mentions import indicator_mentions
from ks_analysis.paths import DEMO_DIR


def test_demo_ids_are_found_in_names_and_contents() -> None:
    # N03926 is named by its Kolada bulk file; the local register's id only inside its CSV
    assert indicator_mentions(DEMO_DIR, None, "N03926").found is True
    assert indicator_mentions(DEMO_DIR, None, "n03926").found is True
    assert indicator_mentions(DEMO_DIR, None, "LOKAL_FARDIGSTALLDA_BOSTADER").found is True


def test_an_id_in_no_file_is_surely_absent_with_lookalikes() -> None:
    m = indicator_mentions(DEMO_DIR, None, "N99999")
    assert m.found is False
    assert m.files > 10  # every file of the demo manifest was looked at
    assert "N00999" in m.ids and "N03926" in m.ids


def test_a_prefix_of_an_id_is_not_a_mention() -> None:
    # "N0392" occurs inside N03926 and N03920, but is not itself an id in the data
    assert indicator_mentions(DEMO_DIR, None, "N0392").found is False


def test_a_workbook_that_does_not_name_its_indicators_leaves_it_to_cleaning(
    tmp_path: Path,
) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(DEMO_DIR, raw)
    (raw / "arbetsformedlingen" / "extra.xlsx").write_bytes(b"PK\x03\x04 not scanned")
    manifest = (raw / "sources.yaml").read_text(encoding="utf-8")
    assert "inskrivna_arbetslosa.csv" in manifest
    (raw / "sources.yaml").write_text(
        manifest.replace("inskrivna_arbetslosa.csv", "*.*"), encoding="utf-8"
    )
    assert indicator_mentions(raw, None, "N99999").found is None


def test_explore_refuses_an_unknown_id_before_any_kernel(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ks_analysis.cli", "explore", "N99999", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    err = proc.stderr.strip()
    assert "'N99999' is in none of the" in err and "N00999" in err and "kpi search" in err
    assert "Traceback" not in err and "papermill" not in err.lower()
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.real
def test_real_manifest_finds_real_ids_and_cannot_rule_out_others(real_data: Path) -> None:
    sources = Path(__file__).resolve().parents[2] / "data" / "real-sources.yaml"
    assert indicator_mentions(real_data, sources, "N03926").found is True
    # its workbooks and SQLite files do not say what they hold: the cleaning decides
    assert indicator_mentions(real_data, sources, "N99999").found is None
