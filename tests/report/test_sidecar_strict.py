"""report.json is strict JSON: a NaN or infinite number fails the run instead of being written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ks_analysis.report.sidecar import write_report_json


def test_a_non_finite_number_is_refused_and_the_last_sidecar_stays(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    write_report_json({"goals": [{"p_met": 0.5}]}, path)
    with pytest.raises(ValueError, match=r"NaN or infinite number at goals\[1\]\.p_met"):
        write_report_json({"goals": [{"p_met": float("nan")}]}, path)
    assert json.loads(path.read_text(encoding="utf-8")) == {"goals": [{"p_met": 0.5}]}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
