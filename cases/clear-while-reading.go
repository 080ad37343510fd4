//go:build go1.21

// clear-while-reading, Go twin of clear-while-reading.c: one goroutine
// clears a map (clear, Go 1.21) and refills it while another reads it.
//
// Shape:   8 keys filled first; a clearer loops 250 times (clear(m), then
//          refill 8 keys), a reader reads m[i%8] 500 times; Gosched after
//          each; 20 rounds of fresh goroutines.
// Expect:  fatal error: concurrent map read and map write (exit status 2)
// Fix:     a sync.RWMutex: reads under RLock; clear and refill under Lock.

package main

import (
	"runtime"
	"sync"
)

func main() {
	twinMain("clear-while-reading", []string{"bad", "fixed"}, func(variant string) {
		fixed := variant == "fixed"
		var mu sync.RWMutex
		m := make(map[int]int, 8)
		for k := 0; k < 8; k++ {
			m[k] = k
		}
		clearer := func() {
			for i := 0; i < 250; i++ {
				if fixed {
					mu.Lock()
				}
				clear(m)
				for k := 0; k < 8; k++ {
					m[k] = i
				}
				if fixed {
					mu.Unlock()
				}
				runtime.Gosched()
			}
		}
		reader := func() {
			sum := 0
			for i := 0; i < 500; i++ {
				if fixed {
					mu.RLock()
				}
				sum += m[i%8]
				if fixed {
					mu.RUnlock()
				}
				runtime.Gosched()
			}
			sink = sum
		}
		twinRun(20, clearer, reader)
	})
}
