#!/usr/bin/env bash
# Builds the core's differential fuzzer with clang, without CMake.
#   fuzz/build.sh [OUTDIR]        -> OUTDIR/fuzz_core      (libFuzzer + ASan + UBSan)
#   FUZZ_COVERAGE=1 fuzz/build.sh -> OUTDIR/fuzz_core_cov  (libFuzzer + source coverage)
# OUTDIR defaults to build-fuzz/ at the top of the repository.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/build-fuzz}"
mkdir -p "$out"
cc="${CC_FUZZ:-clang}"
warn=(-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
      -Werror)
common=(-std=gnu11 -g -O1 -fno-omit-frame-pointer -pthread -I"$root/core")
src=("$root"/core/map.c "$root"/core/map_fast64.c "$root"/core/map_faststr.c
     "$root"/core/hash.c "$root"/core/instrument.c "$root"/core/timeline.c "$root"/core/thread.c
     "$root"/core/symbols.c "$root"/core/report.c "$root"/fuzz/fuzz_core.c)
# The core dlopen()s libdw for its reports; only the headers are needed.
common+=($(pkg-config --cflags libdw))
libs=(-ldl)
if [ "${FUZZ_COVERAGE:-0}" = 1 ]; then
  "$cc" "${common[@]}" "${warn[@]}" -fsanitize=fuzzer -fprofile-instr-generate \
    -fcoverage-mapping "${src[@]}" "${libs[@]}" -o "$out/fuzz_core_cov"
  echo "$out/fuzz_core_cov"
else
  # No comparison tracing: the input is an operation program, not data
  # with magic values, and tracing the invariant walker's compares made
  # every execution 3.6 times slower.
  "$cc" "${common[@]}" "${warn[@]}" -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -fno-sanitize-coverage=trace-cmp "${src[@]}" "${libs[@]}" -o "$out/fuzz_core"
  echo "$out/fuzz_core"
fi
