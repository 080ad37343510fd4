// 2.3 syncmap-inner-map, Go twin of 2.3-syncmap-inner-map.c: a plain map
// stored in a sync.Map is loaded out, then written and read directly by two
// goroutines. The sync.Map is safe; the map inside it is not.
//
// Shape:   users.Store(1, map[int]int{16 keys}); a writer and a reader each
//          loop 500 times (Load, then write/read key i%16, Gosched); 20 rounds.
// Expect:  fatal error: concurrent map read and map write (exit status 2)
// Fix:     the inner value is copy-on-write: readers read the published
//          version (atomic.Pointer); the writer clones it under a mutex,
//          changes the clone and publishes it.

package main

import (
	"runtime"
	"sync"
	"sync/atomic"
)

type cowMap struct {
	mu  sync.Mutex // one writer at a time
	cur atomic.Pointer[map[int]int]
}

func (c *cowMap) set(k, v int) {
	c.mu.Lock()
	next := make(map[int]int, len(*c.cur.Load())+1)
	for key, val := range *c.cur.Load() {
		next[key] = val
	}
	next[k] = v
	c.cur.Store(&next)
	c.mu.Unlock()
}

func main() {
	twinMain("2.3-syncmap-inner-map", []string{"bad", "fixed"}, func(variant string) {
		fixed := variant == "fixed"
		inner := make(map[int]int, 16)
		for k := 0; k < 16; k++ {
			inner[k] = k
		}
		var users sync.Map // user id -> map[int]int (bad) or *cowMap (fixed)
		if fixed {
			cow := &cowMap{}
			cow.cur.Store(&inner)
			users.Store(1, cow)
		} else {
			users.Store(1, inner)
		}
		writer := func() {
			for i := 0; i < 500; i++ {
				v, _ := users.Load(1)
				if fixed {
					v.(*cowMap).set(i%16, i)
				} else {
					v.(map[int]int)[i%16] = i
				}
				runtime.Gosched()
			}
		}
		reader := func() {
			sum := 0
			for i := 0; i < 500; i++ {
				v, _ := users.Load(1)
				if fixed {
					sum += (*v.(*cowMap).cur.Load())[i%16]
				} else {
					sum += v.(map[int]int)[i%16]
				}
				runtime.Gosched()
			}
			sink = sum
		}
		twinRun(20, writer, reader)
	})
}
