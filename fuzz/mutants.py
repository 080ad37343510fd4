#!/usr/bin/env python3
"""Shows that the differential fuzzer can fail: plants known bugs in a copy
of the core and expects fuzz_core to report a divergence for each.

    python3 fuzz/mutants.py [SECONDS_PER_MUTANT]   (default 120)

Each mutant is a small edit of core/ made in a temporary copy of the tree
(the work tree is never touched); the fuzzer is built against the copy with
fuzz/build.sh and run from the seed corpus, in one process at low priority.
A mutant "is caught" when the run ends with a DIVERGENCE line. Exit status
0 when every mutant is caught, 1 otherwise, 2 when a mutant no longer
applies (the core changed: update the mutant).
"""
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (name, file, original text, replacement, what the bug is)
MUTANTS = [
    ("iter-no-split-filter", "core/map.c",
     "\t\t\t\tif ((hash & (ib->nbuckets - 1)) != checkBucket)\n\t\t\t\t\tcontinue;\n",
     "\t\t\t\t(void)hash;\n",
     "an iterator reading an old bucket during a doubling keeps the entries "
     "of both new buckets (entries produced twice)"),
    ("clear-keeps-old-array", "core/map.c",
     "\tif (old != NULL)\n\t\tmark_array_empty(m, old);\n",
     "\t(void)old;\n",
     "clear during a grow leaves the old array's slots live for iterators "
     "(Go issue 59411)"),
    ("fast64-ignores-empty", "core/map_impl.h",
     "\t\t\t\tif (*(const int64_t *)key_at(b, 8, i) == *(const int64_t *)key &&\n"
     "\t\t\t\t    !is_empty(th[i])) {\n",
     "\t\t\t\tif (*(const int64_t *)key_at(b, 8, i) == *(const int64_t *)key) {\n",
     "the int64 lookup matches a deleted slot whose key bytes equal the key"),
    ("evacuate-drops-y-elem", "core/map.c",
     "\t\t\t\tmemcpy(elem_at(h, d->b, d->i), elem_at(h, b, i), h->elemsize);\n",
     "\t\t\t\tif (!usey)\n\t\t\t\t\tmemcpy(elem_at(h, d->b, d->i), elem_at(h, b, i), "
     "h->elemsize);\n",
     "a doubling copies the elems of entries moving to the upper half as zero"),
    ("swiss-iter-trusts-stale-table", "core/swiss_map.c",
     "\t\t\tif (GM_LOAD(&t->index) == -1 && !grown_key_elem(it, &key, &elem))\n",
     "\t\t\tif (0)\n",
     "a Swiss iterator walking a table replaced by a grow or split returns its "
     "old entries as they were (deleted keys, stale values)"),
    ("swiss-delete-always-empties", "core/swiss_impl.h",
     "\t\t\tif (sw_match_empty(ctrl) != 0) {\n\t\t\t\tsw_set_ctrl(g, i, SW_CTRL_EMPTY);\n",
     "\t\t\tif (1) {\n\t\t\t\tsw_set_ctrl(g, i, SW_CTRL_EMPTY);\n",
     "a Swiss delete empties a slot of a full group instead of leaving a "
     "tombstone, cutting the probe sequences that pass through it"),
]


def main():
    secs = int(sys.argv[1]) if len(sys.argv) > 1 else 120
    caught = 0
    for name, path, old, new, what in MUTANTS:
        with tempfile.TemporaryDirectory(prefix="gomap-mutant-") as tmp:
            for d in ("core", "fuzz"):
                shutil.copytree(os.path.join(ROOT, d), os.path.join(tmp, d))
            # fuzz/build.sh links both generations with this script
            os.makedirs(os.path.join(tmp, "bench"))
            shutil.copy(os.path.join(ROOT, "bench", "rename-symbols.sh"),
                        os.path.join(tmp, "bench"))
            src = os.path.join(tmp, path)
            with open(src) as f:
                text = f.read()
            if text.count(old) != 1:
                print(f"{name}: does not apply any more ({path} changed)")
                sys.exit(2)
            with open(src, "w") as f:
                f.write(text.replace(old, new))
            out = os.path.join(tmp, "out")
            subprocess.run([os.path.join(tmp, "fuzz", "build.sh"), out], check=True,
                           stdout=subprocess.DEVNULL)
            corpus = os.path.join(tmp, "corpus")
            os.makedirs(corpus)
            run = subprocess.run(
                ["nice", "-n", "10", os.path.join(out, "fuzz_core"),
                 f"-max_total_time={secs}", "-timeout=60",
                 f"-artifact_prefix={tmp}/", corpus, os.path.join(ROOT, "fuzz", "corpus")],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            lines = [l for l in run.stdout.splitlines() if l.startswith("DIVERGENCE")]
            execs = [l for l in run.stdout.splitlines() if l.startswith("#")]
            if lines:
                caught += 1
                when = (f"after {execs[-1].split()[0]} executions" if execs
                        else "while replaying the seeds")
                print(f"{name}: caught {when}: {lines[0]}")
            else:
                print(f"{name}: NOT caught in {secs} s ({what})")
    print(f"{caught}/{len(MUTANTS)} mutants caught")
    sys.exit(0 if caught == len(MUTANTS) else 1)


if __name__ == "__main__":
    main()
