#!/usr/bin/env bash
# run.sh -- the detector's cost, measured in one run.
#
# Builds gomap-bench with the `bench` preset and runs it on every (key kind,
# N) cell. One gomap-bench process holds three builds of the core and lets
# them take turns round by round on the same keys:
#   on   the core as everything uses it (detector compiled in)
#   off  the same sources built with -DGOMAP_DETECTOR=0 (gomap_nodetect)
#   ctl  a second copy of `on`, at other addresses: the A/A control
# `on/off` is the detector's cost; `on/ctl` should be 1.000, and how far it
# is from that shows what code placement and noise alone do to a ratio.
#
#   bench/run.sh            build, run, print the table
#   bench/run.sh table [F]  re-print the table from a saved raw file
#
# Knobs (environment variables; defaults in brackets):
#   PROCS        gomap-bench processes per cell                          [3]
#   SAMPLES      measured samples per process (after 1 warm-up)          [5]
#   NS           map sizes                                   [1000000 1000]
#   KINDS        key kinds                                        [i64 str]
#   BUILDS       builds to run                                 [on,off,ctl]
#   BUILD_DIR    where the bench preset builds           [<repo>/build-bench]
#   NO_BUILD=1   use the binary already in BUILD_DIR
#   C_HUGEPAGES  1: run with GLIBC_TUNABLES=glibc.malloc.hugetlb=1, as the
#                peers kit runs its C peers, so numbers compare with it  [1]
#   OUT          raw rows are kept here             [BUILD_DIR/bench-raw.tsv]
#
# A ns/op cell is the median over all PROCS x SAMPLES samples of one build.
# A ratio is paired: within one sample the builds ran interleaved on the
# same keys, so each sample gives one on/off ratio; the table shows the
# median of those, and the last column the range of the per-process medians.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
PROCS="${PROCS:-3}"
SAMPLES="${SAMPLES:-5}"
NS="${NS:-1000000 1000}"
KINDS="${KINDS:-i64 str}"
BUILDS="${BUILDS:-on,off,ctl}"
BUILD_DIR="${BUILD_DIR:-$ROOT/build-bench}"
NO_BUILD="${NO_BUILD:-0}"
C_HUGEPAGES="${C_HUGEPAGES:-1}"
OUT="${OUT:-$BUILD_DIR/bench-raw.tsv}"

# Reads raw rows (proc build kind workload n sample ns/op) and prints one
# line per (kind, N, workload).
print_table() {
	awk -F'\t' '
	function sort(a, k,    i, j, t) {
		for (i = 2; i <= k; i++) {
			t = a[i]
			for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]
			a[j + 1] = t
		}
	}
	function median(a, k) {
		if (k == 0) return 0
		sort(a, k)
		return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}
	# Median of one build over all samples.
	function med_ns(cell, b,    i, k) {
		k = 0
		for (i = 1; i <= nsamp[cell]; i++)
			if ((cell, b, samp[cell, i]) in val) tmp[++k] = val[cell, b, samp[cell, i]]
		return median(tmp, k)
	}
	# Median of the paired ratios a/b: a sample of a over the sample of b
	# that ran interleaved with it (same process, same sample number).
	# Only process p when p is given.
	function med_ratio(cell, a, b, p,    i, k, id) {
		k = 0
		for (i = 1; i <= nsamp[cell]; i++) {
			id = samp[cell, i]
			if (p != "" && substr(id, 1, index(id, ":") - 1) != p) continue
			if ((cell, a, id) in val && (cell, b, id) in val && val[cell, b, id] > 0)
				tmp[++k] = val[cell, a, id] / val[cell, b, id]
		}
		return k ? sprintf("%.3f", median(tmp, k)) : "-"
	}
	function ns(x) { return x > 0 ? sprintf("%.2f", x) : "-" }
	/^#/ { print; next }
	{
		cell = $3 SUBSEP $5 SUBSEP $4; id = $1 ":" $6
		if (!(cell in seen)) { seen[cell] = 1; order[++ncell] = cell }
		if (!((cell, id) in sseen)) { sseen[cell, id] = 1; samp[cell, ++nsamp[cell]] = id }
		if (!((cell, $1) in pseen)) { pseen[cell, $1] = 1; procs[cell, ++nprocs[cell]] = $1 }
		val[cell, $2, id] = $7
	}
	END {
		printf "%-4s %-8s %-12s %9s %9s %9s %7s %7s   %s\n", "kind", "N", "workload", \
			"on", "off", "ctl", "on/off", "on/ctl", "on/off per process"
		for (c = 1; c <= ncell; c++) {
			cell = order[c]
			split(cell, f, SUBSEP)
			lo = ""; hi = ""
			for (i = 1; i <= nprocs[cell]; i++) {
				x = med_ratio(cell, "on", "off", procs[cell, i])
				if (x == "-") continue
				if (lo == "" || x + 0 < lo + 0) lo = x
				if (hi == "" || x + 0 > hi + 0) hi = x
			}
			printf "%-4s %-8s %-12s %9s %9s %9s %7s %7s   %s\n", f[1], f[2], f[3], \
				ns(med_ns(cell, "on")), ns(med_ns(cell, "off")), ns(med_ns(cell, "ctl")), \
				med_ratio(cell, "on", "off", ""), med_ratio(cell, "on", "ctl", ""), \
				lo == "" ? "-" : lo ".." hi
		}
		print "ns/op: median of all samples. on = detector compiled in, off = compiled out,"
		print "ctl = a second copy of on (A/A control: on/ctl shows the noise floor)."
		print "Ratios: median over all samples of the ratio of two interleaved samples."
	}' "$1"
}

if [ "${1:-}" = table ]; then
	print_table "${2:-$OUT}"
	exit 0
fi

if [ "$NO_BUILD" != 1 ]; then
	if [ "$BUILD_DIR" = "$ROOT/build-bench" ]; then
		(cd "$ROOT" && cmake --preset bench >/dev/null)
	else # the bench preset's settings in another directory
		cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DGOMAP_BUILD_BENCH=ON >/dev/null
	fi
	cmake --build "$BUILD_DIR" -j 2 --target gomap-bench >/dev/null
fi
BIN="$BUILD_DIR/bench/gomap-bench"
[ -x "$BIN" ] || {
	echo "run.sh: $BIN is missing (cmake --preset bench && cmake --build --preset bench)" >&2
	exit 1
}
envs=()
[ "$C_HUGEPAGES" = 1 ] && envs=(env GLIBC_TUNABLES=glibc.malloc.hugetlb=1)

mkdir -p "$(dirname "$OUT")"
{
	echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  PROCS=$PROCS SAMPLES=$SAMPLES BUILDS=$BUILDS"
	echo "# host: $(uname -n), $(nproc) cpus, cpu: $(grep -m1 'model name' /proc/cpuinfo |
		cut -d: -f2- | sed 's/^ *//')"
	echo "# core: last commit $(git -C "$ROOT" log -1 --format='%h %s' -- core 2>/dev/null ||
		echo '?')$(git -C "$ROOT" diff --quiet HEAD -- core 2>/dev/null || echo ' (core/ modified)')"
	echo "# binary built: $(date -u -r "$BIN" +%Y-%m-%dT%H:%M:%SZ)"
	echo "# compiler: $(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt" \
		2>/dev/null) $(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt" \
		2>/dev/null)"
	echo "# THP: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null);" \
		"run with: ${envs[*]:-(plain)}"
	echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT"

t0=$SECONDS
for n in $NS; do
	for kind in $KINDS; do
		for p in $(seq 1 "$PROCS"); do
			echo "run  gomap-bench -k $kind -n $n (process $p/$PROCS)" >&2
			# Each process reshuffles with its own seed (small N only).
			"${envs[@]}" "$BIN" -k "$kind" -n "$n" -r "$SAMPLES" -s $((6 + p)) -b "$BUILDS" |
				awk -F'\t' -v p="$p" -v OFS='\t' \
					'$1 == "rep" { print p, $2, $3, $4, $5, $6, $7 }' >>"$OUT"
		done
	done
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg); run took $((SECONDS - t0)) s" \
	>>"$OUT"
echo
print_table "$OUT"
echo
echo "raw rows: $OUT"
