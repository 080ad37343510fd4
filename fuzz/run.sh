#!/usr/bin/env bash
# fuzz/run.sh SECONDS [libFuzzer options...]
# Builds the core's differential fuzzer (fuzz/build.sh) and runs it for at
# most SECONDS in one process at low priority. SECONDS is the total for both
# map generations: every input runs against the bucket map and then the
# Swiss-table map, each checked against the reference (fuzz/cores.h), so
# each gets about half the time. New inputs go to
# build-fuzz/corpus/ (the seeds in fuzz/corpus/ are read, never written);
# a finding is saved under build-fuzz/artifacts/. Prints the number of
# executions; exits non-zero on a divergence, a sanitizer report, a leak, a
# timeout or running out of memory.
set -euo pipefail
secs="${1:?usage: fuzz/run.sh SECONDS [libFuzzer options...]}"
shift
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${FUZZ_OUT:-$root/build-fuzz}"
"$root/fuzz/build.sh" "$out" >/dev/null
mkdir -p "$out/corpus" "$out/artifacts"
log="$out/fuzz.log"
echo "fuzz_core: up to ${secs}s, log in $log"
status=0
nice -n 10 "$out/fuzz_core" -max_total_time="$secs" -timeout=60 -rss_limit_mb=2048 \
  -max_len=4096 -print_final_stats=1 -artifact_prefix="$out/artifacts/" "$@" \
  "$out/corpus" "$root/fuzz/corpus" >"$log" 2>&1 || status=$?
last="$(grep -E '^#[0-9]+' "$log" | tail -1 || true)"
execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
echo "fuzz_core: ${execs:-?} executions in ${secs}s; last status: ${last:-none}"
echo "fuzz_core: corpus $out/corpus holds $(ls "$out/corpus" | wc -l) inputs"
if [ "$status" -ne 0 ]; then
  echo "fuzz_core: FINDING (libFuzzer exit status $status); end of the log:"
  tail -n 60 "$log"
  ls -l "$out/artifacts/" || true
  exit "$status"
fi
echo "fuzz_core: no divergence, no sanitizer report"
