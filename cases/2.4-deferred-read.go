// 2.4 deferred-read, Go twin of 2.4-deferred-read.c: a deferred read of a
// map (cleanup that logs a total) runs while another goroutine writes it.
//
// Shape:   stats := map[string]int{"total": 0}; a writer sets stats["total"]
//          500 times; a handler calls handle() 500 times, whose deferred
//          func reads stats["total"]; Gosched after each; 20 rounds.
// Expect:  fatal error: concurrent map read and map write (exit status 2)
// Fix:     the deferred read runs under the writer's mutex:
//          mu.Lock(); defer mu.Unlock(); defer logTotal()

package main

import (
	"runtime"
	"sync"
)

var work int

func main() {
	twinMain("2.4-deferred-read", []string{"bad", "fixed"}, func(variant string) {
		fixed := variant == "fixed"
		var mu sync.Mutex
		stats := map[string]int{"total": 0}
		logged := 0
		handle := func(i int) {
			if fixed {
				mu.Lock()
				defer mu.Unlock() // runs second
			}
			defer func() { logged += stats["total"] }() // runs first
			for k := 0; k < 16; k++ {                   // the request's own work
				work += k * i
			}
		}
		writer := func() {
			for i := 0; i < 500; i++ {
				if fixed {
					mu.Lock()
				}
				stats["total"] = i
				if fixed {
					mu.Unlock()
				}
				runtime.Gosched()
			}
		}
		handler := func() {
			for i := 0; i < 500; i++ {
				handle(i)
				runtime.Gosched()
			}
			sink = logged
		}
		twinRun(20, writer, handler)
	})
}
