// control-same-goroutine-defer, Go twin of control-same-goroutine-defer.c:
// the write and the deferred read are in the same goroutine. Never fails.
//
// Shape:   one worker, 2000 rounds: update() writes totals["total"] 8 times,
//          its deferred func reads it back (must be 7); Gosched each round.
// Expect:  no error: prints DONE, exit 0.

package main

import (
	"fmt"
	"os"
	"runtime"
)

func main() {
	twinMain("control-same-goroutine-defer", []string{"control"}, func(string) {
		totals := map[string]int{}
		seen := 0
		update := func(n int) {
			defer func() { seen = totals["total"] }() // after the body, same goroutine
			for i := 0; i < n; i++ {
				totals["total"] = i
			}
		}
		worker := func() {
			for round := 0; round < 2000; round++ {
				update(8)
				if seen != 7 {
					fmt.Fprintf(os.Stderr, "deferred read saw %d, want 7\n", seen)
					os.Exit(70)
				}
				runtime.Gosched()
			}
		}
		twinRun(1, worker)
	})
}
