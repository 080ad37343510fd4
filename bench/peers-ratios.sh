#!/usr/bin/env bash
# peers-ratios.sh [RESULTS.tsv] -- the core against its targets, from one run
# of the peers kit (../shared/peers) with bench/peers-adapter.c added.
#
#   cd /tmp/peers && EXTRA_ADAPTERS=$repo/bench/peers-adapter.c ./run.sh
#   $repo/bench/peers-ratios.sh /tmp/peers/build/results.tsv
#
# Prints, per single-thread workload, gomap's ns/op next to Go's map and
# abseil's flat_hash_map, and the ratios the targets are stated in:
#   gomap/go-map  <= 1.00 for every workload ("at least as fast as Go");
#   gomap/absl    <= 1.50 for lookups. For string keys `absl` owns its keys
#                 (std::string, copied like gomap's) and `absl-sv` borrows
#                 them (string_view); both are shown.
# STAT=min uses the best repetition instead of the median.
set -euo pipefail
RES="${1:-build/results.tsv}"
STAT="${STAT:-median}"
[ -r "$RES" ] || { echo "peers-ratios.sh: cannot read $RES" >&2; exit 1; }

awk -F'\t' -v stat="$STAT" '
/^#/ { if ($0 ~ /^# (peers benchmark|cpu|CC|GO|THP|load)/) print; next }
$4 == "ns/op" && $2 !~ /^conc/ {
	v = (stat == "min") ? $6 : $5
	key = $2 SUBSEP $3
	if (!(key in seen)) { seen[key] = 1; order[++n] = key }
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
END {
	printf "%-26s %8s %8s %8s %5s   %8s %8s %5s %8s %7s %5s\n", "workload", "gomap", "go-map", \
		"gm/go", "<=1?", "absl", "gm/absl", "<=1.5", "absl-sv", "gm/sv", "<=1.5"
	for (i = 1; i <= n; i++) {
		key = order[i]; split(key, f, SUBSEP)
		g = med("gomap", key); if (g < 0) continue
		go = med("go-map", key); a = med("absl", key); sv = med("absl-sv", key)
		look = (f[1] ~ /lookup/)
		name = f[1] " N=" (f[2] == 1000000 ? "1M" : f[2] == 1000 ? "1k" : f[2])
		rg = ratio(g, go); ra = ratio(g, a); rs = ratio(g, sv)
		printf "%-26s %8s %8s %8s %5s   %8s %8s %5s %8s %7s %5s\n", name, ns(g), ns(go), rg, \
			rg == "-" ? "" : (rg + 0 <= 1.0 ? "yes" : "NO"), \
			ns(a), look ? ra : "", (look && ra != "-") ? (ra + 0 <= 1.5 ? "yes" : "NO") : "", \
			ns(sv), look ? rs : "", (look && rs != "-") ? (rs + 0 <= 1.5 ? "yes" : "NO") : ""
	}
	print "ns/op, " stat " of the run'"'"'s repetitions; gm/go = gomap / go-map, gm/absl = gomap / absl,"
	print "gm/sv = gomap / absl-sv; ratios are shown for lookups only against abseil (its target)."
}' "$RES"
