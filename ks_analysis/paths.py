"""Where things live: the project root, raw and processed data, reports and package data."""

from __future__ import annotations

import os
from pathlib import Path

from ks_analysis.errors import ParameterError

__all__ = [
    "PACKAGE_DIR",
    "PACKAGE_DATA_DIR",
    "PROJECT_ROOT",
    "RAW_DIR",
    "DEMO_DIR",
    "PROCESSED_DIR",
    "REPORTS_DIR",
    "NOTEBOOKS_DIR",
    "IN_CHECKOUT",
    "real_data_dir",
    "relative_to_root",
    "refuse_raw_output",
]

PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGE_DATA_DIR = PACKAGE_DIR / "data"


def _find_project_root() -> Path:
    # Editable installs and a plain checkout have pyproject.toml one level above the package;
    # an installed wheel does not, and then the working directory is the project.
    candidate = PACKAGE_DIR.parent
    if (candidate / "pyproject.toml").exists():
        return candidate
    return Path.cwd()


PROJECT_ROOT = _find_project_root()
#: True in a checkout or editable install; False for an installed wheel, which carries its own
#: copies of the notebooks and the demo data inside the package (see hatch_build.py).
IN_CHECKOUT = (PACKAGE_DIR.parent / "pyproject.toml").exists()
RAW_DIR = PROJECT_ROOT / "data" / "raw"
DEMO_DIR = RAW_DIR / "demo" if IN_CHECKOUT else PACKAGE_DATA_DIR / "demo"
PROCESSED_DIR = PROJECT_ROOT / "data" / "processed"
REPORTS_DIR = PROJECT_ROOT / "reports"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks" if IN_CHECKOUT else PACKAGE_DIR / "notebooks"


def real_data_dir() -> Path:
    """The shared real public data: ``$KS_REAL_DATA`` or ``../shared/data/real`` beside the project."""
    env = os.environ.get("KS_REAL_DATA")
    if env:
        return Path(env).expanduser().resolve()
    return (PROJECT_ROOT.parent / "shared" / "data" / "real").resolve()


def relative_to_root(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` in POSIX form, or the absolute path when outside it."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def refuse_raw_output(path: Path, what: str, allow_demo: bool = False) -> None:
    """Raise ParameterError when ``path`` is the project's data/raw or inside it.

    data/raw is read-only for the package; ``allow_demo`` lets the demo generator write its own
    folder (data/raw/demo), the one exception. ``what`` names the option, e.g. ``"--out"``.
    """
    resolved = Path(path).expanduser().resolve()
    raw = RAW_DIR.resolve()
    if allow_demo and resolved == DEMO_DIR.resolve():
        return
    if resolved == raw or raw in resolved.parents:
        raise ParameterError(
            f"{what} {path}: the package never writes under the project's data/raw "
            "(raw data is read-only; the demo data is made by `ks-analysis demo`); choose another folder"
        )
