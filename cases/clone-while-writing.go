//go:build go1.21

// clone-while-writing, Go twin of clone-while-writing.c: one goroutine
// clones a map (maps.Clone, Go 1.21) while another writes it.
//
// Shape:   64 keys filled first; a writer loops 500 times (m[i%64] = i), a
//          cloner clones the map 250 times; Gosched after each; 20 rounds.
// Expect:  fatal error: concurrent map clone and map write (exit status 2)
// Fix:     a sync.RWMutex: clone under RLock, write under Lock.

package main

import (
	"maps"
	"runtime"
	"sync"
)

func main() {
	twinMain("clone-while-writing", []string{"bad", "fixed"}, func(variant string) {
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
		cloner := func() {
			for i := 0; i < 250; i++ {
				if fixed {
					mu.RLock()
				}
				c := maps.Clone(m)
				if fixed {
					mu.RUnlock()
				}
				sink = len(c)
				runtime.Gosched()
			}
		}
		twinRun(20, writer, cloner)
	})
}
