"""A fetch's snapshot folder: every response kept byte for byte, with ``fetch-log.jsonl``.

The folder is built under a hidden temporary name inside ``out`` and renamed into place, named
by the fetch's UTC start time (``2026-11-26T143000Z``, ``-2`` etc. when taken), only when the
whole fetch succeeded (:class:`_Snapshot`); :class:`FetchResult` says what a fetch did.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ks_analysis._io import sha256_bytes
from ks_analysis.fetch.client import KoladaFetchError, Response
from ks_analysis.ingest.kolada_snapshot import FETCH_LOG

__all__ = ["FetchResult"]


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
            sha256=sha256_bytes(body),
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
            sha256=sha256_bytes(resp.body),
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
