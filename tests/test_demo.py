"""The demo dataset: seeded, deterministic, committed as generated, and messy on purpose."""

from __future__ import annotations

from pathlib import Path

from ks_analysis.clean import run_clean
from ks_analysis.demo import generate_demo
from ks_analysis.paths import DEMO_DIR


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    """Two demo runs with the same seed write byte-identical files."""
    generate_demo(tmp_path / "a")
    generate_demo(tmp_path / "b")
    assert _snapshot(tmp_path / "a") == _snapshot(tmp_path / "b")


def test_other_seed_gives_other_numbers(tmp_path: Path) -> None:
    """Another seed gives other numbers in the local register."""
    generate_demo(tmp_path / "a")
    generate_demo(tmp_path / "b", seed=1)
    assert (
        _snapshot(tmp_path / "a")["lokalt/register.csv"]
        != _snapshot(tmp_path / "b")["lokalt/register.csv"]
    )


def test_committed_demo_data_is_what_the_generator_writes(tmp_path: Path) -> None:
    """data/raw/demo must be regenerated (ks-analysis demo --out data/raw/demo) when the generator changes."""
    generate_demo(tmp_path / "demo")
    assert _snapshot(tmp_path / "demo") == _snapshot(DEMO_DIR)


def test_demo_cleans_with_work_to_do_and_nothing_lost() -> None:
    """Cleaning the demo data accounts for every row and meets each kind of mess on purpose (aggregates, missing markers, negative counts, bad periods, duplicates)."""
    result = run_clean(DEMO_DIR)
    totals = result.manifest()["totals"]
    assert (
        totals["rows_read"]
        == totals["rows_kept"]
        + totals["rows_rejected"]
        + totals["rows_missing"]
        + totals["rows_duplicate"]
    )
    reasons = " ".join(result.rejected["reason"])
    assert (
        "Samtliga" in reasons
        and "Uppgift saknas" in reasons
        and "negative count" in reasons
        and "not a valid period" in reasons
    )
    assert totals["rows_duplicate"] >= 1 and totals["rows_missing"] >= 1
    tidy = result.tidy
    vaggeryd = tidy[(tidy["municipality"] == "0665") & (tidy["indicator"] == "N01951")]
    assert 12_500 < vaggeryd["value"].iloc[-1] < 15_500  # about 14 000 inhabitants
    assert set(tidy["municipality"]) >= {"0665", "0006", "0000", "0604", "0687"}
