#!/usr/bin/env python3
"""Benchmark `bulwark sbom` against Trivy and Syft on the same corpora, in the same run.

    python3 bench/sbom.py [--runs 5] [--only REGEX] [--out bench/results/sbom.md]

Needs (see ../shared/bench/README.md):
  - the corpora under $CORPUS (default /tmp/bulwark-corpus), built by
    `bash setup-corpus.sh tools mlvenv lockfiles` run from a writable copy of shared/bench;
  - the peers under $PEERS (default /tmp/peers), installed by that copy's `run-peers.sh`;
  - a release build: `cargo build --release` (this script runs target/release/bulwark).

For each case it times every tool with shared/bench/timeit.py (whole process: wall, CPU, peak
RSS; median of --runs after one warm-up), scores each tool's CycloneDX output against the
package managers' own ground truth with shared/bench/compare.py, and prints one markdown table
with the ratios the issue asks for:
  - speed-up over Trivy (Trivy wall / bulwark wall), target >= 10x;
  - bulwark wall / the time merely to read the metadata files (`find ... -exec cat`), target <= 2x;
  - peak memory on the virtualenv vs. on a tree with 30x more files, which must not grow.
The machines are shared and noisy: quote ratios from one run, not absolute numbers across runs.
"""
import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("BULWARK_SHARED", REPO.parent / "shared"))
BENCH = SHARED / "bench"
CORPUS = Path(os.environ.get("CORPUS", "/tmp/bulwark-corpus"))
PEERS = Path(os.environ.get("PEERS", "/tmp/peers"))
BULWARK = Path(os.environ.get("BULWARK", REPO / "target/release/bulwark"))
TRIVY = PEERS / "trivy-new/trivy"
SYFT = PEERS / "syft-venv/bin/syft"


def trivy(mode, target, out):
    # A fresh cache per run, so every run does the work (Trivy caches per layer/directory).
    return (f"d=$(mktemp -d); {TRIVY} {mode} {shlex.quote(str(target))} --cache-dir $d "
            f"--format cyclonedx --output {out} --skip-db-update --skip-java-db-update "
            f"--offline-scan --quiet; rc=$?; rm -rf $d; exit $rc")


def cases(scratch):
    """(case, tool, shell command writing $OUT or None, truth args, role)."""
    venv = CORPUS / "ml-venv"
    lock = CORPUS / "lockfiles"
    many = scratch / "many-files"
    truth = BENCH / "truth"
    out = []
    t_ml = ["--truth", str(truth / "ml-venv.pip.json")]
    out += [
        ("ml-venv", "bulwark", f"{BULWARK} -q sbom {venv} --output {{out}}", t_ml, "subject"),
        ("ml-venv", "trivy-rootfs", trivy("rootfs", venv, "{out}"), t_ml, "peer"),
        ("ml-venv", "syft-dir", f"{SYFT} scan dir:{venv} -q -o cyclonedx-json={{out}}", t_ml, "peer"),
        ("ml-venv", "proxy-read-metadata",
         f"find {venv} \\( -path '*.dist-info/METADATA' -o -path '*.dist-info/RECORD' \\) "
         f"-exec cat {{}} + > /dev/null", None, "proxy"),
    ]
    for d in ["pip-hashes", "pip-tools", "uv-project", "poetry-project", "pipenv-project", "conda"]:
        matches = sorted(truth.glob(f"lock.{d}__*.truth"))
        if not matches or not (lock / d).is_dir():
            continue
        t = ["--truth", str(matches[0])]
        out += [
            (f"lock-{d}", "bulwark", f"{BULWARK} -q sbom {lock / d} --output {{out}}", t, "subject"),
            (f"lock-{d}", "trivy-fs", trivy("fs", lock / d, "{out}"), t, "peer"),
            (f"lock-{d}", "syft-dir", f"{SYFT} scan dir:{lock / d} -q -o cyclonedx-json={{out}}", t, "peer"),
        ]
    out += [
        ("many-files", "bulwark", f"{BULWARK} -q sbom {many} --output {{out}}", None, "subject"),
        ("many-files", "proxy-walk", f"find {many} > /dev/null", None, "proxy"),
    ]
    return out


def make_many_files(root, count):
    """A tree with `count` small files and one real dist-info: the walk must not keep them."""
    marker = root / ".done"
    if marker.exists():
        return
    src = next((CORPUS / "ml-venv/lib/python3.11/site-packages").glob("filelock-*.dist-info"))
    (root / "site-packages").mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-r", str(src), str(root / "site-packages")], check=True)
    for i in range(count):
        d = root / f"d{i // 1000:04d}"
        if i % 1000 == 0:
            d.mkdir(exist_ok=True)
        (d / f"f{i % 1000:04d}.py").write_bytes(b"x = 1\n")
    marker.touch()


def timeit(cmd, runs):
    res = subprocess.run(
        [sys.executable, str(BENCH / "timeit.py"), "-n", str(runs), "--warmup", "1",
         "--timeout", "900", "--", "bash", "-c", cmd],
        capture_output=True, text=True)
    rows = {}
    for line in res.stdout.splitlines():
        m = re.match(r"A (wall s|peak MiB|cpu s)\s+(\S+)\s+(\S+)\s+(\S+)", line)
        if m:
            rows[m.group(1)] = float(m.group(3))
    return rows.get("wall s"), rows.get("peak MiB"), rows.get("cpu s")


def accuracy(sbom, truth_args, label):
    if not truth_args or not sbom.exists():
        return None
    with tempfile.NamedTemporaryFile(suffix=".json") as result:
        subprocess.run([sys.executable, str(BENCH / "compare.py"), "--sbom", str(sbom), *truth_args,
                        "--label", label, "--json", result.name], capture_output=True, text=True)
        try:
            return json.load(open(result.name))
        except json.JSONDecodeError:
            return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", default=".")
    ap.add_argument("--many-files", type=int, default=300_000)
    ap.add_argument("--out", type=Path, default=REPO / "bench/results/sbom.md")
    a = ap.parse_args()
    for need in [BULWARK, CORPUS / "ml-venv", BENCH / "timeit.py"]:
        if not need.exists():
            sys.exit(f"error: `{need}` is missing; see this script's docstring")
    scratch = Path(os.environ.get("BENCH_SCRATCH", "/tmp/bulwark-bench"))
    scratch.mkdir(parents=True, exist_ok=True)
    make_many_files(scratch / "many-files", a.many_files)

    results = {}
    for case, tool, cmd, truth, role in cases(scratch):
        if not re.search(a.only, f"{case}/{tool}"):
            continue
        if role == "peer" and not (TRIVY.exists() if "trivy" in tool else SYFT.exists()):
            continue
        out = scratch / f"{case}.{tool}.cdx.json"
        out.unlink(missing_ok=True)
        wall, peak, cpu = timeit(cmd.replace("{out}", str(out)), a.runs)
        acc = accuracy(out, truth, f"{case}/{tool}")
        results[(case, tool)] = dict(wall=wall, peak=peak, cpu=cpu, acc=acc, role=role)
        print(f"{case:22s} {tool:20s} wall {wall} s  peak {peak} MiB", file=sys.stderr)

    lines = ["# `bulwark sbom` vs peers", "",
             f"Median of {a.runs} runs after a warm-up; whole process; {os.cpu_count()} cores. "
             "Accuracy against the package managers' ground truth (shared/bench/truth).", "",
             "| case | tool | wall s | cpu s | peak MiB | recall | extra | wrong version | vs bulwark |",
             "|---|---|---|---|---|---|---|---|---|"]
    for (case, tool), r in results.items():
        subject = results.get((case, "bulwark"))
        ratio = ""
        if subject and subject["wall"] and r["wall"] and tool != "bulwark":
            ratio = f"{r['wall'] / subject['wall']:.1f}x bulwark's time"
        acc = r["acc"] or {}
        recall = acc.get("recall")
        lines.append(
            f"| {case} | {tool} | {fmt(r['wall'], 3)} | {fmt(r['cpu'], 3)} | {fmt(r['peak'], 1)} | "
            f"{fmt(recall, 3)} | {acc.get('extra', '')} | {acc.get('wrong_version', '')} | {ratio} |")
    lines += ["", "Targets (issue 2):"]
    b, t = results.get(("ml-venv", "bulwark")), results.get(("ml-venv", "trivy-rootfs"))
    p = results.get(("ml-venv", "proxy-read-metadata"))
    if b and t and b["wall"] and t["wall"]:
        lines.append(f"- ml-venv: Trivy takes {t['wall'] / b['wall']:.1f}x bulwark's time (target >= 10x).")
    if b and p and b["wall"] and p["wall"]:
        lines.append(f"- ml-venv: bulwark takes {b['wall'] / p['wall']:.2f}x the time to read the "
                     "METADATA and RECORD files (target <= 2x).")
    m = results.get(("many-files", "bulwark"))
    if b and m and b["peak"] and m["peak"]:
        lines.append(f"- peak memory: {b['peak']:.0f} MiB on the venv, {m['peak']:.0f} MiB on "
                     f"{a.many_files} files (must not grow with the file count).")
    text = "\n".join(lines) + "\n"
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(text)
    sys.stdout.write(text)


def fmt(v, digits):
    return "" if v is None else f"{v:.{digits}f}"


if __name__ == "__main__":
    main()
