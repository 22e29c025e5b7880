"""Where things live: the project root, raw and processed data, reports and package data."""

from __future__ import annotations

import contextvars
import os
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ks_analysis.errors import DataFileError, ParameterError

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
    "refuse_read_only",
    "guard_read",
    "raw_root",
    "reading_under",
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


def _resolved(path: Path) -> Path:
    return Path(path).expanduser().resolve()


def refuse_raw_output(
    path: Path,
    what: str,
    allow_demo: bool = False,
    *,
    raws: Iterable[Path | None] = (),
    whole_folder: bool = False,
    marked: bool = True,
) -> None:
    """Raise ParameterError when ``path`` is, or lies inside, a raw folder.

    Raw folders are the project's data/raw, every ``--raw`` the command was given (``raws``),
    symlinks followed, and, with ``marked`` (the default), any folder holding a ``sources.yaml``
    manifest (a raw folder the command was not told about: ``demo --out RAW/x``, ``init RAW/x``):
    the package never writes into raw data. Commands that add to raw data by design (``assessments
    new``, ``fetch``) pass ``marked=False`` and check :func:`refuse_read_only` instead. ``allow_demo`` lets the demo
    generator write its own folder (data/raw/demo), the one exception. ``whole_folder``: the
    command replaces ``path`` as a whole (clean swaps its output folder), so ``path`` must not
    hold a raw folder either. ``what`` names the option, e.g. ``"--out"``.
    """
    resolved = _resolved(path)
    raw = RAW_DIR.resolve()
    if allow_demo and resolved == DEMO_DIR.resolve():
        return
    if resolved == raw or raw in resolved.parents:
        raise ParameterError(
            f"{what} {path}: the package never writes under the project's data/raw "
            "(raw data is read-only; the demo data is made by `ks-analysis demo`); choose another folder"
        )
    for given in raws:
        if given is None:
            continue
        r = _resolved(given)
        if resolved == r or r in resolved.parents:
            raise ParameterError(
                f"{what} {path}: lies inside the raw data folder {given} "
                "(raw data is read-only, nothing is ever written there); choose a folder outside it"
            )
        if whole_folder and resolved in r.parents:
            raise ParameterError(
                f"{what} {path}: holds the raw data folder {given}, and this output folder is "
                "replaced as a whole; choose a folder of its own, outside the raw data"
            )
    if marked:
        for folder in (resolved, *resolved.parents):
            if (folder / "sources.yaml").is_file():
                raise ParameterError(
                    f"{what} {path}: lies inside the raw data folder {folder} (it holds a "
                    "sources.yaml manifest; raw data is read-only, nothing is ever written there); "
                    "choose a folder outside it"
                )


def _read_only(folder: Path) -> bool:
    """No write bit for anyone, or not writable by this user: read-only by intent (root, who may
    write anyway, respects the bits too)."""
    try:
        mode = folder.stat().st_mode
    except OSError:
        return False
    return not (stat.S_IMODE(mode) & 0o222) or not os.access(folder, os.W_OK)


def refuse_read_only(path: Path, what: str, fix: str) -> None:
    """ParameterError when ``path``, or the nearest folder above it that exists, is read-only.

    For the commands that add to a raw folder by design (``assessments new``, ``fetch``,
    ``kpi update``): a raw folder made read-only (``chmod -R a-w``) is never written, also not by
    root, whom the file system would let; the message says what to do instead (``fix``).
    """
    resolved = _resolved(path)
    folder = next((f for f in (resolved, *resolved.parents) if f.exists()), None)
    if folder is None or not folder.is_dir():
        return  # a file in the way: the writer's own message names it
    if _read_only(folder):
        raise ParameterError(
            f"{what} {path}: the folder {folder} is read-only (raw data made read-only is never "
            f"written); {fix}"
        )


#: The raw root that readers are reading under (set by :func:`reading_under`).
_RAW_ROOT: contextvars.ContextVar[Path | None] = contextvars.ContextVar("raw_root", default=None)


@contextmanager
def reading_under(root: Path) -> Iterator[Path]:
    """While the block runs, every :func:`guard_read` without a root checks against ``root``."""
    token = _RAW_ROOT.set(_resolved(root))
    try:
        yield _resolved(root)
    finally:
        _RAW_ROOT.reset(token)


def raw_root() -> Path | None:
    """The raw root set by :func:`reading_under`, or None outside it."""
    return _RAW_ROOT.get()


def guard_read(path: Path, *, entry: str, root: Path | None = None) -> Path:
    """``path`` resolved (symlinks followed), when it is a file inside the raw root; else DataFileError.

    ``entry`` names who asked for the file (a manifest entry, a reader option), so the refusal says
    where the path came from. Without ``root`` the root of :func:`reading_under` is used; with
    neither, only the file check is made. The file's content is never quoted.
    """
    base = _resolved(root) if root is not None else _RAW_ROOT.get()
    target = Path(path).expanduser()
    try:
        resolved = target.resolve(strict=True)
    except FileNotFoundError:
        raise DataFileError(
            path,
            f"{entry}: does not exist" + (" (a broken symlink)" if target.is_symlink() else ""),
            fix="restore the file or correct the path",
        ) from None
    except (OSError, RuntimeError) as exc:  # symlink loops, permissions
        raise DataFileError(
            path, f"{entry}: cannot be resolved ({exc.__class__.__name__})", fix="check the path"
        ) from None
    if base is not None and resolved != base and base not in resolved.parents:
        via = " through a symlink" if resolved != _resolved(target.parent) / target.name else ""
        raise DataFileError(
            path,
            f"{entry}: leads{via} to {resolved}, outside the raw data folder {base}; "
            "only files inside the raw folder are read",
            fix="copy the file into the raw folder, or correct the path or glob",
        )
    if not resolved.is_file():
        raise DataFileError(
            path,
            f"{entry}: is not a regular file",
            fix="name a data file (folders, devices and pipes are not read)",
        )
    return resolved
