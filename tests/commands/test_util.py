"""Tests of commands/_util.py: command groups show examples in their help."""

from __future__ import annotations

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
