#!/usr/bin/env python3
"""Benchmark `bulwark sbom` on root filesystems, container images and a node app against Trivy.

    python3 bench/image.py [--runs 5] [--only REGEX] [--out bench/results/image.md]

Needs the corpora `debian-rootfs`, `images/` and `node-app` under $CORPUS (default
/tmp/bulwark-corpus), built by `bash setup-corpus.sh debian images node` from a writable copy of
shared/bench, Trivy under $PEERS (see bench/sbom.py), and a release build.

Each case runs bulwark and Trivy (`trivy rootfs`, `trivy image --input`, `trivy fs`) in the same
run, scores both against the package managers' ground truth (dpkg-query, pip list, npm ls) with
shared/bench/compare.py, and reports the ratios issue 4 asks for: Trivy's time / bulwark's
(target >= 10x) and bulwark's peak memory / Trivy's (target <= 1/5).
"""
import argparse
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sbom import BENCH, BULWARK, CORPUS, REPO, TRIVY, accuracy, fmt, timeit, trivy  # noqa: E402


def cases():
    """(case, tool, shell command writing {out}, truth args)."""
    truth = BENCH / "truth"
    deb = ["--truth", str(truth / "debian-rootfs.dpkg.txt"),
           "--optional", str(truth / "debian-rootfs.python-dists.txt")]
    img = ["--truth", str(truth / "image.dpkg.txt"), "--truth", str(truth / "image-layer2.pip.json"),
           "--optional", str(truth / "debian-rootfs.python-dists.txt")]
    node = ["--truth", str(truth / "node-app.truth"), "--optional", str(truth / "node-app.optional")]
    rootfs = CORPUS / "debian-rootfs"
    out = [
        ("debian-rootfs", "bulwark", f"{BULWARK} -q sbom {rootfs} --output {{out}}", deb),
        ("debian-rootfs", "trivy-rootfs", trivy("rootfs", rootfs, "{out}"), deb),
    ]
    for name in ["debian-ml.docker.tar", "debian-ml.docker25.tar", "debian-ml.oci",
                 "debian-ml.oci.tar"]:
        image = CORPUS / "images" / name
        out.append((f"image-{name}", "bulwark", f"{BULWARK} -q sbom {image} --output {{out}}", img))
        # Trivy reads neither an OCI layout tar nor (as `image --input`) a layout directory.
        if name.endswith("docker.tar") or name.endswith("docker25.tar"):
            out.append((f"image-{name}", "trivy-image",
                        trivy("image --input", image, "{out}"), img))
    app = CORPUS / "node-app"
    out += [
        ("node-app", "bulwark", f"{BULWARK} -q sbom {app} --output {{out}}", node),
        ("node-app", "trivy-fs", trivy("fs", app, "{out}"), node),
    ]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", default=".")
    ap.add_argument("--out", type=Path, default=REPO / "bench/results/image.md")
    a = ap.parse_args()
    for need in [BULWARK, CORPUS / "debian-rootfs", CORPUS / "images", BENCH / "timeit.py"]:
        if not need.exists():
            sys.exit(f"error: `{need}` is missing; see this script's docstring")
    scratch = Path(os.environ.get("BENCH_SCRATCH", "/tmp/bulwark-bench"))
    scratch.mkdir(parents=True, exist_ok=True)

    results = {}
    for case, tool, cmd, truth in cases():
        if not re.search(a.only, f"{case}/{tool}"):
            continue
        if tool != "bulwark" and not TRIVY.exists():
            continue
        out = scratch / f"{case}.{tool}.cdx.json"
        out.unlink(missing_ok=True)
        wall, peak, cpu = timeit(cmd.replace("{out}", str(out)), a.runs)
        acc = accuracy(out, truth, f"{case}/{tool}")
        results[(case, tool)] = dict(wall=wall, peak=peak, cpu=cpu, acc=acc)
        print(f"{case:30s} {tool:14s} wall {wall} s  peak {peak} MiB", file=sys.stderr)

    lines = ["# `bulwark sbom` on root filesystems, images and node_modules vs Trivy", "",
             f"Median of {a.runs} runs after a warm-up; whole process; {os.cpu_count()} cores. "
             "Accuracy against the package managers' ground truth (shared/bench/truth).", "",
             "| case | tool | wall s | cpu s | peak MiB | recall | extra | wrong version | "
             "Trivy time / bulwark | bulwark memory / Trivy |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for (case, tool), r in results.items():
        subject = results.get((case, "bulwark"))
        speed = memory = ""
        if tool != "bulwark" and subject and subject["wall"] and r["wall"]:
            speed = f"{r['wall'] / subject['wall']:.1f}x"
        if tool != "bulwark" and subject and subject["peak"] and r["peak"]:
            memory = f"{subject['peak'] / r['peak']:.2f}"
        acc = r["acc"] or {}
        lines.append(
            f"| {case} | {tool} | {fmt(r['wall'], 3)} | {fmt(r['cpu'], 3)} | {fmt(r['peak'], 1)} | "
            f"{fmt(acc.get('recall'), 3)} | {acc.get('extra', '')} | "
            f"{acc.get('wrong_version', '')} | {speed} | {memory} |")
    lines += ["", "Targets (issue 4): Trivy time / bulwark >= 10x; bulwark memory / Trivy <= 0.20."]
    text = "\n".join(lines) + "\n"
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
