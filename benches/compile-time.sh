#!/usr/bin/env bash
# Compile time of a large data layer (issue 27; BENCHMARKS.md, "Compile time of a large schema").
#
#   benches/compile-time.sh [OUT_DIR] [ROUNDS]
#   ATHANOR_WORKSPACE=/path/to/other/checkout benches/compile-time.sh …   # measure another build
#   CRATES="plain chain" benches/compile-time.sh …                          # some crates only
#
# Generates, with gen_models, 100 models x 60 columns as Athanor crates (no relationships; a
# chain; a dense graph; no relationships with every model queried) and as a Diesel crate (the
# 64-column-tables feature, SQLite, every table loaded), all against this workspace, in OUT_DIR
# (default /tmp/athanor-compile-time) with one target directory. For each crate: one build for
# its dependencies, then ROUNDS (default 3) times: `cargo clean -p <crate>` and a timed build
# ("clean"), then a comment appended to m050.rs and a timed build ("edit"). Prints one line per
# build: crate, kind, wall s, user s, sys s, peak memory of the largest process (MiB), from
# GNU time. Diesel's SQLite backend links the system's libsqlite3 (Debian: libsqlite3-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/athanor-compile-time}
ROUNDS=${2:-3}
export CARGO_TARGET_DIR="$OUT/target"
export CARGO_TERM_COLOR=never
mkdir -p "$OUT"
cargo build -q -p athanor-bench --bin gen_models
GEN="$CARGO_TARGET_DIR/debug/gen_models"
WS=${ATHANOR_WORKSPACE:-$(pwd)}

read -r -a crates <<<"${CRATES:-plain chain dense queries diesel}"
"$GEN" "$OUT/plain" --models 100 --columns 60 --athanor "$WS" >/dev/null
"$GEN" "$OUT/chain" --models 100 --columns 60 --chain --athanor "$WS" >/dev/null
"$GEN" "$OUT/dense" --models 100 --columns 60 --dense --athanor "$WS" >/dev/null
"$GEN" "$OUT/queries" --models 100 --columns 60 --queries --athanor "$WS" >/dev/null
"$GEN" "$OUT/diesel" --models 100 --columns 60 --queries --diesel >/dev/null

timed() { # crate kind
  local name; name=$(sed -n 's/^name = "\(.*\)"/\1/p' "$OUT/$1/Cargo.toml" | head -n1)
  if ! /usr/bin/time -f "%e %U %S %M" -o "$OUT/time.txt" cargo build -q --manifest-path "$OUT/$1/Cargo.toml" >/dev/null 2>"$OUT/err.txt"; then
    printf '%-8s %-6s does not compile: %s\n' "$1" "$2" "$(grep -m1 '^error' "$OUT/err.txt")"
    return 0
  fi
  read -r wall user sys kib <"$OUT/time.txt"
  printf '%-8s %-6s wall %6.1f s  user %6.1f s  sys %5.1f s  peak %5d MiB  (%s)\n' "$1" "$2" "$wall" "$user" "$sys" $((kib / 1024)) "$name"
}

for c in "${crates[@]}"; do
  cargo build -q --manifest-path "$OUT/$c/Cargo.toml" >/dev/null 2>&1 || true   # dependencies
done
for r in $(seq 1 "$ROUNDS"); do
  for c in "${crates[@]}"; do
    name=$(sed -n 's/^name = "\(.*\)"/\1/p' "$OUT/$c/Cargo.toml" | head -n1)
    cargo clean -q -p "$name" --manifest-path "$OUT/$c/Cargo.toml"
    timed "$c" clean
    echo "// edit $r" >>"$OUT/$c/src/m050.rs"
    timed "$c" edit
  done
done
