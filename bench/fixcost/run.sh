#!/usr/bin/env bash
# run.sh -- what each fix costs: the articles' figures and the catalogue's
# fixes, measured in one run, in Go 1.19, Go 1.26 and C.
#
#   bench/fixcost/run.sh           the whole run (~5-8 min on 2 idle cores)
#   bench/fixcost/run.sh --quick   fewer, shorter samples (~1-2 min), no 5M-key map
#   bench/fixcost/run.sh --table   re-make the tables from the last run's raw files
#
# Writes build/fixcost/ (OUT):
#   table.md, table.tsv   the verdict per claim (claim, measured, verdict)
#   costs.md              the per-fix cost tables (Go 1.19, Go 1.26, C)
#   raw/*.txt             every benchmark line, Go's format
#   benchstat/*.txt       benchstat's comparisons (fix vs fix, Go 1.19 vs 1.26)
#
# Knobs (environment): GO119 [/usr/lib/go-1.19/bin/go], GO126 [go on PATH],
# COUNT [6; --quick 4], ROUNDS [COUNT], BENCHTIME [100ms; --quick 20ms], OUT, BUILD_DIR
# [<repo>/build-bench, the `bench` preset], NO_BUILD=1 (use what is built).
# benchstat is installed from the Go module proxy into OUT/bin; when that
# fails, the tables are computed by verdicts.py alone (median, spread,
# Mann-Whitney p) and say so.
#
# Nothing here asserts a timing: every figure is a ratio of two fixes
# measured in the same process, samples interleaved, with its spread.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="${OUT:-$ROOT/build/fixcost}"
BUILD_DIR="${BUILD_DIR:-$ROOT/build-bench}"
GO119="${GO119:-/usr/lib/go-1.19/bin/go}"
GO126="${GO126:-$(command -v go || echo /usr/local/go/bin/go)}"
QUICK=0
TABLE_ONLY=0
for a in "$@"; do
	case "$a" in
	--quick) QUICK=1 ;;
	--table) TABLE_ONLY=1 ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//;/^set -e/d'; exit 0 ;;
	*) echo "run.sh: unknown option $a" >&2; exit 64 ;;
	esac
done
if [ "$QUICK" = 1 ]; then
	COUNT="${COUNT:-4}"
	BENCHTIME="${BENCHTIME:-20ms}"
	C_MS=20
else
	COUNT="${COUNT:-6}"
	BENCHTIME="${BENCHTIME:-100ms}"
	C_MS=100
fi

say() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

BENCHSTAT="$OUT/bin/benchstat"
tables() {
	local bs=()
	[ -x "$BENCHSTAT" ] && bs=(--benchstat "$BENCHSTAT")
	python3 "$HERE/verdicts.py" "${bs[@]}" "$OUT"
}
if [ "$TABLE_ONLY" = 1 ]; then
	tables
	exit 0
fi

mkdir -p "$OUT/raw" "$OUT/bin"
rm -f "$OUT"/raw/*.txt

# --- tools -------------------------------------------------------------------
if [ ! -x "$BENCHSTAT" ]; then
	say "installing benchstat (golang.org/x/perf) into $OUT/bin"
	if ! (cd "$HERE" && GOBIN="$OUT/bin" GOFLAGS= "$GO126" install golang.org/x/perf/cmd/benchstat@latest); then
		say "benchstat could not be installed: the tables will use verdicts.py's own statistics"
	fi
fi

declare -A GOS=([go1.19]="$GO119" [go1.26]="$GO126")
for v in go1.19 go1.26; do
	g="${GOS[$v]}"
	"$g" version >&2 || { echo "run.sh: $v not found at $g (set GO119/GO126)" >&2; exit 69; }
	say "building the Go benchmarks with $("$g" version | cut -d' ' -f3)"
	(cd "$HERE" && GOFLAGS= "$g" vet . && GOFLAGS= "$g" test -c -o "$OUT/bin/fixcost-$v.test" .)
	(cd "$OUT" && "$OUT/bin/fixcost-$v.test" -test.run '^TestFixesAgree$' >/dev/null)
done

if [ "${NO_BUILD:-0}" != 1 ]; then
	say "building gomap-fixcost (CMake preset bench, $BUILD_DIR)"
	(cd "$ROOT" && cmake --preset bench >/dev/null && cmake --build "$BUILD_DIR" --target gomap-fixcost -j 2 >/dev/null)
fi

# --- the runs ----------------------------------------------------------------
{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "host: $(nproc) cores, $(uname -r)"
	echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
	echo "loadavg-before: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "count: $COUNT"
	echo "benchtime: $BENCHTIME"
	echo "quick: $QUICK"
	for v in go1.19 go1.26; do echo "$v: $("${GOS[$v]}" version | cut -d' ' -f3)"; done
	echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
} >"$OUT/raw/conditions.txt"

# section  benchmark-regex  cpu-list  rounds (- = ROUNDS; claims 1 and 4
# fill maps of millions of keys in every process, so they take fewer)
SECTIONS=(
	"fix ^BenchmarkFix$ 1,2,8 -"
	"claim1 ^BenchmarkClaim1$ 1,2 2"
	"claim2 ^BenchmarkClaim2$ 8 -"
	"claim3 ^BenchmarkClaim3$ 1 -"
	"claim4 ^BenchmarkClaim4$ 2,8 3"
)
if [ "$QUICK" = 1 ]; then
	# The 5,000,000-key maps take longer to fill than the quick run lasts.
	SECTIONS[1]="claim1 ^BenchmarkClaim1$/^keys=(100|100000)/ 1,2 -"
fi

# Samples are spread over time: each section runs in rounds, one process
# per toolchain and round, the toolchains taking turns, and every process
# runs each benchmark COUNT/rounds times (Go repeats a sub-benchmark
# -count times in a row, then goes on to the next). By default a round is
# one sample, so a slow phase of the (shared) machine falls on every fix
# and both toolchains alike instead of on one of them.
ROUNDS="${ROUNDS:-$COUNT}"
for s in "${SECTIONS[@]}"; do
	read -r name re cpus rounds <<<"$s"
	[ "$rounds" = - ] && rounds=$ROUNDS
	PER=$(( (COUNT + rounds - 1) / rounds ))
	left=$COUNT
	while [ "$left" -gt 0 ]; do
		n=$(( left < PER ? left : PER ))
		left=$(( left - n ))
		for v in go1.19 go1.26; do
			say "$v $name (-cpu $cpus, -count $n of $COUNT, -benchtime $BENCHTIME)"
			(cd "$OUT" && "$OUT/bin/fixcost-$v.test" -test.run '^$' -test.bench "$re" \
				-test.cpu "$cpus" -test.count "$n" -test.benchtime "$BENCHTIME") \
				| tee -a "$OUT/raw/$v-$name.txt" | grep --line-buffered '^Benchmark' \
				| awk '{printf "    %s %s %s\n", $1, $3, $4; fflush()}' >&2
		done
	done
done

say "C: gomap-fixcost (-s $COUNT -m $C_MS)"
"$BUILD_DIR/bench/gomap-fixcost" -s "$COUNT" -m "$C_MS" -t 1,2,8 -r 100,95,50 \
	| tee "$OUT/raw/c-fix.txt" | grep --line-buffered '^Benchmark' \
	| awk '{printf "    %s %s %s\n", $1, $3, $4; fflush()}' >&2

echo "loadavg-after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/raw/conditions.txt"
say "tables"
tables
say "done: $OUT/table.md, $OUT/costs.md"
