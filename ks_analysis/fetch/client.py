"""Kolada API client on :mod:`httpx` (one pooled connection per fetch), and the errors a fetch raises.

Built from what is known of the API (docs/kolada-fetch.md): v3 by default (base URL
configurable; v2 answers HTTP 410 Gone since its shutdown), paging by following ``next_url``
(``next_page``, v2's name, is still understood; ``count`` is the number of items on the page, not
the total, so it is never used to stop paging), at most 25 ids per
path segment (split again on HTTP 422), retries with exponential backoff on 429 and 5xx
(``Retry-After`` honoured), a 30 s timeout, at most 5 requests a second, one at a time.

Exit codes: 1 for a failed fetch the user cannot fix by changing the command (no network, DNS
failure, timeouts, 429/5xx after all retries, malformed JSON, a changed API shape); 2 for bad
input (unknown KPI id or group, a 4xx such as 404 from a wrong base URL, a bad argument).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import socket
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from ks_analysis._version import package_version
from ks_analysis.errors import KsAnalysisError
from ks_analysis.ingest.kolada_pages import next_page_url, shape_problem

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
]

log = logging.getLogger(__name__)


_pkg_version = package_version()

DEFAULT_BASE_URL = "https://api.kolada.se/v3"
#: v3 refuses more ids than this in one comma-separated path segment (inferred from clients).
MAX_IDS_PER_SEGMENT = 25
#: v2's documented maximum page size; v3 clients use the same (a larger one gives 422).
PER_PAGE = 5000
_BODY_EXCERPT = 300

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
            410: "Kolada's v2 API is gone (shut down in 2026); use --base-url https://api.kolada.se/v3",
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


def _root_cause(exc: BaseException) -> BaseException:
    """The OS-level error under httpx's and httpcore's wrappers (e.g. ``socket.gaierror``)."""
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        nxt = exc.__cause__ or exc.__context__
        if nxt is None:
            break
        exc = nxt
    return exc


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
    """A polite, retrying Kolada API client on :mod:`httpx`; close it (or use ``with``) when done.

    Args:
        base_url: API root, e.g. ``https://api.kolada.se/v3`` (v2 is gone: HTTP 410).
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
        # One pooled connection for the whole fetch (keep-alive); proxies from the environment,
        # except for a loopback --base-url (tests, a local mirror).
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout),
            headers={
                "Accept": "application/json",
                "User-Agent": f"ks-analysis/{_pkg_version} (+Vaggeryds kommun goal follow-up)",
            },
            follow_redirects=True,
            trust_env=parts.hostname not in ("127.0.0.1", "localhost", "::1"),
        )

    def close(self) -> None:
        """Close the pooled connection."""
        self._http.close()

    def __enter__(self) -> KoladaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
        # Long on purpose: one retry loop; each failure branch decides retry or raise from the same attempt.
        for attempt in range(1, self.max_attempts + 1):
            self._wait_turn()
            self.requests += 1
            started = dt.datetime.now(dt.UTC)
            delay: float | None = None
            try:
                resp = self._http.get(url)
            except httpx.TransportError as exc:
                reason = _root_cause(exc)
                self._note(
                    url=url,
                    time=started.isoformat(),
                    status=None,
                    attempt=attempt,
                    error=f"{type(exc).__name__}: {reason}",
                )
                if isinstance(reason, socket.gaierror):
                    raise KoladaNetworkError(
                        f"{url}: the host name {urllib.parse.urlsplit(url).hostname!r} could not be resolved (DNS failure: {reason}); check the network connection and --base-url"
                    ) from None
                if isinstance(reason, ConnectionRefusedError):
                    raise KoladaNetworkError(
                        f"{url}: connection refused; is the network up and --base-url right?"
                    ) from None
                timed_out = isinstance(exc, httpx.TimeoutException)
                transient = timed_out or isinstance(
                    exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError
                )
                if not transient or attempt == self.max_attempts:
                    what = (
                        f"no answer within {self.timeout:g} s"
                        if timed_out
                        else f"network error ({reason})"
                    )
                    raise KoladaNetworkError(
                        f"{url}: {what} after {attempt} attempt(s); check the network connection and try again"
                    ) from None
                log.warning("%s: %s (attempt %d); retrying", url, reason, attempt)
            else:
                body = resp.content
                status = resp.status_code
                if status < 400:  # redirects are followed; what is left is an answer
                    self._note(
                        url=url, time=started.isoformat(), status=status, attempt=attempt, body=body
                    )
                    return Response(
                        url=url, status=status, body=body, received_at=started, attempts=attempt
                    )
                self._note(
                    url=url,
                    time=started.isoformat(),
                    status=status,
                    attempt=attempt,
                    body=body,
                    error=f"HTTP {status}",
                )
                log.warning(
                    "%s: HTTP %s (attempt %d); body: %r", url, status, attempt, body[:_BODY_EXCERPT]
                )
                if not (status == 429 or status >= 500) or attempt == self.max_attempts:
                    raise KoladaHTTPError(url, status, body, attempt) from None
                delay = _retry_after(resp.headers.get("Retry-After"))
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
