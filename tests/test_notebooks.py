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


def _calls_one_notebook_api_function(stmt: ast.stmt) -> bool:
    """Whether a statement is ``ks.f(...)`` or ``name = ks.f(...)`` with plain names as arguments."""
    value = stmt.value if isinstance(stmt, ast.Expr | ast.Assign) else None
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
        return False
    args = list(value.args) + [k.value for k in value.keywords]
    return func.value.id == "ks" and all(isinstance(a, ast.Name | ast.Constant) for a in args)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_calls_one_notebook_api_function(path: Path) -> None:
    """No logic in cells: after the import, each cell is one call into ks_analysis.notebook_api."""
    from ks_analysis import notebook_api

    nb = nbformat.read(str(path), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"][1:]  # after the parameters cell
    imports = ast.parse(code[0].source).body
    assert ast.unparse(imports[0]) == "from ks_analysis import notebook_api as ks"
    for cell in code:
        body = ast.parse(cell.source).body
        stmts = body[1:] if cell is code[0] else body
        assert len(stmts) <= 1, cell.source
        for stmt in stmts:
            assert _calls_one_notebook_api_function(stmt), cell.source
            call = stmt.value  # type: ignore[attr-defined]
            assert call.func.attr in notebook_api.__all__, call.func.attr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_uses_the_runners_kernel(path: Path) -> None:
    """One kernel name for JupyterLab, nbconvert and papermill: the runner's."""
    from ks_analysis.publish.notebooks import KERNEL_NAME

    nb = nbformat.read(str(path), as_version=4)
    assert nb.metadata["kernelspec"]["name"] == KERNEL_NAME == "python3"


def test_the_kernel_name_starts_this_very_interpreter() -> None:
    """jupyter_client resolves python3 to the running Python, so a kernel sees the project's packages."""
    import sys

    from jupyter_client.manager import KernelManager

    from ks_analysis.publish.notebooks import KERNEL_NAME

    km = KernelManager(kernel_name=KERNEL_NAME)
    cmd = km.format_kernel_cmd()
    assert Path(cmd[0]).resolve() == Path(sys.executable).resolve()


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_under_nbconvert_from_its_folder(path: Path, tmp_path: Path) -> None:
    """An analyst's `jupyter nbconvert --to html --execute` from notebooks/ runs on the demo defaults."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "MPLBACKEND": "Agg"}
    jupyter = Path(sys.executable).with_name("jupyter")
    done = subprocess.run(
        [str(jupyter), "nbconvert", "--to", "html", "--execute", path.name]
        + ["--output-dir", str(tmp_path), "--ExecutePreprocessor.timeout=600"],
        cwd=NOTEBOOKS_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    html = (tmp_path / path.with_suffix(".html").name).read_text(encoding="utf-8")
    assert "Traceback" not in html
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in html, "a cell wrote to stderr"
