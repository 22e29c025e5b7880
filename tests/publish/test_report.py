"""Tests of publish/report.py: notebooks run side by side without disturbing the process."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from ks_analysis.publish.report import _run_all


@pytest.mark.slow
def test_notebooks_run_side_by_side_in_cwd_and_leave_the_working_folder_alone(
    tmp_path: Path,
) -> None:
    """Each kernel starts in the notebooks folder, and the caller's working folder is unchanged after.

    papermill's own ``cwd=`` changes the whole process's folder per run; run from two threads it
    could leave the process in the notebooks folder, so a later relative path resolved wrongly.
    """
    nb_dir = tmp_path / "nbs"
    nb_dir.mkdir()
    jobs = []
    for name in ("a", "b", "c"):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("import os\nprint(os.getcwd())")]
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        src = nb_dir / f"{name}.ipynb"
        nbformat.write(nb, str(src))
        jobs.append((src, tmp_path / f"{name}-out.ipynb", {}))
    before = os.getcwd()
    _run_all(jobs, nb_dir)
    assert os.getcwd() == before
    for _, dst, _ in jobs:
        out = nbformat.read(str(dst), as_version=4)
        assert out.cells[0].outputs[0]["text"].strip() == str(nb_dir)
