"""Writing clean's outputs: the tidy table, the rejected rows and the manifest, swapped in as one folder."""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import pandas as pd

from ks_analysis._io import output_folder
from ks_analysis.clean.accounting import REJECTED_COLUMNS, CleanResult
from ks_analysis.errors import OutputError

__all__ = ["write_clean", "read_tidy", "OUTPUT_NAMES"]

log = logging.getLogger(__name__)

#: clean's outputs in its output folder, by key.
OUTPUT_NAMES = {
    "indicators": "indicators.parquet",
    "rejected": "rejected.csv",
    "manifest": "manifest.json",
}


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _others(out_dir: Path) -> list[Path]:
    """What else the output folder holds (e.g. ``.gitkeep``): carried over into the new folder.

    A sub-folder is refused: the folder is replaced as a whole, and clean does not copy trees.
    """
    if not out_dir.is_dir():
        return []
    others = [p for p in out_dir.iterdir() if p.name not in OUTPUT_NAMES.values()]
    for p in others:
        if p.is_dir() and not p.is_symlink():
            raise OutputError(
                f"{out_dir}: holds the folder {p.name!r}, which clean did not write; clean replaces "
                "its output folder as a whole, so give it a folder of its own (e.g. data/processed)",
                exit_code=2,
            )
    return others


def write_clean(result: CleanResult, out_dir: Path) -> dict[str, Path]:
    """Write ``indicators.parquet``, ``rejected.csv`` and ``manifest.json`` into ``out_dir`` as one set.

    The three are written into a temporary folder beside ``out_dir``, which then replaces
    ``out_dir`` in one rename (:func:`~ks_analysis._io.output_folder`): a reader or a kill sees the
    previous three files or the new three, never a mix. Other files in ``out_dir`` (a
    ``.gitkeep``) are carried over. One clean at a time writes a folder (a lock file beside it).
    """
    out_dir = Path(out_dir).expanduser()
    out_dir = out_dir.resolve() if out_dir.exists() else out_dir.absolute()
    others = _others(out_dir)
    with output_folder(out_dir, doing="writing clean's outputs") as tmp:
        tidy = tmp / OUTPUT_NAMES["indicators"]
        result.tidy.to_parquet(tidy, index=False)
        rejected = tmp / OUTPUT_NAMES["rejected"]
        result.rejected.to_csv(rejected, index=False, columns=REJECTED_COLUMNS)
        manifest = tmp / OUTPUT_NAMES["manifest"]
        manifest.write_text(
            json.dumps(result.manifest(), indent=2, ensure_ascii=False), encoding="utf-8"
        )
        for f in (tidy, rejected, manifest):
            os.chmod(f, 0o644)
            _sync(f)
        for other in others:
            try:
                os.link(other, tmp / other.name, follow_symlinks=False)
            except OSError:
                shutil.copy2(other, tmp / other.name, follow_symlinks=False)
    return {key: out_dir / name for key, name in OUTPUT_NAMES.items()}


def read_tidy(path: Path) -> pd.DataFrame:
    """Read a tidy table written by :func:`write_clean`."""
    return pd.read_parquet(path)
