// 4.2 cancelled-worker, Go twin of 4.2-cancelled-worker.c: a worker checks
// its context only between batches of writes; the owner cancels and at once
// reads the map, without waiting for the worker to stop.
//
// Shape:   64 results; 100 jobs one after another: start the worker (writes
//          64 keys with Gosched, then checks ctx.Err()), sleep 50-249 us
//          (--seed), cancel(), read the 64 results with Gosched.
// Expect:  fatal error: concurrent map read and map write (exit status 2)
// Fix:     cancellation that is waited for: cancel(), then wg.Wait().

package main

import (
	"context"
	"math/rand"
	"runtime"
	"sync"
	"time"
)

func main() {
	twinMain("4.2-cancelled-worker", []string{"bad", "fixed"}, func(variant string) {
		results := make(map[int]int, 64)
		for j := 0; j < 64; j++ {
			results[j] = 0
		}
		job := func(waitForWorker bool) {
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					for j := 0; j < 64; j++ {
						results[j] = j
						runtime.Gosched()
					}
					if ctx.Err() != nil { // the check comes only after a whole batch
						return
					}
				}
			}()
			time.Sleep(time.Duration(50+rand.Intn(200)) * time.Microsecond)
			cancel()
			if waitForWorker {
				wg.Wait()
			}
			total := 0
			for j := 0; j < 64; j++ {
				total += results[j]
				runtime.Gosched()
			}
			sink = total
			wg.Wait()
		}
		for i := 0; i < 100; i++ {
			job(variant == "fixed")
		}
	})
}
