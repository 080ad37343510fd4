// control-delete-during-range, Go twin of control-delete-during-range.c:
// deleting entries while ranging over the same map in the same goroutine.
// The language allows it; it never fails.
//
// Shape:   1000 keys; 20 rounds of: range, deleting the even keys, checking
//          every entry is visited once; then put the even keys back.
// Expect:  no error: prints DONE, exit 0.

package main

import (
	"fmt"
	"os"
)

func main() {
	twinMain("control-delete-during-range", []string{"control"}, func(string) {
		const keys = 1000
		m := map[int]int{}
		for k := 0; k < keys; k++ {
			m[k] = k
		}
		for round := 0; round < 20; round++ {
			visits := make([]int, keys)
			for k := range m {
				visits[k]++
				if k%2 == 0 {
					delete(m, k)
				}
			}
			for k := 0; k < keys; k++ {
				if (k%2 == 1 || round == 0) && visits[k] != 1 {
					fmt.Fprintf(os.Stderr, "key %d visited %d times, want 1\n", k, visits[k])
					os.Exit(70)
				}
			}
			for k := 0; k < keys; k += 2 { // put them back for the next round
				m[k] = k
			}
		}
		if len(m) != keys {
			fmt.Fprintf(os.Stderr, "len %d, want %d\n", len(m), keys)
			os.Exit(70)
		}
	})
}
