// 2.2 unsynchronised-goroutines, Go twin of 2.2-unsynchronised-goroutines.c:
// four goroutines write their own keys of one map and read a shared key.
//
// Shape:   m := map[int]int{0: 0}; 4 workers, 250 loops each: m[w*1000+i%64]
//          = i, read m[0], runtime.Gosched(); 20 rounds of fresh goroutines.
// Expect:  fatal error: concurrent map writes (exit status 2); natural runs
//          may also end with "concurrent map read and map write"
// Fix:     sharded locks: 16 maps, each behind its own sync.Mutex.

package main

import (
	"runtime"
	"sync"
)

type shard struct {
	mu sync.Mutex
	m  map[int]int
}

type shardMap [16]shard

func (s *shardMap) at(k int) *shard { return &s[uint(k)%16] }

func (s *shardMap) set(k, v int) { sh := s.at(k); sh.mu.Lock(); sh.m[k] = v; sh.mu.Unlock() }

func (s *shardMap) get(k int) int { sh := s.at(k); sh.mu.Lock(); defer sh.mu.Unlock(); return sh.m[k] }

func main() {
	twinMain("2.2-unsynchronised-goroutines", []string{"bad", "fixed"}, func(variant string) {
		fixed := variant == "fixed"
		m := map[int]int{0: 0}
		var safe shardMap
		for i := range safe {
			safe[i].m = map[int]int{}
		}
		safe.set(0, 0)
		worker := func(w int) func() {
			return func() {
				seen := 0
				for i := 0; i < 250; i++ {
					key := w*1000 + i%64
					if fixed {
						safe.set(key, i)
						seen = safe.get(0)
					} else {
						m[key] = i
						seen = m[0]
					}
					runtime.Gosched()
				}
				sink = seen
			}
		}
		twinRun(20, worker(1), worker(2), worker(3), worker(4))
	})
}
