"""The package's front door: ``ks_analysis.__all__`` names real stage functions and errors, loaded lazily."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

import ks_analysis

#: The stage functions and errors the front door must offer (the issue's list).
EXPECTED = {
    "load_catalogue",
    "clean_indicators",
    "run_clean",
    "forecast_indicator",
    "run_backtest",
    "build_report",
    "publish_report",
    "KsAnalysisError",
    "DataFileError",
    "ParameterError",
}


def _modules_after(code: str) -> set[str]:
    """Top-level package names in sys.modules after running ``code`` in a fresh interpreter."""
    probe = f"{code}\nimport sys\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return set(out.strip().splitlines()[-1].split())


def test_all_lists_the_stage_functions_and_errors() -> None:
    """__all__ holds exactly the issue's stage functions and errors, no more and no fewer."""
    assert set(ks_analysis.__all__) == EXPECTED
    assert len(ks_analysis.__all__) == len(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_public_name_resolves_to_its_stage_object(name: str) -> None:
    """Each name resolves to the function or class defined in its stage module, not a stand-in."""
    value = getattr(ks_analysis, name)
    assert inspect.isfunction(value) or inspect.isclass(value)
    assert value.__module__.startswith("ks_analysis.")
    assert getattr(importlib.import_module(value.__module__), name) is value


def test_errors_share_the_one_root() -> None:
    """The front door's errors are KsAnalysisError and two of its subclasses."""
    assert issubclass(ks_analysis.DataFileError, ks_analysis.KsAnalysisError)
    assert issubclass(ks_analysis.ParameterError, ks_analysis.KsAnalysisError)


def test_unknown_name_is_an_attribute_error() -> None:
    """A name the front door does not offer raises AttributeError naming it (so hasattr works)."""
    with pytest.raises(AttributeError, match="no_such_stage"):
        _ = ks_analysis.no_such_stage  # type: ignore[attr-defined]
    assert not hasattr(ks_analysis, "no_such_stage")


def test_docstring_names_the_stages_in_pipeline_order() -> None:
    """The package docstring lists the stages in pipeline order, fetch before publish."""
    doc = ks_analysis.__doc__ or ""
    stages = ["goals", "fetch", "ingest", "clean", "forecast", "backtest", "evaluate", "report"]
    stages.append("publish")
    positions = [doc.index(f"``{s}``") for s in stages]
    assert positions == sorted(positions)


def test_import_loads_no_stage_and_no_pandas() -> None:
    """`import ks_analysis` loads neither pandas nor numpy; the stages load on first use."""
    loaded = _modules_after("import ks_analysis")
    assert "ks_analysis" in loaded
    assert not {"pandas", "numpy", "matplotlib", "statsmodels"} & loaded
    used = _modules_after("import ks_analysis\nks_analysis.build_report")
    assert "pandas" in used


def test_cli_help_does_not_load_pandas() -> None:
    """`ks-analysis --help` answers without importing pandas (every subcommand imports it late)."""
    code = (
        "from ks_analysis.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    )
    loaded = _modules_after(code)
    assert "ks_analysis" in loaded and "argparse" in loaded
    assert "pandas" not in loaded
