#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60) each, seeded with the crates' own test files.
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_EACH="${1:-60}"
seed() {  # seed TARGET DIR...
  local target="$1"; shift
  mkdir -p "corpus/$target"
  for dir in "$@"; do
    find "../$dir" -maxdepth 3 -type f -size -2M -exec cp -n {} "corpus/$target/" \; 2>/dev/null || true
  done
}
seed pickle_analyze crates/bulwark-pickle/testdata
seed pickle_containers crates/bulwark-pickle/testdata crates/bulwark-model/testdata
for t in safetensors_header gguf onnx numpy keras_archive saved_model hf_metadata; do
  seed "$t" crates/bulwark-model/testdata
done
for target in $(cargo +nightly fuzz list); do
  echo "== $target"
  cargo +nightly fuzz run "$target" "corpus/$target" -- \
    -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 2>&1 | grep -E '^(Done|#[0-9]+ +DONE)|ERROR|panicked' || true
done
