"""Kolada's KPI catalogue and municipality groups: find them locally, fetch them, search them.

The goal catalogue is written in KPI ids (``N03926``); this module is how an analyst finds them.
Where the metadata comes from, first found wins:

1. ``--metadata PATH``: a folder of ``kpi-*.json`` / ``municipality_groups-*.json`` pages, or a
   single JSON file;
2. the newest snapshot under ``data/raw/kolada-metadata/`` written by ``ks-analysis kpi update``
   (the whole ``/v3/kpi`` and ``/v3/municipality_groups`` lists, kept byte for byte with
   ``fetch-log.jsonl``, like a data fetch);
3. a recorded catalogue: ``$KS_KOLADA_RECORDED`` or ``../shared/data/kolada_recorded`` beside the
   project (its ``reserialized/kpi_objects.json`` and ``municipality_groups.json``).

With none of these, :func:`load_metadata` fetches the lists from the API (``online=True``) and
keeps them as a new snapshot, so the next search is offline.

Search (:func:`search_kpis`) is case- and accent-tolerant and knows Swedish inflection and
compounds: ``arbetslöshet`` finds "Arbetslösa av befolkningen" and "Långtidsarbetslösa i
befolkningen" (Snowball's Swedish stemmer on both sides, then a word may be the tail or head of a
compound). Every query word must match the title or the description; title matches rank above
description matches, whole words above parts of compounds.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ks_analysis.errors import DataFileError, KsAnalysisError
from ks_analysis.paths import PROJECT_ROOT, RAW_DIR

__all__ = [
    "Kpi",
    "Group",
    "Metadata",
    "METADATA_DIR",
    "recorded_dir",
    "load_metadata",
    "fetch_metadata",
    "search_kpis",
    "groups_for",
    "normalise",
]

log = logging.getLogger(__name__)

#: Default root of the metadata snapshots written by ``ks-analysis kpi update``.
METADATA_DIR = RAW_DIR / "kolada-metadata"
_FIX = "run `ks-analysis kpi update` to fetch Kolada's lists again, or pass --metadata FILE"


@dataclass(frozen=True)
class Kpi:
    """One Kolada KPI object (v3 field names; every field but ``id`` may be missing)."""

    id: str
    title: str = ""
    description: str = ""
    is_divided_by_gender: bool | None = None
    municipality_type: str = ""
    operating_area: str = ""
    publication_date: str = ""
    prel_publication_date: str = ""
    publ_period: str = ""

    @property
    def source(self) -> str:
        """The agency named by the description's "Källa: ..." (empty when it names none)."""
        m = re.search(r"Källa:\s*(.+?)\s*\.?\s*$", self.description or "")
        return m.group(1).rstrip(".") if m else ""

    @property
    def gender_split(self) -> str:
        """``K/M`` when Kolada splits the KPI by gender, ``-`` when not, ``?`` when unknown."""
        return {True: "K/M", False: "-"}.get(self.is_divided_by_gender, "?")  # type: ignore[arg-type]


@dataclass(frozen=True)
class Group:
    """A Kolada municipality group with its members ``(code, title)``."""

    id: str
    title: str
    members: tuple[tuple[str, str], ...]


@dataclass
class Metadata:
    """The KPI catalogue and groups read from one place, and what that place is."""

    kpis: dict[str, Kpi]
    groups: dict[str, Group]
    where: str
    fetched_at: str = ""
    notes: list[str] = field(default_factory=list)


def recorded_dir() -> Path:
    """The recorded Kolada responses: ``$KS_KOLADA_RECORDED`` or ``../shared/data/kolada_recorded``."""
    env = os.environ.get("KS_KOLADA_RECORDED")
    if env:
        return Path(env).expanduser().resolve()
    return (PROJECT_ROOT.parent / "shared" / "data" / "kolada_recorded").resolve()


# --- reading -------------------------------------------------------------------------------


def _items(doc: Any, label: str) -> list[Mapping[str, Any]]:
    """The objects of an API page ``{"values": [...]}``, a list of objects, or ``{id: object}``."""
    if isinstance(doc, Mapping) and isinstance(doc.get("values"), list):
        items: Iterable[Any] = doc["values"]
    elif isinstance(doc, list):
        items = doc
    elif isinstance(doc, Mapping) and all(isinstance(v, Mapping) for v in doc.values()):
        items = doc.values()
    else:
        raise DataFileError(
            label, "is neither a Kolada page ({'values': [...]}) nor a list of objects", fix=_FIX
        )
    out = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, Mapping) or "id" not in item:
            raise DataFileError(label, f"item {n} has no 'id'", fix=_FIX)
        out.append(item)
    return out


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _bool(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def _kpi(item: Mapping[str, Any]) -> Kpi:
    return Kpi(
        id=_text(item["id"]).upper(),
        title=_text(item.get("title")),
        description=_text(item.get("description")),
        is_divided_by_gender=_bool(item.get("is_divided_by_gender")),
        municipality_type=_text(item.get("municipality_type")),
        operating_area=_text(item.get("operating_area")),
        publication_date=_text(item.get("publication_date")),
        prel_publication_date=_text(item.get("prel_publication_date")),
        publ_period=_text(item.get("publ_period")),
    )


def _group(item: Mapping[str, Any], label: str) -> Group:
    members = []
    for j, m in enumerate(item.get("members") or [], start=1):
        mid = m.get("member_id", m.get("id")) if isinstance(m, Mapping) else None
        if mid is None:
            raise DataFileError(
                label, f"group {item['id']!r}, member {j} has no 'member_id'", fix=_FIX
            )
        members.append((_text(mid), _text(m.get("member_title", m.get("title")))))
    return Group(_text(item["id"]), _text(item.get("title")), tuple(members))


def _load_json(path: Path) -> Any:
    if path.exists() and not path.is_file():  # a pipe would block the read for ever
        raise DataFileError(path, "is not a regular file (a folder, pipe or device)", fix=_FIX)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataFileError(path, f"is not readable JSON ({exc})", fix=_FIX) from None


def _kind_of(path: Path, items: list[Mapping[str, Any]]) -> str:
    if "group" in path.name or (items and "members" in items[0]):
        return "groups"
    return "kpis"


def read_metadata_files(paths: Iterable[Path], where: str, fetched_at: str = "") -> Metadata:
    """KPIs and groups from JSON files (API pages, lists or ``{id: object}`` maps)."""
    kpis: dict[str, Kpi] = {}
    groups: dict[str, Group] = {}
    for path in paths:
        items = _items(_load_json(path), str(path))
        if _kind_of(path, items) == "groups":
            for item in items:
                g = _group(item, str(path))
                groups[g.id] = g
        else:
            for item in items:
                k = _kpi(item)
                kpis[k.id] = k
    return Metadata(kpis, groups, where, fetched_at)


def _snapshot_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("kpi-*.json")) + sorted(folder.glob("municipality_groups-*.json"))


def _fetched_at(folder: Path) -> str:
    """The UTC start of a snapshot's fetch, from its log (else its folder name)."""
    log_file = folder / "fetch-log.jsonl"
    if log_file.exists():
        for line in log_file.read_text(encoding="utf-8").splitlines()[:1]:
            try:
                return str(json.loads(line).get("fetched_at", folder.name))
            except json.JSONDecodeError:
                break
    return folder.name


def _newest_snapshot(root: Path) -> Path | None:
    if not root.is_dir():
        return None
    folders = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    folders = [p for p in folders if list(p.glob("kpi-*.json"))]
    return max(folders, key=lambda p: p.name) if folders else None


def local_metadata(explicit: Path | None = None, root: Path | None = None) -> Metadata | None:
    """The first metadata found locally (see the module docs); None when there is none."""
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.exists():
            raise DataFileError(path, "metadata file or folder not found", fix=_FIX)
        files = _snapshot_files(path) if path.is_dir() else [path]
        if path.is_dir() and not files:
            files = sorted(path.glob("*.json"))
        if not files:
            raise DataFileError(path, "holds no kpi-*.json or other JSON file", fix=_FIX)
        return read_metadata_files(files, str(path), _fetched_at(path) if path.is_dir() else "")
    snap = _newest_snapshot(root or METADATA_DIR)
    if snap is not None:
        return read_metadata_files(_snapshot_files(snap), f"the snapshot {snap}", _fetched_at(snap))
    rec = recorded_dir() / "reserialized"
    files = [p for p in (rec / "kpi_objects.json", rec / "municipality_groups.json") if p.exists()]
    if files:
        return read_metadata_files(
            files, f"the recorded catalogue {rec} (rKolada's copy of the v3 API, 2026-03-23)"
        )
    return None


# --- fetching ------------------------------------------------------------------------------


def fetch_metadata(
    out: Path | None = None,
    *,
    base_url: str | None = None,
    client_options: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> tuple[Path, Metadata]:
    """Fetch Kolada's whole KPI list and its municipality groups into a new snapshot under ``out``.

    Every response is kept byte for byte with ``fetch-log.jsonl``; the folder appears only when
    both lists were fetched (see :mod:`ks_analysis.fetch.snapshot`).

    Raises:
        KoladaFetchError and subclasses: nothing is written then.
    """
    from ks_analysis.fetch.client import DEFAULT_BASE_URL, KoladaClient, _pkg_version
    from ks_analysis.fetch.snapshot import _Snapshot

    root = Path(out) if out is not None else METADATA_DIR
    client = KoladaClient(base_url or DEFAULT_BASE_URL, **(client_options or {}))
    started = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    snap = _Snapshot(root, started)
    client.on_attempt = snap.attempt
    try:
        snap.event(
            event="start",
            fetched_at=started.isoformat().replace("+00:00", "Z"),
            base_url=client.base_url,
            lists=["kpi", "municipality_groups"],
            package_version=_pkg_version,
        )
        for kind in ("kpi", "municipality_groups"):
            snap.current_kind = kind
            for resp in client.get_pages(kind, kind):
                snap.save(kind, resp)
        snap.event(
            event="done",
            finished_at=dt.datetime.now(dt.UTC).isoformat(),
            requests=client.requests,
            retries=client.retries,
            files=snap.files,
        )
    except BaseException:
        snap.abort()
        raise
    finally:
        client.close()
    final = snap.commit()
    meta = read_metadata_files(_snapshot_files(final), f"the snapshot {final}", _fetched_at(final))
    return final, meta


def load_metadata(
    explicit: Path | None = None,
    *,
    root: Path | None = None,
    online: bool = True,
    refresh: bool = False,
    base_url: str | None = None,
    client_options: dict[str, Any] | None = None,
) -> Metadata:
    """Local metadata (see the module docs), else (``online``) a fresh fetch kept as a snapshot.

    Raises:
        KsAnalysisError: no metadata locally and ``online`` is False (exit 2, says what to run).
        KoladaFetchError: the fetch failed (exit 1).
    """
    if not refresh:
        found = local_metadata(explicit, root)
        if found is not None:
            return found
    if not online:
        raise KsAnalysisError(
            "no Kolada KPI catalogue found locally (data/raw/kolada-metadata/ is empty); "
            "run `ks-analysis kpi update` once with a network connection, or pass --metadata FILE"
        )
    from ks_analysis.fetch.client import KoladaFetchError

    try:
        folder, meta = fetch_metadata(root, base_url=base_url, client_options=client_options)
    except KoladaFetchError as exc:
        why = "" if refresh else "no Kolada KPI catalogue was found locally, and "
        failure = KoladaFetchError(
            f"{why}fetching Kolada's lists failed: {exc}; with a catalogue file at hand pass --metadata FILE"
        )
        failure.exit_code = exc.exit_code
        raise failure from None
    meta.notes.append(
        f"fetched Kolada's lists ({len(meta.kpis)} KPIs, {len(meta.groups)} groups) into {folder}; "
        "later searches read them offline"
    )
    return meta


# --- searching -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _stemmer() -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer("swedish")


def _fold(text: str) -> str:
    """Lower case without diacritics: ``Långtidsarbetslösa`` -> ``langtidsarbetslosa``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _fold(_stemmer().stemWord(word))


def normalise(text: str) -> list[str]:
    """The words of ``text`` stemmed (Swedish) and folded: ``Arbetslöshet`` -> ``['arbetslos']``."""
    return [s for s in (_stem(w) for w in re.findall(r"\w+", text.casefold())) if s]


def _discontinued(kpi: Kpi) -> bool:
    """No next publication and no latest period: Kolada no longer updates the KPI."""
    return not kpi.publication_date and not kpi.publ_period


#: Score of a query word by how it matches one word of the text. A Swedish compound's last part
#: is its head ("långtidsarbetslösa" are "arbetslösa"), so it counts as the word itself; a first
#: part ("arbetslöshetsersättning") or a part inside counts less.
_WHOLE, _HEAD, _FIRST, _INSIDE = 3.0, 3.0, 2.0, 1.0


def _word_score(query: str, words: list[str]) -> float:
    best = 0.0
    for w in words:
        if w == query:
            return _WHOLE
        if len(query) >= 3 and w.endswith(query):
            best = max(best, _HEAD)
        elif len(query) >= 3 and w.startswith(query):
            best = max(best, _FIRST)
        elif len(query) >= 4 and query in w:
            best = max(best, _INSIDE)
    return best


def _in_order(terms: list[str], words: list[str]) -> bool:
    """Whether ``terms`` match words of the title in the order asked (other words between allowed)."""
    i = 0
    for w in words:
        if i < len(terms) and _word_score(terms[i], [w]):
            i += 1
    return i == len(terms)


@dataclass(frozen=True)
class Hit:
    """One search result with its score (higher is better)."""

    kpi: Kpi
    score: float


def search_kpis(meta: Metadata, query: str, limit: int | None = 20) -> list[Hit]:
    """KPIs whose title or description matches every word of ``query``, best first.

    An exact id (``n03926``) comes first. A word found in the title counts ten times one found only
    in the description; a title
    that starts with the first word gets a bonus, a KPI Kolada no longer updates counts half;
    ties go to the shorter title (the more general KPI), then the id.
    """
    text = query.strip()
    if not text:
        raise KsAnalysisError("give a search text, e.g. ks-analysis kpi search arbetslöshet")
    hits: list[Hit] = []
    by_id = meta.kpis.get(text.upper())
    terms = normalise(text)
    for kpi in meta.kpis.values():
        if kpi is by_id:
            continue
        title = normalise(kpi.title)
        desc: list[str] | None = None  # stemmed only when a word is not in the title
        score = 0.0
        for term in terms:
            t = _word_score(term, title)
            d = 0.0
            if not t:
                desc = normalise(kpi.description) if desc is None else desc
                d = _word_score(term, desc)
            if not t and not d:
                score = 0.0
                break
            score += 10 * t if t else d  # the description counts where the title does not match
        if score:
            if title and terms and _word_score(terms[0], title[:1]):
                score += 5.0  # the title starts with the first word asked for
            if len(terms) > 1 and _in_order(terms, title):
                score += 5.0  # the words follow each other in the title as asked
            if _discontinued(kpi):
                score /= 2
            hits.append(Hit(kpi, score))
    hits.sort(key=lambda h: (-h.score, len(h.kpi.title), h.kpi.id))
    if by_id is not None:
        hits.insert(0, Hit(by_id, float("inf")))
    return hits[:limit] if limit else hits


def suggestions(meta: Metadata, query: str, n: int = 5) -> list[str]:
    """Title words close to the words of ``query`` (for "no KPI matches" messages)."""
    import difflib

    vocabulary = sorted(
        {w for k in meta.kpis.values() for w in re.findall(r"\w+", k.title.lower())}
    )
    out: list[str] = []
    for word in re.findall(r"\w+", query.lower()):
        out += [
            w for w in difflib.get_close_matches(word, vocabulary, n=n, cutoff=0.75) if w not in out
        ]
    return out[:n]


def groups_for(meta: Metadata, code: str, name: str) -> tuple[list[Group], list[Group]]:
    """(groups named after the kommun, e.g. Kolada's "Liknande kommuner ..., Vaggeryd, 2025";
    groups it is a member of), each sorted by title."""
    pattern = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.I)
    named = [g for g in meta.groups.values() if pattern.search(g.title)]
    member = [g for g in meta.groups.values() if any(m == code for m, _ in g.members)]
    named_ids = {g.id for g in named}
    return (
        sorted(named, key=lambda g: (g.title, g.id)),
        sorted((g for g in member if g.id not in named_ids), key=lambda g: (g.title, g.id)),
    )
