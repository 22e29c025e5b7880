"""Tests of the Kolada API client, ``ks-analysis fetch kolada`` and the ``sources.yaml`` entry it writes.

Everything runs against a fake Kolada served by :mod:`http.server` on 127.0.0.1 (a random port)
in a thread, answering in the documented v3 shapes; nothing reaches beyond loopback (a guard
fixture refuses any other address). The fake serves the real recorded v3 responses of
``../shared/data/kolada_recorded/`` (KPI objects, groups, data rows and a live capture; the
``real`` tests at the end) and, for the fault tests, made-up values in the same shapes.
The reader of the snapshots is tested in ``tests/ingest/test_kolada_snapshot.py``. The client,
snapshot and sources.yaml tests stay together here because they share the fake server.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from ks_analysis.clean import run_clean
from ks_analysis.cli import main
from ks_analysis.errors import KsAnalysisError
from ks_analysis.fetch import client as fetch_client
from ks_analysis.fetch.kolada import fetch_kolada
from ks_analysis.fetch.snapshot import FetchResult
from ks_analysis.ingest.kolada_snapshot import snapshot_time as api_snapshot_time

FIX = Path(__file__).resolve().parents[1] / "data" / "kolada_api"
UTC = dt.UTC


# --- a fake Kolada on loopback -------------------------------------------------------------


class FakeKolada:
    """A tiny Kolada v3 in the documented shapes, with faults to inject.

    ``data`` maps (kpi, municipality, year) to {gender: value}; a value ``"DELETED"`` is sent as
    an entry with ``isdeleted: true``. ``faults`` is a list of [path substring, status, headers,
    body, times] served instead of the real answer while ``times`` > 0.
    """

    def __init__(self) -> None:
        self.kpi_meta: dict[str, dict[str, Any]] = {
            "N03926": {
                "id": "N03926",
                "title": "ILLUSTRATIVE N03926",
                "is_divided_by_gender": True,
                "publication_date": "2019-03-01",
                "publ_period": "2018",
                "auspice": "E",
            },
            "N00999": {
                "id": "N00999",
                "title": "ILLUSTRATIVE N00999",
                "is_divided_by_gender": False,
                "publication_date": "2019-08-28",
                "publ_period": "2018",
                "auspice": "X",
            },
        }
        self.data: dict[tuple[str, str, int], dict[str, Any]] = {}
        self.groups: dict[str, list[dict[str, str]]] = {
            "G900001": [
                {"member_id": "0604", "member_title": "Aneby"},
                {"member_id": "0665", "member_title": "Vaggeryd"},
            ]
        }
        self.per_page = 3
        self.max_ids = 25
        self.faults: list[list[Any]] = []
        self.delays: list[list[Any]] = []  # [path substring, seconds, times]: answer late
        self.seen: list[str] = []
        self.served: dict[str, bytes] = {}
        self.port = 0
        self.lock = threading.Lock()

    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v3"

    def page(self, values: list[Any], path: str, page: int, per_page: int) -> bytes:
        chunk = values[(page - 1) * per_page : page * per_page]
        more = page * per_page < len(values)
        doc = {
            "count": len(chunk),
            "values": chunk,
            "next_url": f"http://127.0.0.1:{self.port}{path}?page={page + 1}&per_page={per_page}"
            if more
            else None,
            "previous_url": None,
        }
        return json.dumps(doc, ensure_ascii=False).encode("utf-8")

    def answer(self, target: str) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            self.seen.append(target)
            delay = next((d for d in self.delays if d[0] in target and d[2] > 0), None)
            if delay:
                delay[2] -= 1
        if delay:
            time.sleep(delay[1])
        with self.lock:
            for fault in self.faults:
                if fault[0] in target and fault[4] > 0:
                    fault[4] -= 1
                    return fault[1], fault[2], fault[3]
        parts = urllib.parse.urlsplit(target)
        query = urllib.parse.parse_qs(parts.query)
        page = int(query.get("page", ["1"])[0])
        seg = [urllib.parse.unquote(s) for s in parts.path.strip("/").split("/")]
        if seg[:1] != ["v3"]:
            return 404, {}, b'{"error": "no such route"}'
        seg = seg[1:]
        if any(len(s.split(",")) > self.max_ids for s in seg):
            return 422, {}, b'{"detail": "too many ids"}'
        if seg == ["kpi"]:  # the whole list (kpi update), paged like the data
            return 200, {}, self.page(list(self.kpi_meta.values()), parts.path, page, self.per_page)
        if seg == ["municipality_groups"]:
            values = [
                {"id": g, "title": f"ILLUSTRATIVE {g}", "members": m}
                for g, m in self.groups.items()
            ]
            return 200, {}, self.page(values, parts.path, page, self.per_page)
        if seg[0] == "kpi" and len(seg) == 2:
            values = [self.kpi_meta[k] for k in seg[1].split(",") if k in self.kpi_meta]
            return 200, {}, self.page(values, parts.path, page, 5000)
        if seg[0] == "municipality_groups" and len(seg) == 2:
            values = [
                {"id": g, "title": f"ILLUSTRATIVE {g}", "members": self.groups[g]}
                for g in seg[1].split(",")
                if g in self.groups
            ]
            return 200, {}, self.page(values, parts.path, page, 5000)
        if (
            seg[0] == "data"
            and len(seg) == 7
            and seg[1] == "kpi"
            and seg[3] == "municipality"
            and seg[5] == "year"
        ):
            values = []
            for k in seg[2].split(","):
                for m in seg[4].split(","):
                    for y in seg[6].split(","):
                        cell = self.data.get((k, m, int(y)))
                        if cell is None:
                            continue
                        entries = [
                            {
                                "gender": g,
                                "count": 1,
                                "status": "",
                                "value": None if v == "DELETED" else v,
                                "isdeleted": v == "DELETED",
                            }
                            for g, v in cell.items()
                        ]
                        values.append(
                            {"kpi": k, "municipality": m, "period": int(y), "values": entries}
                        )
            return 200, {}, self.page(values, parts.path, page, self.per_page)
        return 404, {}, b'{"error": "no such route"}'


@pytest.fixture
def kolada() -> Iterator[FakeKolada]:
    """A fake Kolada on 127.0.0.1 at a random port, stopped after the test."""
    fake = FakeKolada()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body = fake.answer(self.path)
            if status == 200:
                fake.served[f"http://127.0.0.1:{fake.port}{self.path}"] = body
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            with contextlib.suppress(
                BrokenPipeError, ConnectionResetError
            ):  # the client gave up (timeout test)
                self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False
    fake.port = server.server_address[1]
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse any connection that is not to loopback, so no test can reach the internet."""
    real = socket.create_connection

    def guarded(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        if address[0] not in ("127.0.0.1", "localhost", "::1"):
            raise AssertionError(f"test tried to reach {address[0]!r} beyond loopback")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)


FAST = {"backoff": 0.0, "min_interval": 0.0, "timeout": 5.0}


def _fill(fake: FakeKolada, value: Callable[[str, str, int], Any] | None = None) -> None:
    """Data for N03926 (T/K/M) and N00999 (T) for 0665, 0006 (län), 0000 and peer 0604, 2017-2018."""
    for m in ("0665", "0006", "0000", "0604"):
        for y in (2017, 2018):
            base = int(m) % 97 + (y - 2017)
            fake.data[("N03926", m, y)] = {"T": base + 0.5, "K": base + 0.25, "M": base + 0.75}
            fake.data[("N00999", m, y)] = {"T": value("N00999", m, y) if value else base / 10}


def _fetch(fake: FakeKolada, out: Path, **kw: Any) -> FetchResult:
    kpis = kw.pop("kpis", ["N03926", "N00999"])
    args: dict[str, Any] = {
        "municipality": "0665",
        "peers": ["0604"],
        "years": [2017, 2018],
        "base_url": fake.base(),
        "client_options": FAST,
    }
    return fetch_kolada(out, kpis, **(args | kw))


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _log(snapshot: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for line in (snapshot / "fetch-log.jsonl").read_text(encoding="utf-8").splitlines()
    ]


# --- fetch against the fake ----------------------------------------------------------------


def test_fetch_writes_snapshot_log_and_sources_entry(kolada: FakeKolada, tmp_path: Path) -> None:
    """Paging via next_url; every response byte for byte; the log names URL, status, sha256, file."""
    _fill(kolada)
    out = tmp_path / "raw" / "kolada"
    res = _fetch(kolada, out, now=dt.datetime(2019, 4, 20, 14, 30, tzinfo=UTC))
    assert res.snapshot == out / "2019-04-20T143000Z"
    # 2 KPIs x 4 municipalities (0665, its län 0006, riket 0000, peer 0604) x 2 years = 16 data rows, 3 a page
    assert res.data_rows == 16
    assert res.files == ["kpi-0001.json"] + [f"data-{n:04d}.json" for n in range(1, 7)]
    assert res.requests == 7 and res.retries == 0
    assert [p.name for p in out.iterdir()] == ["2019-04-20T143000Z"]  # no temporary folder left
    events = _log(res.snapshot)
    assert events[0]["event"] == "start" and events[0]["fetched_at"] == "2019-04-20T14:30:00Z"
    assert events[-1]["event"] == "done" and events[-1]["requests"] == 7
    responses = [e for e in events if e["event"] == "response"]
    assert [e["file"] for e in responses] == res.files
    for e in responses:
        body = (res.snapshot / e["file"]).read_bytes()
        assert body == kolada.served[e["url"]]
        assert e["sha256"] == hashlib.sha256(body).hexdigest() and e["status"] == 200
    assert "page=2" in responses[2]["url"]  # the second data page came from next_url
    entry = yaml.safe_load((tmp_path / "raw" / "sources.yaml").read_text())["sources"][0]
    assert (
        entry["name"] == "kolada_api"
        and entry["reader"] == "kolada_api_json"
        and entry["revisions"] is True
    )
    assert entry["files"][0] == "kolada/*/data-*.json"
    assert entry["options"]["publication_lag"] == entry["publication_lag"] == {"days": 75}


def test_fetch_lan_peers_and_chunks_of_25(kolada: FakeKolada, tmp_path: Path) -> None:
    """--peers lan: the län's other kommuner; >25 years are split into requests of at most 25."""
    kolada.per_page = 5000
    res = _fetch(
        kolada,
        tmp_path / "raw" / "kolada",
        kpis=["N03926"],
        peers="lan",
        years=list(range(1990, 2020)),
    )
    assert res.municipalities[:3] == ["0665", "0006", "0000"] and len(res.municipalities) == 15
    data_urls = [u for u in kolada.seen if "/data/" in u]
    assert len(data_urls) == 2 and all(
        len(u.split("/year/")[1].split("?")[0].split(",")) <= 25 for u in data_urls
    )


def test_fetch_splits_again_on_422(kolada: FakeKolada, tmp_path: Path) -> None:
    """An API that refuses 3+ ids per segment with 422: the client halves the segment and goes on."""
    _fill(kolada)
    kolada.max_ids = 2
    res = _fetch(kolada, tmp_path / "raw" / "kolada", kpis=["N03926"])
    assert res.data_rows == 8  # 4 municipalities x 2 years, all there despite the 422s


def test_fetch_peers_from_kolada_group(kolada: FakeKolada, tmp_path: Path) -> None:
    """Peers given as a Kolada group are its members, the group page is saved, and an unknown group is named."""
    res = _fetch(
        kolada, tmp_path / "raw" / "kolada", kpis=["N03926"], peers=["kolada-group", "G900001"]
    )
    assert res.municipalities == ["0665", "0006", "0000", "0604"]
    assert "municipality_groups-0001.json" in res.files
    with pytest.raises(fetch_client.UnknownKpiError, match="no municipality group 'G999'"):
        _fetch(kolada, tmp_path / "raw" / "kolada", kpis=["N03926"], peers=["kolada-group", "G999"])


def test_429_then_success_is_retried_and_logged(kolada: FakeKolada, tmp_path: Path) -> None:
    """A 429 is retried once and the failed attempt is logged with its status and body."""
    _fill(kolada)
    kolada.faults.append(["/data/", 429, {"Retry-After": "0"}, b'{"detail": "slow down"}', 1])
    res = _fetch(kolada, tmp_path / "raw" / "kolada")
    assert res.retries == 1 and res.requests == 8
    attempts = [e for e in _log(res.snapshot) if e["event"] == "attempt"]
    assert (
        len(attempts) == 1 and attempts[0]["status"] == 429 and "slow down" in attempts[0]["body"]
    )


def test_retry_after_is_honoured(kolada: FakeKolada) -> None:
    """The client sleeps the Retry-After seconds of a 429, then the exponential backoff for the next retry."""
    kolada.faults.append(["/kpi/", 429, {"Retry-After": "7"}, b"{}", 1])
    kolada.faults.append(["/kpi/", 503, {}, b"{}", 1])
    slept: list[float] = []
    client = fetch_client.KoladaClient(
        kolada.base(), backoff=0.5, min_interval=0.0, sleep=slept.append
    )
    client.kpis(["N03926"])
    assert slept == [7.0, 1.0]  # Retry-After first, then 0.5 * 2**1 for the second retry


def test_500_retried_then_success(kolada: FakeKolada, tmp_path: Path) -> None:
    """Two 500 answers are retried and the fetch then succeeds with two retries counted."""
    _fill(kolada)
    kolada.faults.append(["/data/", 500, {}, b"Internal Server Error", 2])
    res = _fetch(kolada, tmp_path / "raw" / "kolada")
    assert res.retries == 2


def test_500_for_good_fails_and_writes_nothing(kolada: FakeKolada, tmp_path: Path) -> None:
    """After the last retry: the URL, the status and the body in the message, exit 1, no folder."""
    _fill(kolada)
    kolada.faults.append(["/data/", 500, {}, b'{"error": "database down"}', 99])
    out = tmp_path / "raw" / "kolada"
    with pytest.raises(
        fetch_client.KoladaHTTPError,
        match=r"/v3/data/kpi/N03926,N00999/municipality/.*: HTTP 500 after 3 attempts; body: .*database down",
    ) as exc:
        _fetch(kolada, out, client_options={**FAST, "max_attempts": 3})
    assert exc.value.exit_code == 1
    assert list(out.iterdir()) == [] and not (tmp_path / "raw" / "sources.yaml").exists()


def test_malformed_page_names_url_and_writes_nothing(kolada: FakeKolada, tmp_path: Path) -> None:
    """A page that is not valid JSON stops the fetch naming its URL and leaves no snapshot behind."""
    _fill(kolada)
    kolada.faults.append(["page=2", 200, {}, b'{"count": 3, "values": [{"kpi": "N0', 1])
    out = tmp_path / "raw" / "kolada"
    with pytest.raises(
        fetch_client.KoladaResponseError, match=r"page=2&per_page=3: response is not valid JSON"
    ):
        _fetch(kolada, out)
    assert list(out.iterdir()) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"count": 0, "results": []}', "response has no 'values' list"),
        (
            b'{"values": [{"kpi": "N03926", "municipality": "0665", "year": 2018, "values": []}]}',
            "values[1] has no 'period'",
        ),
    ],
)
def test_changed_shape_names_the_field(
    kolada: FakeKolada, tmp_path: Path, body: bytes, field: str
) -> None:
    """A data page missing 'values' or 'period' stops the fetch naming the field and writes nothing."""
    kolada.faults.append(["/data/", 200, {}, body, 1])
    out = tmp_path / "raw" / "kolada"
    with pytest.raises(
        fetch_client.KoladaResponseError, match=field.replace("[", r"\[").replace("]", r"\]")
    ):
        _fetch(kolada, out)
    assert list(out.iterdir()) == []


def test_unknown_kpi(kolada: FakeKolada, tmp_path: Path) -> None:
    """A given id Kolada does not know is an error naming it; among catalogue defaults it is a warning."""
    _fill(kolada)
    out = tmp_path / "raw" / "kolada"
    with pytest.raises(fetch_client.UnknownKpiError, match="does not know KPI id.* N99999") as exc:
        _fetch(kolada, out, kpis=["N03926", "N99999"])
    assert exc.value.exit_code == 2 and list(out.iterdir()) == []
    res = _fetch(kolada, out, kpis=["N03926", "N99999"], strict_kpis=False)
    assert res.missing_kpis == ["N99999"] and res.kpis == ["N03926"] and "N99999" in res.warnings[0]
    with pytest.raises(fetch_client.UnknownKpiError):
        _fetch(kolada, out, kpis=["N99998"], strict_kpis=False)


def test_kpi_without_data_is_a_warning(kolada: FakeKolada, tmp_path: Path) -> None:
    """A KPI with metadata but no data is listed in kpis_without_data, not an error."""
    _fill(kolada)
    kolada.kpi_meta["N00001"] = {"id": "N00001", "title": "ILLUSTRATIVE empty"}
    res = _fetch(kolada, tmp_path / "raw" / "kolada", kpis=["N03926", "N00001"])
    assert res.kpis_without_data == ["N00001"]


def test_connection_refused_and_dns_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No server / no network: exit code 1, a message naming the URL, nothing written."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    out = tmp_path / "raw" / "kolada"
    with pytest.raises(
        fetch_client.KoladaNetworkError,
        match=rf"127.0.0.1:{port}/v3/kpi/N03926\?per_page=5000: connection refused",
    ) as exc:
        fetch_kolada(
            out,
            ["N03926"],
            peers="none",
            years=[2018],
            base_url=f"http://127.0.0.1:{port}/v3",
            client_options=FAST,
        )
    assert exc.value.exit_code == 1 and list(out.iterdir()) == []

    def no_dns(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "create_connection", no_dns)  # as if the resolver had failed
    with pytest.raises(
        fetch_client.KoladaNetworkError, match="host name 'api.kolada.se' could not be resolved"
    ):
        fetch_kolada(out, ["N03926"], peers="none", years=[2018], client_options=FAST)
    assert list(out.iterdir()) == []


def test_404_from_wrong_base_url_is_bad_input(kolada: FakeKolada, tmp_path: Path) -> None:
    """A 404 from a wrong base URL is an HTTP error naming the request and --base-url, with exit code 2."""
    with pytest.raises(
        fetch_client.KoladaHTTPError,
        match=r"/v2/kpi/N03926,N00999\?per_page=5000: HTTP 404; body: .*check --base-url",
    ) as exc:
        _fetch(kolada, tmp_path / "raw" / "kolada", base_url=f"http://127.0.0.1:{kolada.port}/v2")
    assert exc.value.exit_code == 2


def test_second_fetch_new_folder_first_untouched(kolada: FakeKolada, tmp_path: Path) -> None:
    """Two fetches, also in the same second: two folders, the first byte for byte as it was."""
    _fill(kolada)
    out = tmp_path / "raw" / "kolada"
    when = dt.datetime(2019, 4, 20, 14, 30, tzinfo=UTC)
    first = _fetch(kolada, out, now=when)
    before = _tree(first.snapshot)
    sources_before = (tmp_path / "raw" / "sources.yaml").read_text()
    second = _fetch(kolada, out, now=when)
    assert second.snapshot.name == "2019-04-20T143000Z-2"
    assert _tree(first.snapshot) == before
    assert sorted(p.name for p in out.iterdir()) == ["2019-04-20T143000Z", "2019-04-20T143000Z-2"]
    assert (
        tmp_path / "raw" / "sources.yaml"
    ).read_text() == sources_before and second.sources_updated is False


def test_sources_yaml_keeps_other_entries_and_comments(kolada: FakeKolada, tmp_path: Path) -> None:
    """Fetch appends its entry to sources.yaml keeping the analyst's entries and comments, and a later fetch keeps a tuned lag."""
    raw = tmp_path / "raw"
    raw.mkdir()
    original = "# The analyst's own notes.\nsources:\n  # Local registers\n  - name: lokalt\n    files: lokalt/register.csv\n    reader: local_register\n    publication_lag: {days: 0}\n"
    (raw / "sources.yaml").write_text(original)
    _fetch(kolada, raw / "kolada", kpis=["N03926"], units={"N03926": "%"})
    text = (raw / "sources.yaml").read_text()
    assert text.startswith(original)
    doc = yaml.safe_load(text)
    assert [e["name"] for e in doc["sources"]] == ["lokalt", "kolada_api"]
    assert doc["sources"][1]["options"]["units"] == {"N03926": "%"}
    # The analyst tunes the lag; the next fetch leaves it alone.
    (raw / "sources.yaml").write_text(text.replace("days: 75", "days: 60"))
    _fetch(kolada, raw / "kolada", kpis=["N03926"])
    assert yaml.safe_load((raw / "sources.yaml").read_text())["sources"][1]["publication_lag"] == {
        "days": 60
    }


def test_broken_sources_yaml_stops_before_fetching(kolada: FakeKolada, tmp_path: Path) -> None:
    """An invalid sources.yaml stops the fetch before any request and before any snapshot is written."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "sources.yaml").write_text("sources: [unclosed\n")
    with pytest.raises(KsAnalysisError, match="is not valid YAML"):
        _fetch(kolada, raw / "kolada")
    assert kolada.seen == []
    assert not (raw / "kolada").exists() or list((raw / "kolada").iterdir()) == []


# --- end to end: CLI fetch, clean, vintages ------------------------------------------------


def test_cli_fetch_then_clean_gives_served_values(
    kolada: FakeKolada, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ks-analysis fetch kolada` then `ks-analysis clean --raw <raw root>`: the served values, dated."""
    _fill(kolada)
    kolada.data[("N00999", "0604", 2018)] = {"T": "DELETED"}
    kolada.data[("N00999", "0604", 2017)] = {"T": None}
    raw = tmp_path / "raw"
    code = main(
        [
            "-q",
            "fetch",
            "kolada",
            "--kpi",
            "N03926",
            "N00999",
            "--peers",
            "0604",
            "--years",
            "2017-2018",
            "--base-url",
            kolada.base(),
            "--out",
            str(raw / "kolada"),
            "--retry-delay",
            "0",
        ]
    )
    assert code == 0
    snapshot = Path(capsys.readouterr().out.strip())
    assert snapshot.parent == raw / "kolada"
    assert main(["-q", "clean", "--raw", str(raw), "--out", str(tmp_path / "processed")]) == 0
    tidy = pd.read_parquet(tmp_path / "processed" / "indicators.parquet")
    assert (
        len(tidy) == 8 * 3 + 6
    )  # N03926: 4 munis x 2 years x T/K/M; N00999: 8 cells less the null and the deleted
    row = tidy[
        (tidy.indicator == "N03926")
        & (tidy.municipality == "0665")
        & (tidy.period == "2018")
        & (tidy.gender == "K")
    ].iloc[0]
    assert row.value == pytest.approx(665 % 97 + 1 + 0.25)
    assert row.published == pd.Timestamp(
        "2019-03-16"
    )  # 2018-12-31 + 75 days, earlier than the fetch
    assert row.source_file.startswith(f"kolada/{snapshot.name}/data-")
    manifest = json.loads((tmp_path / "processed" / "manifest.json").read_text())
    t = manifest["totals"]
    assert (
        t["rows_read"] == 32
        and t["rows_kept"] == 30
        and t["rows_missing"] == 1
        and t["rows_rejected"] == 1
    )
    rejected = pd.read_csv(tmp_path / "processed" / "rejected.csv")
    assert rejected["reason"].str.contains("deleted in Kolada").all()


def test_cli_failure_exit_codes(
    kolada: FakeKolada, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`fetch kolada` exits 2 for an unknown KPI or a bad year, 1 when the server stays unavailable, and leaves no snapshot."""
    out = tmp_path / "raw" / "kolada"
    assert (
        main(
            [
                "-q",
                "fetch",
                "kolada",
                "--kpi",
                "N99999",
                "--base-url",
                kolada.base(),
                "--out",
                str(out),
                "--years",
                "2018",
            ]
        )
        == 2
    )
    assert "N99999" in capsys.readouterr().err
    kolada.faults.append(["/kpi/", 503, {}, b"busy", 99])
    assert (
        main(
            [
                "-q",
                "fetch",
                "kolada",
                "--kpi",
                "N03926",
                "--base-url",
                kolada.base(),
                "--out",
                str(out),
                "--years",
                "2018",
                "--retries",
                "1",
                "--retry-delay",
                "0",
            ]
        )
        == 1
    )
    assert "HTTP 503 after 2 attempts" in capsys.readouterr().err
    assert main(["-q", "fetch", "kolada", "--years", "2019-13"]) == 2
    assert list(out.iterdir()) == []


def test_revisions_and_as_of_pick_the_vintage(kolada: FakeKolada, tmp_path: Path) -> None:
    """A value revised between snapshots: --as-of before the second fetch gives the first vintage."""
    _fill(kolada)
    kolada.data[("N00999", "0604", 2018)] = {"T": None}  # not yet there at the first fetch
    raw = tmp_path / "raw"
    _fetch(kolada, raw / "kolada", now=dt.datetime(2019, 4, 20, 8, 0, tzinfo=UTC))
    kolada.data[("N00999", "0665", 2018)] = {"T": 9.75}  # revised
    kolada.data[("N00999", "0604", 2018)] = {"T": 1.5}  # first published
    _fetch(kolada, raw / "kolada", now=dt.datetime(2019, 6, 1, 8, 0, tzinfo=UTC))

    def cell(tidy: pd.DataFrame, mun: str) -> pd.Series:
        return tidy[
            (tidy.indicator == "N00999") & (tidy.municipality == mun) & (tidy.period == "2018")
        ].iloc[0]

    early = run_clean(raw, as_of=dt.date(2019, 5, 1)).tidy
    v = cell(early, "0665")
    assert v.value == pytest.approx((665 % 97 + 1) / 10) and v.published == pd.Timestamp(
        "2019-03-16"
    )
    assert v.source_file.startswith("kolada/2019-04-20T080000Z/")
    assert (
        (early.municipality == "0604") & (early.indicator == "N00999") & (early.period == "2018")
    ).sum() == 0
    late = run_clean(raw).tidy
    v = cell(late, "0665")
    assert v.value == 9.75 and v.published == pd.Timestamp("2019-06-01")
    assert v.source_file.startswith("kolada/2019-06-01T080000Z/")
    assert cell(late, "0604").published == pd.Timestamp(
        "2019-06-01"
    )  # seen as null before: dated by the fetch
    unchanged = cell(late, "0006")
    assert unchanged.published == pd.Timestamp("2019-03-16") and unchanged.source_file.startswith(
        "kolada/2019-04-20T080000Z/"
    )
    assert (
        main(
            [
                "-q",
                "clean",
                "--raw",
                str(raw),
                "--as-of",
                "2019-05-01",
                "--out",
                str(tmp_path / "p"),
            ]
        )
        == 0
    )


def test_bad_arguments_write_nothing(kolada: FakeKolada, tmp_path: Path) -> None:
    """A non-http base URL, an unknown peer or a non-kommun municipality is refused before any request or file."""
    out = tmp_path / "raw" / "kolada"
    with pytest.raises(KsAnalysisError, match="is not an http"):
        _fetch(kolada, out, base_url="ftp://example.org/v3")
    with pytest.raises(KsAnalysisError, match="9999 is not a kommun"):
        _fetch(kolada, out, peers=["9999"])
    with pytest.raises(KsAnalysisError, match="not a kommun code"):
        _fetch(kolada, out, municipality="0006")
    assert not out.exists() and kolada.seen == []


def test_double_encoded_titles_are_warned(kolada: FakeKolada, tmp_path: Path) -> None:
    """Mojibake ('Ã¤' for 'ä') once seen in Kolada titles is reported; the raw bytes are kept."""
    kolada.kpi_meta["N03926"]["title"] = "LÃ¥ngtidsarbetslÃ¶shet (ILLUSTRATIVE)"
    res = _fetch(kolada, tmp_path / "raw" / "kolada", kpis=["N03926"])
    assert any("double-encoded" in w for w in res.warnings)
    assert "LÃ¥ngtids" in (res.snapshot / "kpi-0001.json").read_text(encoding="utf-8")


def test_cell_absent_from_an_earlier_fetch(kolada: FakeKolada, tmp_path: Path) -> None:
    """A cell an earlier fetch asked for and did not get is dated by the later fetch; one it never asked for may use the lag."""
    _fill(kolada)
    raw = tmp_path / "raw"
    later = {("N00999", "0000", 2018): kolada.data.pop(("N00999", "0000", 2018))}
    _fetch(kolada, raw / "kolada", years=[2017, 2018], now=dt.datetime(2019, 4, 20, tzinfo=UTC))
    kolada.data.update(later)
    kolada.data[("N00999", "0665", 2016)] = {"T": 2.5}  # a year the first fetch did not ask for
    _fetch(
        kolada, raw / "kolada", years=[2016, 2017, 2018], now=dt.datetime(2019, 6, 1, tzinfo=UTC)
    )
    tidy = run_clean(raw).tidy.set_index(["indicator", "municipality", "gender", "period"])
    assert tidy.loc[("N00999", "0000", "T", "2018"), "published"] == pd.Timestamp("2019-06-01")
    assert tidy.loc[("N00999", "0665", "T", "2016"), "published"] == pd.Timestamp("2017-03-16")
    assert tidy.loc[("N00999", "0665", "T", "2018"), "published"] == pd.Timestamp("2019-03-16")


def test_timeout_is_retried_then_fails(kolada: FakeKolada, tmp_path: Path) -> None:
    """A slow answer counts as a timeout: retried with backoff, and after the last try exit 1, nothing written."""
    _fill(kolada)
    kolada.delays.append(["/kpi/", 1.0, 1])
    res = _fetch(kolada, tmp_path / "raw" / "kolada", client_options={**FAST, "timeout": 0.3})
    assert res.retries == 1
    assert [e["error"] for e in _log(res.snapshot) if e["event"] == "attempt"][0].startswith(
        "ReadTimeout"  # httpx's name for an answer that did not come within the timeout
    )
    kolada.delays.append(["/kpi/", 1.0, 2])
    out = tmp_path / "raw2" / "kolada"
    with pytest.raises(
        fetch_client.KoladaNetworkError,
        match=r"/v3/kpi/N03926,N00999\?per_page=5000: no answer within 0.3 s after 2 attempt",
    ) as exc:
        _fetch(kolada, out, client_options={**FAST, "timeout": 0.3, "max_attempts": 2})
    assert exc.value.exit_code == 1 and list(out.iterdir()) == []


def test_paging_loop_and_foreign_next_url_are_refused(kolada: FakeKolada) -> None:
    """A next_url seen before stops the fetch (no endless loop); one to another host is not followed."""
    client = fetch_client.KoladaClient(kolada.base(), **FAST)
    first = client.url("kpi/N03926")
    looping = json.dumps({"values": [], "next_url": first}).encode()
    kolada.faults.append(["/kpi/", 200, {}, looping, 1])
    with pytest.raises(fetch_client.KoladaResponseError, match="sent this next-page URL twice"):
        client.kpis(["N03926"])
    foreign = json.dumps(
        {"values": [], "next_url": "https://elsewhere.example/v3/kpi/N03926?page=2"}
    ).encode()
    kolada.faults.append(["/kpi/", 200, {}, foreign, 1])
    with pytest.raises(fetch_client.KoladaResponseError, match="points to another host"):
        client.kpis(["N03926"])
    v2_style = json.dumps(
        {
            "values": [{"id": "N03926"}],
            "next_page": first.replace("per_page=5000", "page=2&per_page=5000"),
        }
    ).encode()
    kolada.faults.append(["per_page=5000", 200, {}, v2_style, 1])
    pages = client.kpis(["N03926"])
    assert len(pages) == 2 and "page=2" in pages[1].url  # v2's next_page is followed too


def test_snapshots_without_fetch_log_are_dated_by_folder_name(
    kolada: FakeKolada, tmp_path: Path
) -> None:
    """Two snapshot folders without fetch-log.jsonl (copied by hand): the folder names date them, so a
    revised value is not back-dated and clean --as-of between the fetches picks the earlier value."""
    _fill(kolada)
    raw = tmp_path / "raw"
    first = _fetch(kolada, raw / "kolada", now=dt.datetime(2019, 4, 20, 8, 0, tzinfo=UTC)).snapshot
    kolada.data[("N00999", "0665", 2018)] = {"T": 9.75}  # revised
    second = _fetch(kolada, raw / "kolada", now=dt.datetime(2019, 6, 1, 8, 0, tzinfo=UTC)).snapshot
    (first / "fetch-log.jsonl").unlink()
    (second / "fetch-log.jsonl").unlink()
    second = second.rename(second.parent / (second.name + "-2"))
    assert api_snapshot_time(first) == dt.datetime(2019, 4, 20, 8, 0, tzinfo=UTC)
    assert api_snapshot_time(second) == dt.datetime(2019, 6, 1, 8, 0, tzinfo=UTC)

    def cell(tidy: pd.DataFrame) -> pd.Series:
        return tidy[
            (tidy.indicator == "N00999") & (tidy.municipality == "0665") & (tidy.period == "2018")
        ].iloc[0]

    early = cell(run_clean(raw, as_of=dt.date(2019, 5, 1)).tidy)
    assert early.value == pytest.approx((665 % 97 + 1) / 10) and early.published == pd.Timestamp(
        "2019-03-16"
    )
    assert early.source_file.startswith(f"kolada/{first.name}/")
    late = cell(run_clean(raw).tidy)
    assert late.value == 9.75 and late.published == pd.Timestamp("2019-06-01")
    assert late.source_file.startswith(f"kolada/{second.name}/")


# --- the recorded v3 responses served from loopback ------------------------------------------
#
# Real responses of the live v3 API recorded by others (../shared/data/kolada_recorded/SOURCES.md):
# a live capture of /v3/data/kpi/N21704/year/2023 for 5 kommuner, and rKolada's saved copy of KPI
# objects, groups and data rows (2026-03-23). The fake serves them in place of invented values.


@pytest.fixture(scope="module")
def recorded_kolada() -> dict[str, Any]:
    """The recorded KPI objects, groups and data rows (skips without them, fails in CI)."""
    import os

    from ks_analysis.fetch.metadata import recorded_dir

    root = recorded_dir()
    if not (root / "SOURCES.md").exists():
        msg = f"recorded Kolada responses not found at {root} (set KS_KOLADA_RECORDED)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)

    def load(rel: str) -> Any:
        return json.loads((root / rel).read_text(encoding="utf-8"))

    live = load("recorded/omsorgsradar_kolada_n21704_fixture.json")["values"]
    rows = [
        {k: v for k, v in r.items() if k != "_from"} for r in load("reserialized/data_rows.json")
    ]
    return {
        "kpis": load("reserialized/kpi_objects.json"),
        "groups": load("reserialized/municipality_groups.json"),
        "rows": live + rows,
        "live": live,
    }


def _serve_recorded(fake: FakeKolada, rec: dict[str, Any], kpis: list[str]) -> None:
    """Put the recorded KPI objects, every recorded group and the recorded data rows behind the fake."""
    fake.kpi_meta = {k: rec["kpis"][k] for k in kpis if k in rec["kpis"]}
    fake.groups = {g: v["members"] for g, v in rec["groups"].items()}
    for row in rec["rows"]:
        if row["kpi"] in kpis:
            cell = {e["gender"]: e["value"] for e in row["values"]}
            fake.data[(row["kpi"], row["municipality"], int(row["period"]))] = cell


@pytest.mark.real
def test_live_capture_comes_through_fetch_and_clean_exactly(
    kolada: FakeKolada,
    recorded_kolada: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The live N21704 2023 capture (5 kommuner x T/K/M): fetch then clean keeps all 15 values exactly."""
    _serve_recorded(kolada, recorded_kolada, ["N21704"])
    raw = tmp_path / "raw"
    code = main(
        ["fetch", "kolada", "--kpi", "N21704", "--municipality", "0180", "--peers", "0580,1280,1480,2480",
         "--years", "2023", "--base-url", kolada.base(), "--out", str(raw / "kolada"), "--retry-delay", "0", "-q"]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert main(["-q", "clean", "--raw", str(raw), "--out", str(tmp_path / "processed")]) == 0
    capsys.readouterr()
    tidy = pd.read_parquet(tmp_path / "processed" / "indicators.parquet")
    expected = {
        (r["municipality"], e["gender"]): e["value"]
        for r in recorded_kolada["live"]
        for e in r["values"]
    }
    got = {
        (r.municipality, r.gender): r.value for r in tidy[tidy.indicator == "N21704"].itertuples()
    }
    assert len(expected) == 15 and got == expected  # exact floats, no rounding on the way
    assert got[("0180", "T")] == 21.88749  # the value its recorder pinned from the live API
    kpi_page = json.loads(next((raw / "kolada").glob("*/kpi-0001.json")).read_text())
    assert kpi_page["values"][0] == recorded_kolada["kpis"]["N21704"]


@pytest.mark.real
def test_recorded_rows_of_three_kpis_all_come_through(
    kolada: FakeKolada, recorded_kolada: dict[str, Any], tmp_path: Path
) -> None:
    """rKolada's 303 recorded rows (N00945, N03702, N03703; 2000-2023): fetched, cleaned, every value kept."""
    kpis = ["N00945", "N03702", "N03703"]
    _serve_recorded(kolada, recorded_kolada, kpis)
    rows = [r for r in recorded_kolada["rows"] if r["kpi"] in kpis]
    munis = sorted({r["municipality"] for r in rows})
    years = sorted({int(r["period"]) for r in rows})
    kolada.per_page = 100  # the real page size is 5000; smaller pages exercise next_url paging
    res = fetch_kolada(
        tmp_path / "raw" / "kolada", kpis, municipality=munis[0], peers=munis[1:], years=years,
        base_url=kolada.base(), client_options=FAST,
    )  # fmt: skip
    assert res.data_rows == len(rows) == 303
    tidy = run_clean(tmp_path / "raw").tidy
    got = {(r.indicator, r.municipality, r.period, r.gender): r.value for r in tidy.itertuples()}
    expected = {
        (r["kpi"], r["municipality"], str(r["period"]), e["gender"]): e["value"]
        for r in rows
        for e in r["values"]
    }
    assert got == expected


@pytest.mark.real
def test_recorded_group_gives_the_peers(
    kolada: FakeKolada, recorded_kolada: dict[str, Any], tmp_path: Path
) -> None:
    """--peers kolada-group G37569 (Kolada's similar kommuner of Vaggeryd, 2025): its 7 real members are fetched."""
    _serve_recorded(kolada, recorded_kolada, ["N03926"])
    res = _fetch(
        kolada, tmp_path / "raw" / "kolada", kpis=["N03926"], peers=["kolada-group", "G37569"]
    )
    members = [m["member_id"] for m in recorded_kolada["groups"]["G37569"]["members"]]
    assert len(members) == 7
    assert res.municipalities == ["0665", "0006", "0000", *members]
    assert (res.snapshot / "municipality_groups-0001.json").exists()


@pytest.mark.real
def test_u00408_is_gone_from_v3_and_a_default_fetch_warns(
    kolada: FakeKolada, recorded_kolada: dict[str, Any], tmp_path: Path
) -> None:
    """U00408 is not in the recorded v3 catalogue: among default KPIs it is a warning, the rest is fetched."""
    assert "U00408" not in recorded_kolada["kpis"]
    _serve_recorded(kolada, recorded_kolada, ["N03926", "U00408"])
    res = _fetch(kolada, tmp_path / "raw" / "kolada", kpis=["N03926", "U00408"], strict_kpis=False)
    assert res.missing_kpis == ["U00408"] and res.kpis == ["N03926"]
    assert any("U00408" in w for w in res.warnings)


def test_v2_gone_410_is_bad_input_naming_v3(kolada: FakeKolada, tmp_path: Path) -> None:
    """A v2 root answers 410 Gone: exit 2, and the message says to use the v3 root."""
    kolada.faults.append(["/v3/", 410, {}, b'{"detail": "Gone"}', 99])
    with pytest.raises(
        fetch_client.KoladaHTTPError, match="HTTP 410.*v2 API is gone.*api.kolada.se/v3"
    ) as exc:
        _fetch(kolada, tmp_path / "raw" / "kolada")
    assert exc.value.exit_code == 2


def test_default_fetch_then_clean_warns_about_no_missing_glob(
    kolada: FakeKolada, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A default fetch (no kolada-group) and clean: no warning that a glob of the entry matches no file."""
    _fill(kolada)
    _fetch(kolada, tmp_path / "raw" / "kolada")
    with caplog.at_level("WARNING"):
        run_clean(tmp_path / "raw")
    assert not [r for r in caplog.records if "matches no file" in r.getMessage()]


@pytest.mark.real
def test_kpi_update_keeps_the_lists_and_search_reads_them_offline(
    kolada: FakeKolada,
    recorded_kolada: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`kpi update` pages through /kpi and /municipality_groups into a snapshot; search then reads it."""
    from ks_analysis.fetch.metadata import local_metadata, search_kpis

    kpis = ["N03926", "N03920", "N00999", "N21704"]
    _serve_recorded(kolada, recorded_kolada, kpis)
    kolada.groups = {g: recorded_kolada["groups"][g]["members"] for g in ("G33616", "G37569")}
    root = tmp_path / "raw" / "kolada-metadata"
    code = main(["-q", "kpi", "update", "--out", str(root), "--base-url", kolada.base()])
    assert code == 0
    snapshot = Path(capsys.readouterr().out.strip())
    assert snapshot.parent == root
    assert sorted(p.name for p in snapshot.iterdir()) == [
        "fetch-log.jsonl",
        "kpi-0001.json",
        "kpi-0002.json",
        "municipality_groups-0001.json",
    ]  # fmt: skip  (3 KPIs a page: the next_url was followed)
    meta = local_metadata(root=root)
    assert meta is not None and "snapshot" in meta.where
    assert set(meta.kpis) == set(kpis) and set(meta.groups) == {"G33616", "G37569"}
    assert meta.fetched_at.endswith("Z")
    hits = [h.kpi.id for h in search_kpis(meta, "arbetslöshet")]
    assert hits[:2] == ["N03920", "N03926"]
    code = main(["kpi", "show", "N21704", "--metadata", str(snapshot)])
    out = capsys.readouterr().out
    assert code == 0 and "Invånare 80+ med hemtjänst i ordinärt boende" in out
