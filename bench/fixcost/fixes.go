// Package fixcost holds the fixes the catalogue applies to a shared map, in
// Go, so that their costs can be measured side by side (fixcost_test.go).
//
// Every fix guards a map[int64]int64 and offers the same three operations.
// They mirror the C harness's remedies (harness/harness.h) and the Go twins
// of the cases' fixed variants:
//
//	MutexMap    sync.Mutex around every operation      (2.4, 3.1, 3.2, 4.1, 4.3, delete-while-writing)
//	RWMutexMap  sync.RWMutex: RLock to read, Lock to write (2.1, 2.5, clear-while-reading, clone-while-writing)
//	SyncMap     sync.Map                                (2.3's outer map)
//	ShardMap    16 maps, each with its own mutex        (2.2)
//	COWMap      atomic.Pointer to a map no one writes;  (2.3's inner map, 3.3)
//	            a writer copies it under a mutex
//	ChanMap     one goroutine owns the map, the others  (the hand-over shape 4.2's write-up mentions)
//	            send it requests on a channel
package fixcost

import (
	"sync"
	"sync/atomic"
)

// Fix is what every fix offers.
type Fix interface {
	Load(k int64) (int64, bool)
	Store(k, v int64)
	Delete(k int64)
	Close()
}

// New returns the fix called name ("mutex", "rwmutex", "syncmap",
// "shard", "cow", "chan"), filled with keys 0..n-1.
func New(name string, n int) Fix {
	var f Fix
	switch name {
	case "mutex":
		f = &MutexMap{m: make(map[int64]int64, n)}
	case "rwmutex":
		f = &RWMutexMap{m: make(map[int64]int64, n)}
	case "syncmap":
		f = &SyncMap{}
	case "shard":
		f = NewShardMap(16, n)
	case "cow":
		f = NewCOWMap(n)
	case "chan":
		f = NewChanMap(n)
	default:
		panic("fixcost: no fix " + name)
	}
	if c, ok := f.(*COWMap); ok {
		// One version with every key, not n copies.
		m := make(map[int64]int64, n)
		for k := 0; k < n; k++ {
			m[int64(k)] = int64(k)
		}
		c.p.Store(&m)
		return f
	}
	for k := 0; k < n; k++ {
		f.Store(int64(k), int64(k))
	}
	return f
}

// MutexMap: one sync.Mutex for every operation.
type MutexMap struct {
	mu sync.Mutex
	m  map[int64]int64
}

func (s *MutexMap) Load(k int64) (int64, bool) {
	s.mu.Lock()
	v, ok := s.m[k]
	s.mu.Unlock()
	return v, ok
}

func (s *MutexMap) Store(k, v int64) {
	s.mu.Lock()
	s.m[k] = v
	s.mu.Unlock()
}

func (s *MutexMap) Delete(k int64) {
	s.mu.Lock()
	delete(s.m, k)
	s.mu.Unlock()
}

func (s *MutexMap) Close() {}

// RWMutexMap: readers share an RLock, writers take the Lock.
type RWMutexMap struct {
	mu sync.RWMutex
	m  map[int64]int64
}

func (s *RWMutexMap) Load(k int64) (int64, bool) {
	s.mu.RLock()
	v, ok := s.m[k]
	s.mu.RUnlock()
	return v, ok
}

func (s *RWMutexMap) Store(k, v int64) {
	s.mu.Lock()
	s.m[k] = v
	s.mu.Unlock()
}

func (s *RWMutexMap) Delete(k int64) {
	s.mu.Lock()
	delete(s.m, k)
	s.mu.Unlock()
}

func (s *RWMutexMap) Close() {}

// SyncMap: sync.Map with int64 keys and values (boxed, as every user of
// sync.Map pays).
type SyncMap struct{ m sync.Map }

func (s *SyncMap) Load(k int64) (int64, bool) {
	v, ok := s.m.Load(k)
	if !ok {
		return 0, false
	}
	return v.(int64), true
}

func (s *SyncMap) Store(k, v int64) { s.m.Store(k, v) }
func (s *SyncMap) Delete(k int64)   { s.m.Delete(k) }
func (s *SyncMap) Close()           {}

// ShardMap: keys spread over a power-of-two number of maps by a
// multiplicative hash, each map with its own mutex.
type ShardMap struct {
	shift  uint
	shards []shard
}

type shard struct {
	mu sync.Mutex
	m  map[int64]int64
	_  [48]byte // 64 bytes a shard: neighbouring shards do not share a cache line
}

func NewShardMap(nshards, n int) *ShardMap {
	s := &ShardMap{shards: make([]shard, nshards)}
	for b := nshards; b > 1; b >>= 1 {
		s.shift++
	}
	s.shift = 64 - s.shift
	for i := range s.shards {
		s.shards[i].m = make(map[int64]int64, n/nshards+1)
	}
	return s
}

func (s *ShardMap) of(k int64) *shard {
	if len(s.shards) == 1 {
		return &s.shards[0]
	}
	return &s.shards[(uint64(k)*0x9E3779B97F4A7C15)>>s.shift]
}

func (s *ShardMap) Load(k int64) (int64, bool) {
	sh := s.of(k)
	sh.mu.Lock()
	v, ok := sh.m[k]
	sh.mu.Unlock()
	return v, ok
}

func (s *ShardMap) Store(k, v int64) {
	sh := s.of(k)
	sh.mu.Lock()
	sh.m[k] = v
	sh.mu.Unlock()
}

func (s *ShardMap) Delete(k int64) {
	sh := s.of(k)
	sh.mu.Lock()
	delete(sh.m, k)
	sh.mu.Unlock()
}

func (s *ShardMap) Close() {}

// COWMap: readers load the current version with one atomic load and read it
// without a lock; a published version is never written again. A writer
// copies the current version under a mutex, changes the copy, publishes it.
type COWMap struct {
	p  atomic.Pointer[map[int64]int64]
	mu sync.Mutex
}

func NewCOWMap(n int) *COWMap {
	c := &COWMap{}
	m := make(map[int64]int64, n)
	c.p.Store(&m)
	return c
}

func (c *COWMap) Load(k int64) (int64, bool) {
	v, ok := (*c.p.Load())[k]
	return v, ok
}

func (c *COWMap) update(fn func(m map[int64]int64)) {
	c.mu.Lock()
	old := *c.p.Load()
	m := make(map[int64]int64, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	fn(m)
	c.p.Store(&m)
	c.mu.Unlock()
}

func (c *COWMap) Store(k, v int64) { c.update(func(m map[int64]int64) { m[k] = v }) }
func (c *COWMap) Delete(k int64)   { c.update(func(m map[int64]int64) { delete(m, k) }) }
func (c *COWMap) Close()           {}

// ChanMap: the map belongs to one goroutine; everyone else sends it
// requests. Writes are sent and not waited for; a read waits for its reply
// on the caller's own channel.
type ChanMap struct {
	reqs chan chanReq
	done chan struct{}
}

type chanOp uint8

const (
	opLoad chanOp = iota
	opStore
	opDelete
)

type chanReq struct {
	op    chanOp
	k, v  int64
	reply chan chanReply
}

type chanReply struct {
	v  int64
	ok bool
}

func NewChanMap(n int) *ChanMap {
	c := &ChanMap{reqs: make(chan chanReq, 128), done: make(chan struct{})}
	go func() {
		m := make(map[int64]int64, n)
		for r := range c.reqs {
			switch r.op {
			case opLoad:
				v, ok := m[r.k]
				r.reply <- chanReply{v, ok}
			case opStore:
				m[r.k] = r.v
			case opDelete:
				delete(m, r.k)
			}
		}
		close(c.done)
	}()
	return c
}

// replies hands each reading goroutine a reply channel of its own.
var replies = sync.Pool{New: func() any { return make(chan chanReply, 1) }}

func (c *ChanMap) Load(k int64) (int64, bool) {
	ch := replies.Get().(chan chanReply)
	c.reqs <- chanReq{op: opLoad, k: k, reply: ch}
	r := <-ch
	replies.Put(ch)
	return r.v, r.ok
}

func (c *ChanMap) Store(k, v int64) { c.reqs <- chanReq{op: opStore, k: k, v: v} }
func (c *ChanMap) Delete(k int64)   { c.reqs <- chanReq{op: opDelete, k: k} }

// Close stops the owner after it has served every request sent so far.
func (c *ChanMap) Close() {
	close(c.reqs)
	<-c.done
}
