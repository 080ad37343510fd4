#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_core (fuzz/corpus/) from readable programs.

Each seed is a short operation program in the byte encoding that
fuzz_core.c decodes (see run_op there): one byte selects the operation
(byte % 15) and, in its top bit, the typed helpers; the operands follow.
The seeds steer the fuzzer straight to the interesting states: multi-stage
growth, same-size growth, mutations during an iteration, clones taken in
the middle of a grow, huge hints, nil maps, bad hashes and long keys; for
the Swiss map table splits and directory doubling under an iteration,
tombstone pruning, and keys over 128 bytes. Every seed runs against both
generations.
Run it again after changing the encoding: python3 fuzz/make_seeds.py
"""
import os
import struct

(MAKE, SET, SET2, READ, READ2, DELETE, CLEAR, CLONE, LEN, ITERATE, BULK_SET,
 BULK_DELETE, CHURN, VERIFY, SWITCH) = range(15)
RANGES = [4, 9, 16, 64, 256, 1024, 4096]
HINTS = [0, 1, 7, 8, 9, 13, 14, 27, 52, 53, 100, 1000, 4096, 65536]
KIND = {"i64": 0, "str": 1, "gen": 2, "f64": 3, "zst": 4}
# iteration control bytes (low 4 bits)
STEP, IDEL, IDELCUR, ISET, IRUN, ICLEAR, IREAD, IBREAK, IDRAIN = 0, 7, 9, 10, 13, 14, 15, 31, 47


def opb(op, typed=False, hi=0):
    """The op byte for `op`, with the typed bit, and bits 4.. == hi mod 5 (the kinds)."""
    for c in range(256):
        if c % 15 == op and bool(c & 0x80) == typed and (c >> 4) % 5 == hi % 5:
            return c
    raise ValueError(op)


class Prog:
    def __init__(self):
        self.b = bytearray()
        self.range = 9  # every map starts with range 9

    def key(self, k):
        self.b += struct.pack("<H", k) if self.range > 256 else bytes([k & 0xff])

    def switch(self, kind):
        self.b.append(opb(SWITCH, hi=KIND[kind]))
        # the new current map keeps its own range; seeds track only one
        return self

    def make(self, variant=0, hint=0, rng=4096, nil=False):
        self.range = rng
        self.b += bytes([opb(MAKE), 0xff if nil else variant, HINTS.index(hint),
                         RANGES.index(rng)])
        return self

    def set(self, k, v=1, typed=False):
        self.b.append(opb(SET, typed))
        self.key(k)
        self.b += struct.pack("<H", v)
        return self

    def read(self, k, how=0):
        self.b.append(opb(READ))
        self.key(k)
        self.b.append(how)
        return self

    def delete(self, k, typed=False):
        self.b.append(opb(DELETE, typed))
        self.key(k)
        return self

    def simple(self, op, typed=False):
        self.b.append(opb(op, typed))
        return self

    def clone(self, keep_clone):
        self.b += bytes([opb(CLONE), 1 if keep_clone else 0])
        return self

    def bulk(self, op, start, n, typed=False):
        self.b.append(opb(op, typed))
        self.key(start)
        self.b += struct.pack("<H", n)
        return self

    def churn(self, start, n, rounds, typed=False):
        self.b.append(opb(CHURN, typed))
        self.key(start)
        self.b += bytes([n - 1, rounds - 1])
        return self

    def iterate(self, *ctrl):
        """ctrl: a list of (what, operands...) applied between steps; the
        iteration then runs to its end (IDRAIN) unless ctrl ends in IBREAK."""
        self.b.append(opb(ITERATE))
        for c in ctrl:
            c = c if isinstance(c, tuple) else (c,)
            what, args = c[0], c[1:]
            self.b.append(what)
            if what in (IDEL, IDEL + 1):
                self.key(args[0])
            elif what in (ISET, ISET + 1, ISET + 2):
                self.key(args[0])
                self.b += struct.pack("<H", args[1])
            elif what == IRUN:
                self.key(args[0])
                self.b.append(args[1] - 1)
            elif what == IREAD:
                self.key(args[0])
                self.b.append(args[1])
        if not ctrl or ctrl[-1] != IBREAK:
            self.b.append(IDRAIN)
        return self


def seeds():
    s = {}
    # growth through every stage, then iterate with deletes and inserts
    p = Prog().make(0, 0, 4096).bulk(BULK_SET, 0, 3000, typed=True)
    p.iterate(STEP, STEP, (IDEL, 5), STEP, (ISET, 3500, 7), IDELCUR, STEP, (IRUN, 3600, 64),
              STEP, STEP)
    s["grow-stages-i64"] = p.simple(VERIFY).b
    # same-size growth: churn through the key space
    p = Prog().make(0, 0, 4096)
    for start in (0, 2048, 1024):
        p.churn(start, 64, 32)
    s["same-size-grow-i64"] = p.simple(VERIFY).b
    # clone in the middle of a grow, keep it and clone again
    p = Prog().make(0, 0, 4096).bulk(BULK_SET, 100, 200).clone(True).bulk(BULK_SET, 400, 60)
    s["clone-mid-grow"] = p.clone(False).simple(VERIFY).b
    # a large hint, then few entries and an iteration that clears the map
    p = Prog().make(0, 65536, 64).set(1).set(2).set(3)
    s["large-hint-clear-in-iteration"] = p.iterate(STEP, ICLEAR, STEP, (ISET, 9, 1), STEP).b
    # a clear in the middle of a grow that began under an iterator (Go issue 59411)
    p = Prog().make(0, 0, 256).bulk(BULK_SET, 0, 52)
    s["clear-mid-grow-in-iteration"] = p.iterate(STEP, (IRUN, 100, 1), ICLEAR, STEP).b
    # the string map: long shared prefixes, NUL bytes, the 70000-byte key (number 7)
    p = Prog().switch("str").make(0, 0, 256)
    for k in (0, 7, 5, 10, 15, 3, 6):
        p.set(k, k, typed=bool(k & 1))
    p.bulk(BULK_SET, 20, 200).iterate(STEP, (IDEL, 7), STEP, (IRUN, 30, 40), STEP)
    s["str-keys"] = p.delete(7).read(7).read(0, 4).simple(VERIFY).b
    # generic keys, four hash values for all keys: overflow chains, same-size grows
    p = Prog().switch("gen").make(2, 0, 256).bulk(BULK_SET, 0, 128).churn(128, 32, 4)
    p.iterate(STEP, (IDEL, 3), STEP, (IREAD, 4, 1), STEP, IBREAK)
    s["gen-four-hashes"] = p.iterate(STEP, (ISET, 200, 9), STEP).simple(VERIFY).b
    # generic keys, identity hash, 24-byte elems, a grow under an iteration
    p = Prog().switch("gen").make(7, 8, 1024).bulk(BULK_SET, 0, 40)
    p.iterate(STEP, (IRUN, 100, 64), STEP, (IRUN, 200, 64), STEP, IDELCUR, STEP)
    s["gen-identity-grow-in-iteration"] = p.clone(True).simple(VERIFY).b
    # nil maps: every operation but assignment
    p = Prog().make(nil=True, rng=16).read(3).read(3, 1).read(3, 4).delete(3)
    p.simple(CLEAR).clone(True).simple(LEN).iterate(STEP)
    s["nil-map"] = p.make(1, 9, 16).set(4).simple(VERIFY).b
    # float64 keys: +0 (0), -0 (1), NaN (2); NaN entries through a grow under an
    # iteration, then a clone and a clear (only clear removes NaN keys)
    p = Prog().switch("f64").make(1, 0, 256)
    for k in (0, 1, 2, 2, 2, 3, 4, 5, 1, 0):
        p.set(k, k)
    p.delete(2).read(2).read(1, 1).bulk(BULK_SET, 6, 100)
    p.iterate(STEP, (ISET, 2, 5), STEP, (IRUN, 120, 64), STEP, (ISET, 1, 9), STEP)
    s["f64-nan-and-zeros"] = p.clone(True).simple(CLEAR).set(2).simple(VERIFY).b
    # the same with four hash values: NaN keys in long chains, same-size grows
    p = Prog().switch("f64").make(3, 0, 256)
    for k in (2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 1):
        p.set(k, k)
    p.churn(6, 32, 8).iterate(STEP, (IRUN, 40, 64), STEP, IDELCUR, STEP)
    s["f64-four-hashes"] = p.simple(VERIFY).b
    # a key of size 0: one key, set, read, delete, iterate, clone
    p = Prog().switch("zst").make(1, 0, 4).set(0, 3).read(0).iterate(STEP, (ISET, 0, 4), STEP)
    s["zero-size-key"] = p.clone(False).delete(0).read(0, 1).set(0, 5).simple(VERIFY).b
    # deletes down to empty (new seed), then refill
    p = Prog().make(0, 0, 64).bulk(BULK_SET, 0, 64).bulk(BULK_DELETE, 0, 64)
    s["empty-and-refill"] = p.bulk(BULK_SET, 10, 50, typed=True).simple(VERIFY).b
    # Swiss map: a full 1024-slot table splits under an iteration (inserts
    # between steps), with deletes before and after the split
    p = Prog().make(0, 0, 4096).bulk(BULK_SET, 0, 880)
    p.iterate(STEP, (IDEL, 7), STEP, (IRUN, 900, 64), STEP, IDELCUR, (IRUN, 1000, 64), STEP,
              (IRUN, 1100, 64), STEP, (IDEL, 8), STEP, (IRUN, 1200, 64), STEP)
    s["swiss-split-in-iteration"] = p.simple(VERIFY).b
    # Swiss map: a hint of 4096 makes a directory of tables; splits double
    # it; a clone of the whole directory, then a clear under an iteration
    p = Prog().make(0, 4096, 4096).bulk(BULK_SET, 0, 3500).clone(True)
    p.bulk(BULK_DELETE, 100, 2000).iterate(STEP, STEP, ICLEAR, (ISET, 5, 3), STEP,
                                          (IRUN, 10, 64), STEP)
    s["swiss-directory-clone-clear"] = p.simple(VERIFY).b
    # Swiss map: churn in a small table piles up tombstones until they are
    # pruned instead of growing the table (Go issue 70886)
    p = Prog().make(0, 27, 1024).bulk(BULK_SET, 0, 20)
    p.churn(100, 8, 32).churn(500, 3, 32).iterate(STEP, IDELCUR, STEP, (ISET, 900, 1), STEP)
    s["swiss-tombstone-churn"] = p.simple(VERIFY).b
    # keys over 128 bytes (gen variants 8-15): a good hash with 24-byte
    # elems, grown and split under an iteration, cloned
    p = Prog().switch("gen").make(9, 0, 1024).bulk(BULK_SET, 0, 600)
    p.iterate(STEP, (IDEL, 3), STEP, (IRUN, 600, 64), STEP, IDELCUR, (IRUN, 700, 64), STEP)
    s["big-keys-grow-in-iteration"] = p.clone(False).churn(800, 16, 8).simple(VERIFY).b
    # big keys with the identity hash (no elem), from a small group to tables
    p = Prog().switch("gen").make(14, 1, 256).bulk(BULK_SET, 0, 8)
    p.iterate(STEP, (IRUN, 8, 64), STEP, (IRUN, 72, 64), STEP, ICLEAR, STEP)
    s["big-keys-identity-small-to-table"] = p.clone(True).simple(VERIFY).b
    # Swiss map: NaN and signed-zero keys through table grows and a split
    # under an iteration, then a clear during another iteration
    p = Prog().switch("f64").make(1, 0, 4096)
    for k in (2, 2, 0, 1, 2):
        p.set(k, k)
    p.bulk(BULK_SET, 6, 1000)
    p.iterate(STEP, (ISET, 2, 5), STEP, (IRUN, 1100, 64), STEP, (ISET, 0, 9), STEP)
    p.iterate(STEP, (ISET, 2, 6), ICLEAR, STEP, (ISET, 1, 2), STEP)
    s["f64-nan-split-clear-in-iteration"] = p.simple(VERIFY).b
    return s


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    os.makedirs(out, exist_ok=True)
    for name, data in seeds().items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
