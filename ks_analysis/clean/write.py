"""Writing clean's outputs: the tidy table, the rejected rows and the manifest, all or nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from ks_analysis._io import temp_file
from ks_analysis.clean.accounting import REJECTED_COLUMNS, CleanResult

__all__ = ["write_clean", "read_tidy"]


def write_clean(result: CleanResult, out_dir: Path) -> dict[str, Path]:
    """Write ``indicators.parquet``, ``rejected.csv`` and ``manifest.json`` atomically into ``out_dir``.

    All three are written to temporary files first and renamed into place only when all succeeded.
    """
    out_dir = Path(out_dir)
    targets = {
        "indicators": out_dir / "indicators.parquet",
        "rejected": out_dir / "rejected.csv",
        "manifest": out_dir / "manifest.json",
    }
    temps: dict[str, Path] = {}
    try:
        temps["indicators"] = temp_file(
            targets["indicators"], lambda p: result.tidy.to_parquet(p, index=False)
        )
        temps["rejected"] = temp_file(
            targets["rejected"],
            lambda p: result.rejected.to_csv(p, index=False, columns=REJECTED_COLUMNS),
        )
        temps["manifest"] = temp_file(
            targets["manifest"],
            lambda p: p.write_text(
                json.dumps(result.manifest(), indent=2, ensure_ascii=False), encoding="utf-8"
            ),
        )
    except BaseException:
        for t in temps.values():
            t.unlink(missing_ok=True)
        raise
    for key, tmp in temps.items():
        os.replace(tmp, targets[key])
    return targets


def read_tidy(path: Path) -> pd.DataFrame:
    """Read a tidy table written by :func:`write_clean`."""
    return pd.read_parquet(path)
