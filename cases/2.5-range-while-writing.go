// 2.5 range-while-writing, Go twin of 2.5-range-while-writing.c: one
// goroutine ranges over a map while another writes it.
//
// Shape:   64 keys filled first; a writer loops 500 times (m[i%64] = i), a
//          ranger ranges over the whole map 100 times; Gosched after each;
//          20 rounds of fresh goroutines.
// Expect:  fatal error: concurrent map iteration and map write (exit status 2)
// Fix:     a sync.RWMutex: the range holds RLock from start to end.

package main

import (
	"runtime"
	"sync"
)

func main() {
	twinMain("2.5-range-while-writing", []string{"bad", "fixed"}, func(variant string) {
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
		ranger := func() {
			sum := 0
			for i := 0; i < 100; i++ {
				if fixed {
					mu.RLock()
				}
				for k, v := range m {
					sum += k + v
				}
				if fixed {
					mu.RUnlock()
				}
				runtime.Gosched()
			}
			sink = sum
		}
		twinRun(20, writer, ranger)
	})
}
