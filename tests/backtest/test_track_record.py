"""Tests of backtest/track_record.py: the committed summary, its Swedish prose and notebook 02."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ks_analysis.backtest import replay as bt
from ks_analysis.backtest import track_record as tr


def test_committed_track_record_for_the_report() -> None:
    """The report reads the committed summary without rerunning the backtest."""
    summary = bt.track_record_summary()
    if not summary:
        pytest.skip("no committed track record")
    pairs = {(c["cutoff"], c["family"]) for c in summary["cells"]}
    assert pairs == {(c, f) for c in ("T1", "T2") for f in ("monthly", "quarterly", "annual")}
    assert set(summary["defaults"]) == {"monthly", "quarterly", "annual"}
    assert summary["runtime_s"] > 0


def test_track_record_without_raw_reads_the_summary_file_and_never_reruns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """track_record(raw="") returns what the summary file holds and does not run the backtest."""
    fake = tmp_path / "track_record.json"
    fake.write_text(json.dumps({"runtime_s": 1.5, "cells": [], "defaults": {"annual": "x"}}))
    monkeypatch.setattr(tr, "TRACK_RECORD_FILE", fake)

    def _no_rerun(*args: object, **kwargs: object) -> None:
        raise AssertionError("the backtest was rerun")

    monkeypatch.setattr(bt, "run_and_summarise", _no_rerun)
    assert bt.track_record(raw="") == {"runtime_s": 1.5, "cells": [], "defaults": {"annual": "x"}}
    fake.unlink()
    assert bt.track_record(raw="") == {}


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
