#!/usr/bin/env python3
"""verdicts.py -- the tables of bench/fixcost/run.sh, from its raw files.

    verdicts.py [--benchstat PATH] OUT

Reads OUT/raw/*.txt (Go's benchmark format: go1.19-*.txt, go1.26-*.txt,
c-fix.txt) and writes
    OUT/table.md, OUT/table.tsv   one row per claim: claimed, measured, verdict
    OUT/costs.md                  ns/op per fix, read ratio and goroutines
    OUT/benchstat/*.txt           benchstat's own tables (with --benchstat)

With --benchstat, every centre, spread (95% confidence interval of the
median) and p-value comes from benchstat's CSV output. Without it (or when
it fails), the script computes them itself: median, the same
order-statistic interval, and an exact two-sided Mann-Whitney U test.

Verdicts compare ratios, never absolute times (the articles' machines are
not this one):
    holds                 the claimed winner wins here, p < 0.05
    does not hold         the other one wins (p < 0.05), or no difference
                          is measurable (p >= 0.05) where the claim says
                          there is one
    cannot be judged here the claim's conditions do not exist on this
                          machine (GOMAXPROCS=8 on 8 cores), or too few
                          samples; the measured figure is still shown
Standard library only.
"""
import argparse
import csv
import io
import itertools
import math
import os
import re
import statistics
import subprocess
import sys

ALPHA = 0.05
TOOLCHAINS = ["go1.19", "go1.26"]
FIXES = ["mutex", "rwmutex", "syncmap", "shard", "cow", "chan"]

# ---------------------------------------------------------------------------
# Raw samples
# ---------------------------------------------------------------------------

UNIT_NAMES = {"ns/op": "sec/op", "read-ns": "read-sec", "writes/s": "writes/s"}
UNIT_SCALE = {"ns/op": 1e-9, "read-ns": 1e-9, "writes/s": 1.0}


def read_raw(path):
    """{(benchmark name without 'Benchmark', unit): [values]} in benchstat's units."""
    out = {}
    with open(path) as f:
        for line in f:
            if not line.startswith("Benchmark"):
                continue
            fields = line.split()
            name = fields[0][len("Benchmark"):]
            for i in range(2, len(fields) - 1, 2):
                unit = fields[i + 1]
                if unit in UNIT_NAMES:
                    out.setdefault((name, UNIT_NAMES[unit]), []).append(
                        float(fields[i]) * UNIT_SCALE[unit])
    return out


def project(name, key):
    """('Claim1/keys=100/read=95/impl=syncmap-2', 'impl') -> ('Claim1/keys=100/read=95-2', 'syncmap')."""
    m = re.match(r"^(.*?)(-\d+)?$", name)
    base, cpu = m.group(1), m.group(2) or ""
    parts = base.split("/")
    col = None
    rest = []
    for p in parts:
        if p.startswith(key + "="):
            col = p[len(key) + 1:]
        else:
            rest.append(p)
    return "/".join(rest) + cpu, col


# ---------------------------------------------------------------------------
# Statistics: benchstat's, or our own
# ---------------------------------------------------------------------------


def median_ci(xs):
    """Median and the half-width of its 95% confidence interval, relative
    (benchstat's method: order statistics of the binomial); None when there
    are too few samples (benchstat needs 6)."""
    xs = sorted(xs)
    n = len(xs)
    med = statistics.median(xs)
    if n < 6:
        return med, None
    # the widest symmetric pair of order statistics with coverage >= 95%
    best = None
    for lo in range(n // 2, -1, -1):
        hi = n - 1 - lo
        cover = sum(math.comb(n, k) for k in range(lo + 1, hi + 1)) / 2 ** n
        if cover >= 0.95:
            best = (lo, hi)
            break
    if best is None:
        return med, math.inf
    lo, hi = best
    if med == 0:
        return med, 0.0
    return med, max(med - xs[lo], xs[hi] - med) / abs(med)


def mann_whitney_p(a, b):
    """Exact two-sided p of the Mann-Whitney U test (ties: mid-ranks, and
    the exact distribution of the observed statistic by enumeration)."""
    n1, n2 = len(a), len(b)
    if n1 == 0 or n2 == 0:
        return None
    pooled = a + b
    order = sorted(range(len(pooled)), key=lambda i: pooled[i])
    ranks = [0.0] * len(pooled)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and pooled[order[j + 1]] == pooled[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    r1 = sum(ranks[:n1])
    mean = n1 * (n1 + n2 + 1) / 2
    obs = abs(r1 - mean)
    if math.comb(n1 + n2, n1) > 200000:  # normal approximation
        sd = math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12)
        z = obs / sd if sd else 0
        return math.erfc(z / math.sqrt(2))
    hits = total = 0
    for combo in itertools.combinations(range(n1 + n2), n1):
        total += 1
        if abs(sum(ranks[c] for c in combo) - mean) >= obs - 1e-9:
            hits += 1
    return hits / total


class Stats:
    """centre / spread / p for (file, unit, row, column) cells, from
    benchstat's CSV when there is a benchstat, else computed here."""

    def __init__(self, benchstat, outdir):
        self.benchstat = benchstat
        self.outdir = outdir
        self.cache = {}
        self.source = "benchstat" if benchstat else "verdicts.py (benchstat not available)"

    def table(self, path, key):
        """{(unit, row, col): dict(center, ci, p, base)} for one raw file
        projected on `key` (column)."""
        ck = (path, key)
        if ck in self.cache:
            return self.cache[ck]
        res = None
        if self.benchstat:
            try:
                res = self._benchstat(path, key)
            except (OSError, subprocess.CalledProcessError, ValueError) as e:
                print(f"verdicts.py: benchstat failed on {path}: {e}; using own statistics",
                      file=sys.stderr)
                self.source = "verdicts.py (benchstat failed on some files)"
        if res is None:
            res = self._own(path, key)
        self.cache[ck] = res
        return res

    def _benchstat(self, path, key):
        out = subprocess.run([self.benchstat, "-format", "csv", "-col", "/" + key, path],
                             check=True, capture_output=True, text=True).stdout
        txt = subprocess.run([self.benchstat, "-col", "/" + key, path],
                             check=True, capture_output=True, text=True).stdout
        os.makedirs(os.path.join(self.outdir, "benchstat"), exist_ok=True)
        stem = os.path.basename(path)[:-4]
        with open(os.path.join(self.outdir, "benchstat", f"{stem}.by-{key}.txt"), "w") as f:
            f.write(txt)
        res = {}
        for block in re.split(r"\n\s*\n", out):
            rows = list(csv.reader(io.StringIO(block)))
            rows = [r for r in rows if r]
            # a block: column names, field names, data rows
            hdr = None
            for idx, r in enumerate(rows):
                if len(r) > 2 and r[0] == "" and idx + 1 < len(rows) and rows[idx + 1][0] == "":
                    hdr = idx
                    break
            if hdr is None:
                continue
            cols, fields = rows[hdr], rows[hdr + 1]
            unit = fields[1]
            # position -> column name (a name spans its fields)
            names = []
            cur = None
            for c in cols:
                cur = c if c else cur
                names.append(cur)
            base = names[1]
            for r in rows[hdr + 2:]:
                if not r or r[0] in ("", "geomean") or ":" in r[0] and " " in r[0]:
                    continue
                for pos in range(1, len(r)):
                    if pos >= len(fields) or fields[pos] != unit or not r[pos]:
                        continue
                    col = names[pos]
                    ci = r[pos + 1] if pos + 1 < len(r) else ""
                    p = None
                    if col != base and pos + 3 < len(r) + 1:
                        pv = r[pos + 3] if pos + 3 < len(r) else ""
                        m = re.search(r"p=([0-9.]+)", pv)
                        if m:
                            p = float(m.group(1))
                    res[(unit, r[0], col)] = dict(
                        center=float(r[pos]), ci=parse_ci(ci), p=p, base=base)
        if not res:
            raise ValueError("no rows in benchstat's CSV")
        return res

    def _own(self, path, key):
        raw = read_raw(path)
        groups = {}
        order = []
        for (name, unit), xs in raw.items():
            row, col = project(name, key)
            if col is None:
                continue
            groups[(unit, row, col)] = xs
            if col not in order:
                order.append(col)
        res = {}
        for (unit, row, col), xs in groups.items():
            base = next(c for c in order if (unit, row, c) in groups)
            c, ci = median_ci(xs)
            p = None
            if col != base:
                p = mann_whitney_p(groups[(unit, row, base)], xs)
            res[(unit, row, col)] = dict(center=c, ci=ci, p=p, base=base)
        return res

    def pair(self, path, key, unit, row, a, b):
        """Centres, spreads and the p-value of a against b."""
        t = self.table(path, key)
        ca, cb = t.get((unit, row, a)), t.get((unit, row, b))
        if not ca or not cb:
            return None
        p = cb["p"] if cb["base"] == a else ca["p"] if ca["base"] == b else None
        if p is None and not self.benchstat:
            p = mann_whitney_p(read_pair(path, key, unit, row, a), read_pair(path, key, unit, row, b))
        return ca, cb, p


def read_pair(path, key, unit, row, col):
    for (name, u), xs in read_raw(path).items():
        if u == unit and project(name, key) == (row, col):
            return xs
    return []


def parse_ci(s):
    s = s.strip()
    if s in ("", "∞"):
        return math.inf if s == "∞" else None
    if s.endswith("%"):
        return float(s[:-1]) / 100
    try:
        return float(s)
    except ValueError:
        return None


# ---------------------------------------------------------------------------
# The claims
# ---------------------------------------------------------------------------

# id, what the article says, file section, projection key, unit, row,
# A, B, claimed A/B (in the unit's own direction), how to print, whether
# this machine has the claim's conditions
CLAIMS = []


def claim(cid, text, section, row, a, b, ratio, unit="sec/op", show="ns", judgeable=True,
          cond=""):
    CLAIMS.append(dict(id=cid, text=text, section=section, row=row, a=a, b=b, ratio=ratio,
                       unit=unit, show=show, judgeable=judgeable, cond=cond))


for cpu, cond in (("", "1 goroutine"), ("-2", "2 goroutines (GOMAXPROCS=2, every core)")):
    claim("1a", "100 keys, read-mostly (95% reads): sync.Map 8.2 vs map+RWMutex 6.5 ns/op",
          "claim1", "Claim1/keys=100/read=95" + cpu, "syncmap", "rwmutex", 8.2 / 6.5, cond=cond)
    claim("1b", "100,000 keys, 30% writes: sync.Map 420 vs map+RWMutex 1180 ns/op "
          "(\"sync.Map is a must\")", "claim1", "Claim1/keys=100000/read=70" + cpu, "syncmap",
          "rwmutex", 420 / 1180, cond=cond)
    claim("1c", "5,000,000 keys, read-only: sync.Map 12.7 vs map+RWMutex 9.3 ns/op", "claim1",
          "Claim1/keys=5000000/read=100" + cpu, "syncmap", "rwmutex", 12.7 / 9.3, cond=cond)
claim("2a", "GOMAXPROCS=8, 100,000 keys, 95% reads: RWMutex 2.1M vs sync.Map 3.8M ops/s",
      "claim2", "Claim2/keys=100000/read=95-8", "rwmutex", "syncmap", 3.8 / 2.1, show="ops",
      judgeable=False, cond="8 goroutines on 2 cores (GOMAXPROCS=8)")
claim("2b", "GOMAXPROCS=8, 100,000 keys, 50% writes: RWMutex 1.4M vs sync.Map 0.6M ops/s",
      "claim2", "Claim2/keys=100000/read=50-8", "rwmutex", "syncmap", 0.6 / 1.4, show="ops",
      judgeable=False, cond="8 goroutines on 2 cores (GOMAXPROCS=8)")
claim("3", "one goroutine, 19 reads per write: Mutex 128 vs RWMutex 76 ns/op (-40.6%)",
      "claim3", "Claim3", "mutex", "rwmutex", 128 / 76, cond="1 goroutine")
for cpu, cond in (("-2", "2 goroutines (every core)"), ("-8", "8 goroutines on 2 cores")):
    row = "Claim4/keys=1000000/read=50" + cpu
    claim("4a", "1,000,000 keys, 50/50: read latency, 8 shards 41 us vs one RWMutex 82 us",
          "claim4", row, "shard8", "rwmutex", 41 / 82, unit="read-sec", show="us", cond=cond)
    claim("4b", "1,000,000 keys, 50/50: writes/s, 8 shards 28,600 vs one RWMutex 14,200",
          "claim4", row, "shard8", "rwmutex", 28600 / 14200, unit="writes/s", show="wps",
          cond=cond)
    claim("4c", "1,000,000 keys, 50/50: read latency, RWMutex + deferred delete 33 us vs "
          "one RWMutex 82 us", "claim4", row, "rwdefer", "rwmutex", 33 / 82, unit="read-sec",
          show="us", cond=cond)
    claim("4d", "1,000,000 keys, 50/50: writes/s, RWMutex + deferred delete 32,100 vs one "
          "RWMutex 14,200", "claim4", row, "rwdefer", "rwmutex", 32100 / 14200, unit="writes/s",
          show="wps", cond=cond)


def fmt_val(v, show):
    if show == "ns":
        return f"{v * 1e9:.4g} ns/op"
    if show == "ops":
        return f"{1 / v / 1e6:.3g}M ops/s" if v else "-"
    if show == "us":
        return f"{v * 1e6:.3g} us"
    if show == "wps":
        return f"{v:,.0f} writes/s"
    return f"{v:.4g}"


def fmt_ci(ci):
    if ci is None:
        return ""
    if ci == math.inf:
        return " ±∞"
    return f" ±{ci * 100:.0f}%"


def judge(c, pair, quick=False):
    """(measured text, verdict, why)."""
    if pair is None:
        why = "not measured in this run"
        if quick and c["section"] == "claim1":
            why = "not measured: --quick leaves out the 5,000,000-key maps"
        return "not run", "cannot be judged here", why
    ca, cb, p = pair
    ma, mb = ca["center"], cb["center"]
    r = ma / mb if mb else math.inf
    ptxt = f"p={p:.3f}" if p is not None else "p=?"
    meas = (f"{c['a']} {fmt_val(ma, c['show'])}{fmt_ci(ca['ci'])} vs {c['b']} "
            f"{fmt_val(mb, c['show'])}{fmt_ci(cb['ci'])}; ratio {r:.2f} (claimed {c['ratio']:.2f}), "
            f"{ptxt}")
    same = (r > 1) == (c["ratio"] > 1)
    if p is None:
        return meas, "cannot be judged here", "too few samples for a p-value"
    sig = p < ALPHA
    if sig and same:
        v, why = "holds", "same winner"
        if abs(math.log(r)) < abs(math.log(c["ratio"])) / 2:
            why += ", by a smaller margin"
        elif abs(math.log(r)) > 2 * abs(math.log(c["ratio"])):
            why += ", by a larger margin"
    elif sig:
        v, why = "does not hold", "the other one wins"
    else:
        v, why = "does not hold", "no measurable difference"
    if not c["judgeable"]:
        return meas, "cannot be judged here", (
            f"needs 8 cores; here 8 goroutines share 2, so this measures lock hand-offs under "
            f"oversubscription, not 8-way parallelism (as run: {v}, {why})")
    return meas, v, why


def write_tables(outdir, stats):
    raw = os.path.join(outdir, "raw")
    quick = read_conditions(raw).get("quick") == "1"
    rows = []
    for c in CLAIMS:
        for tc in TOOLCHAINS:
            path = os.path.join(raw, f"{tc}-{c['section']}.txt")
            pair = None
            if os.path.exists(path):
                pair = stats.pair(path, "impl", c["unit"], c["row"], c["a"], c["b"])
            meas, v, why = judge(c, pair, quick)
            rows.append(dict(id=c["id"], claim=c["text"], cond=c["cond"], go=tc, measured=meas,
                             verdict=v, why=why))
    cond = read_conditions(raw)
    with open(os.path.join(outdir, "table.tsv"), "w") as f:
        f.write("id\tclaim\tconditions\tgo\tmeasured\tverdict\twhy\n")
        for r in rows:
            f.write("\t".join(r[k] for k in ("id", "claim", "cond", "go", "measured", "verdict",
                                             "why")) + "\n")
    with open(os.path.join(outdir, "table.md"), "w") as f:
        f.write(f"Run: {cond.get('date', '?')}, {cond.get('host', '?')}, load average "
                f"{cond.get('loadavg-before', '?')} before, {cond.get('loadavg-after', '?')} "
                f"after; -count {cond.get('count', '?')}, -benchtime "
                f"{cond.get('benchtime', '?')}; {cond.get('go1.19', '?')} and "
                f"{cond.get('go1.26', '?')}; statistics: {stats.source}.\n\n")
        f.write("| # | claim | run here as | Go | measured (median ± 95% CI) | verdict |\n")
        f.write("|---|---|---|---|---|---|\n")
        for r in rows:
            f.write(f"| {r['id']} | {r['claim']} | {r['cond']} | {r['go']} | {r['measured']} | "
                    f"**{r['verdict']}**: {r['why']} |\n")
    return rows


def read_conditions(raw):
    cond = {}
    try:
        with open(os.path.join(raw, "conditions.txt")) as f:
            for line in f:
                k, _, v = line.partition(": ")
                cond[k.strip()] = v.strip()
    except OSError:
        pass
    return cond


def cost_table(stats, path, fixes):
    """Markdown: rows read ratio x goroutines, columns fixes, ns/op ± CI."""
    t = stats.table(path, "fix")
    out = ["| reads | goroutines | " + " | ".join(fixes) + " |",
           "|---|---|" + "---|" * len(fixes)]
    for read in (100, 95, 50):
        for cpu in ("", "-2", "-8"):
            row = f"Fix/read={read}{cpu}"
            cells = []
            for fx in fixes:
                v = t.get(("sec/op", row, fx))
                cells.append(f"{v['center'] * 1e9:.4g}{fmt_ci(v['ci'])}" if v else "-")
            g = {"": "1", "-2": "2", "-8": "8"}[cpu]
            out.append(f"| {read}% | {g} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def relative_table(stats, path, fixes):
    """Markdown: each fix's ns/op as a multiple of the mutex's in the same
    cell (bold where benchstat's p < 0.05)."""
    t = stats.table(path, "fix")
    out = ["| reads | goroutines | " + " | ".join(fixes) + " |",
           "|---|---|" + "---|" * len(fixes)]
    for read in (100, 95, 50):
        for cpu in ("", "-2", "-8"):
            row = f"Fix/read={read}{cpu}"
            base = t.get(("sec/op", row, "mutex"))
            cells = []
            for fx in fixes:
                v = t.get(("sec/op", row, fx))
                if not v or not base:
                    cells.append("-")
                    continue
                r = v["center"] / base["center"]
                txt = f"{r:.2f}" if r < 100 else f"{r:.0f}"
                sig = fx != "mutex" and v.get("p") is not None and v["p"] < ALPHA
                cells.append(f"**{txt}**" if sig else txt)
            g = {"": "1", "-2": "2", "-8": "8"}[cpu]
            out.append(f"| {read}% | {g} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def toolchain_table(benchstat, outdir):
    """benchstat go1.19 vs go1.26 for the fix matrix: the text, saved, and
    a compact matrix of the deltas."""
    raw = os.path.join(outdir, "raw")
    a, b = os.path.join(raw, "go1.19-fix.txt"), os.path.join(raw, "go1.26-fix.txt")
    if not (os.path.exists(a) and os.path.exists(b)):
        return "(not run)"
    lines = []
    if benchstat:
        try:
            for sec in ("fix", "claim1", "claim2", "claim3", "claim4"):
                fa, fb = os.path.join(raw, f"go1.19-{sec}.txt"), os.path.join(raw, f"go1.26-{sec}.txt")
                if os.path.exists(fa) and os.path.exists(fb):
                    txt = subprocess.run([benchstat, f"go1.19={fa}", f"go1.26={fb}"], check=True,
                                         capture_output=True, text=True).stdout
                    with open(os.path.join(outdir, "benchstat", f"{sec}.go1.19-vs-go1.26.txt"),
                              "w") as f:
                        f.write(txt)
        except (OSError, subprocess.CalledProcessError) as e:
            print(f"verdicts.py: benchstat go1.19 vs go1.26 failed: {e}", file=sys.stderr)
    ra, rb = read_raw(a), read_raw(b)
    lines.append("| fix | reads | 1 goroutine | 2 goroutines | 8 goroutines |")
    lines.append("|---|---|---|---|---|")
    for fx in FIXES:
        for read in (100, 95, 50):
            cells = []
            for cpu in ("", "-2", "-8"):
                k = (f"Fix/fix={fx}/read={read}{cpu}", "sec/op")
                if k in ra and k in rb:
                    ma, mb = statistics.median(ra[k]), statistics.median(rb[k])
                    p = mann_whitney_p(ra[k], rb[k])
                    d = (mb / ma - 1) * 100
                    cells.append(f"{d:+.0f}%" if p is not None and p < ALPHA else f"~ ({d:+.0f}%)")
                else:
                    cells.append("-")
            lines.append(f"| {fx} | {read}% | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_costs(outdir, stats, benchstat):
    raw = os.path.join(outdir, "raw")
    parts = [f"Statistics: {stats.source}. ns/op = wall time / all goroutines' operations "
             "(the inverse of throughput); 1,000 keys; a write stores into an existing key.\n"]
    for tc in TOOLCHAINS:
        p = os.path.join(raw, f"{tc}-fix.txt")
        if os.path.exists(p):
            parts.append(f"### Go: {tc}, ns/op\n\n" + cost_table(stats, p, FIXES) + "\n")
    p = os.path.join(raw, "c-fix.txt")
    if os.path.exists(p):
        parts.append("### C: the harness's remedies over the core, ns/op\n\n"
                     + cost_table(stats, p, FIXES[:5]) + "\n")
    for tc in TOOLCHAINS:
        p = os.path.join(raw, f"{tc}-fix.txt")
        if os.path.exists(p):
            parts.append(f"### Go: {tc}, as a multiple of the mutex (bold: p < 0.05)\n\n"
                         + relative_table(stats, p, FIXES) + "\n")
    p = os.path.join(raw, "c-fix.txt")
    if os.path.exists(p):
        parts.append("### C, as a multiple of the mutex (bold: p < 0.05)\n\n"
                     + relative_table(stats, p, FIXES[:5]) + "\n")
    parts.append("### Go 1.26 against Go 1.19 (ns/op change; ~ = p >= 0.05, own "
                 "Mann-Whitney test)\n\n" + toolchain_table(benchstat, outdir) + "\n")
    with open(os.path.join(outdir, "costs.md"), "w") as f:
        f.write("\n".join(parts))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--benchstat")
    ap.add_argument("out")
    args = ap.parse_args()
    stats = Stats(args.benchstat, args.out)
    rows = write_tables(args.out, stats)
    write_costs(args.out, stats, args.benchstat)
    w = max(len(r["verdict"]) for r in rows)
    for r in rows:
        print(f"{r['id']:3} {r['go']:7} {r['verdict']:{w}}  {r['cond']}: {r['why']}")
    print(f"tables: {args.out}/table.md, {args.out}/costs.md")


if __name__ == "__main__":
    main()
