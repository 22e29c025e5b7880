"""Tests of paths.py: nothing writes under data/raw, except the demo command into the demo folder."""

from __future__ import annotations

import pytest

from ks_analysis.cli import main
from ks_analysis.errors import ParameterError
from ks_analysis.paths import DEMO_DIR, RAW_DIR, refuse_raw_output


def test_refuse_raw_output_allows_only_the_demo_folder_when_asked() -> None:
    """Paths under data/raw are refused, the demo folder itself only passes with allow_demo, its subfolders never."""
    with pytest.raises(
        ParameterError, match=r"^--out .*: the package never writes under the project's data/raw"
    ):
        refuse_raw_output(RAW_DIR / "processed", "--out")
    with pytest.raises(ParameterError, match="never writes under the project's data/raw"):
        refuse_raw_output(RAW_DIR, "--out")
    with pytest.raises(ParameterError, match="never writes under the project's data/raw"):
        refuse_raw_output(DEMO_DIR, "--out")
    refuse_raw_output(DEMO_DIR, "--out", allow_demo=True)
    with pytest.raises(ParameterError):
        refuse_raw_output(DEMO_DIR / "sub", "--out", allow_demo=True)


@pytest.mark.parametrize("command", [["clean"], ["explore", "N03926"], ["demo"]])
def test_out_under_data_raw_is_refused(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """clean, explore and demo refuse an --out under data/raw with exit 2 and create nothing there."""
    target = RAW_DIR / "out-of-bounds"
    assert main([*command, "--out", str(target)]) == 2
    assert "never writes under the project's data/raw" in capsys.readouterr().err
    assert not target.exists()
