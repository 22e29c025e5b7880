"""Tests of commands/_util.py: command groups show examples in their help."""

from __future__ import annotations

from pathlib import Path

import pytest

from ks_analysis.cli import main


@pytest.mark.parametrize("group", ["fetch", "assessments"])
def test_group_help_has_examples(group: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`fetch --help` and `assessments --help` end with an Examples section that shows the command."""
    with pytest.raises(SystemExit) as exc:
        main([group, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "Examples:" in out and f"ks-analysis {group} " in out.split("Examples:")[1]


def test_backtest_reads_the_raw_folders_own_manifest_before_the_projects(tmp_path: Path) -> None:
    """--raw X with X/sources.yaml read the project's real-data manifest instead (found by
    attacking the CLI); the shared real data, with no manifest of its own, still gets it."""
    from ks_analysis.commands.backtest import default_sources

    project, own, bare = tmp_path / "project", tmp_path / "own", tmp_path / "bare"
    for d in (project / "data", own, bare):
        d.mkdir(parents=True)
    (project / "data" / "real-sources.yaml").write_text("sources: []\n", encoding="utf-8")
    (own / "sources.yaml").write_text("sources: []\n", encoding="utf-8")
    assert default_sources(own, None, project) == own / "sources.yaml"
    assert default_sources(bare, None, project) == project / "data" / "real-sources.yaml"
    given = tmp_path / "given.yaml"
    assert default_sources(own, given, project) == given
    assert default_sources(bare, None, tmp_path / "nothing") is None
