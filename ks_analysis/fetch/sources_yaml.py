"""Editing ``sources.yaml`` after a fetch: add or update the snapshot entry, keep the analyst's others.

A new entry is appended to the file's text so that comments stay; the result is parsed back and
compared with what was meant before the file is replaced atomically.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import yaml

from ks_analysis._config import load_yaml, loads_yaml
from ks_analysis._io import write_atomic
from ks_analysis.errors import DataFileError, KsAnalysisError

__all__ = ["update_sources_yaml", "SOURCE_ENTRY_NAME", "DEFAULT_LAG_DAYS"]

log = logging.getLogger(__name__)

#: Name of the sources.yaml entry a fetch adds for ``--out <raw root>/kolada``.
SOURCE_ENTRY_NAME = "kolada_api"
#: Lag assumed when a new entry is written: Kolada publishes most yearly KPIs in the spring after the year.
DEFAULT_LAG_DAYS = 75


def _load_sources_doc(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:  # safe and bounded: an alias bomb is refused while parsing
        doc = load_yaml(path, what="sources manifest")
    except DataFileError as exc:
        raise KsAnalysisError(
            f"{exc}; fix it before fetching, since the fetch adds its entry there"
        ) from None
    if doc is None:
        return {}
    if not isinstance(doc, dict) or not isinstance(doc.get("sources", []), list):
        raise KsAnalysisError(
            f"{path}: expected a mapping with a 'sources:' list; fix it before fetching"
        )
    return doc


def _entry(name: str, rel: str, units: dict[str, str] | None) -> dict[str, Any]:
    lag: dict[str, Any] = {"days": DEFAULT_LAG_DAYS}
    options: dict[str, Any] = {
        "publication_lag": lag
    }  # the same object: YAML writes an anchor and an alias
    if units:
        options["units"] = dict(sorted(units.items()))
    return {
        "name": name,
        "files": [
            f"{rel}/*/data-*.json",
            f"{rel}/*/kpi-*.json",
            f"{rel}/*/municipality_groups-*.json",
        ],
        "reader": "kolada_api_json",
        "revisions": True,
        "publication_lag": lag,
        "options": options,
    }


_ENTRY_COMMENT = """\
# Kolada API snapshots written by `ks-analysis fetch kolada` (one folder per fetch, named by its UTC time).
# A value is dated by its fetch, or by period end + publication_lag when that is earlier and the value
# is its first vintage; values that differ between snapshots are revisions (docs/kolada-fetch.md).
# Edit the lag here (publication_lag; options.publication_lag is the same rule, used by the reader).
"""


def update_sources_yaml(
    sources_file: Path, out: Path, *, units: dict[str, str] | None = None
) -> bool:
    """Add or update the snapshot entry of ``out`` in ``sources_file``, leaving other entries alone.

    A new entry is appended to the file's text, so the analyst's comments stay; the result is
    parsed back and compared with what was meant, and only if that fails is the whole file
    re-written from the parsed YAML (comments are then lost, which is logged). An existing entry
    keeps the analyst's lag and options; only ``files``, ``reader`` and ``revisions`` are put
    right if they differ. The file is replaced atomically.

    Returns:
        True if the file was written, False if the entry was already right.
    """
    sources_file = Path(sources_file)
    root = sources_file.parent
    rel = Path(os.path.relpath(Path(out).resolve(), root.resolve())).as_posix()
    name = (
        SOURCE_ENTRY_NAME
        if rel == "kolada"
        else f"{SOURCE_ENTRY_NAME}_{re.sub(r'[^A-Za-z0-9]+', '_', rel).strip('_')}"
    )
    doc = _load_sources_doc(sources_file)
    wanted = _entry(name, rel, units)
    if doc is None:
        _check_and_write(
            sources_file, "sources:\n" + _entry_text(wanted, "  "), {"sources": [wanted]}
        )
        return True
    if "sources" not in doc:
        text = sources_file.read_text(encoding="utf-8")
        candidate = (
            (text.rstrip("\n") + "\n" if text.strip() else "")
            + "sources:\n"
            + _entry_text(wanted, "  ")
        )
        if _parses_to(candidate, {**doc, "sources": [wanted]}):
            write_atomic(sources_file, candidate)
            return True
    if not doc.get("sources"):
        expected = {**doc, "sources": [wanted]}
        log.warning(
            "%s: re-wrote the file from its YAML to add the %r entry, so its comments were lost",
            sources_file,
            name,
        )
        _check_and_write(sources_file, _dump(expected), expected)
        return True
    entries: list[Any] = doc["sources"]
    for e in entries:
        if isinstance(e, dict) and e.get("name") == name:
            fix = {k: wanted[k] for k in ("files", "reader", "revisions") if e.get(k) != wanted[k]}
            if not fix:
                return False
            e.update(fix)
            log.warning(
                "%s: entry %r updated (%s); the file was re-written from its YAML, so its comments were lost",
                sources_file,
                name,
                ", ".join(fix),
            )
            write_atomic(sources_file, _dump(doc))
            return True
    text = sources_file.read_text(encoding="utf-8")
    expected = {**doc, "sources": [*entries, wanted]}
    item_indent = _list_indent(text)
    if item_indent is not None and _last_top_key(text) == "sources":
        candidate = text.rstrip("\n") + "\n" + _entry_text(wanted, item_indent)
        if _parses_to(candidate, expected):
            write_atomic(sources_file, candidate)
            return True
    log.warning(
        "%s: could not append the %r entry to the text; re-wrote the file from its YAML, so its comments were lost",
        sources_file,
        name,
    )
    _check_and_write(sources_file, _dump(expected), expected)
    return True


def _dump(data: Any) -> str:
    """YAML text with a readable anchor for the shared lag rule (PyYAML would call it ``id001``)."""
    text = yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, width=120, default_flow_style=None
    )
    return re.sub(r"([&*])id(\d{3})\b", lambda m: f"{m.group(1)}lag_{m.group(2)}", text)


def _entry_text(entry: dict[str, Any], indent: str) -> str:
    body = (
        _dump([entry])
        .replace("&lag_001", f"&{entry['name']}_lag")
        .replace("*lag_001", f"*{entry['name']}_lag")
    )
    lines = [
        indent + line if line.strip() else line for line in (_ENTRY_COMMENT + body).splitlines()
    ]
    return "\n".join(lines) + "\n"


def _list_indent(text: str) -> str | None:
    m = re.search(r"^sources:[ \t]*(?:#.*)?\n(?:[ \t]*(?:#.*)?\n)*([ \t]*)- ", text, re.M)
    return m.group(1) if m else None


def _last_top_key(text: str) -> str | None:
    keys = re.findall(r"^([A-Za-z_][\w-]*)\s*:", text, re.M)
    return keys[-1] if keys else None


def _parses_to(text: str, expected: Any) -> bool:
    try:
        return bool(loads_yaml(text, "sources.yaml") == expected)
    except DataFileError:
        return False


def _check_and_write(path: Path, text: str, expected: Any) -> None:
    if not _parses_to(text, expected):
        raise KsAnalysisError(
            f"{path}: internal error: the updated manifest does not parse back to what was meant"
        )
    write_atomic(path, text)
