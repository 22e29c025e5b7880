"""Editing ``sources.yaml`` after a fetch: add or update the snapshot entry, keep the analyst's others.

The file is edited with ruamel.yaml's round trip, so comments stay; the result is parsed back and
compared with what was meant before the file is replaced atomically.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

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
    """The entry as plain data (what the written file must parse back to)."""
    lag: dict[str, Any] = {"days": DEFAULT_LAG_DAYS}
    options: dict[str, Any] = {"publication_lag": lag}
    if units:
        options["units"] = dict(sorted(units.items()))
    return {
        "name": name,
        # KPI-metadata and data pages; group pages (only with --peers kolada-group) give no rows,
        # so they are kept in the snapshot but not listed: a default fetch has none, and a glob
        # matching no file would make clean warn.
        "files": [f"{rel}/*/data-*.json", f"{rel}/*/kpi-*.json"],
        "reader": "kolada_api_json",
        "revisions": True,
        "publication_lag": lag,
        "options": options,
    }


_ENTRY_COMMENT = """\
Kolada API snapshots written by `ks-analysis fetch kolada` (one folder per fetch, named by its UTC time).
A value is dated by its fetch, or by period end + publication_lag when that is earlier and the value
is its first vintage; values that differ between snapshots are revisions (docs/kolada-fetch.md).
Edit the lag here (publication_lag; options.publication_lag is the same rule, used by the reader)."""


def _round_trip() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML()  # round-trip: comments, key order, quotes and flow style stay as written
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _commented_entry(entry: dict[str, Any]) -> Any:
    """The entry as ruamel nodes: short lists and the lag in flow style, the lag shared by anchor."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    def flow(value: Any) -> Any:
        if isinstance(value, dict):
            m = CommentedMap(value)
            m.fa.set_flow_style()
            return m
        seq = CommentedSeq(value)
        seq.fa.set_flow_style()
        return seq

    lag = flow(entry["publication_lag"])
    lag.yaml_set_anchor(f"{entry['name']}_lag", always_dump=True)
    options = CommentedMap({"publication_lag": lag})
    if "units" in entry["options"]:
        options["units"] = flow(entry["options"]["units"])
    return CommentedMap(
        {
            "name": entry["name"],
            "files": flow(entry["files"]),
            "reader": entry["reader"],
            "revisions": entry["revisions"],
            "publication_lag": lag,
            "options": options,
        }
    )


def update_sources_yaml(
    sources_file: Path, out: Path, *, units: dict[str, str] | None = None
) -> bool:
    """Add or update the snapshot entry of ``out`` in ``sources_file``, leaving other entries alone.

    The file is edited as YAML with ruamel.yaml's round trip, so the analyst's comments, order and
    quoting stay. A new entry is appended to ``sources:`` with a comment saying what it is. An
    existing entry keeps the analyst's lag and options; only ``files``, ``reader`` and
    ``revisions`` are put right if they differ. The result is parsed back (PyYAML, as the readers
    do) and compared with what was meant before the file is replaced atomically.

    Returns:
        True if the file was written, False if the entry was already right.
    """
    import io

    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    sources_file = Path(sources_file)
    root = sources_file.parent
    rel = Path(os.path.relpath(Path(out).resolve(), root.resolve())).as_posix()
    name = (
        SOURCE_ENTRY_NAME
        if rel == "kolada"
        else f"{SOURCE_ENTRY_NAME}_{re.sub(r'[^A-Za-z0-9]+', '_', rel).strip('_')}"
    )
    plain = _load_sources_doc(sources_file)  # a clear message for a broken file
    wanted = _entry(name, rel, units)
    yaml = _round_trip()
    doc = (
        yaml.load(sources_file.read_text(encoding="utf-8")) if plain is not None else None
    ) or CommentedMap()
    expected: dict[str, Any] = dict(plain or {})
    entries = doc.get("sources")
    if not isinstance(entries, CommentedSeq):
        entries = CommentedSeq()
        doc["sources"] = entries
    entries.fa.set_block_style()  # `sources: []` grows into a block list
    plain_entries = list(expected.get("sources") or [])
    for i, e in enumerate(entries):
        if isinstance(e, dict) and e.get("name") == name:
            fix = {k: wanted[k] for k in ("files", "reader", "revisions") if e.get(k) != wanted[k]}
            if not fix:
                return False
            for key, value in fix.items():
                if isinstance(value, list):
                    seq = CommentedSeq(value)
                    seq.fa.set_flow_style()
                    value = seq
                e[key] = value
            plain_entries[i] = {**plain_entries[i], **fix}
            log.info("%s: entry %r updated (%s)", sources_file, name, ", ".join(fix))
            break
    else:
        entries.append(_commented_entry(wanted))
        entries.yaml_set_comment_before_after_key(len(entries) - 1, before=_ENTRY_COMMENT, indent=2)
        plain_entries.append(wanted)
    expected["sources"] = plain_entries
    buf = io.StringIO()
    yaml.dump(doc, buf)
    _check_and_write(sources_file, buf.getvalue(), expected)
    return True


def _parses_to(text: str, expected: Any) -> bool:
    try:
        return bool(loads_yaml(text, "sources.yaml") == expected)
    except DataFileError:
        return False


def _check_and_write(path: Path, text: str, expected: Any) -> None:
    if not _parses_to(text, expected):
        raise KsAnalysisError(
            f"{path}: internal error: the updated manifest does not parse back to what was meant; "
            "it was left as it was (add the entry by hand, see docs/kolada-fetch.md)"
        )
    write_atomic(path, text)
