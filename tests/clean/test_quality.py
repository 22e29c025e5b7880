"""The data-quality notebook runs top to bottom with papermill on the demo data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ks_analysis.paths import NOTEBOOKS_DIR


@pytest.mark.slow
def test_clean_notebook_runs_on_demo_data(tmp_path: Path) -> None:
    """01-clean-indicators.ipynb executes with its defaults (demo data) and shows rows per source."""
    papermill = pytest.importorskip("papermill")
    os.environ.setdefault("MPLBACKEND", "Agg")
    out = tmp_path / "01-clean-indicators.ipynb"
    nb = papermill.execute_notebook(
        str(NOTEBOOKS_DIR / "01-clean-indicators.ipynb"),
        str(out),
        kernel_name="python3",
        parameters={"municipality": "0665"},
        progress_bar=False,
    )
    texts = [
        o.get("data", {}).get("text/plain", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
    ]
    assert any("Totalt" in t for t in texts)
    assert any("Vaggeryd: år" in t for t in texts)


def test_notebook_has_parameters_cell_and_no_defs() -> None:
    """Cell 1 of the code is tagged 'parameters'; no def or class in the notebook."""
    import nbformat

    nb = nbformat.read(NOTEBOOKS_DIR / "01-clean-indicators.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert not any(
        line.lstrip().startswith(("def ", "class ")) for c in code for line in c.source.splitlines()
    )
