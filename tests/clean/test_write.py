"""Writing clean's outputs: all three files or none, read back as written."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from ks_analysis.clean import CleanResult, clean_indicators, read_tidy, write_clean
from ks_analysis.errors import OutputError
from ks_analysis.ingest.manifest import SourceSpec


def _result(
    make_raw: Callable[..., pd.DataFrame], make_spec: Callable[..., SourceSpec]
) -> CleanResult:
    """A small clean result with one kept and one rejected row."""
    raw = make_raw([{"value": "2.5"}, {"period": "2021", "value": "abc"}])
    return clean_indicators(raw, {"s": make_spec()})


def test_outputs_read_back_as_written(
    tmp_path: Path, make_raw: Callable[..., pd.DataFrame], make_spec: Callable[..., SourceSpec]
) -> None:
    """The tidy table reads back equal, rejected.csv has the reason, manifest.json the totals."""
    res = _result(make_raw, make_spec)
    paths = write_clean(res, tmp_path / "out")
    pd.testing.assert_frame_equal(read_tidy(paths["indicators"]), res.tidy)
    rejected = pd.read_csv(paths["rejected"])
    assert rejected["reason"].tolist() == [
        "not a number; write numbers with '.' as decimal point and no text"
    ]
    manifest = json.loads(paths["manifest"].read_text(encoding="utf-8"))
    assert manifest["totals"]["rows_kept"] == 1 and manifest["totals"]["rows_rejected"] == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "indicators.parquet",
        "manifest.json",
        "rejected.csv",
    ]


def test_a_failed_write_leaves_earlier_outputs_untouched(
    tmp_path: Path,
    make_raw: Callable[..., pd.DataFrame],
    make_spec: Callable[..., SourceSpec],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the last file fails, the earlier outputs stay as they were, no temporary file or folder
    is left, and the error is one OutputError line naming the folder (exit 1)."""
    out = tmp_path / "out"
    write_clean(_result(make_raw, make_spec), out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(self: CleanResult) -> dict[str, object]:
        raise OSError("disk full")

    monkeypatch.setattr(CleanResult, "manifest", broken)
    fresh = clean_indicators(make_raw([{"value": "9"}]), {"s": make_spec()})
    with pytest.raises(
        OutputError, match=r"/out: writing clean's outputs failed: disk full; "
    ) as err:
        write_clean(fresh, out)
    assert err.value.exit_code == 1
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
