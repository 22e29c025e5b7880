"""Shared fixtures: the shared real data (skips without it, fails without it in CI) and the demo data."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from ks_analysis.paths import DEMO_DIR, real_data_dir

TESTS_DIR = Path(__file__).resolve().parent
FIXTURES = TESTS_DIR / "data"
ARTIFACTS = TESTS_DIR / "artifacts"


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The shared real public data (``$KS_REAL_DATA`` or ``../shared/data/real``).

    Skips when absent on a developer machine; with ``CI=true`` its absence fails the test,
    because CI must exercise the real inputs.
    """
    root = real_data_dir()
    if not (root / "SOURCES.md").exists():
        msg = f"real data not found at {root} (set KS_REAL_DATA to its folder)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return root


@pytest.fixture(scope="session")
def demo_raw() -> Path:
    """The committed demo dataset."""
    return DEMO_DIR


@pytest.fixture
def demo_raw_copy(tmp_path: Path) -> Path:
    """A copy of the demo dataset that a test may change, with the process's memory of raw
    folders read emptied first."""
    import shutil

    from ks_analysis.ingest import memo

    memo.clear()
    out = tmp_path / "raw"
    shutil.copytree(DEMO_DIR, out)
    return out


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Folder for test artefacts (screenshots, rendered HTML), ignored by git."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def demo_reports_2019(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The three 2019 reports rendered by one CLI call (`report --year 2019`) from the demo data."""
    from ks_analysis.cli import main

    out = tmp_path_factory.mktemp("reports")
    assert main(["report", "--year", "2019", "--out", str(out)]) == 0
    return {p: out / "0665" / p for p in ("2019-T1", "2019-T2", "2019-Y")}


@pytest.fixture(scope="session")
def demo_report_t1(demo_reports_2019: dict[str, Path]) -> Path:
    """The 2019-T1 report's folder."""
    return demo_reports_2019["2019-T1"]


@pytest.fixture(scope="session")
def real_report_2022_t2(real_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 2022-T2 report rendered from the shared real data with the project's real-data manifest."""
    from ks_analysis.cli import main
    from ks_analysis.paths import PROJECT_ROOT

    out = tmp_path_factory.mktemp("real-reports")
    sources = PROJECT_ROOT / "data" / "real-sources.yaml"
    assert (
        main(
            [
                "report",
                "--period",
                "2022-T2",
                "--raw",
                str(real_data),
                "--sources",
                str(sources),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    return out / "0665" / "2022-T2"


@pytest.fixture
def one_source_raw(tmp_path: Path) -> Callable[..., Path]:
    """A raw folder factory: one file under ``tmp_path/raw`` and a sources.yaml naming it and its reader."""

    def make(name: str, text: str, reader: str = "long_csv") -> Path:
        raw = tmp_path / "raw"
        raw.mkdir(exist_ok=True)
        (raw / name).write_text(text, encoding="utf-8")
        (raw / "sources.yaml").write_text(
            f"sources:\n  - name: t\n    files: {name}\n    reader: {reader}\n    publication_lag: {{days: 30}}\n",
            encoding="utf-8",
        )
        return raw

    return make


@pytest.fixture(scope="session")
def real_nowcast_tidy(real_data: Path) -> object:
    """The tidy rows of the catalogue's nowcast KPIs and their in-year signals, cleaned from the real data."""
    from ks_analysis.backtest.nowcast import nowcast_indicators, nowcast_tidy
    from ks_analysis.paths import PROJECT_ROOT

    inds = nowcast_indicators()
    ids = {i.id for i in inds} | {i.nowcast.signal for i in inds if i.nowcast is not None}
    return nowcast_tidy(real_data, PROJECT_ROOT / "data" / "real-sources.yaml", ids)
