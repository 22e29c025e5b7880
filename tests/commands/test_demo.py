"""Tests of commands/demo.py: `demo --out` never overwrites an analyst's files."""

from __future__ import annotations

from pathlib import Path

import pytest

from ks_analysis.cli import main


def test_demo_refuses_a_non_empty_out_folder_and_keeps_its_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`demo --out` into a non-empty folder exits 2 with a message and leaves the folder's files as they were."""
    out = tmp_path / "mine"
    out.mkdir()
    (out / "README.md").write_text("my notes\n", encoding="utf-8")
    assert main(["demo", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"--out {out}: the folder is not empty" in err and "choose an empty or new folder" in err
    assert (out / "README.md").read_text(encoding="utf-8") == "my notes\n"
    assert sorted(p.name for p in out.iterdir()) == ["README.md"]


def test_demo_writes_into_an_empty_or_new_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`demo --out` succeeds into an empty folder and into a folder that does not exist yet."""
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["demo", "--out", str(empty)]) == 0
    assert main(["demo", "--out", str(tmp_path / "new")]) == 0
    assert (empty / "sources.yaml").exists() and (tmp_path / "new" / "sources.yaml").exists()
