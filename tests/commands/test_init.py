"""``ks-analysis init DIR``: a working folder with data/raw/, sources.yaml and a goal catalogue to edit."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ks_analysis.cli import main
from ks_analysis.goals.catalogue import DEFAULT_CATALOGUE, load_catalogue


def test_init_lays_out_the_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """init writes data/raw/sources.yaml, data/raw/assessments/ and goals.yaml (the packaged catalogue)."""
    work = tmp_path / "ks-data"
    assert main(["init", str(work)]) == 0
    out = capsys.readouterr().out
    assert str(work / "goals.yaml") in out and "fetch kolada" in out
    assert (work / "data" / "raw" / "assessments").is_dir()
    assert (work / "goals.yaml").read_text(encoding="utf-8") == DEFAULT_CATALOGUE.read_text(
        encoding="utf-8"
    )
    manifest = (work / "data" / "raw" / "sources.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load(manifest) == {"sources": []}
    assert "fetch kolada" in manifest  # says how entries get there


def test_init_for_another_kommun_keeps_comments(tmp_path: Path) -> None:
    """--municipality 0680: the copy names Jönköping and its län peers, and keeps the catalogue's comments."""
    work = tmp_path / "jkpg"
    assert main(["-q", "init", str(work), "--municipality", "0680"]) == 0
    text = (work / "goals.yaml").read_text(encoding="utf-8")
    cat = load_catalogue(work / "goals.yaml")
    assert cat.municipality == "0680"
    assert "0680" not in cat.peer_group and "0665" in cat.peer_group
    assert cat.peer_group_name == "Övriga kommuner i Jönköpings län"
    assert "# Status cut-offs for P(target met)" in text  # a comment of the packaged file
    assert 'municipality: "0680"' in text


def test_init_never_replaces_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A second init into the same folder exits 2 and leaves the edited files alone."""
    work = tmp_path / "w"
    assert main(["init", str(work)]) == 0
    (work / "goals.yaml").write_text("edited", encoding="utf-8")
    capsys.readouterr()
    assert main(["init", str(work)]) == 2
    assert "never replaces a file" in capsys.readouterr().err
    assert (work / "goals.yaml").read_text(encoding="utf-8") == "edited"
