"""Tests of commands/clean.py: clear messages for a bad --out or --raw, and output file modes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ks_analysis.cli import main


def test_clean_out_that_is_a_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`clean --out` naming a file exits 2 saying it is not a folder, and the file keeps its content."""
    f = tmp_path / "x"
    f.write_text("keep\n", encoding="utf-8")
    assert main(["clean", "--out", str(f)]) == 2
    assert f"--out {f}: is a file, not a folder" in capsys.readouterr().err
    assert f.read_text(encoding="utf-8") == "keep\n"


def test_clean_raw_that_does_not_exist_says_folder_not_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`clean --raw` naming a missing folder exits 2 with 'raw data folder not found', not a sources.yaml error."""
    assert main(["clean", "--raw", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert (
        "nope: raw data folder not found; check the --raw path" in err and "sources.yaml" not in err
    )


def _expected_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def test_clean_outputs_get_the_umask_mode_not_0600(tmp_path: Path) -> None:
    """clean's three outputs get the mode the umask gives (not the 0600 of a temporary file)."""
    assert main(["clean", "--out", str(tmp_path / "o")]) == 0
    for name in ("indicators.parquet", "rejected.csv", "manifest.json"):
        assert stat.S_IMODE((tmp_path / "o" / name).stat().st_mode) == _expected_mode(), name
