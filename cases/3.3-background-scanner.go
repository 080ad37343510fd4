// 3.3 background-scanner, Go twin of 3.3-background-scanner.c: a background
// goroutine ranges over a map (an exporter) while the owner keeps writing it.
//
// Shape:   64 keys filled first; the owner writes metrics[i%64] = i 500
//          times, the exporter ranges over the map 100 times; Gosched after
//          each; 20 rounds of fresh goroutines.
// Expect:  fatal error: concurrent map iteration and map write (exit status 2)
// Fix:     copy-on-write: the owner publishes a new version (atomic.Pointer)
//          every batch of 16 updates; the exporter ranges over the published
//          version, which nobody writes.

package main

import (
	"runtime"
	"sync/atomic"
)

func main() {
	twinMain("3.3-background-scanner", []string{"bad", "fixed"}, func(variant string) {
		fixed := variant == "fixed"
		metrics := make(map[int]int, 64)
		for k := 0; k < 64; k++ {
			metrics[k] = k
		}
		var cow atomic.Pointer[map[int]int]
		cow.Store(&metrics)
		owner := func() {
			step := 1
			if fixed {
				step = 16
			}
			for i := 0; i < 500; i += step {
				if fixed { // clone, apply the batch, publish
					next := make(map[int]int, 64)
					for k, v := range *cow.Load() {
						next[k] = v
					}
					for j := i; j < i+16; j++ {
						next[j%64] = j
					}
					cow.Store(&next)
				} else {
					metrics[i%64] = i
				}
				runtime.Gosched()
			}
		}
		exporter := func() {
			exported := 0
			for i := 0; i < 100; i++ {
				m := metrics
				if fixed {
					m = *cow.Load()
				}
				for _, v := range m {
					exported += v
				}
				runtime.Gosched()
			}
			sink = exported
		}
		twinRun(20, owner, exporter)
	})
}
