// 4.3-plugin-store.go -- the plugin the Go twin of case 4.3 loads with
// plugin.Open (built with go build -buildmode=plugin, see cases/go.md). It
// owns a global map, made when the plugin is loaded, and exports functions
// that use it: Put and Get without a lock, PutLocked and GetLocked (the
// fix) behind the plugin's own mutex. Twin of 4.3-plugin-store.c.

package main

import "sync"

var (
	cache = map[string]int64{} // the plugin's global map
	mu    sync.Mutex           // guards cache in the *Locked functions
)

func Put(k string, v int64) { cache[k] = v }

func Get(k string) int64 { return cache[k] }

func PutLocked(k string, v int64) { mu.Lock(); defer mu.Unlock(); Put(k, v) }

func GetLocked(k string) int64 { mu.Lock(); defer mu.Unlock(); return Get(k) }
