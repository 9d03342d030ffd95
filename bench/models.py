#!/usr/bin/env python3
"""Benchmark bulwark's model scanner against picklescan, modelscan and fickling: detection on a
labelled corpus of benign and malicious model files, and speed on that corpus and on multi-GB
checkpoints.

    python3 bench/models.py [--runs 3] [--corpus /tmp/model-bench/corpus] [--big /tmp/model-bench/big]
                            [--no-big] [--out bench/results/models.md]

Needs a release build (`target/release/bulwark`, or $BULWARK) and the corpus, which it builds
when missing with bench/model_corpus.py (--verify; the big files with --big). The peers are
installed, each into its own virtualenv under $PEERS (default /tmp/model-bench/peers), from
the Python package index at the versions pinned in PEERS below.

Detection: every corpus file is scanned by each tool on its own (bulwark once on the whole
corpus, its `artifact_findings` mapped back to files). An outcome is `flagged` (the tool
reported an issue for the file), `clean`, `error` (the tool failed to read it: fickling, for
one, tells the user not to trust such a file, but reports no finding) or `skipped` (the tool
did not look at the file). Detection = flagged malicious / malicious; false positives =
flagged benign files.

Speed: shared/bench/timeit.py times each tool as one command over the whole corpus and over
the big files (wall, CPU, peak RSS; median of --runs after a warm-up; all in the same run, warm
page cache), and the report gives "fastest peer's time / bulwark's time" (target >= 10x).
bulwark runs `scan` against an empty vulnerability database, so the time is the walk plus the
artifact scan. It works while the scanner is incomplete: files it does not flag are counted
as missed.
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
BULWARK = Path(os.environ.get("BULWARK", REPO / "target/release/bulwark"))
PEERS_DIR = Path(os.environ.get("PEERS", "/tmp/model-bench/peers"))
SCRATCH = Path(os.environ.get("BENCH_SCRATCH", "/tmp/model-bench/scratch"))
# Pinned peer versions: {venv name: requirements}. Each gets the extras it needs to read every
# format it supports: numpy for picklescan's .npy/.npz, TensorFlow and h5py for modelscan's Keras
# scanners, numpy < 2 as modelscan 0.8.8 calls numpy.lib.format._check_version (gone in 2.x).
# fickling 0.1.12 imports typing_extensions without declaring it.
PEERS = {
    "picklescan": ["picklescan==1.0.5", "numpy==1.26.4"],
    "modelscan": ["modelscan[tensorflow,h5py]==0.8.8", "numpy==1.26.4"],
    "fickling": ["fickling==0.1.12", "typing_extensions"],
}
TOOLS = ["bulwark", "picklescan", "modelscan", "fickling-cli", "fickling-api"]

# fickling has no directory mode and its CLI reads raw pickles only. This driver dispatches each
# file as its own Hub scanner does (fickling/cli.py `_scan_huggingface`): zips (or .pt/.pth) to
# `scan_zip_archive`, pickles (or .bin/.pkl/.pickle) to `scan_file`, anything else skipped. Its
# file typing (fickling.polyglot) needs fickling[torch]; a leading PROTO opcode stands in for
# polyglot's "is a valid pickle" here.
FICKLING_DRIVER = r"""
import json, sys, zipfile
from pathlib import PurePosixPath
from fickling.cli import HF_RAW_PICKLE_EXTENSIONS, HF_ZIP_PICKLE_EXTENSIONS
from fickling.loader import scan_file, scan_zip_archive
out = {}
for path in sys.argv[1:]:
    ext = PurePosixPath(path).suffix.lower()
    with open(path, "rb") as f:
        head = f.read(2)
    try:
        if zipfile.is_zipfile(path) or ext in HF_ZIP_PICKLE_EXTENSIONS:
            results = list(scan_zip_archive(path, graceful=True, json_output_path="/dev/null").values())
        elif ext in HF_RAW_PICKLE_EXTENSIONS or (head[:1] == b"\x80" and head[1:2] in b"\x02\x03\x04\x05"):
            results = [scan_file(path, graceful=True, json_output_path="/dev/null")]
        else:
            out[path] = ["skipped", "not a pickle or zip by fickling's Hub rules"]
            continue
    except Exception as e:
        out[path] = ["error", f"{type(e).__name__}: {e}"[:200]]
        continue
    if not results:
        out[path] = ["skipped", "no pickle member"]
    elif any(not r.is_safe for r in results if not r.errors):
        out[path] = ["flagged", "; ".join(str(r.severity) for r in results)]
    elif any(r.errors for r in results):
        out[path] = ["error", "; ".join(e for r in results for e in r.errors)[:200]]
    else:
        out[path] = ["clean", ""]
print(json.dumps(out))
"""


def sh(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def ensure_peers():
    """Create each peer's venv and install its pinned version if missing; return versions."""
    versions = {}
    for name, reqs in PEERS.items():
        venv = PEERS_DIR / name
        if not (venv / "bin" / name).exists():
            print(f"installing {' '.join(reqs)} into {venv}", file=sys.stderr)
            sh([sys.executable, "-m", "venv", str(venv)], check=True)
            res = sh([str(venv / "bin/pip"), "install", "-q", *reqs])
            if res.returncode != 0:
                sys.exit(f"error: installing {reqs} failed:\n{res.stderr[-2000:]}")
        res = sh([str(venv / "bin/python"), "-c",
                  f"import importlib.metadata as m; print(m.version({name!r}))"])
        versions[name] = res.stdout.strip() or "?"
    return versions


def corpus_files(corpus):
    labels = json.loads((corpus / "labels.json").read_text())["files"]
    return {rel: info for rel, info in labels.items() if (corpus / rel).is_file()}


# ---------------------------------------------------------------------------------- detection

def run_bulwark(corpus, db):
    """{rel: (outcome, detail)} from one `bulwark scan` of the corpus root."""
    res = sh([str(BULWARK), "-q", "scan", str(corpus), "--db", str(db), "-o", "json"])
    try:
        doc = json.loads(res.stdout)
    except json.JSONDecodeError:
        return {}, f"bulwark scan failed (exit {res.returncode}): {res.stderr.strip()[:300]}"
    found = {}
    for f in doc.get("artifact_findings") or []:
        rel = f.get("path", "").lstrip("./")
        found.setdefault(rel, []).append(f"{f.get('id')}:{f.get('callable') or ''}")
    note = "" if "artifact_findings" in doc else "this build's `scan -o json` has no `artifact_findings` key"
    return {rel: ("flagged", ", ".join(v)) for rel, v in found.items()}, note


def sbom_models(corpus):
    """Corpus paths that `bulwark sbom -o json` lists as machine-learning-model components."""
    res = sh([str(BULWARK), "-q", "sbom", str(corpus), "-o", "json"])
    try:
        doc = json.loads(res.stdout)
    except json.JSONDecodeError:
        return set()
    return {loc.get("path", "") for c in doc.get("components") or []
            if c.get("kind") == "machine-learning-model" for loc in c.get("locations") or []}


def run_picklescan(path):
    res = sh([str(PEERS_DIR / "picklescan/bin/picklescan"), "-p", str(path)])
    out = res.stdout + res.stderr
    if re.search(r"Infected files: [1-9]", out):
        return "flagged", " ".join(re.findall(r"dangerous import '[^']*'", out))[:200]
    if "ERROR" in out or res.returncode == 2:
        return "error", out.strip().splitlines()[0][:200] if out.strip() else f"exit {res.returncode}"
    if "Scanned files: 0" in out:
        return "skipped", ""
    if re.search(r"Suspicious globals: [1-9]", out):
        return "warned", " ".join(re.findall(r"suspicious import '[^']*'", out))[:200]
    return "clean", ""


def run_modelscan(path, tmp):
    report = tmp / "modelscan.json"
    report.unlink(missing_ok=True)
    res = sh([str(PEERS_DIR / "modelscan/bin/modelscan"), "-p", str(path), "-r", "json", "-o", str(report)])
    try:
        doc = json.loads(report.read_text())
    except (OSError, json.JSONDecodeError):
        return "error", f"exit {res.returncode}: {(res.stderr or res.stdout).strip()[-200:]}"
    if doc.get("issues"):
        return "flagged", ", ".join(f"{i.get('module')}.{i.get('operator')} {i.get('severity')}"
                                    for i in doc["issues"])[:200]
    if doc.get("errors"):
        return "error", "; ".join(str(e.get("description", e)) for e in doc["errors"])[:200]
    if not doc.get("summary", {}).get("scanned", {}).get("total_scanned"):
        return "skipped", ""
    return "clean", ""


def run_fickling_cli(path, tmp):
    res = sh([str(PEERS_DIR / "fickling/bin/fickling"), "--check-safety", "--json-output",
              str(tmp / "fickling.json"), str(path)], cwd=tmp)
    if res.returncode == 1:
        return "flagged", ""
    if res.returncode == 0:
        return "clean", ""
    return "error", (res.stderr.strip().splitlines() or [f"exit {res.returncode}"])[0][:200]


def run_fickling_api(paths, tmp):
    res = sh([str(PEERS_DIR / "fickling/bin/python"), "-c", FICKLING_DRIVER, *map(str, paths)], cwd=tmp)
    try:
        return {Path(k): tuple(v) for k, v in json.loads(res.stdout.strip().splitlines()[-1]).items()}
    except (IndexError, json.JSONDecodeError):
        return {}


def detect(corpus, files, db):
    """{tool: {rel: (outcome, detail)}} and notes."""
    tmp = Path(tempfile.mkdtemp(dir=SCRATCH))
    out, notes = {}, {}
    found, note = run_bulwark(corpus, db)
    out["bulwark"] = {rel: found.get(rel, ("clean", "")) for rel in files}
    if note:
        notes["bulwark"] = note
    api = run_fickling_api([corpus / rel for rel in files], tmp)
    out["fickling-api"] = {rel: api.get(corpus / rel, ("error", "driver failed")) for rel in files}
    for tool, fn in [("picklescan", lambda p: run_picklescan(p)), ("modelscan", lambda p: run_modelscan(p, tmp)),
                     ("fickling-cli", lambda p: run_fickling_cli(p, tmp))]:
        out[tool] = {}
        for rel in files:
            out[tool][rel] = fn(corpus / rel)
        print(f"  scanned {len(files)} files with {tool}", file=sys.stderr)
    return out, notes


# -------------------------------------------------------------------------------------- speed

def timeit(cmd, runs):
    res = sh([sys.executable, str(SHARED / "bench/timeit.py"), "-n", str(runs), "--warmup", "1",
              "--timeout", "1800", "--", "bash", "-c", cmd])
    rows = {}
    for line in res.stdout.splitlines():
        m = re.match(r"A (wall s|cpu s|peak MiB)\s+(\S+)\s+(\S+)\s+(\S+)", line)
        if m:
            rows[m.group(1)] = float(m.group(3))
    codes = re.search(r"exit codes: (\[.*\])", res.stdout)
    return {"wall": rows.get("wall s"), "cpu": rows.get("cpu s"), "peak": rows.get("peak MiB"),
            "codes": codes.group(1) if codes else "?"}


def speed_commands(target, files, db, tmp):
    """{tool: shell command scanning `target` (a folder) the way each tool is meant to be run},
    and the same commands as the report shows them (file lists and the driver elided)."""
    q = shlex.quote
    peers = PEERS_DIR
    listing = " ".join(q(str(f)) for f in files)
    cmds = {
        "bulwark": f"{q(str(BULWARK))} -q scan {q(str(target))} --db {q(str(db))} -o json > /dev/null",
        "picklescan": f"{peers}/picklescan/bin/picklescan -p {q(str(target))} > /dev/null",
        "modelscan": f"{peers}/modelscan/bin/modelscan -p {q(str(target))} -r json -o {tmp}/ms.json > /dev/null",
        "fickling-cli": f"cd {tmp}; for f in {listing}; do {peers}/fickling/bin/fickling --check-safety "
                        f"--json-output {tmp}/f.json \"$f\" > /dev/null 2>&1; done; true",
        "fickling-api": f"cd {tmp}; {peers}/fickling/bin/python -c {q(FICKLING_DRIVER)} {listing} > /dev/null",
    }
    shown = {t: c.replace(q(FICKLING_DRIVER), '"$FICKLING_DRIVER"').replace(listing, "FILES...")
             for t, c in cmds.items()}
    return cmds, shown


# ------------------------------------------------------------------------------------- report

def fmt(v, digits=3):
    return "" if v is None else f"{v:.{digits}f}"


MARK = {"flagged": "✓", "warned": "~", "clean": "·", "error": "err", "skipped": "skip"}


def report(a, versions, corpus, files, det, notes, speed, bulwark_version, models):
    tools = list(det)
    mal = [r for r, i in files.items() if i["label"] == "malicious"]
    ben = [r for r, i in files.items() if i["label"] == "benign"]
    cats = {}
    for info in files.values():
        cats[info["category"]] = cats.get(info["category"], 0) + 1
    L = ["# Model scanning: bulwark vs picklescan, modelscan and fickling", "",
         f"Corpus `{corpus}` built by `python3 bench/model_corpus.py --verify` "
         f"({len(files)} files: " + ", ".join(f"{k} {v}" for k, v in sorted(cats.items())) + "). "
         "Benign files are written by the real libraries (torch 2.1, safetensors, onnx, keras 2.14, numpy, "
         "joblib/scikit-learn, transformers 4.36); malicious ones cover the published bypasses with harmless "
         "payloads. `live` says whether the file's own loader reached the payload under an audit hook "
         "that blocked it (`--verify`).", "",
         f"Tools: bulwark {bulwark_version} (`{BULWARK.relative_to(REPO) if BULWARK.is_relative_to(REPO) else BULWARK}`"
         f"), " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ". fickling runs two ways: its CLI "
         "(`fickling --check-safety FILE`, raw pickles only) and its Python API as its own Hub scanner "
         "uses it (`scan_zip_archive` for zips, `scan_file` otherwise).", ""]
    for tool, note in notes.items():
        L.append(f"Note ({tool}): {note}.")
    L.append(f"Note (bulwark sbom): {len(models & set(files))} of the {len(files)} corpus files are "
             "`machine-learning-model` components in `bulwark sbom -o json` (column `bulwark sbom: model`).")
    L += ["", "## Detection", "",
          "| tool | malicious flagged | live malicious flagged | errors on malicious | skipped malicious | "
          "benign flagged (FP) | benign-custom flagged | benign-custom warned | errors on benign |",
          "|---|---|---|---|---|---|---|---|---|"]
    live = [r for r in mal if files[r].get("fires")]
    for tool in tools:
        o = det[tool]
        cnt = lambda rels, kind: sum(1 for r in rels if o[r][0] == kind)  # noqa: E731
        std = [r for r in ben if files[r]["category"] == "benign"]
        cus = [r for r in ben if files[r]["category"] != "benign"]
        L.append(f"| {tool} | {cnt(mal, 'flagged')}/{len(mal)} | {cnt(live, 'flagged')}/{len(live)} | "
                 f"{cnt(mal, 'error')} | {cnt(mal, 'skipped')} | {cnt(std, 'flagged')}/{len(std)} | "
                 f"{cnt(cus, 'flagged')}/{len(cus)} | {cnt(cus, 'warned')}/{len(cus)} | {cnt(ben, 'error')} |")
    L += ["", "Per file (✓ flagged, ~ warned only (picklescan's suspicious globals), · clean, err the tool failed "
          "to read it, skip not looked at):", "",
          "| file | label | technique | live | bulwark sbom: model | " + " | ".join(tools) + " |",
          "|---|---|---|---|---|" + "---|" * len(tools)]
    for rel in sorted(files, key=lambda r: (files[r]["label"] != "malicious", files[r]["category"], r)):
        info = files[rel]
        fires = (info.get("fires") or ("no" if "fires" in info else "")) if info["label"] == "malicious" else ""
        inventoried = "✓" if rel in models else ""
        L.append(f"| `{rel}` | {info['category']} | {info['technique']} | {fires} | {inventoried} | "
                 + " | ".join(MARK[det[t][rel][0]] for t in tools) + " |")
    if speed:
        L += ["", "## Speed", "",
              f"shared/bench/timeit.py, median of {a.runs} runs after a warm-up, whole process, warm page cache, "
              f"{os.cpu_count()} cores. Ratio = fastest peer's wall time / bulwark's (target >= 10x).", "",
              "| target | tool | wall s | cpu s | peak MiB | exit codes |", "|---|---|---|---|---|---|"]
        for target, rows in speed.items():
            for tool, r in rows.items():
                L.append(f"| {target} | {tool} | {fmt(r['wall'])} | {fmt(r['cpu'])} | {fmt(r['peak'], 1)} | "
                         f"{r['codes']} |")
        if not any(det["bulwark"][r][0] == "flagged" for r in mal):
            L += ["", "Caution: this bulwark build flagged no malicious file, so its model scanner is not "
                  "running yet and its times below measure the walk alone; rerun once it is."]
        L += ["", "| target | fastest peer | its wall s | bulwark wall s | ratio |", "|---|---|---|---|---|"]
        for target, rows in speed.items():
            peers = {t: r for t, r in rows.items() if t != "bulwark" and r["wall"]}
            b = rows.get("bulwark", {}).get("wall")
            if peers and b:
                best = min(peers, key=lambda t: peers[t]["wall"])
                L.append(f"| {target} | {best} | {fmt(peers[best]['wall'])} | {fmt(b)} | "
                         f"{peers[best]['wall'] / b:.{1 if peers[best]['wall'] >= b else 3}f}x |")
    L += ["", "## Commands", "", "```",
          "python3 bench/model_corpus.py --verify --big /tmp/model-bench/big   # corpus + big files",
          f"python3 bench/models.py --runs {a.runs}" + (" --no-big" if a.no_big else ""), "",
          "# per file, for detection:",
          f"{BULWARK.name} -q scan CORPUS --db EMPTY_DB -o json      # artifact_findings, by path",
          "picklescan -p FILE", "modelscan -p FILE -r json -o REPORT",
          "fickling --check-safety --json-output REPORT FILE",
          "python -c FICKLING_DRIVER FILE...   # see bench/models.py",
          "", "# timed, one command per tool and target:"]
    if speed:
        for target, cmds in a._cmds.items():
            for tool, c in cmds.items():
                L.append(f"[{target}] {c}")
    L += ["```", ""]
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--corpus", type=Path, default=Path("/tmp/model-bench/corpus"))
    ap.add_argument("--big", type=Path, default=Path("/tmp/model-bench/big"))
    ap.add_argument("--no-big", action="store_true", help="skip the multi-GB speed runs")
    ap.add_argument("--no-speed", action="store_true", help="detection only")
    ap.add_argument("--out", type=Path, default=REPO / "bench/results/models.md")
    a = ap.parse_args()
    if not BULWARK.exists():
        sys.exit(f"error: `{BULWARK}` is missing: `cargo build --release` first (or set BULWARK)")
    SCRATCH.mkdir(parents=True, exist_ok=True)
    versions = ensure_peers()
    need_corpus = not (a.corpus / "labels.json").exists()
    big_files = [a.big / "checkpoint.pt", a.big / "model.safetensors"]
    need_big = not (a.no_big or a.no_speed) and not all(f.exists() for f in big_files)
    if need_corpus or need_big:
        build = [sys.executable, str(REPO / "bench/model_corpus.py"), "--out", str(a.corpus)]
        build += ["--verify"] if need_corpus else []
        build += ["--big", str(a.big)] if need_big else []
        subprocess.run(build, check=True)
    files = corpus_files(a.corpus)

    # An empty vulnerability database: `scan` needs one; advisories are not what is measured.
    db = SCRATCH / "empty-db"
    if not db.exists():
        osv = SCRATCH / "osv-placeholder"
        osv.mkdir(exist_ok=True)
        (osv / "BENCH-0000.json").write_text(json.dumps({
            "id": "BENCH-0000", "modified": "2024-01-01T00:00:00Z", "summary": "placeholder",
            "affected": [{"package": {"ecosystem": "PyPI", "name": "bulwark-bench-placeholder"},
                          "versions": ["0.0.0"]}]}))
        res = sh([str(BULWARK), "-q", "db", "import", str(osv), "--db", str(db)])
        if res.returncode != 0:
            sys.exit(f"error: creating the empty database failed: {res.stderr}")
    bulwark_version = sh([str(BULWARK), "--version"]).stdout.split()[-1:] or ["?"]

    print(f"detection on {len(files)} files", file=sys.stderr)
    det, notes = detect(a.corpus, files, db)
    speed, a._cmds = {}, {}
    if not a.no_speed:
        tmp = Path(tempfile.mkdtemp(dir=SCRATCH))
        targets = {"corpus": (a.corpus, [a.corpus / r for r in files])}
        if not a.no_big:
            targets["big (torch zip + safetensors)"] = (a.big, sorted(a.big.glob("*.*")))
        for name, (target, paths) in targets.items():
            cmds, a._cmds[name] = speed_commands(target, paths, db, tmp)
            speed[name] = {}
            for tool, cmd in cmds.items():
                speed[name][tool] = timeit(cmd, a.runs)
                print(f"  {name:32s} {tool:14s} wall {speed[name][tool]['wall']} s", file=sys.stderr)
        if not a.no_big:
            sizes = ", ".join(f"{p.name} {p.stat().st_size / 2**30:.2f} GiB" for p in sorted(a.big.glob("*.*")))
            notes["big"] = sizes
    text = report(a, versions, a.corpus, files, det, notes, speed, bulwark_version[0], sbom_models(a.corpus))
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(text)
    sys.stdout.write(text)
    (SCRATCH / "detection.json").write_text(json.dumps(det, indent=1))


if __name__ == "__main__":
    main()
