"""The report's machine-readable sidecar: ``report.json``, written atomically."""

from __future__ import annotations

import json
import math
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
    try:
        # strict JSON: NaN and Infinity are not JSON, and a script reading the sidecar chokes on them
        text = json.dumps(report, ensure_ascii=False, indent=2, default=str, allow_nan=False)
    except ValueError:
        where = _non_finite(report) or "?"
        raise ValueError(
            f"report.json would hold a NaN or infinite number at {where}; nothing was replaced"
        ) from None
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def _non_finite(value: Any, where: str = "") -> str | None:
    """The path of the first NaN or infinite number in ``value`` (``goals[1].p_met``), or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return where or "top level"
    if isinstance(value, Mapping):
        for k, v in value.items():
            found = _non_finite(v, f"{where}.{k}" if where else str(k))
            if found:
                return found
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            found = _non_finite(v, f"{where}[{i + 1}]")
            if found:
                return found
    return None
