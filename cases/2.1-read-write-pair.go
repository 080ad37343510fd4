// 2.1 read-write-pair, Go twin of 2.1-read-write-pair.c: one goroutine
// reads a map while another writes it, with no synchronisation.
//
// Shape:   64 keys filled first; a writer and a reader each loop 500 times
//          with runtime.Gosched(); 20 rounds of fresh goroutines.
// Expect:  fatal error: concurrent map read and map write (exit status 2)
// Fix:     a sync.RWMutex: the reader takes RLock, the writer Lock.

package main

import (
	"runtime"
	"sync"
)

func main() {
	twinMain("2.1-read-write-pair", []string{"bad", "fixed"}, func(variant string) {
		fixed := variant == "fixed"
		var mu sync.RWMutex
		m := make(map[int]int, 64)
		for k := 0; k < 64; k++ {
			m[k] = k
		}
		writer := func() {
			for i := 0; i < 500; i++ {
				if fixed {
					mu.Lock()
				}
				m[i%64] = i
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
				sum += m[i%64]
				if fixed {
					mu.RUnlock()
				}
				runtime.Gosched()
			}
			sink = sum
		}
		twinRun(20, writer, reader)
	})
}
