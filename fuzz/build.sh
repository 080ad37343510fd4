#!/usr/bin/env bash
# Builds the core's differential fuzzer with clang, without CMake.
#   fuzz/build.sh [OUTDIR]        -> OUTDIR/fuzz_core      (libFuzzer + ASan + UBSan)
#   FUZZ_COVERAGE=1 fuzz/build.sh -> OUTDIR/fuzz_core_cov  (libFuzzer + source coverage)
# OUTDIR defaults to build-fuzz/ at the top of the repository.
#
# Both map generations go into the one program: each is compiled (with the
# fuzzer's instrumentation, so it guides the fuzzer), merged into one object
# and its global symbols renamed to bucket_* or swiss_* by
# bench/rename-symbols.sh; fuzz/cores.h declares them.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/build-fuzz}"
mkdir -p "$out"
cc="${CC_FUZZ:-clang}"
warn=(-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
      -Werror)
common=(-std=gnu11 -g -O1 -fno-omit-frame-pointer -pthread -I"$root/core")
shared=(common.c hash.c instrument.c timeline.c thread.c symbols.c report.c)
bucket_src=(map.c map_fast64.c map_faststr.c "${shared[@]}")
swiss_src=(swiss_map.c swiss_fast64.c swiss_faststr.c "${shared[@]}")
# The core dlopen()s libdw for its reports; only the headers are needed.
common+=($(pkg-config --cflags libdw))
libs=(-ldl)
if [ "${FUZZ_COVERAGE:-0}" = 1 ]; then
  inst=(-fprofile-instr-generate -fcoverage-mapping)
  core_inst=(-fsanitize=fuzzer-no-link "${inst[@]}")
  link_inst=(-fsanitize=fuzzer "${inst[@]}")
  exe="$out/fuzz_core_cov"
else
  # No comparison tracing: the input is an operation program, not data
  # with magic values, and tracing the invariant walker's compares made
  # every execution 3.6 times slower.
  san=(-fsanitize=address,undefined -fno-sanitize-recover=undefined)
  core_inst=(-fsanitize=fuzzer-no-link "${san[@]}" -fno-sanitize-coverage=trace-cmp)
  link_inst=(-fsanitize=fuzzer "${san[@]}" -fno-sanitize-coverage=trace-cmp)
  exe="$out/fuzz_core"
fi
tag="$(basename "$exe")"
# generation PREFIX SOURCES...: OUTDIR/TAG-PREFIXcore.o
generation() {
  local prefix=$1 objdir="$out/$tag-$1objs"
  shift
  rm -rf "$objdir"
  mkdir -p "$objdir"
  local objs=()
  for f in "$@"; do
    "$cc" "${common[@]}" "${warn[@]}" "${core_inst[@]}" -c "$root/core/$f" \
      -o "$objdir/${f%.c}.o"
    objs+=("$objdir/${f%.c}.o")
  done
  rm -f "$objdir/core.a"
  ar rcs "$objdir/core.a" "${objs[@]}"
  "$root/bench/rename-symbols.sh" ld nm objcopy "$objdir/core.a" "$prefix" \
    "$out/$tag-${prefix}core.o"
}
generation bucket_ "${bucket_src[@]}"
generation swiss_ "${swiss_src[@]}"
"$cc" "${common[@]}" "${warn[@]}" "${link_inst[@]}" "$root/fuzz/fuzz_core.c" \
  "$out/$tag-bucket_core.o" "$out/$tag-swiss_core.o" "${libs[@]}" -o "$exe"
echo "$exe"
