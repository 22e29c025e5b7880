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
    families = ("monthly", "quarterly", "annual", "nowcast")
    assert pairs == {(c, f) for c in ("T1", "T2") for f in families}
    # every cell carries its effective n and the CI of its first ratio (issue 12's contract)
    assert all(c.get("effective_n") is not None for c in summary["cells"])
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


def test_publication_lags_are_cited_from_the_manifest(tmp_path: Path) -> None:
    """Each lag rule the backtest dates values by is listed with the ``source`` its manifest entry
    cites, and the Swedish text names it (or says the citation is missing)."""
    import pandas as pd

    from ks_analysis.backtest.design import BACKTEST_SERIES
    from ks_analysis.backtest.vintages import publication_lags
    from ks_analysis.ingest.manifest import load_sources

    manifest = tmp_path / "sources.yaml"
    manifest.write_text(
        "sources:\n"
        "  - name: tva\n    files: a.xlsx\n    reader: tillvaxtanalys_quarterly\n"
        "    publication_lag: {days: 105, source: 'Tillväxtanalys, publiceringskalender 2020'}\n"
        "  - name: sos\n    files: b.csv\n    reader: long_csv\n    publication_lag: {days: 31}\n",
        encoding="utf-8",
    )
    specs = {s.name: s for s in load_sources(manifest)}
    raw = pd.DataFrame(
        {"spec": ["tva", "sos", "sos"], "indicator": ["TVA_NYSTARTADE", "SOS_EKB_HUSHALL", "X"]}
    )
    lags = publication_lags(raw, specs, BACKTEST_SERIES)
    assert lags == [
        {"source": "sos", "groups": ["SOS_EKB_HUSHALL"], "days": {"SOS_EKB_HUSHALL": 31}, "date": None, "cited": None},
        {"source": "tva", "groups": ["TVA_NYSTARTADE"], "days": {"TVA_NYSTARTADE": 105}, "date": None,
         "cited": "Tillväxtanalys, publiceringskalender 2020"},
    ]  # fmt: skip
    text = tr.track_record_text_sv({"defaults": {}, "cells": [], "publication_lags": lags})[-1]
    # the reader's text counts what rests on a release calendar; the citations stay in the JSON
    assert "för 1 av 2 källor enligt källans egen publiceringskalender (105 dagar efter" in text
    assert "för 1 källa saknas belägg, och fördröjningen är en uppskattning" in text
    assert "sos" not in text and "tva" not in text  # no manifest keys for readers


def test_a_cell_with_too_few_independent_forecasts_makes_no_claim() -> None:
    """Below an effective n of 100 the text gives n and effective n and says it cannot be judged;
    above, the claims come with the ratio's 90 % interval."""
    cells = [
        {"cutoff": "T2", "family": "monthly", "n": 203, "effective_n": 44.0, "judged": False,
         "coverage80_calibrated": 0.70, "mase_vs_naive_annual": 0.46, "mase_vs_ytd_snaive": 0.88},
        {"cutoff": "T2", "family": "quarterly", "n": 2913, "effective_n": 687.6, "judged": True,
         "coverage80_calibrated": 0.821, "mase_vs_naive_annual": 0.572, "mase_vs_naive_annual_ci90": [0.544, 0.607],
         "mase_vs_ytd_snaive": 0.854, "mase_vs_ytd_snaive_ci90": [0.829, 0.885]},
    ]  # fmt: skip
    lines = tr.track_record_text_sv({"defaults": {}, "cells": cells})
    t2 = next(x for x in lines if x.startswith("Prövat per 31 augusti"))
    assert (
        "månadsserier (203 prognoser, värda omkring 44 oberoende): för få prognoser för att bedöma"
        in t2
    )
    assert "46 % mindre" not in t2
    assert (
        "kvartalsserier (2\u00a0913 prognoser, värda omkring 688 oberoende): 80 %-intervallet" in t2
    )
    assert "(90 %-intervall för kvoten 0,54–0,61)" in t2
