// delete-while-writing, Go twin of delete-while-writing.c: two goroutines
// delete their own keys from one map. A delete is a write.
//
// Shape:   2*500+64 keys filled first; deleter w deletes key 2*i+w, 500
//          times with Gosched; 20 rounds of fresh goroutines.
// Expect:  fatal error: concurrent map writes (exit status 2)
// Fix:     a sync.Mutex around every delete.

package main

import (
	"runtime"
	"sync"
)

func main() {
	twinMain("delete-while-writing", []string{"bad", "fixed"}, func(variant string) {
		fixed := variant == "fixed"
		var mu sync.Mutex
		n := 2*500 + 64
		m := make(map[int]int, n)
		for k := 0; k < n; k++ {
			m[k] = k
		}
		deleter := func(w int) func() {
			return func() {
				for i := 0; i < 500; i++ {
					if fixed {
						mu.Lock()
					}
					delete(m, 2*i+w)
					if fixed {
						mu.Unlock()
					}
					runtime.Gosched()
				}
			}
		}
		twinRun(20, deleter(0), deleter(1))
	})
}
