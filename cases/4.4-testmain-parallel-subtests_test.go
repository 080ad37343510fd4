// 4.4 testmain-parallel-subtests, Go twin of 4.4-testmain-parallel-subtests.c:
// TestMain fills a shared map once, then parallel subtests update it. A real
// test, built with go test -c and run as a binary (see cases/go.md); it
// takes the twins' command line and runs itself as go test -v -count=20.
//
// Shape:   fixtures := map[string]int{"base": 1}; TestScores runs 4 subtests
//          (alice bob carol dave) with t.Parallel(), each writing and
//          reading fixtures[name] 250 times with Gosched; -count=20.
// Expect:  fatal error: concurrent map writes (exit status 2); natural runs
//          may also end with "concurrent map read and map write"
// Fix:     per-subtest state: each subtest works on its own copy of the
//          fixtures, which are only read once TestMain has built them.

package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"testing"
)

var (
	fixtures map[string]int // built by TestMain
	fixed    bool
)

func score(name string) int { return len(name) * 10 }

func TestScores(t *testing.T) {
	for _, name := range []string{"alice", "bob", "carol", "dave"} {
		name := name
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m := fixtures // shared!
			if fixed {    // this subtest's own copy; copying only reads
				m = make(map[string]int, len(fixtures)+1)
				for k, v := range fixtures {
					m[k] = v
				}
			}
			for i := 0; i < 250; i++ {
				m[name] = score(name) + i
				if m[name] < score(name) {
					t.Fatalf("fixtures[%q] = %d", name, m[name])
				}
				runtime.Gosched()
			}
		})
	}
}

func TestMain(m *testing.M) {
	fixed = twinArgs("4.4-testmain-parallel-subtests", []string{"bad", "fixed"}, os.Args) == "fixed"
	fixtures = map[string]int{"base": 1}
	// The twin's own options are parsed; run as `go test -v -count=20`.
	flag.CommandLine.Parse([]string{"-test.v", "-test.count=20", "-test.run=^TestScores$"})
	code := m.Run()
	if code == 0 {
		fmt.Println("DONE")
	}
	os.Exit(code)
}
