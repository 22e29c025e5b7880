"""Tests of backtest/track_record.py: the committed summary, its Swedish prose and notebook 02."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ks_analysis.backtest import replay as bt


def test_committed_track_record_for_the_report() -> None:
    """The report reads the committed summary without rerunning the backtest."""
    summary = bt.track_record_summary()
    if not summary:
        pytest.skip("no committed track record")
    pairs = {(c["cutoff"], c["family"]) for c in summary["cells"]}
    assert pairs == {(c, f) for c in ("T1", "T2") for f in ("monthly", "quarterly", "annual")}
    assert set(summary["defaults"]) == {"monthly", "quarterly", "annual"}
    assert summary["runtime_s"] > 0
    assert bt.track_record(raw="") == summary


def test_track_record_text_for_the_report() -> None:
    """Swedish sentences for the report's method section, with figures from the committed summary."""
    lines = bt.track_record_text_sv()
    if not bt.track_record_summary():
        assert lines == []
        return
    assert lines[0].startswith("Prognosmetoder")
    assert any("30 april" in x for x in lines) and any("31 augusti" in x for x in lines)


def test_track_record_notebook_runs(tmp_path: Path) -> None:
    """notebooks/02-forecast-track-record.ipynb runs with papermill on the committed summary."""
    papermill = pytest.importorskip("papermill")
    from ks_analysis.paths import NOTEBOOKS_DIR

    if not bt.track_record_summary():
        pytest.skip("no committed track record")
    out = tmp_path / "o.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS_DIR / "02-forecast-track-record.ipynb"),
        str(out),
        kernel_name="python3",
        progress_bar=False,
    )
    nb = json.loads(out.read_text(encoding="utf-8"))
    assert any("image/png" in o.get("data", {}) for c in nb["cells"] for o in c.get("outputs", []))
