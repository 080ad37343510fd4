// yield.go -- what runtime.Gosched() and a goroutine start cost, and how
// often two goroutines of a natural case really run at the same time; the
// C side is bench/yield/yield.c.
//
//	go run bench/yield/yield.go
//
// The probe runs case 2.1's shape (two goroutines, 500 loops with Gosched,
// 20 rounds) 20 times; each goroutine notes the OS thread it runs on
// (gettid) every loop, and counts its loops in which the other goroutine,
// still looping, was last seen on another thread. On a busy machine the
// second P's thread is often not running, so both goroutines take turns on
// one thread and cannot overlap; a C thread cannot share its thread.

package main

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	const yields, starts = 1000000, 200
	t := time.Now()
	for i := 0; i < yields; i++ {
		runtime.Gosched()
	}
	fmt.Printf("runtime.Gosched: %.0f ns per call\n", float64(time.Since(t).Nanoseconds())/yields)

	var sum, worst time.Duration
	for i := 0; i < starts; i++ {
		var d time.Duration
		var wg sync.WaitGroup
		wg.Add(1)
		t0 := time.Now()
		go func() { d = time.Since(t0); wg.Done() }()
		wg.Wait()
		sum += d
		if d > worst {
			worst = d
		}
	}
	fmt.Printf("goroutine start: %.1f us mean, %.1f us worst\n",
		float64(sum.Nanoseconds())/starts/1e3, float64(worst.Nanoseconds())/1e3)

	var apart, together int64
	for r := 0; r < 20*20; r++ {
		var tid [2]atomic.Int64
		var active [2]atomic.Bool
		var wg sync.WaitGroup
		wg.Add(2)
		for g := 0; g < 2; g++ {
			go func(g int) {
				defer wg.Done()
				active[g].Store(true)
				for i := 0; i < 500; i++ {
					me := int64(syscall.Gettid())
					tid[g].Store(me)
					if active[1-g].Load() {
						if o := tid[1-g].Load(); o != 0 && o != me {
							atomic.AddInt64(&apart, 1)
						} else {
							atomic.AddInt64(&together, 1)
						}
					}
					runtime.Gosched()
				}
				active[g].Store(false)
			}(g)
		}
		wg.Wait()
	}
	fmt.Printf("loops while both loop: %d on two threads, %d on one (%.0f%% apart)\n",
		apart, together, 100*float64(apart)/float64(apart+together))
}
