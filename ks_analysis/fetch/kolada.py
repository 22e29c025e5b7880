"""Fetch Kolada KPIs into a new dated snapshot: KPI data of a kommun, its län, riket and peers.

A fetch asks the Kolada API (:mod:`ks_analysis.fetch.client`) for KPI metadata, the peer group
and the data, keeps every response as received in a new snapshot folder under ``out``
(:mod:`ks_analysis.fetch.snapshot`), and then adds or updates the entry ``kolada_api`` of
``sources.yaml`` in the raw root (the parent of ``out``; :mod:`ks_analysis.fetch.sources_yaml`),
leaving the analyst's other entries alone. This is the one place where the package writes under
``data/raw/``: adding raw snapshots is the fetch's job (docs/kolada-fetch.md).

Exit codes (docs/kolada-fetch.md): 1 for a failed fetch the user cannot fix by changing the
command; 2 for bad input (unknown KPI id or group, a 4xx, a bad argument, an unreadable
``sources.yaml``).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ks_analysis import geo as geo_mod
from ks_analysis.errors import KsAnalysisError
from ks_analysis.fetch.client import (
    DEFAULT_BASE_URL,
    KoladaClient,
    UnknownKpiError,
    _pkg_version,
)
from ks_analysis.fetch.snapshot import FetchResult, _Snapshot
from ks_analysis.fetch.sources_yaml import _load_sources_doc, update_sources_yaml
from ks_analysis.ingest.kolada_pages import page_values, read_municipality_groups
from ks_analysis.params import default_municipality

__all__ = ["DEFAULT_BASE_URL", "fetch_kolada"]

log = logging.getLogger(__name__)

#: UTF-8 read as latin-1 and encoded again ("Ã¤" for "ä"), once seen in group titles.
_MOJIBAKE = re.compile("Ã[\u0080-\u00bf]")


def _check_ids(
    kpis: Iterable[str], municipality: str, peers: Sequence[str], years: Sequence[int]
) -> list[str]:
    out = []
    for k in kpis:
        kk = str(k).strip().upper()
        if not re.fullmatch(r"[A-Z]\d{5}", kk):
            raise UnknownKpiError(
                f"--kpi {k!r} is not a Kolada KPI id; write a letter and five digits, e.g. N03926"
            )
        if kk not in out:
            out.append(kk)
    if not out:
        raise UnknownKpiError(
            "no KPI to fetch; pass --kpi N03926 or use a goal catalogue with Kolada KPIs"
        )
    for code in [municipality, *peers]:
        if not re.fullmatch(r"\d{4}", code):
            raise KsAnalysisError(f"municipality code {code!r} must be 4 digits, e.g. 0665")
    if not years:
        raise KsAnalysisError("no years to fetch; pass e.g. --years 2010-2024")
    return out


def fetch_kolada(
    out: Path,
    kpis: Sequence[str],
    *,
    municipality: str | None = None,
    peers: Sequence[str] | str = "lan",
    years: Sequence[int],
    base_url: str = DEFAULT_BASE_URL,
    strict_kpis: bool = True,
    units: dict[str, str] | None = None,
    client_options: dict[str, Any] | None = None,
    progress: bool = False,
    now: dt.datetime | None = None,
    update_sources: bool = True,
) -> FetchResult:
    """Fetch KPI metadata, peer group and data into a new dated snapshot under ``out``.

    Args:
        out: snapshot root, e.g. ``data/raw/kolada``; its parent is the raw root whose
            ``sources.yaml`` gets the ``kolada_api`` entry.
        kpis: KPI ids to fetch.
        municipality: the kommun (default: the goal catalogue's); its län and riket (``0000``) are always fetched too.
        peers: ``"lan"`` (the län's other kommuner), ``"none"``, ``("kolada-group", "G123")`` as a
            two-item sequence, or a list of 4-digit codes.
        years: the years to fetch.
        strict_kpis: an id Kolada does not know is an error (ids given by the user); with False it
            is a warning, and only all ids unknown is an error (the catalogue's defaults, since
            KPIs can vanish from Kolada without notice).
        units: ``{KPI: unit}`` written into a new sources entry's reader options.
        client_options: passed to :class:`KoladaClient` (timeout, backoff, max_attempts, ...).
        now: the fetch time (tests); default the current UTC time.

    Returns:
        A :class:`FetchResult`.

    Raises:
        KoladaFetchError and subclasses, UnknownKpiError, KsAnalysisError: nothing is written then.
    """
    municipality = municipality or default_municipality()
    out = Path(out)
    peer_spec: list[str] = [peers] if isinstance(peers, str) else list(peers)
    explicit_peers = (
        [] if peer_spec[0] in ("lan", "none", "kolada-group") else [p.strip() for p in peer_spec]
    )
    kpi_ids = _check_ids(kpis, municipality, explicit_peers, years)
    lan = _lan_of(municipality)
    sources_file = out.parent / "sources.yaml"
    if update_sources:
        _load_sources_doc(sources_file)  # fail before fetching if the analyst's manifest is broken
    _check_peers(explicit_peers)
    client = KoladaClient(base_url, **(client_options or {}))
    started = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    snap = _Snapshot(out, started)
    client.on_attempt = snap.attempt
    bar = _progress(progress)
    result_warnings: list[str] = []
    try:
        snap.event(
            event="start",
            fetched_at=started.isoformat().replace("+00:00", "Z"),
            base_url=client.base_url,
            kpis=kpi_ids,
            municipality=municipality,
            peers=peer_spec,
            years=[int(y) for y in years],
            package_version=_pkg_version,
        )
        fetch_ids, missing = _fetch_kpis(client, snap, bar, kpi_ids, strict_kpis, result_warnings)
        peer_codes = _peer_codes(client, snap, bar, peer_spec, explicit_peers, municipality, lan)
        geos = list(dict.fromkeys([municipality, lan, geo_mod.RIKET, *peer_codes]))
        rows, without = _fetch_data(client, snap, bar, fetch_ids, geos, years, result_warnings)
        snap.event(
            event="done",
            finished_at=dt.datetime.now(dt.UTC).isoformat(),
            requests=client.requests,
            retries=client.retries,
            files=snap.files,
            data_rows=rows,
            missing_kpis=missing,
            kpis_without_data=without,
            warnings=result_warnings,
        )
    except BaseException:
        snap.abort()
        bar.close()
        raise
    finally:
        client.close()
    bar.close()
    final = snap.commit()
    result = FetchResult(
        final,
        client.requests,
        client.retries,
        snap.files,
        fetch_ids,
        geos,
        [int(y) for y in years],
        missing,
        without,
        rows,
        warnings=result_warnings,
    )
    if update_sources:
        _update_sources(result, sources_file, out, units)
    return result


def _lan_of(municipality: str) -> str:
    """The län code of a kommun code; KsAnalysisError if the code is no kommun."""
    place = geo_mod.geos().get(municipality)
    if place is None or place.type != "K":
        raise KsAnalysisError(
            f"--municipality {municipality!r} is not a kommun code; use e.g. 0665 (Vaggeryd)"
        )
    return place.lan_code


def _check_peers(explicit_peers: Sequence[str]) -> None:
    """KsAnalysisError naming the peer codes that are no kommun or län."""
    unknown = [c for c in explicit_peers if c not in geo_mod.geos()]
    if unknown:
        raise KsAnalysisError(
            f"--peers: {', '.join(unknown)} is not a kommun or län code; see ks_analysis/data/geo.csv"
        )


def _fetch_kpis(
    client: KoladaClient,
    snap: _Snapshot,
    bar: Any,
    kpi_ids: list[str],
    strict_kpis: bool,
    warnings: list[str],
) -> tuple[list[str], list[str]]:
    """Step 1, KPI metadata (which ids exist, titles, gender split, publication dates): (ids to fetch, ids unknown)."""
    snap.current_kind = "kpi"
    known: set[str] = set()
    for resp in client.kpis(kpi_ids):
        snap.save("kpi", resp)
        if _MOJIBAKE.search(resp.body.decode("utf-8", "replace")):
            msg = f"{resp.url}: titles look double-encoded (e.g. 'Ã¤' for 'ä'); the raw response is kept as it came"
            log.warning(msg)
            warnings.append(msg)
        known |= {str(v["id"]).upper() for v in page_values(resp.json()) or []}
        bar.update(1)
    missing = [k for k in kpi_ids if k not in known]
    if missing and (strict_kpis or len(missing) == len(kpi_ids)):
        raise UnknownKpiError(
            f"Kolada does not know KPI id(s) {', '.join(missing)} ({client.url('kpi/' + ','.join(missing))} answered with no values); check the ids at https://www.kolada.se"
        )
    if missing:
        msg = f"Kolada does not know KPI id(s) {', '.join(missing)} (they may have been withdrawn); fetching the other {len(kpi_ids) - len(missing)}"
        log.warning(msg)
        warnings.append(msg)
    return [k for k in kpi_ids if k in known], missing


def _peer_codes(
    client: KoladaClient,
    snap: _Snapshot,
    bar: Any,
    peer_spec: list[str],
    explicit_peers: list[str],
    municipality: str,
    lan: str,
) -> list[str]:
    """Step 2, the peers: the län's other kommuner, none, a Kolada group's members, or the codes given."""
    if peer_spec[0] == "lan":
        return [c for c in geo_mod.kommuner_in_lan(lan) if c != municipality]
    if peer_spec[0] == "none":
        return []
    if peer_spec[0] != "kolada-group":
        return explicit_peers
    if len(peer_spec) != 2:
        raise KsAnalysisError(
            "--peers kolada-group needs one group id, e.g. --peers kolada-group G37569"
        )
    snap.current_kind = "municipality_groups"
    group_pages = client.municipality_group(peer_spec[1])
    for resp in group_pages:
        snap.save("municipality_groups", resp)
        bar.update(1)
    members = read_municipality_groups([r.json() for r in group_pages])
    if members.empty:
        raise UnknownKpiError(
            f"Kolada has no municipality group {peer_spec[1]!r} (or it has no members); find a kommun's groups with `ks-analysis kolada groups 0665`"
        )
    return [m for m in members["member_id"].tolist() if m != municipality]


def _fetch_data(
    client: KoladaClient,
    snap: _Snapshot,
    bar: Any,
    fetch_ids: list[str],
    geos: list[str],
    years: Sequence[int],
    warnings: list[str],
) -> tuple[int, list[str]]:
    """Step 3, the data: (value rows received, KPIs without any data)."""
    snap.current_kind = "data"
    rows = 0
    seen_kpis: set[str] = set()
    for resp in client.data(
        fetch_ids, geos, [int(y) for y in years], on_chunk=lambda: bar.update(1)
    ):
        snap.save("data", resp)
        for item in page_values(resp.json()) or []:
            seen_kpis.add(str(item["kpi"]).upper())
            rows += 1
    without = [k for k in fetch_ids if k not in seen_kpis]
    if without:
        msg = (
            f"Kolada has no data for KPI(s) {', '.join(without)} for these municipalities and years"
        )
        log.warning(msg)
        warnings.append(msg)
    return rows, without


def _update_sources(
    result: FetchResult, sources_file: Path, out: Path, units: dict[str, str] | None
) -> None:
    """Step 4, after the snapshot is in place: add or update its entry in ``sources.yaml``."""
    try:
        result.sources_updated = update_sources_yaml(sources_file, out, units=units)
    except (OSError, KsAnalysisError) as exc:
        raise KsAnalysisError(
            f"the snapshot {result.snapshot} was written, but {sources_file} could not be updated ({exc}); add the entry by hand (docs/kolada-fetch.md)"
        ) from None
    result.sources_file = sources_file


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(enabled: bool) -> Any:
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(desc="fetching Kolada", unit="req", leave=False)
