"""The built wheel is self-sufficient: it carries the notebooks, templates, demo data and goal catalogue.

The cheap test builds the wheel and reads its file list; the slow one installs it in a fresh venv
outside the repository and runs the CLI in an empty folder, as a user of ``pip install`` would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UV = shutil.which("uv")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel ``uv build`` makes from this checkout (skips without uv)."""
    if UV is None:
        pytest.skip("uv is not installed")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [UV, "build", "--wheel", "--out-dir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (found,) = out.glob("ks_analysis-*.whl")
    return found


def _repo_files(folder: str) -> list[str]:
    """The files git tracks under ``folder`` (what a clean checkout, and so CI, builds from)."""
    out = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", folder], check=True, capture_output=True, text=True
    ).stdout
    return [line for line in out.splitlines() if line]


def test_wheel_lists_notebooks_templates_demo_and_catalogue(wheel: Path) -> None:
    """Every notebook, template, demo file and the goal catalogue is in the wheel at its package path."""
    names = set(zipfile.ZipFile(wheel).namelist())
    notebooks = _repo_files("notebooks")
    demo = _repo_files("data/raw/demo")
    templates = _repo_files("ks_analysis/templates")
    fragments = _repo_files("ks_analysis/templates/fragments")
    assert len(notebooks) >= 5 and len(demo) >= 20 and len(templates) >= 3
    # The report's HTML fragments (report/html.py renders them from the installed package).
    assert len(fragments) >= 15 and "ks_analysis/templates/fragments/macros.html.j2" in fragments
    assert set(fragments) <= set(templates)
    expected = (
        {f"ks_analysis/notebooks/{Path(p).name}" for p in notebooks}
        | {p.replace("data/raw/demo/", "ks_analysis/data/demo/", 1) for p in demo}
        | set(templates)
        | {"ks_analysis/data/goals_2019.yaml", "ks_analysis/data/geo.csv"}
    )
    assert expected - names == set()
    # The repository's own folders are not duplicated at the top of site-packages.
    assert not [n for n in names if n.startswith(("notebooks/", "data/"))]


def test_wheel_leaves_jupyterlab_to_the_lab_extra(wheel: Path) -> None:
    """JupyterLab is no runtime requirement; it comes with ks-analysis[lab]."""
    meta = zipfile.ZipFile(wheel).read(
        next(n for n in zipfile.ZipFile(wheel).namelist() if n.endswith("/METADATA"))
    )
    requires = [
        line.split(":", 1)[1].strip()
        for line in meta.decode().splitlines()
        if line.startswith("Requires-Dist:")
    ]
    lab = [r for r in requires if r.startswith("jupyterlab")]
    assert lab and all("extra == 'lab'" in r or 'extra == "lab"' in r for r in lab)


@pytest.mark.slow
def test_installed_wheel_reports_in_an_empty_folder(wheel: Path, tmp_path: Path) -> None:
    """In a fresh venv with only the wheel: --version, `-q report --period 2019-T1`, clean and explore.

    The dependencies come from uv's cache or the package index; the test skips when neither has them.
    """
    venv = tmp_path / "venv"
    subprocess.run([UV, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    install = subprocess.run(
        [UV, "pip", "install", "-q", "--python", str(venv), str(wheel)],
        capture_output=True,
        text=True,
    )
    if install.returncode != 0:
        pytest.skip(f"could not install the wheel's dependencies: {install.stderr[-300:]}")
    exe = venv / "bin" / "ks-analysis"
    work = tmp_path / "empty"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(exe), *args], cwd=work, capture_output=True, text=True, env=env, timeout=300
        )

    version = cli("--version")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert version.stdout.strip() == f"ks-analysis {pyproject['project']['version']}"
    report = cli("-q", "report", "--period", "2019-T1")
    assert report.returncode == 0, report.stderr
    assert report.stderr == ""
    html = work / "reports" / "0665" / "2019-T1" / "rapport.html"
    assert Path(report.stdout.strip()) == html
    assert "Delår 1 2019" in html.read_text(encoding="utf-8")
    shutil.copytree(ROOT / "data" / "raw" / "demo", work / "demo")
    clean = cli("-q", "clean", "--raw", "demo")
    assert clean.returncode == 0, clean.stderr
    assert (work / "data" / "processed" / "indicators.parquet").exists()
    explore = cli("-q", "explore", "N03926")
    assert explore.returncode == 0, explore.stderr
    assert Path(explore.stdout.strip()) == work / "reports" / "explore" / "N03926-0665-T.html"
