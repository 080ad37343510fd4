#!/usr/bin/env bash
# tools/check-memory.sh -- memory checks of the core and the catalogue.
#
#   1. The unit tests under AddressSanitizer + UndefinedBehaviorSanitizer
#      (preset asan, build dir build-asan/).
#   2. Every fixed variant and every control, forced and natural mode, under
#      ASan+UBSan (build-asan/cases/) and under valgrind memcheck
#      (build/cases/): each run must print DONE, exit 0 and report nothing:
#      no memory error, no undefined behaviour, no definite or indirect leak.
#   3. Every bad variant under ASan+UBSan: the detector ends the run (exit 2),
#      or in natural mode the run may finish (exit 0), but the map must stay
#      memory-safe while it is misused: no sanitizer report either way.
#
# Cases come from cases/manifest.tsv; without it, from the programs found in
# build/cases (their --list-variants). With neither, step 2 and 3 are skipped
# with a message.
#
# Each step runs for both map generations: the bucket map (presets asan and
# default, build-asan/ and build/) and the Swiss-table map (asan-swiss and
# swiss, build-asan-swiss/ and build-swiss/).
#
# Options (environment):
#   GENERATIONS="bucket swiss"  the map generations to check
#   ASAN_RUNS=3  runs per case, variant and mode under ASan
#   VG_RUNS=2    runs per case, variant and mode under valgrind
#   NO_BUILD=1   use the existing build dirs as they are
#   CASES="id1 id2"  only these cases
# Exit status: 0 when everything is clean, 1 on any finding.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
ASAN_RUNS="${ASAN_RUNS:-3}"
VG_RUNS="${VG_RUNS:-2}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}
step() { echo; echo "== $* ($(date -u +%H:%M:%S))"; }

GENERATIONS="${GENERATIONS:-bucket swiss}"
# use_generation G: the presets and build dirs of map generation G.
use_generation() {
	case $1 in
	bucket) ASAN_PRESET=asan PLAIN_PRESET=default ;;
	swiss) ASAN_PRESET=asan-swiss PLAIN_PRESET=swiss ;;
	*) echo "FAIL: GENERATIONS: '$1' is not bucket or swiss"; exit 1 ;;
	esac
	ASAN_DIR=build-${ASAN_PRESET} PLAIN_DIR=build
	[ "$PLAIN_PRESET" = default ] || PLAIN_DIR=build-$PLAIN_PRESET
	GEN=$1
}

for g in $GENERATIONS; do
	use_generation "$g"
	if [ "${NO_BUILD:-0}" != 1 ]; then
		step "$GEN map: build, presets $ASAN_PRESET and $PLAIN_PRESET"
		cmake --preset "$ASAN_PRESET" >/dev/null && cmake --build --preset "$ASAN_PRESET" >/dev/null ||
			{ echo "FAIL: the $ASAN_PRESET build failed"; exit 1; }
		cmake --preset "$PLAIN_PRESET" >/dev/null && cmake --build --preset "$PLAIN_PRESET" >/dev/null ||
			{ echo "FAIL: the $PLAIN_PRESET build failed"; exit 1; }
	fi

	step "$GEN map: unit tests under ASan+UBSan (ctest --preset $ASAN_PRESET)"
	if ctest --preset "$ASAN_PRESET" >"$tmp/ctest.log" 2>&1; then
		grep -E "tests passed|Total Test time" "$tmp/ctest.log"
	else
		cat "$tmp/ctest.log"
		fail "unit tests under ASan+UBSan ($GEN map)"
	fi
done

# ---- the catalogue: "id variant" lines ----
list_runs() {
	if [ -f cases/manifest.tsv ]; then
		awk -F'\t' 'NR > 1 && $1 !~ /^#/ && NF >= 4 {
			n = split($4, v, ","); for (i = 1; i <= n; i++) print $1, v[i] }' cases/manifest.tsv
	elif [ -d build/cases ]; then
		echo "note: cases/manifest.tsv not found; using the programs in build/cases" >&2
		for exe in build/cases/*; do
			[ -x "$exe" ] && [ -f "$exe" ] && [[ "$exe" != *.so ]] || continue
			for v in $("$exe" --list-variants 2>/dev/null); do
				echo "$(basename "$exe") $v"
			done
		done
	fi
}
list_runs >"$tmp/runs"
if [ -n "${CASES:-}" ]; then
	grep -E "^($(echo "$CASES" | tr ' ' '|')) " "$tmp/runs" >"$tmp/runs.sel" || true
	mv "$tmp/runs.sel" "$tmp/runs"
fi
if [ ! -s "$tmp/runs" ]; then
	echo
	echo "no cases yet (neither cases/manifest.tsv nor build/cases): skipping the case runs"
	[ "$failures" -eq 0 ] && echo "memory checks: clean" || echo "memory checks: $failures failure(s)"
	[ "$failures" -eq 0 ]
	exit
fi

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=23:print_summary=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=24"
SAN_RE='ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: UndefinedBehaviorSanitizer'

# run_one TOOL ID VARIANT MODE SEED: one run, checked; prints nothing when clean.
run_one() {
	local tool=$1 id=$2 variant=$3 mode=$4 seed=$5 rc=0 out="$tmp/out" err="$tmp/err"
	local what="$GEN map: $tool $id --variant $variant --mode $mode --seed $seed"
	case $tool in
	asan)
		timeout 120 "$ASAN_DIR/cases/$id" --variant "$variant" --mode "$mode" --seed "$seed" \
			>"$out" 2>"$err" || rc=$?
		;;
	valgrind)
		timeout 300 valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
			"$PLAIN_DIR/cases/$id" --variant "$variant" --mode "$mode" --seed "$seed" \
			>"$out" 2>"$err" || rc=$?
		;;
	esac
	local bad=""
	if grep -qE "$SAN_RE" "$err"; then
		bad="sanitizer report"
	elif [ "$tool" = valgrind ] && grep -qE '^==[0-9]+== ' "$err"; then
		bad="valgrind report"
	elif [ "$variant" = bad ]; then
		# the detector's exit (2), or a natural run that did not overlap (0)
		if [ "$rc" -ne 2 ] && ! { [ "$rc" -eq 0 ] && [ "$mode" = natural ]; }; then
			bad="exit status $rc"
		fi
	elif [ "$rc" -ne 0 ]; then
		bad="exit status $rc"
	elif ! grep -qx DONE "$out"; then
		bad="no DONE line"
	fi
	if [ -n "$bad" ]; then
		fail "$what: $bad"
		sed -n '1,40p' "$err" | sed 's/^/    /'
		return 1
	fi
	return 0
}

# run_set TOOL RUNS FILTER: every listed case and variant (FILTER: good|bad).
run_set() {
	local tool=$1 runs=$2 filter=$3 n=0 nbad=0 t0=$SECONDS
	while read -r id variant; do
		if [ "$filter" = bad ]; then [ "$variant" = bad ] || continue
		else [ "$variant" != bad ] || continue; fi
		local exe="$PLAIN_DIR/cases/$id"
		[ "$tool" = asan ] && exe="$ASAN_DIR/cases/$id"
		if [ ! -x "$exe" ]; then
			fail "$exe is missing"
			continue
		fi
		for mode in forced natural; do
			for seed in $(seq 1 "$runs"); do
				n=$((n + 1))
				run_one "$tool" "$id" "$variant" "$mode" "$seed" || nbad=$((nbad + 1))
			done
		done
	done <"$tmp/runs"
	echo "$GEN map, $tool: $n runs, $nbad with findings ($((SECONDS - t0)) s)"
}

for g in $GENERATIONS; do
	use_generation "$g"
	step "$GEN map: fixed variants and controls under ASan+UBSan, $ASAN_RUNS runs per mode"
	run_set asan "$ASAN_RUNS" good
	step "$GEN map: bad variants under ASan+UBSan (memory safety under misuse), $ASAN_RUNS runs per mode"
	run_set asan "$ASAN_RUNS" bad
	step "$GEN map: fixed variants and controls under valgrind memcheck, $VG_RUNS runs per mode"
	if command -v valgrind >/dev/null; then
		run_set valgrind "$VG_RUNS" good
	else
		fail "valgrind is not installed"
	fi
done

echo
if [ "$failures" -eq 0 ]; then
	echo "memory checks: clean"
	exit 0
fi
echo "memory checks: $failures failure(s)"
exit 1
