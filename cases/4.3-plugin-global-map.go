// 4.3 plugin-global-map, Go twin of 4.3-plugin-global-map.c: a plugin owns
// a global map and exports functions that use it without a lock; the host
// calls them from two goroutines. The plugin is plugin/4.3-plugin-store.go,
// built as 4.3-plugin-store.so beside this program's executable.
//
// Shape:   two hosts, 500 loops each: Put("w<w>-k<i%32>", i), Get it back,
//          Gosched; 20 rounds of fresh goroutines.
// Expect:  fatal error: concurrent map writes (exit status 2); natural runs
//          may also end with "concurrent map read and map write"
// Fix:     the plugin guards its own state: PutLocked and GetLocked.

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"plugin"
	"runtime"
)

func lookup(p *plugin.Plugin, name string) plugin.Symbol {
	sym, err := p.Lookup(name)
	if err != nil {
		fmt.Fprintln(os.Stderr, "plugin.Lookup:", err)
		os.Exit(70)
	}
	return sym
}

func main() {
	twinMain("4.3-plugin-global-map", []string{"bad", "fixed"}, func(variant string) {
		exe, err := os.Executable()
		var p *plugin.Plugin
		if err == nil {
			p, err = plugin.Open(filepath.Join(filepath.Dir(exe), "4.3-plugin-store.so"))
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "plugin.Open:", err)
			os.Exit(70)
		}
		suffix := map[string]string{"bad": "", "fixed": "Locked"}[variant]
		put := lookup(p, "Put"+suffix).(func(string, int64))
		get := lookup(p, "Get"+suffix).(func(string) int64)
		host := func(w int) func() {
			return func() {
				var sum int64
				for i := 0; i < 500; i++ {
					key := fmt.Sprintf("w%d-k%d", w, i%32)
					put(key, int64(i))
					sum += get(key)
					runtime.Gosched()
				}
				sink = int(sum)
			}
		}
		twinRun(20, host(1), host(2))
	})
}
