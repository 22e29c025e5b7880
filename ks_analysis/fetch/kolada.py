"""Kolada API client and snapshot fetch: KPI data of a kommun, its län, riket and peers, kept byte for byte.

Built on the standard library's :mod:`urllib` from what is known of the API
(../shared/design/kolada-api.md): v3 by default (base URL configurable), paging by following
``next_url`` (v3) or ``next_page`` (v2), at most 25 ids per path segment (split again on HTTP
422), retries with exponential backoff on 429 and 5xx (``Retry-After`` honoured), a 30 s
timeout, at most 5 requests a second, one at a time.

A fetch writes every response as received into a new folder named by its UTC start time under
``out`` (``2026-11-26T143000Z``, ``-2`` etc. when taken), with ``fetch-log.jsonl`` (one JSON
line per request attempt: URL, time, status, sha256, file). The folder is built under a hidden
temporary name and renamed into place only when the whole fetch succeeded, and then the entry
``kolada_api`` of ``sources.yaml`` in the raw root (the parent of ``out``) is added or updated,
leaving the analyst's other entries alone. This is the one place where the package writes
under ``data/raw/``: adding raw snapshots is the fetch's job (docs/kolada-fetch.md).

Exit codes (docs/kolada-fetch.md): 1 for a failed fetch the user cannot fix by changing the
command (no network, DNS failure, timeouts, 429/5xx after all retries, malformed JSON, a changed
API shape); 2 for bad input (unknown KPI id or group, a 4xx such as 404 from a wrong base URL, a
bad argument, an unreadable ``sources.yaml``).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import importlib.metadata
import json
import logging
import os
import re
import shutil
import socket
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ks_analysis.errors import KsAnalysisError
from ks_analysis.ingest.kolada_snapshot import (
    FETCH_LOG,
    next_page_url,
    page_values,
    read_municipality_groups,
    shape_problem,
)
from ks_analysis.params import default_municipality

__all__ = [
    "DEFAULT_BASE_URL",
    "MAX_IDS_PER_SEGMENT",
    "KoladaClient",
    "KoladaFetchError",
    "KoladaNetworkError",
    "KoladaHTTPError",
    "KoladaResponseError",
    "UnknownKpiError",
    "Response",
    "FetchResult",
    "fetch_kolada",
    "update_sources_yaml",
    "SOURCE_ENTRY_NAME",
]

log = logging.getLogger(__name__)


def _version() -> str:
    try:
        return importlib.metadata.version("ks-analysis")
    except importlib.metadata.PackageNotFoundError:  # a plain checkout without an install
        return "0+unknown"


_pkg_version = _version()

DEFAULT_BASE_URL = "https://api.kolada.se/v3"
#: v3 refuses more ids than this in one comma-separated path segment (inferred from clients).
MAX_IDS_PER_SEGMENT = 25
#: v2's documented maximum page size; v3 clients use the same (a larger one gives 422).
PER_PAGE = 5000
#: Name of the sources.yaml entry a fetch adds for ``--out <raw root>/kolada``.
SOURCE_ENTRY_NAME = "kolada_api"
#: Lag assumed when a new entry is written: Kolada publishes most yearly KPIs in the spring after the year.
DEFAULT_LAG_DAYS = 75
_BODY_EXCERPT = 300
#: UTF-8 read as latin-1 and encoded again ("Ã¤" for "ä"), once seen in group titles.
_MOJIBAKE = re.compile("Ã[\u0080-\u00bf]")


# --- errors --------------------------------------------------------------------------------


class KoladaFetchError(KsAnalysisError):
    """A fetch failed; nothing was written. Exit code 1: retry later, or report the API change."""

    exit_code = 1


class KoladaNetworkError(KoladaFetchError):
    """No answer: no network, connection refused, DNS failure or a timeout (after retries)."""


class KoladaHTTPError(KoladaFetchError):
    """The API answered with an HTTP error; names the URL and status and quotes the body.

    429 and 5xx (after all retries) exit with 1; other 4xx, e.g. 404 from a wrong ``--base-url``,
    are bad input and exit with 2.
    """

    def __init__(self, url: str, status: int, body: bytes, attempts: int = 1) -> None:
        self.url = url
        self.status = status
        self.body = body
        self.attempts = attempts
        self.exit_code = 1 if status == 429 or status >= 500 else 2
        excerpt = body[:_BODY_EXCERPT].decode("utf-8", "replace").strip()
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        hint = {
            404: "check --base-url (the v3 API is https://api.kolada.se/v3)",
            400: "the request is malformed or the URL too long; fetch fewer KPIs or years",
            422: "too many ids in one request even after splitting",
            429: "the API is rate-limiting; wait a while and fetch again",
        }.get(
            status,
            "the Kolada API failed; try again later"
            if status >= 500
            else "check the command's ids and --base-url",
        )
        super().__init__(f"{url}: HTTP {status}{tries}; body: {excerpt!r}; {hint}")


class KoladaResponseError(KoladaFetchError):
    """The API answered 200 with something that is not the documented shape (bad JSON, a missing field)."""


class UnknownKpiError(KsAnalysisError):
    """A requested KPI id or municipality group does not exist in Kolada (exit code 2)."""


# --- client --------------------------------------------------------------------------------


@dataclass
class Response:
    """One successful response, body exactly as received."""

    url: str
    status: int
    body: bytes
    received_at: dt.datetime
    attempts: int = 1

    def json(self) -> Any:
        """The parsed body; KoladaResponseError naming the URL if it is not JSON."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise KoladaResponseError(
                f"{self.url}: response is not valid JSON ({exc}); body starts {self.body[:80]!r}; the API may be failing, try again later"
            ) from None


def _chunks(ids: Sequence[str], size: int) -> list[list[str]]:
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)] or [[]]


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


class KoladaClient:
    """A polite, retrying Kolada API client on :mod:`urllib`.

    Args:
        base_url: API root, e.g. ``https://api.kolada.se/v3`` (v2 paths are the same).
        timeout: seconds per request.
        max_attempts: tries per URL on 429, 5xx and transient network errors.
        backoff: first retry delay in seconds; doubles each retry (tests pass a tiny value).
        max_delay: cap on any one delay, ``Retry-After`` included.
        min_interval: seconds between request starts (0.2 = at most 5 a second).
        on_attempt: called with a dict per attempt (url, time, status, error, body) for the log.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = 30.0,
        max_attempts: int = 5,
        backoff: float = 1.0,
        max_delay: float = 120.0,
        min_interval: float = 0.2,
        on_attempt: Callable[[dict[str, Any]], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise KsAnalysisError(
                f"--base-url {base_url!r} is not an http(s) URL; use e.g. {DEFAULT_BASE_URL}"
            )
        self.base_url = base_url.rstrip("/")
        self.host = parts.hostname
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self.max_delay = max_delay
        self.min_interval = min_interval
        self.on_attempt = on_attempt
        self.sleep = sleep
        self.requests = 0
        self.retries = 0
        self._last_start = 0.0
        self._opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({})
            if parts.hostname in ("127.0.0.1", "localhost", "::1")
            else urllib.request.ProxyHandler()
        )

    def url(self, path: str) -> str:
        """Absolute URL of an API path, with the page size (paging then follows the returned URLs)."""
        return f"{self.base_url}/{path.lstrip('/')}?per_page={PER_PAGE}"

    def _wait_turn(self) -> None:
        wait = self._last_start + self.min_interval - time.monotonic()
        if wait > 0:
            self.sleep(wait)
        self._last_start = time.monotonic()

    def _note(self, **event: Any) -> None:
        if self.on_attempt:
            self.on_attempt(event)

    def get(self, url: str) -> Response:
        """GET one URL, retrying 429, 5xx and transient network errors with exponential backoff.

        Raises:
            KoladaHTTPError: any other HTTP error, or 429/5xx after the last attempt.
            KoladaNetworkError: DNS failure or refused connection (at once), timeouts (after retries).
        """
        for attempt in range(1, self.max_attempts + 1):
            self._wait_turn()
            self.requests += 1
            started = dt.datetime.now(dt.UTC)
            request = urllib.request.Request(
                url,
                headers={
                    "Accept": "application/json",
                    "User-Agent": f"ks-analysis/{_pkg_version} (+Vaggeryds kommun goal follow-up)",
                },
            )
            delay: float | None = None
            try:
                with self._opener.open(request, timeout=self.timeout) as resp:
                    body = resp.read()
                    status = resp.status
                self._note(
                    url=url, time=started.isoformat(), status=status, attempt=attempt, body=body
                )
                return Response(
                    url=url, status=status, body=body, received_at=started, attempts=attempt
                )
            except urllib.error.HTTPError as exc:
                body = exc.read() or b""
                self._note(
                    url=url,
                    time=started.isoformat(),
                    status=exc.code,
                    attempt=attempt,
                    body=body,
                    error=f"HTTP {exc.code}",
                )
                log.warning(
                    "%s: HTTP %s (attempt %d); body: %r",
                    url,
                    exc.code,
                    attempt,
                    body[:_BODY_EXCERPT],
                )
                if not (exc.code == 429 or exc.code >= 500) or attempt == self.max_attempts:
                    raise KoladaHTTPError(url, exc.code, body, attempt) from None
                delay = _retry_after(exc.headers.get("Retry-After") if exc.headers else None)
            except (urllib.error.URLError, OSError) as exc:
                reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
                self._note(
                    url=url,
                    time=started.isoformat(),
                    status=None,
                    attempt=attempt,
                    error=f"{type(reason).__name__}: {reason}",
                )
                if isinstance(reason, socket.gaierror):
                    raise KoladaNetworkError(
                        f"{url}: the host name {urllib.parse.urlsplit(url).hostname!r} could not be resolved (DNS failure: {reason}); check the network connection and --base-url"
                    ) from None
                if isinstance(reason, ConnectionRefusedError):
                    raise KoladaNetworkError(
                        f"{url}: connection refused; is the network up and --base-url right?"
                    ) from None
                transient = isinstance(
                    reason,
                    TimeoutError | socket.timeout | ConnectionResetError | ConnectionAbortedError,
                ) or "timed out" in str(reason)
                if not transient or attempt == self.max_attempts:
                    what = (
                        f"no answer within {self.timeout:g} s"
                        if transient
                        else f"network error ({reason})"
                    )
                    raise KoladaNetworkError(
                        f"{url}: {what} after {attempt} attempt(s); check the network connection and try again"
                    ) from None
                log.warning("%s: %s (attempt %d); retrying", url, reason, attempt)
            self.retries += 1
            if delay is None:
                delay = self.backoff * 2 ** (attempt - 1)
            self.sleep(min(delay, self.max_delay))
        raise AssertionError("unreachable")  # pragma: no cover

    def get_pages(self, path: str, kind: str) -> list[Response]:
        """Every page of an API path, following ``next_url``/``next_page`` until none, each shape-checked.

        Raises:
            KoladaResponseError: malformed JSON, a missing field, a repeated or foreign next URL.
        """
        url: str | None = self.url(path)
        seen: set[str] = set()
        pages: list[Response] = []
        while url:
            if url in seen:
                raise KoladaResponseError(
                    f"{url}: the API sent this next-page URL twice; stopping to avoid a loop"
                )
            seen.add(url)
            resp = self.get(url)
            doc = resp.json()
            problem = shape_problem(doc, kind)
            if problem:
                raise KoladaResponseError(
                    f"{url}: {problem}; the Kolada API may have changed shape (see docs/kolada-fetch.md)"
                )
            pages.append(resp)
            url = next_page_url(doc)
            if url and urllib.parse.urlsplit(url).hostname != self.host:
                raise KoladaResponseError(
                    f"{resp.url}: next-page URL {url!r} points to another host than --base-url; refusing to follow it"
                )
        return pages

    def kpis(self, ids: Sequence[str]) -> list[Response]:
        """``/kpi/{ids}`` pages, at most 25 ids per request."""
        out: list[Response] = []
        for chunk in _chunks(list(ids), MAX_IDS_PER_SEGMENT):
            out += self.get_pages(f"kpi/{','.join(chunk)}", "kpi")
        return out

    def municipality_group(self, group_id: str) -> list[Response]:
        """``/municipality_groups/{id}`` pages."""
        return self.get_pages(
            f"municipality_groups/{urllib.parse.quote(group_id)}", "municipality_groups"
        )

    def data(
        self,
        kpis: Sequence[str],
        municipalities: Sequence[str],
        years: Sequence[int],
        on_chunk: Callable[[], None] | None = None,
    ) -> list[Response]:
        """``/data/kpi/{kpis}/municipality/{muns}/year/{years}`` pages: every combination of ≤25-id chunks.

        A chunk answered with HTTP 422 (too many ids) is split in half along its longest segment
        and fetched again, down to single ids.
        """
        pending = [
            (k, m, y)
            for k in _chunks(list(kpis), MAX_IDS_PER_SEGMENT)
            for m in _chunks(list(municipalities), MAX_IDS_PER_SEGMENT)
            for y in _chunks([str(v) for v in years], MAX_IDS_PER_SEGMENT)
        ]
        out: list[Response] = []
        while pending:
            k, m, y = pending.pop(0)
            path = f"data/kpi/{','.join(k)}/municipality/{','.join(m)}/year/{','.join(y)}"
            try:
                out += self.get_pages(path, "data")
            except KoladaHTTPError as exc:
                longest = max((k, m, y), key=len)
                if exc.status != 422 or len(longest) == 1:
                    raise
                half = len(longest) // 2
                log.info("%s: HTTP 422, splitting %d ids in two", exc.url, len(longest))
                parts = [longest[:half], longest[half:]]
                pending[:0] = [
                    (p if longest is k else k, p if longest is m else m, p if longest is y else y)
                    for p in parts
                ]
                continue
            if on_chunk:
                on_chunk()
        return out


# --- snapshot ------------------------------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Snapshot:
    """A snapshot folder under construction: a hidden temporary folder renamed into place at the end."""

    def __init__(self, out: Path, started: dt.datetime) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.out = out
        self.started = started
        self.tmp = Path(tempfile.mkdtemp(prefix=".fetch-", suffix=".tmp", dir=out))
        self.log_path = self.tmp / FETCH_LOG
        self.counts: dict[str, int] = {}
        self.files: list[str] = []
        self.current_kind = ""

    def event(self, **event: Any) -> None:
        with self.log_path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(event, ensure_ascii=False, default=str) + "\n")

    def attempt(self, ev: dict[str, Any]) -> None:
        """Log a failed attempt (successful ones are logged by :meth:`save` with their file)."""
        if ev.get("status") == 200 or "error" not in ev:
            return
        body: bytes = ev.pop("body", b"") or b""
        self.event(
            event="attempt",
            kind=self.current_kind,
            **ev,
            sha256=_sha256(body),
            bytes=len(body),
            body=body[:2000].decode("utf-8", "replace"),
        )

    def save(self, kind: str, resp: Response) -> str:
        n = self.counts[kind] = self.counts.get(kind, 0) + 1
        name = f"{kind}-{n:04d}.json"
        (self.tmp / name).write_bytes(resp.body)
        self.files.append(name)
        self.event(
            event="response",
            kind=kind,
            url=resp.url,
            time=resp.received_at.isoformat(),
            status=resp.status,
            attempts=resp.attempts,
            sha256=_sha256(resp.body),
            bytes=len(resp.body),
            file=name,
        )
        return name

    def commit(self) -> Path:
        """Rename into ``<out>/<UTC time>`` (``-2``, ``-3``... if taken); never replaces a folder."""
        base = self.started.strftime("%Y-%m-%dT%H%M%SZ")
        for n in range(1, 1000):
            final = self.out / (base if n == 1 else f"{base}-{n}")
            if final.exists():
                continue
            try:
                os.rename(self.tmp, final)  # fails on an existing non-empty folder
            except OSError:
                continue
            return final
        raise KoladaFetchError(
            f"{self.out}: could not find a free snapshot name for {base}"
        )  # pragma: no cover

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


@dataclass
class FetchResult:
    """What a fetch did: where the snapshot is, how many requests and retries, what was missing."""

    snapshot: Path
    requests: int
    retries: int
    files: list[str]
    kpis: list[str]
    municipalities: list[str]
    years: list[int]
    missing_kpis: list[str] = field(default_factory=list)
    kpis_without_data: list[str] = field(default_factory=list)
    data_rows: int = 0
    sources_file: Path | None = None
    sources_updated: bool = False
    warnings: list[str] = field(default_factory=list)


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
    from ks_analysis import geo as geo_mod

    municipality = municipality or default_municipality()
    out = Path(out)
    peer_spec: list[str] = [peers] if isinstance(peers, str) else list(peers)
    explicit_peers = (
        [] if peer_spec[0] in ("lan", "none", "kolada-group") else [p.strip() for p in peer_spec]
    )
    kpi_ids = _check_ids(kpis, municipality, explicit_peers, years)
    place = geo_mod.geos().get(municipality)
    if place is None or place.type != "K":
        raise KsAnalysisError(
            f"--municipality {municipality!r} is not a kommun code; use e.g. 0665 (Vaggeryd)"
        )
    lan = place.lan_code
    sources_file = out.parent / "sources.yaml"
    if update_sources:
        _load_sources_doc(sources_file)  # fail before fetching if the analyst's manifest is broken
    unknown = [c for c in explicit_peers if c not in geo_mod.geos()]
    if unknown:
        raise KsAnalysisError(
            f"--peers: {', '.join(unknown)} is not a kommun or län code; see ks_analysis/data/geo.csv"
        )
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

        # 1. KPI metadata: which ids exist, titles, gender split, next publication dates.
        snap.current_kind = "kpi"
        known: set[str] = set()
        for resp in client.kpis(kpi_ids):
            snap.save("kpi", resp)
            if _MOJIBAKE.search(resp.body.decode("utf-8", "replace")):
                msg = f"{resp.url}: titles look double-encoded (e.g. 'Ã¤' for 'ä'); the raw response is kept as it came"
                log.warning(msg)
                result_warnings.append(msg)
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
            result_warnings.append(msg)
        fetch_ids = [k for k in kpi_ids if k in known]

        # 2. Peers.
        if peer_spec[0] == "lan":
            peer_codes = [c for c in geo_mod.kommuner_in_lan(lan) if c != municipality]
        elif peer_spec[0] == "none":
            peer_codes = []
        elif peer_spec[0] == "kolada-group":
            if len(peer_spec) != 2:
                raise KsAnalysisError(
                    "--peers kolada-group needs one group id, e.g. --peers kolada-group G124026"
                )
            snap.current_kind = "municipality_groups"
            group_pages = client.municipality_group(peer_spec[1])
            for resp in group_pages:
                snap.save("municipality_groups", resp)
                bar.update(1)
            members = read_municipality_groups([r.json() for r in group_pages])
            if members.empty:
                raise UnknownKpiError(
                    f"Kolada has no municipality group {peer_spec[1]!r} (or it has no members); find group ids with {client.base_url}/municipality_groups?title=..."
                )
            peer_codes = [m for m in members["member_id"].tolist() if m != municipality]
        else:
            peer_codes = explicit_peers
        geos = list(dict.fromkeys([municipality, lan, geo_mod.RIKET, *peer_codes]))

        # 3. Data.
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
            msg = f"Kolada has no data for KPI(s) {', '.join(without)} for these municipalities and years"
            log.warning(msg)
            result_warnings.append(msg)
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
        try:
            result.sources_updated = update_sources_yaml(sources_file, out, units=units)
        except (OSError, KsAnalysisError) as exc:
            raise KsAnalysisError(
                f"the snapshot {final} was written, but {sources_file} could not be updated ({exc}); add the entry by hand (docs/kolada-fetch.md)"
            ) from None
        result.sources_file = sources_file
    return result


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


# --- sources.yaml --------------------------------------------------------------------------


def _load_sources_doc(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise KsAnalysisError(
            f"{path}: is not valid YAML ({exc}); fix it before fetching, since the fetch adds its entry there"
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
            _write_atomic(sources_file, candidate)
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
            _write_atomic(sources_file, _dump(doc))
            return True
    text = sources_file.read_text(encoding="utf-8")
    expected = {**doc, "sources": [*entries, wanted]}
    item_indent = _list_indent(text)
    if item_indent is not None and _last_top_key(text) == "sources":
        candidate = text.rstrip("\n") + "\n" + _entry_text(wanted, item_indent)
        if _parses_to(candidate, expected):
            _write_atomic(sources_file, candidate)
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
        return bool(yaml.safe_load(text) == expected)
    except yaml.YAMLError:
        return False


def _check_and_write(path: Path, text: str, expected: Any) -> None:
    if not _parses_to(text, expected):
        raise KsAnalysisError(
            f"{path}: internal error: the updated manifest does not parse back to what was meant"
        )
    _write_atomic(path, text)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
