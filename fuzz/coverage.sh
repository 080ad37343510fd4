#!/usr/bin/env bash
# fuzz/coverage.sh [CORPUS_DIR...]
# Source-based coverage of the core (clang -fprofile-instr-generate
# -fcoverage-mapping) reached by running every input of the corpus once.
# Default corpora: build-fuzz/corpus (what fuzz/run.sh found) and fuzz/corpus.
# Prints llvm-cov's report for core/*.c of both generations (and the
# inlined headers); the annotated line listing goes to build-fuzz/coverage.txt.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${FUZZ_OUT:-$root/build-fuzz}"
pick() { for t in "$@"; do command -v "$t" >/dev/null && { echo "$t"; return; }; done; echo "$1"; }
profdata="$(pick llvm-profdata-14 llvm-profdata)"
cov="$(pick llvm-cov-14 llvm-cov)"
FUZZ_COVERAGE=1 "$root/fuzz/build.sh" "$out" >/dev/null
if [ "$#" -eq 0 ]; then
  set -- "$root/fuzz/corpus"
  [ -d "$out/corpus" ] && set -- "$out/corpus" "$@"
fi
rm -f "$out"/cov-*.profraw
LLVM_PROFILE_FILE="$out/cov-%p.profraw" "$out/fuzz_core_cov" -runs=0 "$@" >"$out/coverage-run.log" 2>&1 || {
  tail -n 30 "$out/coverage-run.log"
  exit 1
}
grep -E '^#[0-9]+[[:space:]]+DONE' "$out/coverage-run.log" | tail -n 1 || true
"$profdata" merge -sparse "$out"/cov-*.profraw -o "$out/coverage.profdata"
srcs=("$root"/core/map.c "$root"/core/map_fast64.c "$root"/core/map_faststr.c "$root"/core/hash.c
      "$root"/core/map_impl.h "$root"/core/internal.h "$root"/core/swiss_map.c
      "$root"/core/swiss_fast64.c "$root"/core/swiss_faststr.c "$root"/core/swiss_impl.h
      "$root"/core/swiss_internal.h "$root"/core/common.c "$root"/core/common.h
      "$root"/core/instrument.c "$root"/core/timeline.c "$root"/core/thread.c
      "$root"/core/symbols.c "$root"/core/report.c)
"$cov" report "$out/fuzz_core_cov" -instr-profile="$out/coverage.profdata" "${srcs[@]}"
"$cov" show "$out/fuzz_core_cov" -instr-profile="$out/coverage.profdata" "${srcs[@]}" \
  >"$out/coverage.txt"
echo "annotated listing: $out/coverage.txt"
