// control-nil-map-read, Go twin of control-nil-map-read.c: reading, comma-ok
// lookup, len, range and delete on a nil map from four goroutines at once.
// All fine. (The C case also clears and clones the nil map; clear and
// maps.Clone need Go 1.21, so this twin, built by Go 1.19, leaves them out.)
//
// Shape:   4 readers, 2000 loops each, Gosched after each loop.
// Expect:  no error: prints DONE, exit 0.

package main

import (
	"fmt"
	"os"
	"runtime"
)

func main() {
	twinMain("control-nil-map-read", []string{"control"}, func(string) {
		reader := func() {
			var m map[string]int // nil
			for i := 0; i < 2000; i++ {
				v, ok := m["a"]
				if m["a"] != 0 || ok || v != 0 || len(m) != 0 {
					fmt.Fprintln(os.Stderr, "a nil map read returned something")
					os.Exit(70)
				}
				for range m {
					fmt.Fprintln(os.Stderr, "range over a nil map visited an entry")
					os.Exit(70)
				}
				delete(m, "a")
				runtime.Gosched()
			}
		}
		twinRun(1, reader, reader, reader, reader)
	})
}
