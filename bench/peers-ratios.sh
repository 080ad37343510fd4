#!/usr/bin/env bash
# peers-ratios.sh [RESULTS.tsv] -- each core generation against its targets,
# from one run of the peers kit (bench/peers-run.sh; default
# build-bench/peers/results.tsv).
#
# Prints, per single-thread cell (workload, key kind, N):
#   bucket/1.19  gomap-bucket / go-map-1.19   the bucket core against the Go it
#                ports; target <= 1.00 on every cell
#   swiss/1.26   gomap-swiss / go-map-1.26    the Swiss-table core against Go 1.26;
#                left out, with a note, when the run has no gomap-swiss rows
#   /absl /sv    lookups only: each core / abseil's flat_hash_map, owning
#                (absl, std::string keys, copied like the core's) and
#                borrowing (absl-sv, string_view) string keys; target <= 1.5
# A run made before the generations had names (peers "gomap" and "go-map",
# Go 1.19) reads as gomap-bucket and go-map-1.19.
# STAT=min uses the best repetition instead of the median; BUCKET=NAME reads
# another peer as the bucket core (e.g. gomap-bucket@main, from
# BASE=main bench/peers-run.sh).
BUCKET="${BUCKET:-}"
set -euo pipefail
RES="${1:-build-bench/peers/results.tsv}"
STAT="${STAT:-median}"
[ -r "$RES" ] || {
	echo "peers-ratios.sh: cannot read $RES" >&2
	exit 1
}

awk -F'\t' -v stat="$STAT" -v bucket="$BUCKET" '
/^#/ { if ($0 ~ /^# (peers benchmark|cpu|CC|GO|core|THP|load)/) print; next }
$4 == "ns/op" && $2 !~ /^conc/ {
	v = (stat == "min") ? $6 : $5
	key = $2 SUBSEP $3
	if (!(key in seen)) { seen[key] = 1; order[++n] = key }
	present[$1] = 1
	# With PASSES > 1 a cell has one row per pass: keep them all, take the median.
	val[$1, key, ++cnt[$1, key]] = v
}
function med(peer, key,    k, i, j, t, a) {
	k = cnt[peer, key]
	if (!k) return -1
	for (i = 1; i <= k; i++) a[i] = val[peer, key, i]
	for (i = 2; i <= k; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
function ns(x) { return x < 0 ? "-" : sprintf("%.1f", x) }
function ratio(x, y) { return (x < 0 || y <= 0) ? "-" : sprintf("%.2f", x / y) }
function mark(r, lim) { return r == "-" ? "" : (r + 0 <= lim ? "" : "!") }
# A core column: its ns/op, the Go it ports, the ratio (! = over the target).
function gocols(g, go) { r = ratio(g, go); return sprintf(" %8s %8s %6s%-1s", ns(g), ns(go), r, mark(r, 1.0)) }
function abslcols(g, a, sv, look) {
	if (!look) return sprintf(" %6s  %6s ", "", "")
	ra = ratio(g, a); rs = ratio(g, sv)
	return sprintf(" %6s%-1s %6s%-1s", ra, mark(ra, 1.5), rs, mark(rs, 1.5))
}
END {
	B = bucket != "" ? bucket : ("gomap-bucket" in present) ? "gomap-bucket" : "gomap"
	G19 = ("go-map-1.19" in present) ? "go-map-1.19" : "go-map"
	S = "gomap-swiss"; G26 = "go-map-1.26"
	hasb = (B in present); hass = (S in present)
	if (!hasb && !hass) { print "peers-ratios.sh: no core rows (gomap-bucket, gomap-swiss) in this run"; exit 1 }
	hdr = sprintf("%-26s", "workload")
	if (hasb) hdr = hdr sprintf(" %8s %8s %7s %6s  %6s ", "bucket", "go1.19", "b/1.19", "b/absl", "b/sv")
	if (hass) hdr = hdr sprintf(" %8s %8s %7s %6s  %6s ", "swiss", "go1.26", "s/1.26", "s/absl", "s/sv")
	print hdr
	for (i = 1; i <= n; i++) {
		key = order[i]; split(key, f, SUBSEP)
		look = (f[1] ~ /lookup/)
		a = med("absl", key); sv = med("absl-sv", key)
		line = sprintf("%-26s", f[1] " N=" (f[2] == 1000000 ? "1M" : f[2] == 1000 ? "1k" : f[2]))
		if (hasb) line = line gocols(med(B, key), med(G19, key)) abslcols(med(B, key), a, sv, look)
		if (hass) line = line gocols(med(S, key), med(G26, key)) abslcols(med(S, key), a, sv, look)
		print line
	}
	print "ns/op, " stat " of the repetitions (median over passes); ! = over the target"
	print "(core/Go <= 1.00 on every cell; core/absl and core/absl-sv <= 1.5 for lookups)."
	if (hasb && !(G19 in present)) print "note: no go-map-1.19 rows: the bucket core has no Go to compare with."
	if (!hass) print "note: no gomap-swiss rows: the Swiss-table core was not built in this run (or this tree has none yet); its columns are left out."
	else if (!(G26 in present)) print "note: no go-map-1.26 rows: the Swiss-table core has no Go to compare with."
}' "$RES"
