"""Review fixes in the CLI layer: no overwriting, no writing under data/raw, clear messages, file modes, examples."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ks_analysis.cli import main
from ks_analysis.errors import ParameterError
from ks_analysis.paths import DEMO_DIR, RAW_DIR, refuse_raw_output


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().err


def test_demo_refuses_a_non_empty_out_folder_and_keeps_its_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "README.md").write_text("my notes\n", encoding="utf-8")
    assert main(["demo", "--out", str(out)]) == 2
    err = _err(capsys)
    assert f"--out {out}: the folder is not empty" in err and "choose an empty or new folder" in err
    assert (out / "README.md").read_text(encoding="utf-8") == "my notes\n"
    assert sorted(p.name for p in out.iterdir()) == ["README.md"]


def test_demo_writes_into_an_empty_or_new_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["demo", "--out", str(empty)]) == 0
    assert main(["demo", "--out", str(tmp_path / "new")]) == 0
    assert (empty / "sources.yaml").exists() and (tmp_path / "new" / "sources.yaml").exists()


def test_refuse_raw_output_allows_only_the_demo_folder_when_asked() -> None:
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
    target = RAW_DIR / "out-of-bounds"
    assert main([*command, "--out", str(target)]) == 2
    assert "never writes under the project's data/raw" in _err(capsys)
    assert not target.exists()


def test_clean_out_that_is_a_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "x"
    f.write_text("keep\n", encoding="utf-8")
    assert main(["clean", "--out", str(f)]) == 2
    assert f"--out {f}: is a file, not a folder" in _err(capsys)
    assert f.read_text(encoding="utf-8") == "keep\n"


def test_clean_raw_that_does_not_exist_says_folder_not_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["clean", "--raw", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    err = _err(capsys)
    assert (
        "nope: raw data folder not found; check the --raw path" in err and "sources.yaml" not in err
    )


def _expected_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def test_clean_outputs_get_the_umask_mode_not_0600(tmp_path: Path) -> None:
    assert main(["clean", "--out", str(tmp_path / "o")]) == 0
    for name in ("indicators.parquet", "rejected.csv", "manifest.json"):
        assert stat.S_IMODE((tmp_path / "o" / name).stat().st_mode) == _expected_mode(), name


def test_assessments_new_file_gets_the_umask_mode(tmp_path: Path) -> None:
    assert main(["assessments", "new", "--period", "2020-T1", "--raw", str(tmp_path)]) == 0
    assert (
        stat.S_IMODE((tmp_path / "assessments" / "2020-T1.yaml").stat().st_mode) == _expected_mode()
    )


@pytest.mark.parametrize("group", ["fetch", "assessments"])
def test_group_help_has_examples(group: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([group, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "Examples:" in out and f"ks-analysis {group} " in out.split("Examples:")[1]
