"""The ks-analysis command: goals, periods, bad input exits 2 with one clear message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ks_analysis.cli import main
from ks_analysis.errors import ParameterError


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_goals_json_lists_the_8_goals_with_kinds(capsys: pytest.CaptureFixture[str]) -> None:
    """`goals --format json` lists the 8 goals with their kinds, areas and fields."""
    code, out, _ = run(capsys, "goals", "--format", "json")
    goals = json.loads(out)
    assert code == 0 and len(goals) == 8
    assert {g["id"]: g["kind"] for g in goals} == {
        1: "styrande",
        2: "styrande",
        3: "styrande",
        4: "stödjande",
        5: "stödjande",
        6: "styrande",
        7: "stödjande",
        8: "stödjande",
    }
    for g in goals:
        assert {"id", "area", "title", "kind", "ambition", "indicators"} <= set(g)
    assert goals[0]["area"] == "Tillväxt, hållbarhet och fysisk planering"


def test_goals_table_names_areas_and_targets(capsys: pytest.CaptureFixture[str]) -> None:
    """`goals` prints each goal with its kind and title, and the targets in words."""
    code, out, _ = run(capsys, "goals")
    assert code == 0
    assert "Mål 6 [styrande] Ökat medborgarinflytande" in out
    assert "Minst 50" in out and "Minst 50 antal" not in out and "Minst 1 på varje ort" in out


def test_periods_lists_the_three_cutoffs(capsys: pytest.CaptureFixture[str]) -> None:
    """`periods 2019` prints the three report periods with their cutoff dates and Swedish names."""
    code, out, _ = run(capsys, "periods", "2019")
    assert code == 0
    assert out.splitlines() == [
        "2019-T1  2019-04-30  Delår 1 2019 (per 30 april)",
        "2019-T2  2019-08-31  Delår 2 2019 (per 31 augusti)",
        "2019-Y   2019-12-31  Helår 2019 (per 31 december)",
    ]


def test_report_refuses_31_april_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """`report --period 2019-04-31` exits 2 with a message that April has 30 days, and no traceback."""
    code, out, err = run(capsys, "report", "--period", "2019-04-31")
    assert code == 2 and out == ""
    assert "April 2019 has 30 days" in err and "30 April" in err and "Traceback" not in err


def test_bad_municipality_and_as_of_exit_2_before_any_kernel(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A three-digit municipality or an impossible --as-of date exits 2 with a clear message."""
    code, _, err = run(capsys, "report", "--period", "2019-T1", "--municipality", "665")
    assert code == 2 and "4 digits" in err
    code, _, err = run(capsys, "report", "--period", "2019-T1", "--as-of", "2019-02-30")
    assert code == 2 and "not a date" in err


def test_unknown_subcommand_and_missing_raw_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    """An unknown subcommand and a missing --raw folder both exit 2."""
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2
    code, _, err = run(capsys, "clean", "--raw", "no/such/folder")
    assert code == 2 and "raw data folder not found" in err


def test_report_never_writes_under_data_raw(capsys: pytest.CaptureFixture[str]) -> None:
    """`report --out` under data/raw exits 2 and creates nothing there."""
    from ks_analysis.paths import RAW_DIR

    code, _, err = run(capsys, "report", "--period", "2019-T1", "--out", str(RAW_DIR / "reports"))
    assert code == 2 and "data/raw" in err
    assert not (RAW_DIR / "reports").exists()


PEERS_MSG = (
    "--peers: 'abc' is not a kommun code (4 digits with the leading zero, e.g. 0665 for Vaggeryd)"
)
MUNICIPALITY_MSG = "--municipality '665' is not a kommun code (4 digits with the leading zero, e.g. 0665 for Vaggeryd)"


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [("--peers", "0604,abc", PEERS_MSG), ("--municipality", "665", MUNICIPALITY_MSG)],
)
def test_bad_peers_or_municipality_get_one_message_from_every_path(
    capsys: pytest.CaptureFixture[str], flag: str, value: str, message: str
) -> None:
    """report, explore and the notebooks' adapter refuse the same value with the same words."""
    from ks_analysis import notebook_api as ks

    for argv in (["report", "--period", "2019-T1"], ["explore", "N03926"]):
        code, out, err = run(capsys, *argv, flag, value)
        assert (code, out) == (2, ""), argv
        assert err == f"ks-analysis: error: {message}\n", argv
    name = flag.removeprefix("--")
    for call in (
        lambda: ks.notebook_report_params(period="2019-T1", **{name: value}),
        lambda: ks.load_exploration(indicator="N03926", **{name: value}),
        lambda: ks.find_standouts(**{name: value}),
    ):
        with pytest.raises(ParameterError) as exc:
            call()
        assert str(exc.value) == message


def test_version_and_global_options_after_the_subcommand(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--version prints the installed version; -q and -v work before and after the subcommand."""
    from ks_analysis._version import package_version

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"ks-analysis {package_version()}\n"
    for argv in (["-q", "periods", "2019"], ["periods", "2019", "-q"], ["periods", "-q", "2019"]):
        code, out, err = run(capsys, *argv)
        assert (code, err) == (0, ""), argv
        assert out.startswith("2019-T1"), argv
    from ks_analysis.cli import build_parser

    args = build_parser().parse_args(["-q", "periods", "2019"])
    assert args.quiet is True  # a flag before the subcommand is not reset by the subcommand
    args = build_parser().parse_args(["periods", "2019", "--verbose"])
    assert (args.verbose, args.quiet) == (True, False)


def test_quiet_leaves_only_errors(capsys: pytest.CaptureFixture[str]) -> None:
    """With -q after the subcommand a bad value still gives its one error line, nothing else."""
    code, _, err = run(capsys, "report", "--period", "2019-T1", "--as-of", "2019-02-30", "-q")
    assert code == 2
    assert err.splitlines() == [
        "ks-analysis: error: --as-of '2019-02-30' is not a date; write YYYY-MM-DD, e.g. 2019-05-15"
    ]


def test_progress_bars_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """progress_enabled: off with -q, off when stderr is redirected, on for a terminal."""
    import argparse
    import io

    from ks_analysis.commands._util import progress_enabled

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert not progress_enabled(argparse.Namespace(quiet=False))
    monkeypatch.setattr("sys.stderr", Tty())
    assert progress_enabled(argparse.Namespace(quiet=False))
    assert not progress_enabled(argparse.Namespace(quiet=True))


def test_kernel_log_level_follows_the_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernels log warnings normally, and nothing with -q (root level ERROR)."""
    import logging

    from ks_analysis.publish.notebooks import kernel_arguments

    root = logging.getLogger()
    monkeypatch.setattr(root, "level", logging.INFO)
    assert kernel_arguments() == ["--IPKernelApp.log_level=30"]  # WARNING
    monkeypatch.setattr(root, "level", logging.ERROR)
    assert kernel_arguments() == ["--IPKernelApp.log_level=50"]  # CRITICAL


def test_a_kernel_starts_with_those_arguments(tmp_path: Path) -> None:
    """The kernel accepts its log-level argument at both levels (a wrong value kills it at start)."""
    import logging

    import nbformat

    from ks_analysis.publish.notebooks import execute_notebook

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("print(x + 1)"),
    ]
    src = tmp_path / "n.ipynb"
    nbformat.write(nb, src)
    root = logging.getLogger()
    previous = root.level
    try:
        for level in (logging.INFO, logging.ERROR):
            root.setLevel(level)
            out = execute_notebook(src, tmp_path / f"out-{level}.ipynb", {"x": 2})
            assert nbformat.read(out, as_version=4).cells[-1].outputs[0]["text"] == "3\n"
    finally:
        root.setLevel(previous)


def _subcommands(parser: object) -> set[str]:
    import argparse

    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]  # type: ignore[attr-defined]
    return set(actions[0].choices) if actions else set()


def test_a_command_line_loads_only_its_own_subcommand_and_every_name_finds_its_module() -> None:
    """`ks-analysis explore ...` registers only explore (its refusal of a bad id must not wait
    for every command's imports); every subcommand the full parser has is found by its name,
    also behind the global options; help, a misspelt name or none get the whole parser."""
    from ks_analysis.cli import build_parser

    everything = _subcommands(build_parser())
    assert {"report", "explore", "goals", "periods", "backtest"} <= everything
    for name in everything:
        assert name in _subcommands(build_parser([name, "--help"]))
        assert name in _subcommands(build_parser(["-q", name]))
    assert _subcommands(build_parser(["explore", "N99999"])) == {"explore"}
    for argv in ([], ["--help"], ["-v", "repor"], ["-h", "report"]):
        assert _subcommands(build_parser(argv)) == everything
    assert _subcommands(build_parser(["--version"])) == set()


def test_version_and_a_misspelt_command_still_answer(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.startswith("ks-analysis ")
    with pytest.raises(SystemExit) as exc:
        main(["repor", "--period", "2019-T1"])
    assert exc.value.code == 2
    assert "invalid choice: 'repor'" in capsys.readouterr().err
