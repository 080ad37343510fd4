#!/usr/bin/env bash
# count-instructions.sh -- the detector's cost in instructions per operation.
#
# Timings on a shared 2-core machine move by several percent from run to
# run; instruction counts do not. This runs gomap-bench once per build
# (on: detector compiled in, off: compiled out) under callgrind and prints,
# per API function, the instructions executed per call, inclusive of what
# it calls (hashing, growth, gm_thread_id, ...), and the difference.
#
#   bench/count-instructions.sh            (after bench/run.sh or a bench build)
#
# Knobs: N (entries per map, 10000), KINDS ("i64 str"),
#        BUILD_DIR (<repo>/build-bench).
# Needs valgrind (callgrind_annotate). Takes about a minute.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
N="${N:-10000}"
KINDS="${KINDS:-i64 str}"
BUILD_DIR="${BUILD_DIR:-$ROOT/build-bench}"
BIN="$BUILD_DIR/bench/gomap-bench"
[ -x "$BIN" ] || { echo "count-instructions.sh: build $BIN first (bench/run.sh)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "count-instructions.sh: needs valgrind" >&2; exit 1; }
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# One sample, no warm-up: rounds = 1,000,000 / N maps of N entries each.
rounds=$((N >= 1000000 ? 1 : 1000000 / N))
printf '%-22s %10s %10s %8s\n' "function (per call)" "on" "off" "on-off"
for kind in $KINDS; do
	for b in on off; do
		valgrind --tool=callgrind --callgrind-out-file="$TMP/$kind.$b" \
			"$BIN" -k "$kind" -n "$N" -r 1 -w 0 -b "$b" >/dev/null 2>"$TMP/$kind.$b.log"
		callgrind_annotate --inclusive=yes "$TMP/$kind.$b" 2>/dev/null |
			sed -n 's/^ *\([0-9,]*\) ([^)]*) *[^:]*:\(nodetect_\)\{0,1\}\(gomap_[a-z0-9_]*\) .*/\3 \1/p' |
			tr -d , >"$TMP/$kind.$b.ir"
	done
	# Calls per function in one sample (see workloads.h): set twice per key
	# (insert, insert with hint), lookup twice (hit, miss), delete once, and
	# iter_next once per entry plus the final call.
	for fn in set lookup delete iter_next; do
		case $fn in
		set | lookup) calls=$((2 * N * rounds)); name="gomap_${kind}_$fn" ;;
		delete) calls=$((N * rounds)); name="gomap_${kind}_$fn" ;;
		iter_next) calls=$(((N + 1) * rounds)); name="gomap_iter_next" ;;
		esac
		on="$(awk -v f="$name" '$1 == f { print $2; exit }' "$TMP/$kind.on.ir")"
		off="$(awk -v f="$name" '$1 == f { print $2; exit }' "$TMP/$kind.off.ir")"
		awk -v n="$kind:$fn" -v a="${on:-0}" -v b="${off:-0}" -v c="$calls" \
			'BEGIN { printf "%-22s %10.1f %10.1f %+8.1f\n", n, a / c, b / c, (a - b) / c }'
	done
done
echo "instructions per call (callgrind, inclusive), N=$N, $rounds rounds"
