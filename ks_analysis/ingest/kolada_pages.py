"""Kolada API response pages: loading, paging, shape checks, and the KPI-metadata and group pages.

A page is ``{"count": n, "values": [...], "next_url" | "next_page": ...}`` (docs/kolada-fetch.md).
Used by the fetch (to follow pages and check their shape) and by the snapshot reader
(:mod:`ks_analysis.ingest.kolada_snapshot`), which turns data pages into raw rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ks_analysis.errors import DataFileError

__all__ = [
    "load_page",
    "page_values",
    "next_page_url",
    "shape_problem",
    "read_kpi_metadata",
    "read_municipality_groups",
]

_KIND_BY_PREFIX = {"data": "data", "kpi": "kpi", "municipality_groups": "municipality_groups"}
_FIX = (
    "fetch again with `ks-analysis fetch kolada`, or check that the file is a Kolada API response"
)


# --- pages ---------------------------------------------------------------------------------


def load_page(path: Path, rel: str | None = None) -> dict[str, Any]:
    """Parse one saved API response (UTF-8 JSON object); DataFileError naming the file otherwise."""
    label = rel or str(path)
    try:
        doc = json.loads(Path(path).read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise DataFileError(
            label, f"is not UTF-8 ({exc.reason} at byte {exc.start})", fix=_FIX
        ) from None
    except json.JSONDecodeError as exc:
        raise DataFileError(
            label,
            f"is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})",
            fix=_FIX,
        ) from None
    if not isinstance(doc, dict):
        raise DataFileError(
            label, f"is a JSON {type(doc).__name__}, not a Kolada response object", fix=_FIX
        )
    return doc


def page_values(doc: Mapping[str, Any]) -> list[Any] | None:
    """The ``values`` list of a response page, or None when the page has none (a changed shape)."""
    values = doc.get("values") if isinstance(doc, Mapping) else None
    return values if isinstance(values, list) else None


def next_page_url(doc: Mapping[str, Any]) -> str | None:
    """The next page's absolute URL: ``next_url`` (v3), else ``next_page`` (v2); None on the last page."""
    for key in ("next_url", "next_page"):
        url = doc.get(key)
        if isinstance(url, str) and url.strip():
            return url.strip()
    return None


def _kind(path: Path, values: list[Any]) -> str:
    """What a saved page holds: by the fetcher's file-name prefix, else by the first item's fields."""
    prefix = path.name.split("-", 1)[0]
    if prefix in _KIND_BY_PREFIX and "-" in path.name:
        return _KIND_BY_PREFIX[prefix]
    first = next((v for v in values if isinstance(v, dict)), None)
    if first is None:
        return "data"
    if "members" in first:
        return "municipality_groups"
    if "kpi" in first or "period" in first:
        return "data"
    if "id" in first and "title" in first:
        return "kpi"
    return "data"


def shape_problem(doc: Any, kind: str = "data") -> str | None:
    """What is wrong with a response's shape, naming the field; None when it has the documented shape.

    >>> shape_problem({"count": 0})
    "response has no 'values' list"
    >>> shape_problem({"values": [{"kpi": "N03926", "municipality": "0665", "values": []}]})
    "values[1] has no 'period'"
    """
    if not isinstance(doc, dict):
        return f"response is a JSON {type(doc).__name__}, not an object"
    values = page_values(doc)
    if values is None:
        return "response has no 'values' list"
    needed = {
        "data": ("kpi", "municipality", "period", "values"),
        "kpi": ("id",),
        "municipality_groups": ("id", "members"),
    }[kind]
    for i, item in enumerate(values, start=1):
        if not isinstance(item, dict):
            return f"values[{i}] is not an object"
        for field in needed:
            if field not in item:
                return f"values[{i}] has no {field!r}"
        if kind == "data":
            if not isinstance(item["values"], list):
                return f"values[{i}].values is not a list"
            for j, entry in enumerate(item["values"], start=1):
                if not isinstance(entry, dict):
                    return f"values[{i}].values[{j}] is not an object"
                for field in ("gender", "value"):
                    if field not in entry:
                        return f"values[{i}].values[{j}] has no {field!r}"
        if kind == "municipality_groups" and not isinstance(item["members"], list):
            return f"values[{i}].members is not a list"
    return None


def _checked(path: Path, rel: str | None, kind: str | None = None) -> tuple[dict[str, Any], str]:
    doc = load_page(path, rel)
    values = page_values(doc)
    if values is None:
        raise DataFileError(
            rel or str(path), "response has no 'values' list (has the API changed shape?)", fix=_FIX
        )
    kind = kind or _kind(Path(path), values)
    problem = shape_problem(doc, kind)
    if problem:
        raise DataFileError(rel or str(path), f"{problem} (has the API changed shape?)", fix=_FIX)
    return doc, kind


# --- metadata and groups -------------------------------------------------------------------


def _docs(
    pages: Path | Mapping[str, Any] | Iterable[Path | Mapping[str, Any]],
) -> list[tuple[str, Mapping[str, Any]]]:
    items = [pages] if isinstance(pages, Path | str | Mapping) else list(pages)
    out = []
    for p in items:
        if isinstance(p, Mapping):
            out.append(("response", p))
        else:
            out.append((str(p), load_page(Path(p))))
    return out


def _bool(value: Any) -> bool | None:
    """``is_divided_by_gender``: int 0/1 in v2, boolean in v3."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def read_kpi_metadata(
    pages: Path | Mapping[str, Any] | Iterable[Path | Mapping[str, Any]],
) -> pd.DataFrame:
    """KPI metadata from ``/kpi/{ids}`` responses (v2 or v3), one row per KPI.

    ``publication_date`` and ``prel_publication_date`` are the *next expected* publications, not
    past ones. ``auspice`` (v3) and ``auspices`` (v2) both land in ``auspice``. Every field is optional.

    Returns:
        Columns ``id, title, description, is_divided_by_gender (bool), municipality_type, auspice,
        operating_area, perspective, publication_date, prel_publication_date, publ_period, has_ou_data``.
    """
    cols = [
        "id",
        "title",
        "description",
        "is_divided_by_gender",
        "municipality_type",
        "auspice",
        "operating_area",
        "perspective",
        "publication_date",
        "prel_publication_date",
        "publ_period",
        "has_ou_data",
    ]
    rows = []
    for label, doc in _docs(pages):
        problem = shape_problem(doc, "kpi")
        if problem:
            raise DataFileError(label, f"{problem} (has the API changed shape?)", fix=_FIX)
        for item in page_values(doc) or []:
            rows.append(
                {
                    "id": str(item["id"]).strip().upper(),
                    "title": item.get("title"),
                    "description": item.get("description"),
                    "is_divided_by_gender": _bool(item.get("is_divided_by_gender")),
                    "municipality_type": item.get("municipality_type"),
                    "auspice": item.get("auspice", item.get("auspices")),
                    "operating_area": item.get("operating_area"),
                    "perspective": item.get("perspective"),
                    "publication_date": pd.to_datetime(
                        item.get("publication_date"), errors="coerce"
                    ),
                    "prel_publication_date": pd.to_datetime(
                        item.get("prel_publication_date"), errors="coerce"
                    ),
                    "publ_period": None
                    if item.get("publ_period") is None
                    else str(item.get("publ_period")),
                    "has_ou_data": _bool(item.get("has_ou_data")),
                }
            )
    return pd.DataFrame(rows, columns=cols)


def read_municipality_groups(
    pages: Path | Mapping[str, Any] | Iterable[Path | Mapping[str, Any]],
) -> pd.DataFrame:
    """Municipality groups with their members, one row per (group, member).

    Members come as ``{member_id, member_title}`` (what clients see) or ``{id, title}`` (the v2
    README); both are read. Ids stay strings with their leading zeros.

    Returns:
        Columns ``group_id, group_title, member_id, member_title``.
    """
    rows = []
    for label, doc in _docs(pages):
        problem = shape_problem(doc, "municipality_groups")
        if problem:
            raise DataFileError(label, f"{problem} (has the API changed shape?)", fix=_FIX)
        for item in page_values(doc) or []:
            for j, m in enumerate(item["members"], start=1):
                mid = m.get("member_id", m.get("id")) if isinstance(m, dict) else None
                if mid is None:
                    raise DataFileError(
                        label,
                        f"group {item['id']!r}, member {j} has neither 'member_id' nor 'id' (has the API changed shape?)",
                        fix=_FIX,
                    )
                rows.append(
                    {
                        "group_id": str(item["id"]),
                        "group_title": item.get("title"),
                        "member_id": str(mid).strip(),
                        "member_title": m.get("member_title", m.get("title")),
                    }
                )
    return pd.DataFrame(rows, columns=["group_id", "group_title", "member_id", "member_title"])
