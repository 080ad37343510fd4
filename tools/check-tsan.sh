#!/usr/bin/env bash
# tools/check-tsan.sh -- the catalogue under ThreadSanitizer, beside the
# built-in detector.
#
# Builds the preset tsan (clang -fsanitize=thread, build dir build-tsan/) and
# runs every case and variant, natural and forced mode, several times each.
# What each run must show:
#
#   trigger      (bad variants; natural mode) a ThreadSanitizer data race
#                report naming both accesses -- "Write/Read of size" and
#                "Previous write/read of size", both stacks inside core/ --
#                whatever the built-in detector did in that run
#   race-free    (fixed variants and controls, both modes) no ThreadSanitizer
#                report of any kind, DONE on stdout, exit status 0: the proof
#                that the fixes work
#   len-control  (control-len-while-writing, natural mode) a data race report
#                with both accesses, while the built-in detector stays silent
#                (no "fatal error"), DONE, exit status 66 (TSan's)
#   nil-panic    (nil-map-assign bad) Go's panic, exit 2 and no ThreadSanitizer
#                report: one thread, no race
#
# Runs that must show a race (bad variants, the len control) are judged in
# natural mode; in forced mode they are run and counted but not judged by
# default: the forced schedule parks the window holder on a mutex and
# condition variable until the other party arrives, which gives TSan a
# happens-before edge, and the other party's detector ends the process
# before the holder touches the buckets; measured, most forced bad runs show
# no data race (docs/cross-checks.md). STRICT_FORCED=1 judges them too.
#
# Cases come from cases/manifest.tsv, or the programs in build-tsan/cases.
# Environment: TSAN_RUNS=5 runs per case, variant and mode; NO_BUILD=1;
# CASES="id ..."; SUMMARY=path (default build-tsan/tsan-summary.tsv).
# Exit status 0 when every judged run is as expected, 1 otherwise.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
RUNS="${TSAN_RUNS:-5}"
SUMMARY="${SUMMARY:-build-tsan/tsan-summary.tsv}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if [ "${NO_BUILD:-0}" != 1 ]; then
	echo "== build: preset tsan ($(date -u +%H:%M:%S))"
	cmake --preset tsan >/dev/null && cmake --build --preset tsan >/dev/null ||
		{ echo "FAIL: the tsan build failed"; exit 1; }
fi

if [ -f cases/manifest.tsv ]; then
	awk -F'\t' 'NR > 1 && $1 !~ /^#/ && NF >= 4 {
		n = split($4, v, ","); for (i = 1; i <= n; i++) print $1, v[i] }' cases/manifest.tsv \
		>"$tmp/runs"
elif [ -d build-tsan/cases ]; then
	echo "note: cases/manifest.tsv not found; using the programs in build-tsan/cases"
	for exe in build-tsan/cases/*; do
		[ -x "$exe" ] && [ -f "$exe" ] && [[ "$exe" != *.so ]] || continue
		for v in $("$exe" --list-variants 2>/dev/null); do echo "$(basename "$exe") $v"; done
	done >"$tmp/runs"
fi
if [ -n "${CASES:-}" ]; then
	grep -E "^($(echo "$CASES" | tr ' ' '|')) " "$tmp/runs" >"$tmp/runs.sel" || true
	mv "$tmp/runs.sel" "$tmp/runs"
fi
if [ ! -s "$tmp/runs" ]; then
	echo "no cases yet: nothing to run under ThreadSanitizer"
	exit 0
fi

# halt_on_error=0: keep running after a report, so the built-in detector's
# verdict is seen too. exitcode=66: a run with reports that ends normally.
# history_size=4: enough history to restore the previous access's stack.
# io_sync=0: a write to a file descriptor and a later read from it are not
# taken as synchronisation. By default TSan takes them so, and then the
# request/response traffic of 4.1 (HTTP on 127.0.0.1) orders the handlers'
# map writes in some runs and hides the race; the fixed variants order their
# map accesses with locks only, so for them io_sync=0 is the stricter test.
# TSAN_IO_SYNC=1 restores TSan's default.
export TSAN_OPTIONS="halt_on_error=0 exitcode=66 report_signal_unsafe=0 history_size=4 io_sync=${TSAN_IO_SYNC:-0}"

# expectation ID VARIANT -> trigger | race-free | len-control | nil-panic
expectation() {
	case "$1:$2" in
	control-len-while-writing:*) echo len-control ;;
	nil-map-assign:bad) echo nil-panic ;;
	*:bad) echo trigger ;;
	*) echo race-free ;;
	esac
}

# Facts about one run's stderr, as "warn both map":
#   warn: ThreadSanitizer reports of any kind
#   both: data race reports naming a current and a previous access
#   map:  of those, reports whose two stacks both pass through core/
race_facts() {
	awk '
	/^WARNING: ThreadSanitizer:/ { warn++; inrace = /data race/; cur = prev = 0; sec = "" ; next }
	inrace && /^  (Atomic )?([Ww]rite|[Rr]ead) of size/ { cur = 1; sec = "cur"; cc = 0; next }
	inrace && /^  Previous (atomic )?(write|read) of size/ { prev = 1; sec = "prev"; pc = 0; next }
	inrace && /^  [A-Z]/ { sec = "" }
	inrace && sec == "cur" && /\/core\/[a-z_0-9]+\.[ch]:/ { cc = 1 }
	inrace && sec == "prev" && /\/core\/[a-z_0-9]+\.[ch]:/ { pc = 1 }
	/^==================$/ && inrace && cur {
		if (cur && prev) { both++; if (cc && pc) map++ }
		inrace = 0
	}
	END { printf "%d %d %d\n", warn, both, map }' "$1"
}

failures=0
printf "case\tvariant\tmode\texpect\truns\ttsan_reports\tboth_accesses\tmap_races\tdetector\tverdict\n" \
	>"$tmp/summary"
printf "%-32s %-8s %-8s %-12s %5s %6s %6s %6s %6s  %s\n" case variant mode expect runs tsan \
	both map detect verdict
while read -r id variant; do
	exe="build-tsan/cases/$id"
	expect="$(expectation "$id" "$variant")"
	for mode in natural forced; do
		judged=1
		case $expect in trigger | len-control)
			[ "$mode" = forced ] && [ "${STRICT_FORCED:-0}" != 1 ] && judged=0 ;;
		esac
		n=0 nwarn=0 nboth=0 nmap=0 ndet=0 nbad=0
		if [ ! -x "$exe" ]; then
			echo "FAIL: $exe is missing"
			failures=$((failures + 1))
			continue
		fi
		for seed in $(seq 1 "$RUNS"); do
			rc=0
			timeout 300 "$exe" --variant "$variant" --mode "$mode" --seed "$seed" \
				>"$tmp/out" 2>"$tmp/err" || rc=$?
			read -r warn both map < <(race_facts "$tmp/err")
			det=0
			grep -qE '^(fatal error: |panic: )' "$tmp/err" && det=1
			n=$((n + 1))
			[ "$warn" -gt 0 ] && nwarn=$((nwarn + 1))
			[ "$both" -gt 0 ] && nboth=$((nboth + 1))
			[ "$map" -gt 0 ] && nmap=$((nmap + 1))
			ndet=$((ndet + det))
			ok=1
			case $expect in
			trigger) [ "$map" -gt 0 ] || ok=0 ;;
			race-free)
				{ [ "$warn" -eq 0 ] && [ "$rc" -eq 0 ] && grep -qx DONE "$tmp/out"; } || ok=0 ;;
			len-control)
				{ [ "$both" -gt 0 ] && [ "$det" -eq 0 ] && [ "$rc" -eq 66 ] &&
					grep -qx DONE "$tmp/out"; } || ok=0 ;;
			nil-panic)
				{ [ "$warn" -eq 0 ] && [ "$rc" -eq 2 ] &&
					grep -q '^panic: assignment to entry in nil map' "$tmp/err"; } || ok=0 ;;
			esac
			if [ "$ok" -eq 0 ]; then
				nbad=$((nbad + 1))
				if [ "$judged" -eq 1 ] && [ "$nbad" -eq 1 ]; then
					echo "  unexpected: $exe --variant $variant --mode $mode --seed $seed" \
						"(exit $rc, tsan reports $warn, both accesses $both, map $map)"
					grep -E 'WARNING: ThreadSanitizer|^  (Previous )?[A-Za-z ]+ of size|^fatal error|^panic' \
						"$tmp/err" | head -n 8 | sed 's/^/    /'
				fi
			fi
		done
		if [ "$judged" -eq 0 ]; then
			verdict="measured"
		elif [ "$nbad" -eq 0 ]; then
			verdict="ok"
		else
			verdict="FAIL ($nbad/$n)"
			failures=$((failures + 1))
		fi
		printf "%-32s %-8s %-8s %-12s %5d %6d %6d %6d %6d  %s\n" "$id" "$variant" "$mode" \
			"$expect" "$n" "$nwarn" "$nboth" "$nmap" "$ndet" "$verdict"
		printf "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n" "$id" "$variant" "$mode" "$expect" \
			"$n" "$nwarn" "$nboth" "$nmap" "$ndet" "$verdict" >>"$tmp/summary"
	done
done <"$tmp/runs"

mkdir -p "$(dirname "$SUMMARY")"
cp "$tmp/summary" "$SUMMARY"
echo
echo "columns: runs with a TSan report / with a data race naming both accesses /"
echo "         with both stacks in core/ / where the built-in detector fired"
echo "summary: $SUMMARY"
if [ "$failures" -eq 0 ]; then
	echo "ThreadSanitizer checks: as expected"
	exit 0
fi
echo "ThreadSanitizer checks: $failures unexpected result(s)"
exit 1
