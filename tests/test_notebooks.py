"""Every notebook is a thin, papermill-parameterised report: parameters parse, no logic in cells."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from ks_analysis.paths import NOTEBOOKS_DIR

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))


def test_the_five_notebooks_are_there() -> None:
    """notebooks/ holds the five notebooks 01 to 05."""
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_is_a_typed_parameters_cell_that_papermill_parses_whole(path: Path) -> None:
    """A comment papermill cannot parse silently drops the parameter; every line must come through."""
    nb = nbformat.read(str(path), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", []), "tag the first code cell 'parameters'"
    declared = [
        line.split(":")[0].strip()
        for line in code[0].source.splitlines()
        if line.strip() and not line.startswith("#")
    ]
    parsed = pm.inspect_notebook(str(path))
    assert list(parsed) == declared
    assert all(p["inferred_type_name"] in ("str", "int", "float", "bool") for p in parsed.values())
    assert all(p["help"] for p in parsed.values()), "every parameter has a help comment"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_cells_hold_no_functions_or_classes(path: Path) -> None:
    """No notebook cell defines a function or class (logic belongs in the library)."""
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        assert not [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
        ], cell.source[:80]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_committed_without_outputs(path: Path) -> None:
    """Notebooks are committed with no cell outputs."""
    nb = nbformat.read(str(path), as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
