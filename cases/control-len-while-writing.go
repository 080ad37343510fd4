// control-len-while-writing, Go twin of control-len-while-writing.c: len()
// racing writes from another goroutine. len never looks at the write flag,
// so the runtime never reports it (go run -race does: it is a data race).
//
// Shape:   m := map[int]int{-1: -1}; a writer writes 10000 keys, a poller
//          calls len(m) 10000 times; Gosched after each.
// Expect:  no error from the map: prints DONE, exit 0.

package main

import "runtime"

func main() {
	twinMain("control-len-while-writing", []string{"control"}, func(string) {
		m := map[int]int{-1: -1}
		writer := func() {
			for i := 0; i < 10000; i++ {
				m[i] = i
				runtime.Gosched()
			}
		}
		poller := func() {
			most := 0
			for i := 0; i < 10000; i++ {
				if n := len(m); n > most {
					most = n
				}
				runtime.Gosched()
			}
			sink = most
		}
		twinRun(1, writer, poller)
	})
}
