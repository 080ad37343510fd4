// 3.1 value-receiver-copy, Go twin of 3.1-value-receiver-copy.c: a struct
// holding a map is passed by value to a method with a value receiver; each
// goroutine has its own copy, yet every copy shares one map.
//
// Shape:   two goroutines, each with its own copy of Tracker, call
//          t.Mark(i%64, i) 500 times with Gosched; 20 rounds.
// Expect:  fatal error: concurrent map writes (exit status 2)
// Fix:     one shared *SafeTracker with a mutex and a pointer receiver.

package main

import (
	"runtime"
	"sync"
)

type Tracker struct{ seen map[int]int }

func (t Tracker) Mark(k, v int) { t.seen[k] = v } // value receiver: t is a copy

type SafeTracker struct {
	mu   sync.Mutex
	seen map[int]int
}

func (t *SafeTracker) Mark(k, v int) { t.mu.Lock(); defer t.mu.Unlock(); t.seen[k] = v }

func main() {
	twinMain("3.1-value-receiver-copy", []string{"bad", "fixed"}, func(variant string) {
		if variant == "fixed" {
			t := &SafeTracker{seen: map[int]int{}}
			marker := func() {
				for i := 0; i < 500; i++ {
					t.Mark(i%64, i)
					runtime.Gosched()
				}
			}
			twinRun(20, marker, marker)
			return
		}
		t := Tracker{seen: map[int]int{}}
		marker := func(t Tracker) func() { // each goroutine gets its own copy
			return func() {
				for i := 0; i < 500; i++ {
					t.Mark(i%64, i)
					runtime.Gosched()
				}
			}
		}
		twinRun(20, marker(t), marker(t))
	})
}
