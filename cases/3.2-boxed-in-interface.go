// 3.2 boxed-in-interface, Go twin of 3.2-boxed-in-interface.c: a map boxed
// in an interface{} is handed to two goroutines, unboxed and written by both.
//
// Shape:   var v interface{} = map[int]int{}; two workers each unbox it and
//          write m[i%64] = i 500 times with Gosched; 20 rounds.
// Expect:  fatal error: concurrent map writes (exit status 2)
// Fix:     box a value that carries its own lock (*SafeMap).

package main

import (
	"runtime"
	"sync"
)

type SafeMap struct {
	mu sync.Mutex
	m  map[int]int
}

func main() {
	twinMain("3.2-boxed-in-interface", []string{"bad", "fixed"}, func(variant string) {
		var v interface{} = map[int]int{}
		if variant == "fixed" {
			v = &SafeMap{m: map[int]int{}}
		}
		work := func(v interface{}) func() {
			return func() {
				for i := 0; i < 500; i++ {
					switch x := v.(type) {
					case *SafeMap:
						x.mu.Lock()
						x.m[i%64] = i
						x.mu.Unlock()
					case map[int]int:
						x[i%64] = i
					}
					runtime.Gosched()
				}
			}
		}
		twinRun(20, work(v), work(v))
	})
}
