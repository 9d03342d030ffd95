#!/usr/bin/env python3
"""Benchmark `bulwark db import` and `bulwark scan` at scale.

    python3 bench/scan.py [--components 50000] [--runs 5]

1. Imports every zip in shared/data/osv (PyPI, crates.io, Go) into a fresh database and times it
   (target: under 2 s).
2. Writes a CycloneDX 1.6 JSON SBOM of N components (default 50,000): real package names taken
   from the imported advisories (so the matcher has work to do) and from nowhere (so most
   lookups miss, as in a real SBOM), with versions drawn from the advisories' own events, and
   times `bulwark scan SBOM -o json` on it (target: under 1 s and under 300 MB peak).
The SBOM is generated with a fixed seed, so runs compare.
"""
import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("BULWARK_SHARED", REPO.parent / "shared"))
BULWARK = Path(os.environ.get("BULWARK", REPO / "target/release/bulwark"))
PURL_TYPE = {"PyPI": "pypi", "crates.io": "cargo", "Go": "golang"}


def timeit(cmd, runs):
    res = subprocess.run([sys.executable, str(SHARED / "bench/timeit.py"), "-n", str(runs),
                          "--warmup", "1", "--timeout", "600", "--", "bash", "-c", cmd],
                         capture_output=True, text=True)
    rows = {}
    for line in res.stdout.splitlines():
        m = re.match(r"A (wall s|peak MiB)\s+(\S+)\s+(\S+)\s+(\S+)", line)
        if m:
            rows[m.group(1)] = float(m.group(3))
    codes = re.search(r"exit codes: (\[.*\])", res.stdout)
    return rows.get("wall s"), rows.get("peak MiB"), codes.group(1) if codes else "?"


def packages(zips):
    """(ecosystem, name, [versions seen in events]) from the advisories."""
    out = {}
    for path in zips:
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                record = json.loads(z.read(name))
                for affected in record.get("affected") or []:
                    package = affected.get("package") or {}
                    eco, pname = package.get("ecosystem"), package.get("name")
                    if eco not in PURL_TYPE or not pname:
                        continue
                    versions = out.setdefault((eco, pname), set())
                    for r in affected.get("ranges") or []:
                        for event in r.get("events") or []:
                            versions.update(v for v in event.values() if v and v != "0")
                    versions.update((affected.get("versions") or [])[:5])
    return [(e, n, sorted(v)) for (e, n), v in sorted(out.items()) if v]


def write_sbom(path, count, known):
    rng = random.Random(42)
    components = []
    for i in range(count):
        if i % 5 == 0 and known:  # one in five is a package with advisories
            eco, name, versions = rng.choice(known)
            version = rng.choice(versions)
        else:
            eco, name, version = "PyPI", f"bench-package-{i}", f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"
        namespace = ""
        if eco == "Go" and "/" in name:
            namespace, name = name.rsplit("/", 1)
            namespace += "/"
        purl = f"pkg:{PURL_TYPE[eco]}/{namespace}{name}@{version}".replace("+", "%2B")
        components.append({"type": "library", "bom-ref": f"c{i}", "name": name,
                           "version": version, "purl": purl})
    document = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
                "components": components}
    path.write_text(json.dumps(document))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--components", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", type=Path, default=REPO / "bench/results/scan.md")
    a = ap.parse_args()
    zips = sorted((SHARED / "data/osv").glob("*.zip"))
    if not BULWARK.exists() or not zips:
        sys.exit("error: needs target/release/bulwark (cargo build --release) and shared/data/osv")
    scratch = Path(tempfile.mkdtemp(prefix="bulwark-scan-bench-"))
    db = scratch / "db"
    zip_args = " ".join(str(z) for z in zips)
    import_wall, import_peak, import_codes = timeit(
        f"rm -rf {db} && {BULWARK} -q db import {zip_args} --db {db}", a.runs)
    subprocess.run([str(BULWARK), "-q", "db", "import", *map(str, zips), "--db", str(db)], check=True)
    sbom = scratch / "sbom.cdx.json"
    write_sbom(sbom, a.components, packages(zips))
    scan_wall, scan_peak, scan_codes = timeit(
        f"{BULWARK} -q scan {sbom} --db {db} -o json > {scratch}/report.json", a.runs)
    report = json.loads((scratch / "report.json").read_text())
    text = "\n".join([
        "# `bulwark db import` and `bulwark scan` at scale", "",
        f"Median of {a.runs} runs after a warm-up; whole process; {os.cpu_count()} cores.", "",
        "| job | wall s | peak MiB | target |", "|---|---|---|---|",
        f"| import {', '.join(z.name for z in zips)} | {import_wall:.3f} | {import_peak:.0f} | < 2 s |",
        f"| scan a {a.components}-component CycloneDX SBOM ({sbom.stat().st_size // 1_000_000} MB) "
        f"| {scan_wall:.3f} | {scan_peak:.0f} | < 1 s, < 300 MB |", "",
        f"The scan reported {len(report['findings'])} findings and {len(report['not_checked'])} "
        f"components not checked; exit codes {import_codes} / {scan_codes}.", ""])
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
