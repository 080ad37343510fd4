// control-gc-only, Go twin of control-gc-only.c: one goroutine writes a map
// while the real garbage collector runs; the collector never goes through
// the map API, so it never fails.
//
// Shape:   a churner allocates 64..4159-byte slices (--seed) into 64 slots
//          and calls runtime.GC() every 64 allocations; the one owner
//          writes 20000 keys (growing the map), Gosched every 64 writes.
// Expect:  no error: prints DONE, exit 0.

package main

import (
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
)

func main() {
	twinMain("control-gc-only", []string{"control"}, func(string) {
		var stop atomic.Bool
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			var heap [64][]byte
			for i := 0; !stop.Load(); i++ {
				heap[i%64] = make([]byte, 64+rand.Intn(4096))
				heap[i%64][0] = byte(i)
				if i%64 == 0 {
					runtime.GC()
				}
				runtime.Gosched()
			}
		}()
		m := map[int]int{}
		for i := 0; i < 20000; i++ {
			m[i] = i // grows the table again and again
			if i%64 == 0 {
				runtime.Gosched()
			}
		}
		stop.Store(true)
		wg.Wait()
		if len(m) != 20000 {
			fmt.Fprintf(os.Stderr, "len %d after 20000 writes\n", len(m))
			os.Exit(70)
		}
	})
}
