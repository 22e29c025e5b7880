"""The report's machine-readable sidecar: ``report.json``, written atomically."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["write_report_json"]


def write_report_json(report: Mapping[str, Any], path: Path | str) -> Path:
    """Write the sidecar ``report.json`` (UTF-8, indented) atomically: a temporary file renamed into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)
    return path
