#!/usr/bin/env python3
"""Benchmark and load-test `bulwark serve` on SQLite and on PostgreSQL.

    python3 bench/server.py [--backend sqlite|postgres|both] [--quick]

For each backend it starts `bulwark serve --monitor-interval 1` on a fresh store (a temporary
SQLite file, or a fresh schema of the PostgreSQL at --pg-url, dropped afterwards), with a
vulnerability database of the real osv.dev PyPI and Go archives, and measures:

1. Ingest: `POST /api/v1/sboms` of a 10,000-component CycloneDX 1.6 SBOM, 5 runs (distinct
   versions, after one warm-up upload); median and max wall time of the request as the client
   sees it. Target: under 1 s.
2. Portfolio: 1,000 projects, each with one ~50-component SBOM, then 200 concurrent clients
   (wrk) for 20 s on the finding list, `GET /api/v1/versions/{id}/findings` of random
   versions: requests/s, p50/p95/p99/max, errors. Target: p99 under 50 ms. Then 5 s each of
   80 % finding lists / 20 % `GET /api/v1/projects?limit=50&offset=..`, and project pages
   alone. On PostgreSQL, the finding-list load once more through a second server on the same
   schema that connects over the database's Unix socket (--pg-socket), as a server on the
   database's machine can: the loopback TCP path costs both processes CPU on a small machine.
3. Re-evaluation: `bulwark db import` of crates.io.zip plus a few crafted OSV records (one
   affects a package every portfolio SBOM holds, so findings really change) into the served
   database directory; time from the import's end until every `reevaluate_batch` job is done
   (read from the `jobs` table), and the `finding_new` events that appeared. Target: under 60 s.
4. Load test: 50 concurrent uploads of distinct 5,000-component SBOMs; every one must answer
   201, the portfolio must count 50 more versions, and each version's snapshot must hold 5,000
   components. Then another 50 concurrent uploads during which the server is killed with
   SIGKILL once a third of them are answered; after a restart, every stored snapshot must be
   complete (components counted in the database) and every upload answered 201 before the kill
   must be there.
5. Peak RSS (VmHWM) of the server process, before the kill and at the end.

SBOMs hold real package names and versions drawn from the advisories (one component in five),
the rest made-up names, all from fixed seeds, so runs compare. Results go to
bench/results/server.md (machine, date, command line and every number). --quick shrinks every
size for a smoke run. Needs target/release/bulwark, wrk, psql (for PostgreSQL) and the OSV
zips in shared/data/osv.
"""
import argparse
import copy
import http.client
import json
import os
import platform
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scan import PURL_TYPE, packages  # noqa: E402  (same advisory sampling as bench/scan.py)

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("BULWARK_SHARED", REPO.parent / "shared"))
BULWARK = Path(os.environ.get("BULWARK", REPO / "target/release/bulwark"))
PG_URL = "postgres://postgres@127.0.0.1:5432/test"
API_KEY = "bench-bootstrap-admin-key-0123456789abcdef"
# The package every portfolio SBOM holds and the crafted advisory of step 3 affects.
COMMON_PACKAGE = "bulwark-bench-common"

WRK_SCRIPT = r"""
-- Each thread walks its own slice of a pre-shuffled path list (fixed seed, written by
-- bench/server.py), so runs request the same mix.
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local key = os.getenv("BENCH_KEY")
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  position = (id * 7919) % #paths
end

function request()
  position = position % #paths + 1
  return wrk.format("GET", paths[position], { ["X-Api-Key"] = key })
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p95":%d,"p99":%d,"max":%d,"mean":%.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean))
end
"""

CRAFTED = [
    # Affects every portfolio SBOM: 1,000 new findings after the update.
    {"id": "BULWARK-BENCH-0001", "summary": "Crafted advisory for the re-evaluation benchmark",
     "affected": [{"package": {"ecosystem": "PyPI", "name": COMMON_PACKAGE},
                   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}],
     "database_specific": {"severity": "HIGH"}},
    # Affects only the 1.0.x versions of it (half the portfolio).
    {"id": "BULWARK-BENCH-0002", "summary": "Crafted advisory, fixed in 1.1.0",
     "affected": [{"package": {"ecosystem": "PyPI", "name": COMMON_PACKAGE},
                   "ranges": [{"type": "ECOSYSTEM",
                               "events": [{"introduced": "0"}, {"fixed": "1.1.0"}]}]}],
     "database_specific": {"severity": "MEDIUM"}},
]


class Sizes:
    """The workload; --quick shrinks it for a smoke run."""

    def __init__(self, quick):
        self.ingest_components = 2_000 if quick else 10_000
        self.ingest_runs = 2 if quick else 5
        self.projects = 100 if quick else 1_000
        self.project_components = 50
        self.clients = 50 if quick else 200
        self.duration = 5 if quick else 20
        self.load_uploads = 10 if quick else 50
        self.load_components = 1_000 if quick else 5_000


# ---------------------------------------------------------------------------------------------
# SBOMs


def component(i, eco, name, version):
    namespace = ""
    if eco == "Go" and "/" in name:
        namespace, name = name.rsplit("/", 1)
        namespace += "/"
    purl = f"pkg:{PURL_TYPE[eco]}/{namespace}{name}@{version}".replace("+", "%2B")
    return {"type": "library", "bom-ref": f"c{i}", "name": name, "version": version, "purl": purl}


def sbom(count, known, seed, tag, common=False):
    """A CycloneDX 1.6 document of `count` components: one in five a package with advisories,
    the others made-up names unique to `tag` (so that documents differ)."""
    rng = random.Random(seed)
    components = []
    if common:
        components.append(component(0, "PyPI", COMMON_PACKAGE, f"1.{seed % 2}.{seed % 10}"))
    seen = set()
    while len(components) < count:
        i = len(components)
        if i % 5 == 0 and known:
            eco, name, versions = rng.choice(known)
            version = rng.choice(versions)
            if (eco, name, version) in seen:  # every component distinct: counts are exact
                continue
            seen.add((eco, name, version))
            components.append(component(i, eco, name, version))
        else:
            version = f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"
            components.append(component(i, "PyPI", f"bench-{tag}-{i}", version))
    return json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
                       "components": components}).encode()


# ---------------------------------------------------------------------------------------------
# HTTP


class Client:
    """One keep-alive connection per thread."""

    def __init__(self, port):
        self.port = port
        self.local = threading.local()

    def request(self, method, path, body=None, timeout=300):
        for attempt in (0, 1):
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                                    timeout=timeout)
            try:
                conn.request(method, path, body=body, headers={"X-Api-Key": API_KEY})
                response = conn.getresponse()
                data = response.read()
                return response.status, (json.loads(data) if data else None)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()
                self.local.conn = None
                if attempt or method != "GET":
                    raise
        raise AssertionError("unreachable")

    def get(self, path):
        status, body = self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {body}")
        return body

    def upload(self, project, version, document):
        q = urllib.parse.urlencode({"project": project, "version": version})
        return self.request("POST", f"/api/v1/sboms?{q}", document)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# Backends


class Backend:
    """A fresh store: a SQLite file, or a PostgreSQL schema."""

    def __init__(self, kind, scratch, pg_url):
        self.kind = kind
        if kind == "sqlite":
            self.path = scratch / "server.db"
            self.url = f"sqlite://{self.path}"
        else:
            self.schema = f"bench_{os.getpid()}_{int(time.time())}"
            self.psql_url = (f"{pg_url}?options="
                             + urllib.parse.quote(f"-c search_path={self.schema}"))
            self.admin_url = pg_url
            self.psql(f"CREATE SCHEMA {self.schema}", admin=True)
            self.url = self.psql_url

    def socket_url(self, directory):
        """The store's URL over PostgreSQL's Unix socket in `directory`."""
        parts = urllib.parse.urlsplit(self.psql_url)
        query = urllib.parse.urlencode({"host": directory}) + "&" + parts.query
        return urllib.parse.urlunsplit((parts.scheme, parts.netloc.split("@")[0] + "@localhost",
                                        parts.path, query, ""))

    def psql(self, sql, admin=False):
        res = subprocess.run(["psql", self.admin_url if admin else self.psql_url, "-v",
                              "ON_ERROR_STOP=1", "-qAtF", "\t", "-c", sql],
                             capture_output=True, text=True, check=True)
        return [line.split("\t") for line in res.stdout.splitlines() if line]

    def query(self, sql):
        """Rows of `sql` (no parameters), read beside the running server."""
        if self.kind == "postgres":
            return self.psql(sql)
        with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30) as db:
            return [[str(v) for v in row] for row in db.execute(sql).fetchall()]

    def drop(self):
        if self.kind == "postgres":
            self.psql(f"DROP SCHEMA {self.schema} CASCADE", admin=True)


class Server:
    def __init__(self, backend, dbdir, scratch):
        self.backend, self.dbdir, self.scratch = backend, dbdir, scratch
        self.port = free_port()
        self.proc = None
        self.starts = 0

    def start(self):
        self.starts += 1
        log = open(self.scratch / f"serve-{self.starts}.log", "wb")
        env = dict(os.environ, BULWARK_BOOTSTRAP_API_KEY=API_KEY, RUST_LOG="warn")
        self.proc = subprocess.Popen(
            [str(BULWARK), "serve", "--database", self.backend.url,
             "--listen", f"127.0.0.1:{self.port}", "--db", str(self.dbdir),
             "--monitor-interval", "1"],
            stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"error: bulwark serve exited with {self.proc.returncode}; see {log.name}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        sys.exit("error: bulwark serve did not answer /health within 60 s")

    def status(self, field):
        """A field of /proc/PID/status, in kB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        return 0

    def cpu_seconds(self):
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


# ---------------------------------------------------------------------------------------------
# Steps


def ingest(client, sizes, known):
    document = sbom(sizes.ingest_components, known, 10, "ingest")
    status, body = client.upload("bench-ingest", "warm-up", document)
    if status != 201:
        sys.exit(f"error: ingest upload answered {status}: {body}")
    walls, findings = [], []
    for run in range(sizes.ingest_runs):
        t0 = time.perf_counter()
        status, body = client.upload("bench-ingest", f"run-{run + 1}", document)
        walls.append(time.perf_counter() - t0)
        if status != 201:
            sys.exit(f"error: ingest upload answered {status}: {body}")
        findings.append(body["findings"])
    return {"components": sizes.ingest_components, "mb": len(document) / 1e6,
            "median": statistics.median(walls), "max": max(walls), "min": min(walls),
            "findings": findings}


def portfolio(client, sizes, known):
    def one(i):
        document = sbom(sizes.project_components, known, 1000 + i, f"p{i}", common=True)
        status, body = client.upload(f"portfolio-{i:04d}", "1.0.0", document)
        if status != 201:
            raise RuntimeError(f"portfolio upload {i} answered {status}: {body}")
        return body["version"]["id"], body["findings"]

    t0 = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(sizes.projects)))
    wall = time.perf_counter() - t0
    return {"versions": [v for v, _ in results], "wall": wall,
            "with_findings": sum(1 for _, f in results if f), "findings": sum(f for _, f in results)}


def load(server, scratch, sizes, versions, findings_share=0.8, duration=None):
    """wrk with `sizes.clients` connections on a fixed-seed mix of findings pages (this share)
    and project pages."""
    rng = random.Random(3)
    paths = []
    for _ in range(50_000):
        if rng.random() < findings_share:
            paths.append(f"/api/v1/versions/{rng.choice(versions)}/findings")
        else:
            paths.append(f"/api/v1/projects?limit=50&offset={rng.randrange(0, sizes.projects)}")
    (scratch / "paths.txt").write_text("\n".join(paths) + "\n")
    (scratch / "wrk.lua").write_text(WRK_SCRIPT)
    env = dict(os.environ, BENCH_PATHS=str(scratch / "paths.txt"), BENCH_KEY=API_KEY)
    threads = min(os.cpu_count() or 2, 4)
    cmd = ["wrk", f"-t{threads}", f"-c{sizes.clients}", f"-d{duration or sizes.duration}s",
           "--timeout", "10s", "--latency", "-s", str(scratch / "wrk.lua"),
           f"http://127.0.0.1:{server.port}"]
    cpu0, machine0, pg0 = server.cpu_seconds(), machine_cpu(), postgres_cpu()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    out = proc.stdout.read()
    _, _, rusage = os.wait4(proc.pid, 0)
    proc.returncode = 0  # reaped by wait4
    server_cpu = server.cpu_seconds() - cpu0
    busy, all_ = (b - a for a, b in zip(machine0, machine_cpu()))
    pg_cpu = postgres_cpu() - pg0
    line = next((l for l in out.splitlines() if l.startswith("WRK_JSON ")), None)
    if line is None:
        sys.exit(f"error: wrk printed no summary:\n{out}")
    r = json.loads(line[len("WRK_JSON "):])
    seconds = r["duration_us"] / 1e6
    return {"cmd": " ".join(cmd), "rps": r["requests"] / seconds, "requests": r["requests"],
            "p50": r["p50"] / 1000, "p90": r["p90"] / 1000, "p95": r["p95"] / 1000,
            "p99": r["p99"] / 1000, "max": r["max"] / 1000, "mean": r["mean"] / 1000,
            "errors": {k: r[k] for k in ("connect", "read", "write", "status", "timeout")},
            "wrk_cpu": rusage.ru_utime + rusage.ru_stime, "server_cpu": server_cpu,
            "machine_busy": busy / all_ if all_ else 0.0, "pg_cpu": pg_cpu,
            "seconds": seconds}


def machine_cpu():
    """(busy, total) jiffies of all cores, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def postgres_cpu():
    """CPU seconds of the `postgres` processes: their own and that of their reaped children, so
    that backends which exited in between (counted in the postmaster's) are not lost."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if "(postgres)" in text:
            fields = text.rsplit(")", 1)[1].split()
            total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


def total(client, kind):
    return client.get(f"/api/v1/events?kind={kind}&limit=1")["total"]


def reevaluate(client, backend, dbdir, scratch):
    crafted = scratch / "crafted"
    crafted.mkdir(exist_ok=True)
    for record in CRAFTED:
        record = dict(record, modified="2026-11-01T00:00:00Z", published="2026-11-01T00:00:00Z")
        (crafted / f"{record['id']}.json").write_text(json.dumps(record))
    before_events = total(client, "finding_new")
    before_counts = client.get("/api/v1/portfolio")["counts"]
    last_job = int(backend.query("SELECT COALESCE(MAX(id), 0) FROM jobs")[0][0])
    subprocess.run([str(BULWARK), "-q", "db", "import", str(SHARED / "data/osv/crates.io.zip"),
                    str(crafted), "--db", str(dbdir)], check=True)
    t0 = time.perf_counter()
    deadline = t0 + 600
    while True:
        rows = backend.query(f"SELECT kind, state, COUNT(*) FROM jobs WHERE id > {last_job} "
                             "AND kind LIKE 'reevaluate%' GROUP BY kind, state")
        states = {(k, s): int(n) for k, s, n in rows}
        planned = states.get(("reevaluate", "done"), 0)
        batches = sum(n for (k, _), n in states.items() if k == "reevaluate_batch")
        open_jobs = sum(n for (_, s), n in states.items() if s in ("pending", "running"))
        if planned and batches and not open_jobs:
            break
        if time.perf_counter() > deadline:
            sys.exit(f"error: re-evaluation not finished after 600 s: {states}")
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    failed = sum(n for (_, s), n in states.items() if s == "failed")
    snapshots = int(backend.query(
        "SELECT COUNT(*) FROM sbom_snapshots s WHERE s.id = (SELECT MAX(id) FROM sbom_snapshots "
        "WHERE project_version_id = s.project_version_id)")[0][0])
    components = int(backend.query("SELECT COUNT(*) FROM components")[0][0])
    # Events are written by the batches; they are all there once every batch is done.
    return {"wall": wall, "batches": batches, "failed": failed, "snapshots": snapshots,
            "components": components,
            "new_events": total(client, "finding_new") - before_events,
            "before": before_counts,
            "after": client.get("/api/v1/portfolio")["counts"]}


def concurrent_uploads(port, known, sizes, prefix, seed0):
    """Starts every upload at once; returns (status or exception text, body, seconds) per upload."""
    documents = [sbom(sizes.load_components, known, seed0 + i, f"{prefix}{i}")
                 for i in range(sizes.load_uploads)]
    barrier = threading.Barrier(sizes.load_uploads)

    def one(i):
        client = Client(port)
        barrier.wait()
        t0 = time.perf_counter()
        try:
            status, body = client.upload(f"{prefix}-{i:02d}", "1.0.0", documents[i])
        except (OSError, http.client.HTTPException) as e:
            return type(e).__name__, None, time.perf_counter() - t0
        return status, body, time.perf_counter() - t0

    return documents, one


def refusals(results):
    """Distinct answers other than 201, with the problem's detail and how many got it."""
    seen = {}
    for status, body, _ in results:
        if status != 201:
            key = f"{status}: {(body or {}).get('detail', '') if isinstance(body, dict) else body}"
            seen[key] = seen.get(key, 0) + 1
    return [f"{n} × {k}" for k, n in sorted(seen.items())]


def load_test(server, client, backend, known, sizes):
    versions_before = client.get("/api/v1/portfolio")["versions"]
    _, one = concurrent_uploads(server.port, known, sizes, "load", 5000)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(sizes.load_uploads) as pool:
        results = list(pool.map(one, range(sizes.load_uploads)))
    wall = time.perf_counter() - t0
    statuses = [r[0] for r in results]
    versions_after = client.get("/api/v1/portfolio")["versions"]
    complete = 0
    for status, body, _ in results:
        if status == 201:
            version = client.get(f"/api/v1/versions/{body['version']['id']}")
            if (version.get("snapshot") or {}).get("components") == sizes.load_components:
                complete += 1
    return {"wall": wall, "created": statuses.count(201), "statuses": sorted(set(map(str, statuses))),
            "errors": refusals(results),
            "versions_added": versions_after - versions_before, "complete": complete,
            "slowest": max(r[2] for r in results), "median": statistics.median(r[2] for r in results)}


def crash_test(server, backend, known, sizes):
    """Kills the server once a third of the uploads are answered (mid-batch: the others are
    being decoded, matched or written), then checks every stored snapshot after a restart."""
    _, one = concurrent_uploads(server.port, known, sizes, "crash", 9000)
    with ThreadPoolExecutor(sizes.load_uploads) as pool:
        t0 = time.perf_counter()
        futures = [pool.submit(one, i) for i in range(sizes.load_uploads)]
        while (sum(f.done() for f in futures) < sizes.load_uploads // 3
               and time.perf_counter() - t0 < 300):
            time.sleep(0.005)
        kill_after = time.perf_counter() - t0
        hwm = server.status("VmHWM")
        server.kill()
        results = [f.result() for f in futures]
    acknowledged = {f"crash-{i:02d}" for i, r in enumerate(results) if r[0] == 201}
    server.start()
    rows = backend.query(
        "SELECT p.name, v.id, s.id, COUNT(c.id) FROM projects p "
        "JOIN project_versions v ON v.project_id = p.id "
        "LEFT JOIN sbom_snapshots s ON s.project_version_id = v.id "
        "LEFT JOIN components c ON c.snapshot_id = s.id "
        "GROUP BY p.name, v.id, s.id")
    expected = {"crash": sizes.load_components, "load": sizes.load_components,
                "portfolio": sizes.project_components, "bench": sizes.ingest_components}
    bad, empty, stored = [], [], set()
    for name, version_id, snapshot_id, count in rows:
        if snapshot_id in ("", "None"):  # a version row with no snapshot at all
            empty.append(f"{name} (version id {version_id})")
            continue
        if int(count) != expected[name.split("-")[0]]:
            bad.append(f"{name} version {version_id} snapshot {snapshot_id}: {count} components")
        if name.startswith("crash-"):
            stored.add(name)
    return {"kill_after": kill_after, "acknowledged": len(acknowledged), "stored": len(stored),
            "lost": sorted(acknowledged - stored), "checked": len(rows), "bad": bad, "empty": empty,
            "answers": sorted(set(str(r[0]) for r in results)), "hwm_mib": hwm / 1024,
            "errors": [e for e in refusals(results) if not e.split(" × ", 1)[1].startswith(
                ("RemoteDisconnected", "ConnectionResetError", "ConnectionRefusedError",
                 "BrokenPipeError", "IncompleteRead"))]}


def run_backend(kind, sizes, known, zips, args):
    scratch = Path(tempfile.mkdtemp(prefix=f"bulwark-server-bench-{kind}-"))
    dbdir = scratch / "vulndb"
    subprocess.run([str(BULWARK), "-q", "db", "import", *map(str, zips), "--db", str(dbdir)],
                   check=True)
    backend = Backend(kind, scratch, args.pg_url)
    server = Server(backend, dbdir, scratch)
    try:
        server.start()
        client = Client(server.port)
        print(f"[{kind}] ingest", flush=True)
        load0 = os.getloadavg()[0]
        r = {"ingest": ingest(client, sizes, known)}
        print(f"[{kind}] portfolio", flush=True)
        r["portfolio"] = portfolio(client, sizes, known)
        print(f"[{kind}] wrk", flush=True)
        # The target: the finding list. Then, shorter, a mix with project pages and project
        # pages alone, to see what the rest of the portfolio reads cost.
        r["load"] = load(server, scratch, sizes, r["portfolio"]["versions"], 1.0)
        r["load_mixed"] = load(server, scratch, sizes, r["portfolio"]["versions"], 0.8,
                               max(sizes.duration // 4, 2))
        r["load_projects"] = load(server, scratch, sizes, r["portfolio"]["versions"], 0.0,
                                  max(sizes.duration // 4, 2))
        if kind == "postgres" and args.pg_socket and Path(args.pg_socket).is_dir():
            # The same finding-list load through a second server on the same schema that
            # reaches PostgreSQL over its Unix socket, as a server on the database's machine can.
            print(f"[{kind}] wrk, PostgreSQL over its Unix socket", flush=True)
            socket_backend = copy.copy(backend)
            socket_backend.url = backend.socket_url(args.pg_socket)
            socket_server = Server(socket_backend, dbdir, scratch)
            socket_server.start()
            try:
                r["load_socket"] = load(socket_server, scratch, sizes, r["portfolio"]["versions"],
                                        1.0)
            finally:
                socket_server.stop()
        print(f"[{kind}] re-evaluation", flush=True)
        r["reeval"] = reevaluate(client, backend, dbdir, scratch)
        print(f"[{kind}] load test", flush=True)
        r["load_test"] = load_test(server, client, backend, known, sizes)
        print(f"[{kind}] crash test", flush=True)
        r["crash"] = crash_test(server, backend, known, sizes)
        r["hwm_end_mib"] = server.status("VmHWM") / 1024
        r["loadavg"] = (load0, os.getloadavg()[0])
        return r
    finally:
        server.stop()
        backend.drop()
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


def ok(value, good):
    return f"{value} ({'meets' if good else 'MISSES'} target)"


def socket_rows(r):
    """The finding-list row over PostgreSQL's Unix socket, when it was measured."""
    x = r.get("load_socket")
    if x is None:
        return []
    p99 = ok(f"{x['p99']:.1f}", x["p99"] < 50)
    return [f"| the same over PostgreSQL's Unix socket (a second server on the same schema): "
            f"requests/s; latency p50 / p90 / p99 / max ms; errors; CPU server / postgres s | "
            f"{x['rps']:.0f}; {x['p50']:.1f} / {x['p90']:.1f} / {p99} / {x['max']:.1f}; "
            f"{sum(x['errors'].values())}; {x['server_cpu']:.1f} / {x['pg_cpu']:.1f} | p99 < 50 ms |"]


def report(results, sizes, args, zips):
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor())
    lines = [
        "# `bulwark serve`: ingest, portfolio reads, re-evaluation, load test", "",
        f"Run on {time.strftime('%Y-%m-%d %H:%M %Z')} with `{' '.join(['python3', *sys.argv])}` on "
        f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}; "
        f"`{BULWARK.relative_to(REPO) if BULWARK.is_relative_to(REPO) else BULWARK}` (release, "
        f"built {time.strftime('%Y-%m-%d %H:%M', time.localtime(BULWARK.stat().st_mtime))}; "
        f"checkout at {git_head()}). "
        f"Vulnerability database: {', '.join(z.name for z in zips)} (osv.dev); the server, "
        "the store and the load generator share the same machine.", "",
    ]
    for kind, r in results.items():
        i, p, l, e, t, c = (r["ingest"], r["portfolio"], r["load"], r["reeval"], r["load_test"],
                            r["crash"])
        ingest_wall = ok(f"{i['median']:.3f} / {i['max']:.3f}", i["max"] < 1)
        p99 = ok(f"{l['p99']:.1f}", l["p99"] < 50)
        reeval_wall = ok(f"{e['wall']:.1f} s", e["wall"] < 60 and not e["failed"])
        lines += [
            f"## {kind}", "",
            f"Load average (1 min) when this backend's run began / ended: {r['loadavg'][0]:.2f} / "
            f"{r['loadavg'][1]:.2f} (other work on the machine included).", "",
            "| measure | result | target |", "|---|---|---|",
            f"| ingest a {i['components']}-component SBOM ({i['mb']:.1f} MB), {len(i['findings'])} "
            f"runs: median / max wall s | {ingest_wall} | < 1 s |",
            f"| findings per ingest upload | {', '.join(map(str, i['findings']))} | |",
            f"| create the portfolio: {sizes.projects} projects × {sizes.project_components} "
            f"components, 8 uploaders | {p['wall']:.1f} s ({sizes.projects / p['wall']:.0f} uploads/s); "
            f"{p['with_findings']} with findings, {p['findings']} findings | |",
            f"| {sizes.clients} clients × {l['seconds']:.0f} s on the finding list "
            f"(`GET /api/v1/versions/{{id}}/findings`, random versions): requests/s | "
            f"{l['rps']:.0f} ({l['requests']} requests) | |",
            f"| latency p50 / p90 / p95 / p99 / max ms | {l['p50']:.1f} / {l['p90']:.1f} / "
            f"{l['p95']:.1f} / {p99} / {l['max']:.1f} | p99 < 50 ms |",
            f"| errors (connect / read / write / non-2xx / timeout) | "
            f"{' / '.join(str(v) for v in l['errors'].values())} | 0 |",
            f"| CPU during the run: server s / wrk s / postgres processes s / whole machine busy | "
            f"{l['server_cpu']:.1f} / {l['wrk_cpu']:.1f} / {l['pg_cpu']:.1f} / "
            f"{l['machine_busy']:.0%} | |",
            *socket_rows(r),
            *(f"| {what} only, {x['seconds']:.0f} s: requests/s, p50 / p99 / max ms, errors, "
              f"CPU server / postgres s | {x['rps']:.0f}, {x['p50']:.1f} / {x['p99']:.1f} / "
              f"{x['max']:.1f}, {sum(x['errors'].values())}, {x['server_cpu']:.1f} / "
              f"{x['pg_cpu']:.1f} | |"
              for what, x in (("80 % finding lists / 20 % `GET /api/v1/projects?limit=50&offset=..`",
                               r["load_mixed"]),
                              ("`GET /api/v1/projects?limit=50&offset=..`", r["load_projects"]))),
            f"| re-evaluate {e['snapshots']} current snapshots ({e['components']} components "
            f"stored) in {e['batches']} batch jobs after `db import` | "
            f"{reeval_wall}; {e['failed']} failed | < 60 s |",
            f"| `finding_new` events from the re-evaluation | {e['new_events']} | > 0 |",
            f"| portfolio counts before → after | {fmt_counts(e['before'])} → {fmt_counts(e['after'])} | |",
            f"| {sizes.load_uploads} concurrent uploads of distinct {sizes.load_components}-component "
            f"SBOMs: answered 201 | {t['created']} of {sizes.load_uploads} (answers {', '.join(t['statuses'])}) "
            f"in {t['wall']:.1f} s; per upload median {t['median']:.1f} s, slowest {t['slowest']:.1f} s | all |",
            f"| versions added (portfolio API) / snapshots with exactly {sizes.load_components} "
            f"components | {t['versions_added']} / {t['complete']} | {sizes.load_uploads} / {sizes.load_uploads} |",
            f"| SIGKILL {c['kill_after']:.2f} s into another {sizes.load_uploads} concurrent uploads "
            "(once a third were answered): "
            f"acknowledged (201) before the kill / versions stored after restart | "
            f"{c['acknowledged']} / {c['stored']} (client saw: {', '.join(c['answers'])}) | stored ≥ acknowledged |",
            f"| after restart: versions checked / partial snapshots / versions with no snapshot / "
            f"acknowledged but lost | {c['checked']} / {len(c['bad'])} / {len(c['empty'])} / "
            f"{len(c['lost'])} | – / 0 / 0 / 0 |",
            f"| server peak RSS (VmHWM): up to the kill / restarted process at the end | "
            f"{c['hwm_mib']:.0f} MiB / {r['hwm_end_mib']:.0f} MiB | |", "",
        ]
        if t["errors"] or c["errors"]:
            lines += ["Answers other than 201 (and other than a connection cut by the kill):", ""]
            lines += [f"- load test: {e}" for e in t["errors"]]
            lines += [f"- crash batch, before the kill: {e}" for e in c["errors"]] + [""]
        if c["bad"] or c["lost"] or c["empty"]:
            lines += ["Problems after the crash:", ""] + [f"- partial: {b}" for b in c["bad"][:20]]
            lines += [f"- acknowledged but missing: {n}" for n in c["lost"]]
            lines += [f"- version with no snapshot (created, then the kill came before its "
                      f"snapshot was stored): {', '.join(c['empty'])}", ""]
    lines += [
        "wrk: `" + next(iter(results.values()))["load"]["cmd"] + "` with a Lua script that walks a "
        "pre-shuffled list of 50,000 paths (fixed seed) and sends `X-Api-Key`; latencies are "
        "wrk's (coordinated omission not corrected).", "",
        "Dependency-Track itself (Java, with its own database) cannot be installed on this "
        "machine, so no number here is a Dependency-Track number, and none is compared.", "",
    ]
    return "\n".join(lines)


def git_head():
    """The checkout's commit, so that a result can be matched with the code it measured."""
    res = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True)
    return res.stdout.strip() or "unknown"


def fmt_counts(c):
    return "/".join(str(c[k]) for k in ("critical", "high", "medium", "low", "unknown"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    ap.add_argument("--pg-url", default=PG_URL, help="a PostgreSQL database to make a schema in")
    ap.add_argument("--pg-socket", default="/var/run/postgresql",
                    help="PostgreSQL's Unix socket directory, for a second finding-list run over "
                         "it ('' to skip)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directories and logs")
    ap.add_argument("--out", type=Path, default=REPO / "bench/results/server.md")
    a = ap.parse_args()
    zips = [SHARED / "data/osv/PyPI.zip", SHARED / "data/osv/Go.zip"]
    if not BULWARK.exists() or not all(z.exists() for z in zips):
        sys.exit("error: needs target/release/bulwark (cargo build --release) and shared/data/osv")
    if not shutil.which("wrk"):
        sys.exit("error: needs wrk (apt-get install wrk)")
    sizes = Sizes(a.quick)
    known = packages(zips + [SHARED / "data/osv/crates.io.zip"])
    kinds = ["sqlite", "postgres"] if a.backend == "both" else [a.backend]
    results = {kind: run_backend(kind, sizes, known, zips, a) for kind in kinds}
    text = report(results, sizes, a, zips)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    marker = "<!-- dtrack -->"
    if a.out.exists() and marker in a.out.read_text():
        # Keep what follows the marker: the Dependency-Track client section
        # (bench/dtrack_client.sh --write) and the notes written by hand after it.
        text += "\n" + marker + a.out.read_text().split(marker, 1)[1]
    a.out.write_text(text)
    print(text)
    failed = any(r["crash"]["bad"] or r["crash"]["lost"] or r["crash"]["empty"]
                 or r["load_test"]["created"] != sizes.load_uploads
                 for r in results.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
